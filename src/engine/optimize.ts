/**
 * The DVT optimization loop (gradient_optimizer.py, GO L184-352), on a VisModel, in DVT pixel space.
 *
 * Per iteration ii = 0 .. max_iter-1:
 *   crop x <- clamp(x + mean, 0, 255) - mean; forward to the target layer only;
 *   record (before the step); backward from a top diff that is push_dir at the unit and 0 elsewhere;
 *   stop with 'grad 0 failure' if ||g|| == 0; lr from the policy;
 *   unless ii is the last: x += lr g -> decay -> blur -> small_val -> small_norm -> px_benefit -> px_abs_benefit.
 * Every tensor of a step is freed in the step; the recorder owns its snapshots (tf.clone).
 * DVT's regularizers are composable parts (dvt-regularizers.ts: step and view phases).
 * The per-image pieces (prepareProblem, cropToPixels, networkInput, imageStats, readStats, dvtStep,
 * readResult) are exported so that optimize-batch.ts runs exactly the same per-image work on a batch.
 * On wasm, stride-1 convolution input gradients go through a forward conv (conv-input-grad.ts, installed
 * with the backend by installGradientOverrides).
 * Shape: `await optimizeImage(model, inputSpec, params, {backend, signal, onIteration}) => DvtResult`
 */
import * as tf from '@tensorflow/tfjs'
import { check, DeepVisError } from '../shared/errors.ts'
import type { FindParams } from './params.ts'
import { resolveParams } from './params.ts'
import { Recorder, type StepRecord } from './recorder.ts'
import { learningRate } from './lr-policies.ts'
import { Rng, RNG_NAME } from './rng.ts'
import { gaussianKernel1d } from './regularizers.ts'
import { dvtStep, ViewChain } from './dvt-regularizers.ts'
import type { InputSpec } from './model/input-spec.ts'
import { meanIsImage } from './model/input-spec.ts'
import type { LayerInfo, VisModel } from './model/vis-model.ts'
import type { DvtResult, ImageSnapshot, TargetInfo } from './result.ts'

/** Standard deviation of DVT's mean_plus_rand start, in grey levels (GO L190). */
export const START_NOISE_STD = 10
/** Pixel range the crop enforces. */
export const PIXEL_MIN = 0
export const PIXEL_MAX = 255

export interface IterationEvent extends StepRecord {
  maxIter: number
  /** The cropped image of this iteration, read back on demand (HWC, mean-subtracted). */
  image: () => Promise<Float32Array>
}

export interface OptimizeOptions {
  /** Name of the tfjs backend in use, recorded with the result. */
  backend?: string
  /** Stops the loop after the current iteration; the result is marked interrupted. */
  signal?: AbortSignal
  /** Called after each iteration is recorded. */
  onIteration?: (event: IterationEvent) => void | Promise<void>
}

/**
 * Default spatial position for conv layers: the centre (floor(H/2), floor(W/2)).
 * DVT defaults to (0, 0) but warns against it: the corner unit's receptive field hangs over the
 * zero-padded border, and the DVT docs recommend the centre (e.g. (6, 6) of AlexNet's 13x13 conv5).
 */
export function defaultSpatial(shape: number[]): [number, number] | null {
  return shape.length === 3 ? [Math.floor(shape[0] / 2), Math.floor(shape[1] / 2)] : null
}

/** Resolve and validate the target unit of `layer`; throws BAD_UNIT naming the allowed range. */
export function resolveTarget(layer: LayerInfo, params: FindParams, labels: string[] | null): TargetInfo {
  const { shape } = layer
  check(shape.length === 1 || shape.length === 3,
    () => `layer '${layer.name}' has output shape [${shape.join(', ')}]; only dense [units] and conv [H, W, C] layers can be targeted`, 'BAD_UNIT')
  const units = layer.units
  check(params.push_channel < units,
    () => `channel ${params.push_channel} is out of range: layer '${layer.name}' has ${units} units (0..${units - 1})`, 'BAD_UNIT')
  let spatial: [number, number] | null = null
  if (shape.length === 3) {
    spatial = params.push_spatial ?? defaultSpatial(shape)!
    const [y, x] = spatial
    check(y < shape[0] && x < shape[1],
      () => `spatial position (${y}, ${x}) is out of range: layer '${layer.name}' is ${shape[0]}x${shape[1]} (y 0..${shape[0] - 1}, x 0..${shape[1] - 1})`, 'BAD_UNIT')
  } else {
    check(params.push_spatial === null || (params.push_spatial[0] === 0 && params.push_spatial[1] === 0),
      () => `layer '${layer.name}' is not spatial (shape [${shape.join(', ')}]): omit --push-spatial or give (0,0)`, 'BAD_UNIT')
  }
  const label = labels && labels.length === units ? labels[params.push_channel] : null
  return {
    layer: layer.name, layerType: layer.type, layerShape: shape, channel: params.push_channel, spatial,
    pushUnit: [params.push_channel, spatial ? spatial[0] : 0, spatial ? spatial[1] : 0], label,
  }
}

