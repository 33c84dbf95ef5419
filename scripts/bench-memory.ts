/**
 * Memory benchmark: one long DVT run (yosinski-3, default 2000 iterations) with the tensor count
 * and the resident set size sampled every `--every` iterations. A leak shows as tensors growing
 * with the iteration (they must stay equal) or RSS climbing steadily after warm-up.
 * Prints a JSON line per sample, then a summary line. Run on demand: `npm run bench:memory -- [options]`.
 *   --model DIR|default   model folder (default: the embedded model)
 *   --backend B           tfjs backend (default auto)
 *   --iters N             iterations (default 2000)
 *   --every N             sampling period in iterations (default 100)
 *   --layer L --channel C the unit (default: the model's first class logit / sidecar default)
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { initBackend, type BackendChoice } from '../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder } from '../src/engine/node/load-model.ts'
import { optimizeImage } from '../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../src/engine/params.ts'

const MIB = 2 ** 20
/** With node --expose-gc, collect before each sample so heap figures are what is retained. */
const gc = (globalThis as { gc?: () => void }).gc
/** Samples before this iteration are warm-up (allocator and JIT settle) and left out of the RSS slope. */
const WARMUP_FRACTION = 0.1

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'default' },
    backend: { type: 'string', default: 'auto' },
    iters: { type: 'string', default: '2000' },
    every: { type: 'string', default: '100' },
    layer: { type: 'string' },
    channel: { type: 'string' },
  },
})
const iters = Number(values.iters)
const every = Number(values.every)
const backend = await initBackend(values.backend as BackendChoice)
const dir = values.model === 'default' ? DEFAULT_MODEL_DIR : path.resolve(values.model!)
const loaded = await loadModelFolder(dir)
const layer = values.layer ?? loaded.defaults.push_layer ?? 'logits'
const channel = Number(values.channel ?? loaded.defaults.push_channel ?? 0)
// No decay/blur schedule can end a run early; max_iter is all that bounds it.
const params = { ...PRESETS['yosinski-3'].params, push_layer: layer, push_channel: channel, max_iter: iters } as FindParams

interface Sample { ii: number; tensors: number; rss_mb: number; heap_mb: number; obj: number }
const samples: Sample[] = []
const tensorsBefore = tf.memory().numTensors
await optimizeImage(loaded.model, loaded.inputSpec, params, {
  backend: backend.name,
  onIteration: (ev) => {
    if (ev.ii % every !== 0 && ev.ii !== iters - 1) return
    gc?.()
    const m = process.memoryUsage()
    const s = { ii: ev.ii, tensors: tf.memory().numTensors, rss_mb: +(m.rss / MIB).toFixed(1), heap_mb: +(m.heapUsed / MIB).toFixed(1), obj: +ev.obj.toFixed(3) }
    samples.push(s)
    console.log(JSON.stringify({ kind: 'sample', model: loaded.name, backend: backend.name, ...s }))
  },
})
const tensorsAfter = tf.memory().numTensors
loaded.model.dispose()

const steady = samples.filter((s) => s.ii >= iters * WARMUP_FRACTION)
const first = steady[0] ?? samples[0]
const last = samples[samples.length - 1]
// The recorder keeps one snapshot per slot (best/last/majority): the count may step up once when the
// majority is first reached, but never grows with the iteration after warm-up.
const tensorCounts = new Set(steady.map((s) => s.tensors))
const summary = {
  kind: 'summary', model: loaded.name, backend: backend.name, iters,
  tensors_after_warmup: [...tensorCounts], tensors_flat: tensorCounts.size === 1,
  tensors_before: tensorsBefore, tensors_after: tensorsAfter,
  rss_mb_after_warmup: first.rss_mb, rss_mb_end: last.rss_mb,
  rss_growth_mb_per_1000_iters: +(((last.rss_mb - first.rss_mb) / Math.max(1, last.ii - first.ii)) * 1000).toFixed(2),
  rss_max_mb: Math.max(...samples.map((s) => s.rss_mb)),
}
console.log(JSON.stringify(summary))
