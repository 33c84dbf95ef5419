/**
 * App-level benchmark of batched optimization (wasm, embedded model): a compare group of 4 x 100
 * iterations run by the run service as one optimizeBatch vs the same 4 runs one after another, and
 * "Render all units" of the logits layer (10 units, THUMB_PARAMS) by the thumb service in chunks of
 * THUMB_BATCH vs one unit per optimizer call. Total wall time of each, one run each (the machine is
 * shared: read the ratios, not the absolute times).
 * Shape: `npx tsx scripts/bench-app-batch.ts` prints one line per measurement and the ratios.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { initBackend } from '../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder } from '../src/engine/node/load-model.ts'
import { optimizeImage } from '../src/engine/optimize.ts'
import type { optimizeBatch } from '../src/engine/optimize-batch.ts'
import { PRESETS, type FindParams } from '../src/engine/params.ts'
import type { DvtResult } from '../src/engine/result.ts'
import { createRunService, type RunEngine } from '../src/host/run-service.ts'
import { createThumbService } from '../src/host/thumb-service.ts'

/** Columns of the compare group and their iterations. */
const COLUMNS = ['yosinski-1', 'yosinski-2', 'yosinski-3', 'yosinski-4']
const MAX_ITER = 100
const LAYER = 'logits'
const UNIT = 2

const backend = (await initBackend('wasm')).name
const loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
const engine = async (): Promise<RunEngine> => ({ model: loaded.model, inputSpec: loaded.inputSpec, backend, modelName: loaded.name, modelKey: 'bench' })
const root = await mkdtemp(path.join(tmpdir(), 'deepvis-bench-batch-'))

async function compare(grouped: boolean): Promise<number> {
  const service = createRunService({ historyDir: path.join(root, grouped ? 'runs-batched' : 'runs-seq'), engine, emit: () => undefined, skipbig: true })
  const t0 = performance.now()
  for (const preset of COLUMNS) {
    const params = { ...PRESETS[preset].params, push_layer: LAYER, push_channel: UNIT, max_iter: MAX_ITER } as FindParams
    await service.start({ params, preset, compareGroup: grouped ? 'bench-group' : null })
  }
  await service.whenIdle()
  return performance.now() - t0
}

/** One unit per optimizer call: optimizeBatch's contract served by optimizeImage, sequentially. */
const oneByOne: typeof optimizeBatch = async (model, spec, list, o = {}) => {
  const out: DvtResult[] = []
  for (const [i, p] of list.entries()) {
    out.push(await optimizeImage(model, spec, p, { backend: o.backend, signal: o.signal, onIteration: (ev) => o.onIteration?.({ ...ev, imageIndex: i }) }))
  }
  return out
}

async function renderAll(batched: boolean): Promise<number> {
  const service = createThumbService({
    cacheDir: path.join(root, batched ? 'thumbs-batched' : 'thumbs-seq'), engine, emit: () => undefined, ...(batched ? {} : { optimizeBatch: oneByOne }),
  })
  const t0 = performance.now()
  await service.render({ layer: LAYER })
  await service.whenIdle()
  return performance.now() - t0
}

// Warm-up (kernels, wasm): one short run.
await optimizeImage(loaded.model, loaded.inputSpec, { ...PRESETS['yosinski-3'].params, push_layer: LAYER, push_channel: 0, max_iter: 5 } as FindParams)
const seq = await compare(false)
const bat = await compare(true)
console.log(`compare ${COLUMNS.length} x ${MAX_ITER} it: sequential ${seq.toFixed(0)} ms, batched ${bat.toFixed(0)} ms, ratio ${(seq / bat).toFixed(2)}x`)
const tSeq = await renderAll(false)
const tBat = await renderAll(true)
console.log(`render all ${LAYER} (10 units): one by one ${tSeq.toFixed(0)} ms, batched ${tBat.toFixed(0)} ms, ratio ${(tSeq / tBat).toFixed(2)}x`)
loaded.model.dispose()
await rm(root, { recursive: true, force: true })