/** Flat index of the target unit in the layer's output (batch item 0, HWC order). */
function flatIndex(target: TargetInfo): number {
  const s = target.layerShape
  if (s.length === 1) return target.channel
  const [y, x] = target.spatial!
  return (y * s[1] + x) * s[2] + target.channel
}

function topDiffValues(shape: number[], unitIndex: number, pushDir: number): Float32Array {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1))
  values[unitIndex] = pushDir
  return values
}

/** (c, y, x) of a flat HWC index, as DVT's unravel of a CHW blob. */
function unravel(idx: number, shape: number[]): [number, number, number] {
  if (shape.length === 1) return [idx, 0, 0]
  const c = shape[2]
  const w = shape[1]
  return [idx % c, Math.floor(idx / (c * w)), Math.floor(idx / c) % w]
}

/**
 * x0 as DVT builds it, with numpy-identical draws: entries are drawn in CHW order (DVT's layout)
 * and stored HWC. mean_plus_rand: N(0, 10^2); randu: U(0, 255) - mean; mean: 0.
 */
export function makeX0(spec: InputSpec, startAt: FindParams['start_at'], seed: number): Float32Array {
  const { height: h, width: w, channels: c } = spec
  const out = new Float32Array(h * w * c)
  if (startAt === 'mean') return out
  const rng = new Rng(seed)
  const perChannelMean = !meanIsImage(spec)
  for (let k = 0; k < c; k++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const i = (y * w + x) * c + k
        if (startAt === 'mean_plus_rand') out[i] = rng.normal(0, START_NOISE_STD)
        else out[i] = rng.uniform(PIXEL_MIN, PIXEL_MAX) - spec.mean[perChannelMean ? k : i]
      }
    }
  }
  return out
}

/** One image's problem, resolved and validated: parameters, target layer and unit, x0. Plain data. */
export interface ImageProblem {
  params: FindParams
  layer: LayerInfo
  target: TargetInfo
  /** Flat index of the target unit in one batch item of the layer's output (HWC order). */
  unitIndex: number
  /** DVT's x0 (HWC, unclipped). */
  x0: Float32Array
}

/** Resolve params, the target unit and x0 of one image; throws DeepVisError for a bad layer/unit/blur before any work. */
export async function prepareProblem(model: VisModel, spec: InputSpec, rawParams: FindParams): Promise<ImageProblem> {
  const params = resolveParams(rawParams)
  const size: [number, number] = [spec.height, spec.width]
  const layer = await model.layerInfo(params.push_layer, size)
  const target = resolveTarget(layer, params, spec.labels)
  if (params.blur_every !== 0 && params.blur_radius > 0) {
    const r = (gaussianKernel1d(params.blur_radius).length - 1) / 2
    check(r <= spec.height && r <= spec.width, () => `blur_radius ${params.blur_radius} is too large for a ${spec.height}x${spec.width} input`)
  }
  return { params, layer, target, unitIndex: flatIndex(target), x0: makeX0(spec, params.start_at, params.rand_seed) }
}

/** The input spec as tensors: mean ([1,1,1,C] or a [1,H,W,C] image), scale and offset ([1,1,1,C]). */
export interface SpecTensors {
  mean: tf.Tensor4D
  scale: tf.Tensor4D
  offset: tf.Tensor4D
}

/** Build the spec's tensors; the caller owns (disposes) them. */
export function specTensors(spec: InputSpec): SpecTensors {
  const c = spec.channels
  return tf.tidy(() => ({
    mean: (meanIsImage(spec) ? tf.tensor(spec.mean, [1, spec.height, spec.width, c]) : tf.tensor(spec.mean, [1, 1, 1, c])) as tf.Tensor4D,
    scale: tf.tensor(spec.scale, [1, 1, 1, c]) as tf.Tensor4D,
    offset: tf.tensor(spec.offset, [1, 1, 1, c]) as tf.Tensor4D,
  }))
}

