/**
 * Reads a photograph (PNG, JPEG, WebP... whatever sharp decodes) as an RGB image in [0, 1] for the methods that
 * start from or compare with a real image (accentuation's seed; invert / caricature references), through the
 * safe-file reader (regular files only, size limit) and a pixel limit.
 * Shape: `await readRgbImage(file) => RgbImage` (throws BAD_PARAM with a one-line reason).
 */
import sharp from 'sharp'
import { DeepVisError } from '../../shared/errors.ts'
import type { RgbImage } from '../methods/accentuation.ts'
import { limits, raiseHint } from './limits.ts'
import { readRegularFile } from './safe-files.ts'

/** Largest decoded image accepted, pixels (a 4096 x 4096 photo). */
export const MAX_IMAGE_PIXELS = 4096 * 4096
const UINT8_MAX = 255

export async function readRgbImage(file: string): Promise<RgbImage> {
  const bytes = await readRegularFile(file, { what: 'image', maxBytes: limits().auxFileBytes, raiseHint: raiseHint('auxFileBytes'), code: 'BAD_PARAM' })
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
    if (info.channels !== 3) throw new Error(`${info.channels} channels after conversion`)
    return { data: Float32Array.from(data, (v) => v / UINT8_MAX), height: info.height, width: info.width }
  } catch (e) {
    throw new DeepVisError('BAD_PARAM', `image ${file} could not be decoded: ${(e as Error).message.split('\n')[0]}`)
  }
}
