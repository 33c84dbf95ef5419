/**
 * The general optimization loop (lucid's render_vis, Olah et al. 2017), producing the same OptimizeResult
 * as DVT's loop (optimize.ts) so that saveResults, the recorder, presets, batch and compare apply unchanged.
 *
 * Per iteration ii = 0 .. max_iter-1, for a batch of N images:
 *   render the parameterization (FFT or pixel, optional colour decorrelation, sigmoid) -> RGB in [0, 1];
 *   map to DVT pixel space x = 255 * rgb (model channel order) - mean; forward the CLEAN image to the
 *   layers the objective reads and record (before the step, as DVT): obj = the objective's value per image
 *   (without penalties), idxmax / ismax, norm, dist (from the initial render), std;
 *   unless ii is the last: draw this step's transforms from the seeded Rng, apply them to the [0, 1]
 *   image (resized back to the input size), forward, and take one Adam step on
 *   -(sum_i obj_i) + diversity * lucid_diversity, with the ReLU gradient redirected while ii < relu_override_steps.
 * `obj` is measured on the untransformed image so that best/last describe the image that is saved.
 * majority/ismax: for a single channel or neuron objective (one leaf, positive weight) the unit is the
 * argmax of its layer: for a neuron, the argmax of the whole blob is that (c, y, x); for a channel, the
 * argmax of the blob lies in channel c; for a dense layer, the argmax is c. Otherwise ismax is false.
 * Random choices: the initial parameters and then every transform draw, in that order, from one
 * MT19937 seeded with rand_seed (recorded in the result as rng, plus the method params in `method`).
 * Every tensor of a step is freed in the step (tf.tidy); the variables and Adam's slots are disposed at the end.
 * Shapes: `resolveGeneralParams(partial) => GeneralParams`;
 *   `await optimizeGeneralBatch(model, spec, params, opts) => OptimizeResult[]` (one per image);
 *   `await optimizeGeneral(model, spec, params, opts) => OptimizeResult` (batch_size 1).
 */
import * as tf from '@tensorflow/tfjs'
import { check, DeepVisError } from '../errors.ts'
import { Rng, RNG_NAME } from '../rng.ts'
import { DEFAULT_PARAMS, type FindParams } from '../params.ts'
import { specTensors, tensorRecorder, type IterationEvent } from '../optimize.ts'
import type { Recorder } from '../recorder.ts'
import { channelSwapToRgb, type InputSpec } from '../model/input-spec.ts'
import type { LayerInfo, VisModel } from '../model/vis-model.ts'
import type { ImageSnapshot, OptimizeResult, TargetInfo } from '../result.ts'
import {
  DEFAULT_GENERAL_PARAMS, GENERAL_METHODS, GENERAL_OPTIMIZERS, IMAGE_PARAMS, type GeneralParams,
} from '../../shared/method-params.ts'
import { imageParam } from './image-param.ts'
import { applyTransforms, drawTransforms, resolveTransforms } from './transforms.ts'
import { diversity as diversityOf, parseObjective, validateObjective, type Leaf, type Objective } from './objectives.ts'
import { withReluOverride } from './relu-override.ts'

/** 0..255 pixel scale of the [0, 1] image. */
const PIXEL_SCALE = 255
/** Largest batch accepted (memory guard). */
export const MAX_BATCH = 64

export interface GeneralIterationEvent extends IterationEvent {
  /** Index of the image in the batch. */
  imageIndex: number
}

export interface GeneralOptions {
  backend?: string
  signal?: AbortSignal
  /** Called after each image's iteration is recorded. */
  onIteration?: (event: GeneralIterationEvent) => void | Promise<void>
  /** The unit an empty objective means (the model's default unit). */
  defaultUnit?: { layer: string; channel: number }
}

