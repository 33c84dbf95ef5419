/**
 * The files a general method may name, read on the engine's machine for the CLI and the app alike:
 * mask weights (`mask(layer, file.npy)` in an objective) and a generator model's folder
 * (`param: 'generator'`). The engine itself reads no files; hosts pass these readers in.
 * Shape: `readMasks(objective) => Record<name, MaskWeights>`; `await readGeneratorArtifacts(dir) => ModelArtifacts`
 */
import { statSync } from 'node:fs'
import path from 'node:path'
import { DeepVisError } from '../../shared/errors.ts'
import { maskNames, type MaskWeights } from '../methods/objectives.ts'
import { readArtifacts } from './load-model.ts'
import { decodeNpy } from './npy.ts'
import { limits, raiseHint } from './limits.ts'
import { readRegularFileSync } from './safe-files.ts'

/** The per-unit weights of every mask the objective names, read from .npy files (shape as stored: H x W x C or C). */
export function readMasks(objective: string): Record<string, MaskWeights> {
  const out: Record<string, MaskWeights> = {}
  for (const name of maskNames(objective)) {
    const bytes = readRegularFileSync(name, { what: 'mask file', maxBytes: limits().auxFileBytes, raiseHint: raiseHint('auxFileBytes'), code: 'BAD_PARAM' })
    try {
      out[name] = decodeNpy(new Uint8Array(bytes))
    } catch (err) {
      throw new DeepVisError('BAD_PARAM', `mask file '${name}': ${(err as Error).message}`)
    }
  }
  return out
}

/** Reads a generator's model.json (a folder holding it, or the file itself) and its weight shards. */
export async function readGeneratorArtifacts(dir: string): Promise<Awaited<ReturnType<typeof readArtifacts>>> {
  let file = dir
  try {
    if (statSync(dir).isDirectory()) file = path.join(dir, 'model.json')
  } catch {
    throw new DeepVisError('BAD_MODEL', `generator folder '${dir}' does not exist`)
  }
  return readArtifacts(file)
}
