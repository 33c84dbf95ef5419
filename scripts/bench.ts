/**
 * Benchmark of the DVT loop (yosinski-3, a class logit) against the PyTorch peer, on demand:
 * `npm run bench -- [options]`. For each model x backend that starts here it measures
 *   - single: median ms per iteration of optimizeImage over --iters iterations after --warmup ones,
 *     the peer's median over the same iterations of the same model/unit/preset (../shared/bench/torch_peer.py,
 *     Debian's PyTorch, run right before on the same CPU), and the ratio tfjs / torch;
 *   - batch N: optimizeBatch with N images (N different class units) in one forward/backward per
 *     iteration: image-iterations per second = N / median iteration time, and the speed-up over N = 1;
 *   - with --profile: the kernels of one iteration (tf.profile, averaged over PROFILE_ITERS iterations).
 * Every measurement reports the peak tfjs tensor count and peak RSS (sampled every iteration).
 * Output: one JSON line per measurement on stdout, then readable tables. Timings on a shared machine
 * are noisy: compare ratios taken in one run.
 *
 *   --models id,id       'default' (embedded) or folders / ids under ../shared/models, ONNX ones too
 *                        (default: default,googlenet_bvlc,onnx/googlenet_bvlc,squeezenet1_1_graph,mobilenet_v1_0.75_224);
 *                        an ONNX model measured next to the TF.js model of the same name gets a row
 *                        'onnx vs tfjs' with the ratio of their median ms/iteration on each backend
 *   --backends a,b       backends to try, skipped with a message when they do not start
 *                        (default: tensorflow-gpu,tensorflow,wasm,cpu)
 *   --cpu-models id,id   models measured on the pure-JS cpu backend (seconds per 224x224 iteration):
 *                        default 'default'; 'all' for every model
 *   --iters N            measured iterations of the single-image loop (default 20, minimum 20)
 *   --warmup N           warm-up iterations dropped before the median (default 2)
 *   --batch 1,4,16       batch sizes for the throughput measurement ('' or 0 to skip)
 *   --batch-iters N      measured iterations per batch size (default 5, after --warmup)
 *   --peer on|off        run the PyTorch peer (default on; skipped with a message when torch is missing)
 *   --threads N          torch threads for the peer (default: the number of cores, as tfjs may use)
 *   --profile            also print the per-kernel breakdown of one iteration
 *   --conv-grad M        input gradient of stride-1 convolutions: 'forward' (the engine's default on wasm:
 *                        a forward XNNPACK conv, src/engine/conv-input-grad.ts), 'native' (tfjs' kernel),
 *                        or 'both' (each measurement twice, for an A/B ratio taken in one run)
 */
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'
import { initBackend, type BackendChoice } from '../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../src/engine/node/load-model.ts'
import { optimizeImage } from '../src/engine/optimize.ts'
import { optimizeBatch } from '../src/engine/optimize-batch.ts'
import { PRESETS, resolveParams, type FindParams } from '../src/engine/params.ts'
import type { InputSpec } from '../src/engine/model/input-spec.ts'
import { setConvInputGradientEnabled } from '../src/engine/conv-input-grad.ts'

const PRESET = 'yosinski-3'
const MIN_ITERS = 20
const SHARED = path.resolve(import.meta.dirname, '../../shared')
const PEER = path.join(SHARED, 'bench/torch_peer.py')
/** Debian's PyTorch is importable only by the system interpreter. */
const PYTHON = '/usr/bin/python3'
/** Iterations whose kernels are profiled (yosinski-3 blurs every 4th: 5 iterations hold one blur). */
const PROFILE_ITERS = 5
/** Kernels listed in the profile table. */
const PROFILE_TOP = 12
const MB = 2 ** 20
/** A class unit per known model (flamingo on the ImageNet models). */
const TARGETS: Record<string, { layer: string; channel: number }> = {
  default: { layer: 'logits', channel: 0 },
  googlenet_bvlc: { layer: 'loss3/classifier', channel: 130 },
  squeezenet1_1: { layer: 'pool10', channel: 130 },
  squeezenet1_1_graph: { layer: 'pool10', channel: 130 },
  'mobilenet_v1_0.75_224': { layer: 'conv_preds', channel: 130 },
  darknet_tiny: { layer: 'global_average_pooling2d_1', channel: 130 },
}