/** DVT's crop before the forward pass: x <- clamp(x + mean, 0, 255) - mean. */
export function cropToPixels(x: tf.Tensor4D, st: SpecTensors): tf.Tensor4D {
  return tf.sub(tf.clipByValue(tf.add(x, st.mean), PIXEL_MIN, PIXEL_MAX), st.mean) as tf.Tensor4D
}

/** From DVT pixel space to the network's input (any batch size): (x + mean) * scale + offset. */
export function networkInput(x: tf.Tensor4D, st: SpecTensors): tf.Tensor4D {
  return tf.add(tf.mul(tf.add(x, st.mean), st.scale), st.offset) as tf.Tensor4D
}

/** DVT's top diff of one image: push_dir at the unit, 0 elsewhere (built on the CPU: wasm's OneHot writes integer bits into float32). */
export function topDiffTensor(problem: ImageProblem): tf.Tensor {
  const { layer, unitIndex, params } = problem
  return tf.tensor(topDiffValues(layer.shape, unitIndex, params.push_dir), [1, ...layer.shape])
}

/** Number of statistics `imageStats` returns, in order: obj, extreme index, norm, dist, std, ||g||^2. */
export const STAT_COUNT = 6

/**
 * Per-iteration statistics of one image, as a [STAT_COUNT] tensor (call inside tf.tidy):
 * the unit's activation, the flat index of the layer's extreme (argmax, argmin when minimizing),
 * ||xc||, ||xc - x0||, the population std of xc and ||g||^2.
 */
export function imageStats(xc: tf.Tensor4D, g: tf.Tensor4D, blobFlat: tf.Tensor1D, x0: tf.Tensor4D, problem: ImageProblem): tf.Tensor1D {
  const extreme = problem.params.push_dir > 0 ? tf.argMax(blobFlat) : tf.argMin(blobFlat)
  const diff = tf.sub(xc, x0)
  return tf.stack([
    blobFlat.slice([problem.unitIndex], [1]).reshape([]),
    extreme.cast('float32'),
    tf.norm(xc),
    tf.norm(diff),
    tf.sqrt(tf.moments(xc).variance),
    tf.sum(tf.square(g)),
  ]) as tf.Tensor1D
}

/** What one iteration's statistics say: the step record (lr NaN, wall 0 until known) and ||g||^2. */
export function readStats(ii: number, stats: ArrayLike<number>, problem: ImageProblem, imageLabel = ''): { step: StepRecord; gradNormSq: number } {
  const [obj, ext, norm, dist, std, gradNormSq] = Array.from(stats)
  if (!Number.isFinite(obj) || !Number.isFinite(gradNormSq)) {
    throw new DeepVisError('INTERNAL', `${imageLabel}the objective became ${obj} (gradient norm^2 ${gradNormSq}) at iteration ${ii}; try a smaller learning rate`)
  }
  const idxmax = unravel(ext, problem.layer.shape)
  return {
    step: { ii, obj, idxmax, ismax: idxmax.every((v, i) => v === problem.target.pushUnit[i]), norm, dist, std, lr: NaN, wall_ms: 0 },
    gradNormSq,
  }
}

export { dvtStep }

/** A recorder whose snapshots are tensors it owns (tf.keep'd clones). */
export function tensorRecorder(pushDir: number): Recorder<tf.Tensor4D> {
  return new Recorder<tf.Tensor4D>({
    pushDir,
    retain: (x) => tf.keep(x.clone()),
    release: (x) => x.dispose(),
  })
}

/** Read a finished recorder back into a DvtResult (the recorder is not disposed). */
export async function readResult(
  problem: ImageProblem, recorder: Recorder<tf.Tensor4D>, spec: InputSpec,
  run: { backend: string; interrupted: boolean; totalMs: number },
  alpha?: { acc: tf.Tensor; evaluations: number } | null,
): Promise<DvtResult> {
  recorder.finish()
  const read = async (snap: { ii: number; obj: number; x: tf.Tensor4D } | null): Promise<ImageSnapshot | null> =>
    snap ? { ii: snap.ii, obj: snap.obj, x: (await snap.x.data()) as Float32Array } : null
  return {
    params: problem.params,
    target: problem.target,
    inputSpec: spec,
    backend: run.backend,
    rng: { name: RNG_NAME, seed: problem.params.rand_seed },
    x0: problem.x0,
    best: await read(recorder.best),
    last: await read(recorder.last),
    majority: await read(recorder.majority),
    metaResult: recorder.metaResult!,
    series: recorder.series,
    interrupted: run.interrupted,
    totalMs: run.totalMs,
    ...(alpha ? { alpha: { data: (await alpha.acc.data()) as Float32Array, height: spec.height, width: spec.width, evaluations: alpha.evaluations } } : {}),
  }
}

