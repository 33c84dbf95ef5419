/**
 * The model of a CLI command, loaded once per engine thread when the thread runs many commands (a
 * sweep's pool threads and `deepvis worker`): without it every job of a sweep re-read and re-checked
 * the model (GoogLeNet: seconds per job). A single CLI run loads and disposes as before.
 *
 * The cache holds one model (a thread serves one sweep): the same folder, input-spec flags and
 * backend give the loaded model again; anything else, or a model file whose size or modification
 * time changed since it was loaded, disposes it and loads afresh. Jobs must not change the model
 * they are given (the optimizer reads it; results are checked equal to single runs in
 * test/sweep/sweep-local.test.ts).
 * Shape: `enableModelCache()`; `const { loaded, release } = await acquireModel(dir, overrides, backend)`
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { loadModelFolder, type InputSpecOverrides, type LoadedModel } from '../engine/node/index.ts'

interface Cached { key: string; stamp: string; loaded: LoadedModel }

let enabled = false
let cached: Cached | null = null
let loads = 0

/** Keep the last model loaded in this thread for the next command (pool threads call this once). */
export function enableModelCache(): void {
  enabled = true
}

/** Models loaded by acquireModel in this thread so far (for tests and the sweep's log). */
export function modelLoads(): number {
  return loads
}

async function stampOf(file: string): Promise<string> {
  const st = await stat(file).catch(() => null)
  return st ? `${st.size}:${st.mtimeMs}` : 'missing'
}

/** The model for one command, and what to call when the command is done with it. */
export async function acquireModel(modelPath: string, overrides: InputSpecOverrides, backend: string): Promise<{ loaded: LoadedModel; release: () => void }> {
  if (!enabled) {
    loads += 1
    const loaded = await loadModelFolder(modelPath, overrides)
    return { loaded, release: () => loaded.model.dispose() }
  }
  const key = JSON.stringify([path.resolve(modelPath), overrides, backend])
  if (cached && cached.key === key && cached.stamp === (await stampOf(cached.loaded.modelJsonPath))) {
    return { loaded: cached.loaded, release: () => {} }
  }
  cached?.loaded.model.dispose()
  cached = null
  loads += 1
  const loaded = await loadModelFolder(modelPath, overrides)
  cached = { key, stamp: await stampOf(loaded.modelJsonPath), loaded }
  return { loaded, release: () => {} }
}