const OPTIONS = {
  models: { type: 'string', default: 'default,googlenet_bvlc,onnx/googlenet_bvlc,squeezenet1_1_graph,mobilenet_v1_0.75_224' },
  backends: { type: 'string', default: 'tensorflow-gpu,tensorflow,wasm,cpu' },
  'cpu-models': { type: 'string', default: 'default' },
  iters: { type: 'string', default: String(MIN_ITERS) },
  warmup: { type: 'string', default: '2' },
  batch: { type: 'string', default: '1,4,16' },
  'batch-iters': { type: 'string', default: '5' },
  peer: { type: 'string', default: 'on' },
  threads: { type: 'string', default: String(os.availableParallelism()) },
  profile: { type: 'boolean', default: false },
  'conv-grad': { type: 'string', default: 'forward' },
} as const

function parseFlags(): ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>> {
  try {
    return parseArgs({ options: OPTIONS })
  } catch (e) {
    console.error(`bench: ${(e as Error).message} (the flags are listed at the top of scripts/bench.ts)`)
    process.exit(2)
  }
}
const { values } = parseFlags()

function fail(message: string): never {
  console.error(`bench: ${message}`)
  process.exit(2)
}
function intFlag(name: string, min: number): number {
  const v = Number(values[name as keyof typeof values])
  if (!Number.isInteger(v) || v < min) fail(`--${name} must be an integer >= ${min}; got ${String(values[name as keyof typeof values])}`)
  return v
}
const iters = intFlag('iters', MIN_ITERS)
const warmup = intFlag('warmup', 1)
const batchIters = intFlag('batch-iters', 1)
const threads = intFlag('threads', 1)
const batchSizes = values.batch!.split(',').filter((s) => s.trim() !== '' && s.trim() !== '0').map((s) => {
  const n = Number(s)
  if (!Number.isInteger(n) || n < 1) fail(`--batch takes positive integers, e.g. 1,4,16; got '${s}'`)
  return n
})
if (values.peer !== 'on' && values.peer !== 'off') fail(`--peer must be on or off; got '${values.peer}'`)
const CONV_GRAD_MODES = { forward: ['forward'], native: ['native'], both: ['native', 'forward'] } as const
const convGradModes = CONV_GRAD_MODES[values['conv-grad'] as keyof typeof CONV_GRAD_MODES]
if (!convGradModes) fail(`--conv-grad must be forward, native or both; got '${values['conv-grad']}'`)
const cpuModels = new Set(values['cpu-models']!.split(','))

type Row = Record<string, string | number | null>
const rows: { single: Row[]; batch: Row[]; profile: Row[] } = { single: [], batch: [], profile: [] }
/** The conv input-gradient mode of the measurements being taken (a column of every row). */
let convGrad = 'forward'
function emit(kind: keyof typeof rows, row: Row): void {
  const full = { ...row, conv_grad: convGrad }
  console.log(JSON.stringify({ kind, ...full }))
  rows[kind].push(full)
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const round = (v: number, digits = 1): number => Number(v.toFixed(digits))

/** Peak tensors / RSS, sampled after every iteration. */
class Peaks {
  tensors = tf.memory().numTensors
  rss = process.memoryUsage().rss
  sample = (): void => {
    this.tensors = Math.max(this.tensors, tf.memory().numTensors)
    this.rss = Math.max(this.rss, process.memoryUsage().rss)
  }
}

function modelDir(id: string): string {
  return id === 'default' ? DEFAULT_MODEL_DIR : existsSync(id) ? path.resolve(id) : path.join(SHARED, 'models', id)
}

function params(id: string, maxIter: number, over: Partial<FindParams> = {}): FindParams {
  const target = TARGETS[path.basename(id)] ?? TARGETS.default
  return resolveParams({ ...PRESETS[PRESET].params, push_layer: target.layer, push_channel: target.channel, max_iter: maxIter, ...over })
}

/** The peer's --input-spec for our spec, where its format can say it (uniform scale/offset, or a Caffe mean). */
function peerInputSpec(spec: InputSpec): string | null {
  if (spec.mean.length !== spec.channels) return null
  const mean = Array.from(spec.mean)
  const uniform = (a: number[]): boolean => a.every((v) => v === a[0])
  if (uniform(spec.scale) && uniform(spec.offset)) {
    const lo = spec.offset[0]
    return JSON.stringify({ channelOrder: spec.channelOrder, range: [lo, lo + 255 * spec.scale[0]], dvtMean: mean })
  }
  if (spec.scale.every((s) => s === 1) && spec.offset.every((o, i) => o === -mean[i])) {
    return JSON.stringify({ channelOrder: spec.channelOrder, subtractMean: mean })
  }
  return null
}

let peerProblem: string | null = null
function peerAvailable(): boolean {
  if (values.peer === 'off') { peerProblem = 'peer off (--peer off)'; return false }
  if (!existsSync(PEER)) { peerProblem = `peer script ${PEER} not found`; return false }
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy, scipy, PIL'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) {
    peerProblem = `PyTorch peer skipped: ${PYTHON} cannot import torch/numpy/scipy/PIL `
      + '(apt-get install -y python3-torch python3-numpy python3-pil python3-scipy)'
    return false
  }
  return true
}

