/**
 * Benchmark: median ms per DVT iteration (yosinski-3) for each model x available backend.
 * Prints one JSON line per measurement, then a table. Run on demand: `npm run bench -- [options]`.
 *   --models id,id      models: 'default' (embedded) or folders / ids under ../shared/models
 *   --backends a,b      backends to try (default: every one that starts here)
 *   --iters N           measured iterations after 2 warm-up iterations (default 20)
 */
import { parseArgs } from 'node:util'
import path from 'node:path'
import { existsSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'
import { initBackend, type BackendChoice } from '../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder } from '../src/engine/node/load-model.ts'
import { optimizeImage } from '../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../src/engine/params.ts'

const WARMUP = 2
const SHARED = path.resolve(import.meta.dirname, '../../shared/models')
/** A class unit per known model. */
const TARGETS: Record<string, { layer: string; channel: number }> = {
  default: { layer: 'logits', channel: 0 },
  googlenet_bvlc: { layer: 'loss3/classifier', channel: 130 },
  squeezenet1_1: { layer: 'pool10', channel: 130 },
  squeezenet1_1_graph: { layer: 'pool10', channel: 130 },
  'mobilenet_v1_0.75_224': { layer: 'conv_preds', channel: 130 },
  darknet_tiny: { layer: 'global_average_pooling2d_1', channel: 130 },
}

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'default,googlenet_bvlc' },
    backends: { type: 'string', default: 'tensorflow-gpu,tensorflow,wasm,cpu' },
    iters: { type: 'string', default: '20' },
  },
})
const iters = Number(values.iters)
const rows: Record<string, string | number>[] = []

for (const backend of values.backends!.split(',') as BackendChoice[]) {
  let name: string
  try { name = (await initBackend(backend)).name } catch (e) {
    console.error(`skip backend ${backend}: ${(e as Error).message}`)
    continue
  }
  for (const id of values.models!.split(',')) {
    const dir = id === 'default' ? DEFAULT_MODEL_DIR : existsSync(id) ? id : path.join(SHARED, id)
    if (!existsSync(dir)) { console.error(`skip model ${id}: ${dir} not found`); continue }
    const target = TARGETS[id] ?? TARGETS.default
    const loaded = await loadModelFolder(dir)
    const params = { ...PRESETS['yosinski-3'].params, push_layer: target.layer, push_channel: target.channel, max_iter: iters + WARMUP } as FindParams
    const r = await optimizeImage(loaded.model, loaded.inputSpec, params)
    const ms = r.series.wall_ms.slice(WARMUP).sort((a, b) => a - b)
    const row = {
      model: id, backend: name, size: `${loaded.inputSpec.height}x${loaded.inputSpec.width}`,
      median_ms: Number(ms[Math.floor(ms.length / 2)].toFixed(1)), iters, peak_tensors: tf.memory().numTensors,
      rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
    }
    console.log(JSON.stringify(row))
    rows.push(row)
    loaded.model.dispose()
  }
}
console.table(rows)