/** Fill defaults and validate every field; throws DeepVisError('BAD_PARAM') naming the bad value. */
export function resolveGeneralParams(partial: Partial<GeneralParams>): GeneralParams {
  const p: GeneralParams = { ...DEFAULT_GENERAL_PARAMS, ...partial }
  check((GENERAL_METHODS as readonly string[]).includes(p.method), () => `method must be one of ${GENERAL_METHODS.join(', ')}; got '${p.method}'`)
  check(typeof p.objective === 'string', () => 'objective must be a string expression')
  check((IMAGE_PARAMS as readonly string[]).includes(p.param), () => `param must be one of ${IMAGE_PARAMS.join(', ')}; got '${p.param}'`)
  check(typeof p.decorrelate === 'boolean', () => `decorrelate must be true or false; got ${JSON.stringify(p.decorrelate)}`)
  check(Number.isFinite(p.fft_decay) && p.fft_decay >= 0, () => `fft_decay must be >= 0; got ${p.fft_decay}`)
  check(Number.isFinite(p.init_sd) && p.init_sd >= 0, () => `init_sd must be >= 0; got ${p.init_sd}`)
  resolveTransforms(p.transforms)
  check((GENERAL_OPTIMIZERS as readonly string[]).includes(p.optimizer), () => `optimizer must be one of ${GENERAL_OPTIMIZERS.join(', ')}; got '${p.optimizer}'`)
  check(Number.isFinite(p.lr) && p.lr > 0, () => `lr must be a positive number; got ${p.lr}`)
  check(Number.isInteger(p.max_iter) && p.max_iter >= 1, () => `max_iter must be a positive integer; got ${p.max_iter}`)
  check(Number.isInteger(p.rand_seed) && p.rand_seed >= 0 && p.rand_seed <= 0xffffffff, () => `rand_seed must be an integer in 0..4294967295; got ${p.rand_seed}`)
  check(Number.isInteger(p.batch_size) && p.batch_size >= 1 && p.batch_size <= MAX_BATCH, () => `batch_size must be an integer in 1..${MAX_BATCH}; got ${p.batch_size}`)
  check(Number.isFinite(p.diversity) && p.diversity >= 0, () => `diversity must be >= 0; got ${p.diversity}`)
  check(p.diversity === 0 || p.batch_size > 1, () => `diversity ${p.diversity} needs batch_size >= 2 (it compares the images of a batch)`)
  check(typeof p.diversity_layer === 'string', () => 'diversity_layer must be a layer name or empty')
  check(Number.isInteger(p.relu_override_steps) && p.relu_override_steps >= 0, () => `relu_override_steps must be a non-negative integer; got ${p.relu_override_steps}`)
  return p
}

/** The objective an empty expression means: a channel objective for conv layers, a neuron for dense ones (same text). */
export function defaultObjectiveText(layer: string, channel: number): string {
  const quoted = /^[A-Za-z_][A-Za-z0-9_/.]*$/.test(layer) ? layer : JSON.stringify(layer)
  return `${quoted}:${channel}`
}

/** The single unit an objective targets, when it is one positively weighted channel/neuron leaf. */
function singleUnit(o: Objective): Extract<Leaf, { kind: 'channel' | 'neuron' }> | null {
  if (o.leaves.length !== 1 || o.leaves[0].weight <= 0) return null
  const l = o.leaves[0].leaf
  return l.kind === 'direction' ? null : l
}

function targetOf(o: Objective, info: LayerInfo, labels: string[] | null): TargetInfo {
  const leaf = o.leaves[0].leaf
  const c = leaf.kind === 'direction' ? 0 : leaf.channel
  const spatial: [number, number] | null = leaf.kind === 'neuron' && info.shape.length === 3
    ? leaf.spatial ?? [Math.floor(info.shape[0] / 2), Math.floor(info.shape[1] / 2)]
    : null
  return {
    layer: info.name, layerType: info.type, layerShape: info.shape, channel: c, spatial,
    pushUnit: [c, spatial ? spatial[0] : 0, spatial ? spatial[1] : 0],
    label: labels && labels.length === info.units && leaf.kind !== 'direction' ? labels[c] : null,
  }
}

/** DVT-style FindParams describing the run (for file names and info.txt); the method's own params go in `method`. */
function findParamsOf(p: GeneralParams, target: TargetInfo): FindParams {
  return {
    ...DEFAULT_PARAMS, start_at: 'mean', rand_seed: p.rand_seed, push_layer: target.layer, push_channel: target.channel,
    push_spatial: target.spatial, push_dir: 1, lr_policy: 'constant', lr_params: { lr: p.lr }, max_iter: p.max_iter,
  }
}

/** (c, y, x) of a flat HWC index. */
function unravel(idx: number, shape: number[]): [number, number, number] {
  if (shape.length === 1) return [idx, 0, 0]
  const c = shape[2]
  const w = shape[1]
  return [idx % c, Math.floor(idx / (c * w)), Math.floor(idx / c) % w]
}

/** Number of statistics per image: obj, argmax, norm, dist, std. */
const STATS = 5