/** Run DVT's optimization of one unit. Throws DeepVisError for a bad layer/unit before any work. */
export async function optimizeImage(
  model: VisModel, spec: InputSpec, rawParams: FindParams, opts: OptimizeOptions = {},
): Promise<DvtResult> {
  const problem = await prepareProblem(model, spec, rawParams)
  const { params } = problem
  const shape4: [number, number, number, number] = [1, spec.height, spec.width, spec.channels]
  const t0 = performance.now()

  const st = specTensors(spec)
  const x0 = tf.tensor(problem.x0, shape4) as tf.Tensor4D
  const topDiff = topDiffTensor(problem)
  const forward = (x: tf.Tensor): tf.Tensor => model.forward(networkInput(x as tf.Tensor4D, st), params.push_layer)

  const recorder = tensorRecorder(params.push_dir)
  const views = new ViewChain(params)
  let x = tf.keep(x0.clone()) as tf.Tensor4D
  let interrupted = false
  /** Transparency map: Σ over iterations of Σ_channels |g| (the unit's gradient at the cropped image), as the general methods. */
  let alphaAcc: tf.Tensor | null = null
  let alphaCount = 0
  try {
    for (let ii = 0; ii < params.max_iter; ii++) {
      const tIter = performance.now()
      // 1. crop, (view,) forward, backward, statistics: one tidy, one read-back.
      views.draw()
      const { xc, g, stats } = tf.tidy(() => {
        const xc = cropToPixels(x, st)
        const { value: blob, grads } = tf.valueAndGrads((xx: tf.Tensor) => forward(xx))([views.view(xc)], topDiff)
        const g = views.unview(grads[0] as tf.Tensor4D)
        return { xc, g, stats: imageStats(xc, g, blob.reshape([-1]), x0, problem) }
      })
      const s = await stats.data()
      stats.dispose()
      const nextAlpha: tf.Tensor = tf.tidy(() => { const a = tf.sum(tf.abs(g), -1).reshape([spec.height, spec.width]); return alphaAcc ? tf.add(alphaAcc, a) : a })
      alphaAcc?.dispose()
      alphaAcc = nextAlpha
      alphaCount++
      let read: ReturnType<typeof readStats>
      try { read = readStats(ii, s, problem) } catch (e) { xc.dispose(); g.dispose(); throw e }
      const { step, gradNormSq } = read
      recorder.record(step, xc)
      views.record(recorder.series)
      const lastIter = ii === params.max_iter - 1
      if (gradNormSq === 0) {
        recorder.gradZero()
        recorder.series.wall_ms[ii] = performance.now() - tIter
        xc.dispose(); g.dispose()
        break
      }
      const lr = learningRate(params.lr_policy, params.lr_params, { gradNormSq, obj: step.obj })
      recorder.setLastLr(lr)
      if (!lastIter) {
        const next = await dvtStep(xc, g, lr, params, ii)
        x.dispose()
        x = next
      }
      recorder.series.wall_ms[ii] = performance.now() - tIter
      if (opts.onIteration) {
        await opts.onIteration({ ...step, lr, wall_ms: recorder.series.wall_ms[ii], maxIter: params.max_iter, image: () => xc.data() as Promise<Float32Array> })
      }
      xc.dispose(); g.dispose()
      if (lastIter) break
      if (opts.signal?.aborted) { interrupted = true; break }
    }
    return await readResult(problem, recorder, spec, { backend: opts.backend ?? tf.getBackend(), interrupted, totalMs: performance.now() - t0 }, alphaAcc ? { acc: alphaAcc, evaluations: alphaCount } : null)
  } finally {
    x.dispose()
    ;(alphaAcc as tf.Tensor | null)?.dispose()
    recorder.dispose()
    tf.dispose([st.mean, st.scale, st.offset, x0, topDiff])
  }
}
