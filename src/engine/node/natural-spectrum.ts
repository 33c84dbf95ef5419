/**
 * Reads MACO's natural-image magnitude spectrum (resources/maco/natural-spectrum.npy, made by
 * scripts/natural-spectrum.ts) for the node hosts, through the safe-file helpers.
 * Shape: `await loadNaturalSpectrum(file = NATURAL_SPECTRUM_FILE) => Spectrum` (throws BAD_PARAM when missing or malformed).
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DeepVisError } from '../../shared/errors.ts'
import { checkSpectrum, type Spectrum } from '../methods/maco.ts'
import { limits } from './limits.ts'
import { decodeNpy } from './npy.ts'
import { readRegularFile } from './safe-files.ts'

export const NATURAL_SPECTRUM_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/maco/natural-spectrum.npy')

export async function loadNaturalSpectrum(file = NATURAL_SPECTRUM_FILE): Promise<Spectrum> {
  const bytes = await readRegularFile(file, { what: 'natural-image spectrum', maxBytes: limits().auxFileBytes, code: 'BAD_PARAM' })
  let arr
  try {
    arr = decodeNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  } catch (e) {
    throw new DeepVisError('BAD_PARAM', `natural-image spectrum ${file}: ${(e as Error).message}`)
  }
  if (arr.shape.length !== 3) throw new DeepVisError('BAD_PARAM', `natural-image spectrum ${file} has shape [${arr.shape.join(', ')}]; expected [3, S, S/2 + 1]`)
  const s: Spectrum = { data: arr.data, shape: arr.shape as [number, number, number] }
  checkSpectrum(s)
  return s
}