/** Optimize `batch_size` images with the general method; one OptimizeResult per image (see the header). */
export async function optimizeGeneralBatch(
  model: VisModel, spec: InputSpec, rawParams: Partial<GeneralParams>, opts: GeneralOptions = {},
): Promise<OptimizeResult[]> {
  const params = resolveGeneralParams(rawParams)
  check(spec.channels === 3, () => `the ${params.method} method needs a 3-channel input; the input spec has ${spec.channels}`, 'BAD_INPUT_SPEC')
  let text = params.objective.trim()
  if (!text) {
    check(opts.defaultUnit !== undefined, () => 'no objective given and the model has no default unit: pass an objective such as "conv2:3"')
    text = defaultObjectiveText(opts.defaultUnit!.layer, opts.defaultUnit!.channel)
  }
  const objective = parseObjective(text)
  const size: [number, number] = [spec.height, spec.width]
  const infos = new Map<string, LayerInfo>()
  const info = async (layer: string): Promise<LayerInfo> => {
    let li = infos.get(layer)
    if (!li) { li = await model.layerInfo(layer, size); infos.set(layer, li) }
    return li
  }
  await validateObjective(objective, info)
  const divLayer = params.diversity > 0 ? (params.diversity_layer || objective.layers[0]) : null
  if (divLayer) await info(divLayer)
  const transformSpec = resolveTransforms(params.transforms)
  const unit = singleUnit(objective)
  const primary = await info(objective.leaves[0].leaf.layer)
  const target = targetOf(objective, primary, spec.labels)
  const findParams = findParamsOf(params, target)
  const n = params.batch_size
  const { height: h, width: w } = spec
  const t0 = performance.now()
  const backend = opts.backend ?? tf.getBackend()

  const rng = new Rng(params.rand_seed)
  const st = specTensors(spec)
  const param = imageParam({ kind: params.param, batch: n, height: h, width: w, sd: params.init_sd, decay: params.fft_decay, decorrelate: params.decorrelate }, rng)
  const optimizer = tf.train.adam(params.lr)
  const swap = channelSwapToRgb(spec.channelOrder)
  const perm = swap.every((v, i) => v === i) ? null : tf.tidy(() => {
    const m = new Float32Array(9)
    swap.forEach((src, k) => { m[k * 3 + src] = 1 }) // model channel swap[k] <- rgb k (an involution for RGB/BGR)
    return tf.tensor2d(m, [3, 3])
  })
  /** RGB [0,1] -> model channel order, 0..255. */
  const toModelPixels = (rgb: tf.Tensor4D): tf.Tensor4D => {
    const s = tf.mul(rgb, PIXEL_SCALE) as tf.Tensor4D
    return perm ? tf.matMul(s.reshape([-1, 3]), perm).reshape(s.shape) as tf.Tensor4D : s
  }
  const netInput = (pixels: tf.Tensor4D): tf.Tensor4D => tf.add(tf.mul(pixels, st.scale), st.offset) as tf.Tensor4D
  const forwardAll = (input: tf.Tensor4D, layers: string[]): ((layer: string) => tf.Tensor) => {
    const cache = new Map<string, tf.Tensor>()
    for (const l of layers) cache.set(l, model.forward(input, l))
    return (l) => cache.get(l)!
  }

  const recorders: Recorder<tf.Tensor4D>[] = Array.from({ length: n }, () => tensorRecorder(1))
  const x0s: Float32Array[] = []
  let x0 = null as tf.Tensor4D | null
  let interrupted = false
  const unitLayer = primary.name
  const readLayers = [...new Set([...objective.layers, unitLayer])]
  try {
    for (let ii = 0; ii < params.max_iter; ii++) {
      const tIter = performance.now()
      // 1. the clean image and its statistics (one read-back).
      const { x, stats } = tf.tidy(() => {
        const pixels = toModelPixels(param.render())
        const x = tf.sub(pixels, st.mean) as tf.Tensor4D
        const act = forwardAll(netInput(pixels), readLayers)
        const obj = objective.value(act)
        const blob = act(unitLayer).reshape([n, -1])
        const flat = x.reshape([n, -1])
        const ref = x0 ? x0.reshape([n, -1]) : flat
        const stats = tf.stack([
          obj, tf.argMax(blob, 1).cast('float32'),
          tf.sqrt(tf.sum(tf.square(flat), 1)), tf.sqrt(tf.sum(tf.square(tf.sub(flat, ref)), 1)),
          tf.sqrt(tf.moments(flat, 1).variance),
        ], 1) // [N, STATS]
        return { x, stats }
      })
      if (x0 === null) {
        x0 = tf.keep(x.clone())
        const data = (await x0.data()) as Float32Array
        const per = h * w * 3
        for (let i = 0; i < n; i++) x0s.push(data.slice(i * per, (i + 1) * per))
      }
      const s = await stats.data()
      stats.dispose()
      const lastIter = ii === params.max_iter - 1
      const images = tf.tidy(() => tf.split(x, n, 0) as tf.Tensor4D[])
      try {
        for (let i = 0; i < n; i++) {
          const [obj, ext, norm, dist, std] = Array.from(s.slice(i * STATS, (i + 1) * STATS))
          if (!Number.isFinite(obj)) throw new DeepVisError('INTERNAL', `image ${i}: the objective became ${obj} at iteration ${ii}; try a smaller lr`)
          const idxmax = unravel(ext, primary.shape)
          let ismax = false
          if (unit) {
            if (unit.kind === 'neuron' || primary.shape.length === 1) ismax = idxmax.every((v, k) => v === target.pushUnit[k])
            else ismax = idxmax[0] === unit.channel
          }
          recorders[i].record({ ii, obj, idxmax, ismax, norm, dist, std, lr: lastIter ? NaN : params.lr, wall_ms: 0 }, images[i])
        }
        // 2. the step (not on the last iteration).
        if (!lastIter) {
          const draw = transformSpec ? drawTransforms(transformSpec, rng) : null
          withReluOverride(ii < params.relu_override_steps, () => {
            optimizer.minimize(() => {
              const rgb = param.render()
              const seen = transformSpec && draw ? applyTransforms(rgb, transformSpec, draw, [h, w]) : rgb
              const layers = divLayer ? [...new Set([...objective.layers, divLayer])] : objective.layers
              const act = forwardAll(netInput(toModelPixels(seen)), layers)
              let loss = tf.neg(tf.sum(objective.value(act))) as tf.Scalar
              if (divLayer) loss = tf.add(loss, tf.mul(diversityOf(act(divLayer)), params.diversity)) as tf.Scalar
              return loss
            }, false, param.variables)
          })
        }
        const wall = performance.now() - tIter
        for (let i = 0; i < n; i++) {
          recorders[i].series.wall_ms[ii] = wall
          if (opts.onIteration) {
            const k = recorders[i].series.ii.length - 1
            const sr = recorders[i].series
            const img = images[i]
            await opts.onIteration({
              ii, obj: sr.obj[k], idxmax: sr.idxmax[k], ismax: sr.ismax[k], norm: sr.norm[k], dist: sr.dist[k], std: sr.std[k],
              lr: sr.lr[k], wall_ms: wall, maxIter: params.max_iter, imageIndex: i, image: () => img.data() as Promise<Float32Array>,
            })
          }
        }
      } finally {
        tf.dispose(images)
        x.dispose()
      }
      if (lastIter) break
      if (opts.signal?.aborted) { interrupted = true; break }
    }
    const totalMs = performance.now() - t0
    const read = async (snap: { ii: number; obj: number; x: tf.Tensor4D } | null): Promise<ImageSnapshot | null> =>
      snap ? { ii: snap.ii, obj: snap.obj, x: (await snap.x.data()) as Float32Array } : null
    const results: OptimizeResult[] = []
    for (let i = 0; i < n; i++) {
      const rec = recorders[i]
      rec.finish()
      results.push({
        params: findParams,
        method: { name: params.method, params: { ...params, objective: text }, objective: objective.description, image_index: i, batch_size: n },
        target,
        inputSpec: spec,
        backend,
        rng: { name: RNG_NAME, seed: params.rand_seed },
        x0: x0s[i],
        best: await read(rec.best),
        last: await read(rec.last),
        majority: await read(rec.majority),
        metaResult: rec.metaResult!,
        series: rec.series,
        interrupted,
        totalMs,
      })
    }
    return results
  } finally {
    for (const r of recorders) r.dispose()
    param.dispose()
    optimizer.dispose()
    tf.dispose([st.mean, st.scale, st.offset])
    if (perm) perm.dispose()
    if (x0) x0.dispose()
  }
}

/** Optimize one image (batch_size must be 1); see optimizeGeneralBatch. */
export async function optimizeGeneral(
  model: VisModel, spec: InputSpec, rawParams: Partial<GeneralParams>, opts: GeneralOptions = {},
): Promise<OptimizeResult> {
  check((rawParams.batch_size ?? 1) === 1, () => `optimizeGeneral makes one image; use optimizeGeneralBatch for batch_size ${rawParams.batch_size}`)
  const [result] = await optimizeGeneralBatch(model, spec, rawParams, opts)
  return result
}