interface PeerResult { medianMs: number; obj0: number; bestObj: number; device: string }

/** Run the peer on the same model/unit/preset/iterations; median over the same measured iterations. */
function runPeer(id: string, loaded: LoadedModel, p: FindParams): PeerResult | string {
  const out = mkdtempSync(path.join(os.tmpdir(), 'deepvis-bench-peer-'))
  try {
    const args = [PEER, '--model', modelDir(id), '--preset', PRESET, '--max-iter', String(p.max_iter),
      '--push-layer', p.push_layer, '--push-channel', String(p.push_channel), '--rand-seed', String(p.rand_seed),
      '--out', out, '--brave', '--quiet', '--skipbig', '--threads', String(threads)]
    const spec = peerInputSpec(loaded.inputSpec)
    if (spec) args.push('--input-spec', spec)
    // A passive OpenMP wait policy keeps idle torch threads from spinning (the peer sets it too).
    const r = spawnSync(PYTHON, args, { encoding: 'utf8', env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' }, maxBuffer: 64 * MB })
    if (r.status !== 0) return `peer failed (exit ${r.status}): ${(r.stderr || String(r.error)).trim().split('\n').slice(-2).join(' ')}`
    const info = JSON.parse(readFileSync(path.join(out, 'info.json'), 'utf8')) as {
      series: { ms: number[]; obj: number[] }; results?: { best_obj?: number }; device_name?: string
    }
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { best_obj: number; device_name: string }
    return { medianMs: median(info.series.ms.slice(warmup)), obj0: info.series.obj[0], bestObj: summary.best_obj, device: summary.device_name }
  } catch (e) {
    return `peer output unreadable: ${(e as Error).message}`
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}

async function measureSingle(id: string, backend: string, loaded: LoadedModel, peer: PeerResult | string | null): Promise<number> {
  const peaks = new Peaks()
  const p = params(id, iters + warmup)
  const r = await optimizeImage(loaded.model, loaded.inputSpec, p, { onIteration: peaks.sample })
  const ms = median(r.series.wall_ms.slice(warmup))
  const peerMs = typeof peer === 'object' && peer ? peer.medianMs : null
  emit('single', {
    model: id, backend, size: `${loaded.inputSpec.height}x${loaded.inputSpec.width}`, unit: `${p.push_layer}:${p.push_channel}`,
    iters, median_ms: round(ms), torch_median_ms: peerMs === null ? null : round(peerMs, 2),
    ratio_tfjs_torch: peerMs === null ? null : round(ms / peerMs, 2),
    // x0 and weights are the same on both sides: the first objective should agree to float rounding
    obj0: round(r.series.obj[0], 4), torch_obj0: typeof peer === 'object' && peer ? round(peer.obj0, 4) : null,
    peak_tensors: peaks.tensors, peak_rss_mb: Math.round(peaks.rss / MB),
    peer: typeof peer === 'string' ? peer : peer === null ? peerProblem : null,
  })
  return ms
}

async function measureBatch(id: string, backend: string, loaded: LoadedModel, singleMs: number): Promise<void> {
  let perImageBase: number | null = null
  for (const n of batchSizes) {
    const peaks = new Peaks()
    const layer = await loaded.model.layerInfo(params(id, 1).push_layer, [loaded.inputSpec.height, loaded.inputSpec.width])
    // N different class units (and seeds): every image has its own target and its own x0.
    const list = Array.from({ length: n }, (_, i) => params(id, batchIters + warmup, {
      push_channel: (params(id, 1).push_channel + i) % layer.units, rand_seed: i,
    }))
    const row: Row = { model: id, backend, n, iters: batchIters }
    try {
      const results = await optimizeBatch(loaded.model, loaded.inputSpec, list, { onIteration: peaks.sample })
      const ms = median(results[0].series.wall_ms.slice(warmup))
      const ips = (n * 1000) / ms
      perImageBase ??= n === 1 ? ips : 1000 / singleMs
      Object.assign(row, {
        median_iter_ms: round(ms), image_iters_per_s: round(ips, 2), speedup_vs_n1: round(ips / perImageBase, 2),
        peak_tensors: peaks.tensors, peak_rss_mb: Math.round(peaks.rss / MB), error: null,
      })
    } catch (e) {
      Object.assign(row, { error: (e as Error).message.split('\n')[0].slice(0, 200) })
    }
    emit('batch', row)
    if (row.error) break // a larger batch would fail the same way (memory)
  }
}

async function profileIteration(id: string, backend: string, loaded: LoadedModel): Promise<void> {
  const p = params(id, PROFILE_ITERS)
  const info = await tf.profile(async () => { await optimizeImage(loaded.model, loaded.inputSpec, p) })
  const byKernel = new Map<string, { ms: number; calls: number }>()
  let total = 0
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 }
    e.ms += ms
    e.calls++
    byKernel.set(k.name, e)
    total += ms
  }
  const top = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, PROFILE_TOP)
  for (const [kernel, e] of top) {
    emit('profile', {
      model: id, backend, kernel, ms_per_iter: round(e.ms / PROFILE_ITERS), calls_per_iter: round(e.calls / PROFILE_ITERS),
      share_pct: round((100 * e.ms) / total), kernels_ms_per_iter: round(total / PROFILE_ITERS),
    })
  }
}

const withPeer = peerAvailable()
if (!withPeer) console.error(`bench: ${peerProblem}`)
const modelIds = values.models!.split(',').filter(Boolean)
const peers = new Map<string, PeerResult | string | null>()

for (const backend of values.backends!.split(',') as BackendChoice[]) {
  let name: string
  try { name = (await initBackend(backend)).name } catch (e) {
    console.error(`bench: skip backend ${backend}: ${(e as Error).message}`)
    continue
  }
  for (const id of modelIds) {
    if (name === 'cpu' && !cpuModels.has('all') && !cpuModels.has(id)) {
      console.error(`bench: skip ${id} on cpu (seconds per iteration; add it to --cpu-models or use --cpu-models all)`)
      continue
    }
    const dir = modelDir(id)
    if (!existsSync(dir)) { console.error(`bench: skip model ${id}: ${dir} not found`); continue }
    // Weights are uploaded to the current backend at load: load per backend.
    const loaded = await loadModelFolder(dir)
    if (withPeer && !peers.has(id)) {
      // The peer reads TF.js folders; an ONNX model is compared with its TF.js twin instead (the 'onnx' table).
      peers.set(id, loaded.model.format === 'onnx' ? 'peer: n/a for ONNX' : runPeer(id, loaded, params(id, iters + warmup)))
    }
    try {
      for (const mode of convGradModes) {
        convGrad = mode
        setConvInputGradientEnabled(mode === 'forward')
        try {
          const singleMs = await measureSingle(id, name, loaded, withPeer ? peers.get(id)! : null)
          if (batchSizes.length) await measureBatch(id, name, loaded, singleMs)
          if (values.profile) await profileIteration(id, name, loaded)
        } catch (e) {
          emit('single', { model: id, backend: name, conv_grad: mode, error: (e as Error).message.split('\n')[0].slice(0, 200) })
        }
      }
    } finally {
      loaded.model.dispose()
    }
  }
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
console.log(`\n${new Date().toISOString()}  ${os.availableParallelism()} cores (${cpu}), Node ${process.version}, tfjs ${tf.version.tfjs}, preset ${PRESET}, ${iters} iterations after ${warmup} warm-up`)
if (rows.single.length) console.table(rows.single.map(({ peer, ...r }) => ({ ...r, ...(peer ? { note: String(peer).slice(0, 40) } : {}) })))
// ONNX next to the TF.js model of the same name (onnx/googlenet_bvlc vs googlenet_bvlc), per backend.
const onnxRows = rows.single.filter((r) => typeof r.model === 'string' && r.model.startsWith('onnx/') && typeof r.median_ms === 'number').map((r) => {
  const twin = rows.single.find((t) => t.model === path.basename(String(r.model)) && t.backend === r.backend && t.conv_grad === r.conv_grad && typeof t.median_ms === 'number')
  return twin ? { model: r.model, backend: r.backend, onnx_ms: r.median_ms, tfjs_ms: twin.median_ms, ratio_onnx_tfjs: round(Number(r.median_ms) / Number(twin.median_ms), 2), obj0_onnx: r.obj0, obj0_tfjs: twin.obj0 } : null
}).filter((r) => r !== null)
for (const r of onnxRows) console.log(JSON.stringify({ kind: 'onnx', ...r }))
if (onnxRows.length) console.table(onnxRows)
if (rows.batch.length) console.table(rows.batch)
if (rows.profile.length) console.table(rows.profile)
