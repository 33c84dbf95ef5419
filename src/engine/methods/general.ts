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
 * cnnpref-lbfgs drives the iterations itself: bounded L-BFGS (lbfgs.ts) on the pixels (RGB 0..255, i.e. DVT's
 * [-mean, 255 - mean]) or on a generator's code; ii 0 is the start and ii k the k-th accepted iterate.
 * param 'generator' (lucid, cnnpref-gd = cnnpref's DGN-GD, cnnpref-lbfgs): the variable is the code of a user
 * generator (generator-param.ts), read through opts.readGenerator, clamped to its bounds after every step.
 * opts.objectives gives each image of the batch its own objective (a grid of channels in one batch).
 * The series also carry cnnpref-gd's scheduled momentum / decay / blur_sigma and dnnbrain's penalty per iteration.
 * Every tensor of a step is freed in the step (tf.tidy); the variables and Adam's slots are disposed at the end.
 * Shapes: `resolveGeneralParams(partial) => GeneralParams`;
 *   `await optimizeGeneralBatch(model, spec, params, opts) => OptimizeResult[]` (one per image);
 *   `await optimizeGeneral(model, spec, params, opts) => OptimizeResult` (batch_size 1).
 */
import * as tf from '@tensorflow/tfjs'
import { check, DeepVisError } from '../../shared/errors.ts'
import { Rng, RNG_NAME } from '../rng.ts'
import { specTensors, tensorRecorder, type IterationEvent } from '../optimize.ts'
import type { Recorder } from '../recorder.ts'
import { channelSwapToRgb, type InputSpec } from '../model/input-spec.ts'
import type { LayerInfo, VisModel } from '../model/vis-model.ts'
import type { ImageSnapshot, MethodResult, TargetInfo } from '../result.ts'
import type { GeneralParams } from '../../shared/method-params.ts'
import { imageReferences, INPUT_LAYER, parseObjective, validateObjective, type Leaf, type MaskWeights, type Objective } from './objectives.ts'
import { generatorParam, loadGenerator, type Generator, type GeneratorParam } from './generator-param.ts'
import { AlphaAccumulator } from './alpha-map.ts'
import type { Spectrum } from './maco.ts'
import type { RgbImage } from './accentuation.ts'
import { inputLayerInfo, referenceActivations } from './compare-refs.ts'
import { resolveGeneralParams } from './general-params.ts'
import { generalMethod } from './registry.ts'
import type { DriveReport, ImageParameterization, MethodContext, MethodRun } from './method.ts'
import { PIXEL_SCALE } from './catalog/pixel-image.ts'

export interface GeneralIterationEvent extends IterationEvent {
  /** Index of the image in the batch. */
  imageIndex: number
  /** dnnbrain with a penalty: penalty_weight * R(image) of the recorded image (obj is the activation term). */
  penalty?: number
}

export interface GeneralOptions {
  backend?: string
  signal?: AbortSignal
  /** Called after each image's iteration is recorded. */
  onIteration?: (event: GeneralIterationEvent) => void | Promise<void>
  /** The unit an empty objective means (the model's default unit). */
  defaultUnit?: { layer: string; channel: number }
  /** Weights of the masks the objective names (`mask(layer, name)`), read by the host (the CLI: .npy files). */
  masks?: Record<string, MaskWeights>
  /** One objective expression per image (length batch_size), instead of params.objective for all (e.g. a grid of channels). */
  objectives?: string[]
  /** Reads the generator's model artifacts from params.generator (param 'generator'); the CLI passes node/load-model's readArtifacts. */
  readGenerator?: (folder: string) => Promise<tf.io.ModelArtifacts>
  /** maco: the natural-image magnitude spectrum (the node hosts read resources/maco, engine/node/natural-spectrum.ts). */
  spectrum?: Spectrum
  /** accentuation: the seed image (RGB [0, 1], any size; resized to the canvas). The CLI reads --image. */
  seedImage?: RgbImage
  /** invert / caricature: the images their expressions name, by name (the CLI reads the files). */
  images?: Record<string, RgbImage>
}

export { resolveGeneralParams, MAX_BATCH } from './general-params.ts'

/** The objective an empty expression means: a channel objective for conv layers, a neuron for dense ones (same text). */
export function defaultObjectiveText(layer: string, channel: number): string {
  const quoted = /^[A-Za-z_][A-Za-z0-9_/.]*$/.test(layer) ? layer : JSON.stringify(layer)
  return `${quoted}:${channel}`
}

/** The single unit an objective targets, when it is one positively weighted channel/neuron leaf. */
function singleUnit(o: Objective): Extract<Leaf, { kind: 'channel' | 'neuron' }> | null {
  if (o.leaves.length !== 1 || o.leaves[0].weight <= 0) return null
  const l = o.leaves[0].leaf
  return l.kind === 'channel' || l.kind === 'neuron' ? l : null
}

function targetOf(o: Objective, info: LayerInfo, labels: string[] | null): TargetInfo {
  const leaf = o.leaves[0].leaf
  const c = leaf.kind === 'channel' || leaf.kind === 'neuron' ? leaf.channel : 0
  const spatial: [number, number] | null = leaf.kind === 'neuron' && info.shape.length === 3
    ? leaf.spatial ?? [Math.floor(info.shape[0] / 2), Math.floor(info.shape[1] / 2)]
    : null
  return {
    layer: info.name, layerType: info.type, layerShape: info.shape, channel: c, spatial,
    pushUnit: [c, spatial ? spatial[0] : 0, spatial ? spatial[1] : 0],
    label: labels && labels.length === info.units && (leaf.kind === 'channel' || leaf.kind === 'neuron') ? labels[c] : null,
  }
}

/** (c, y, x) of a flat HWC index. */
function unravel(idx: number, shape: number[]): [number, number, number] {
  if (shape.length === 1) return [idx, 0, 0]
  const c = shape[2]
  const w = shape[1]
  return [idx % c, Math.floor(idx / (c * w)), Math.floor(idx / c) % w]
}

/** Statistics per image: obj, argmax, norm, dist, std, penalty (dnnbrain: penalty_weight * R(image); else 0). */
const STATS = 6

/** Optimize `batch_size` images with the general method; one OptimizeResult per image (see the header). */
export async function optimizeGeneralBatch(
  model: VisModel, spec: InputSpec, rawParams: Partial<GeneralParams>, opts: GeneralOptions = {},
): Promise<MethodResult[]> {
  const params = resolveGeneralParams(rawParams)
  const method = generalMethod(params.method)
  check(spec.channels === 3, () => `the ${params.method} method needs a 3-channel input; the input spec has ${spec.channels}`, 'BAD_INPUT_SPEC')
  const n = params.batch_size
  let texts: string[]
  if (opts.objectives) {
    check(opts.objectives.length === n, () => `${opts.objectives!.length} objectives for batch_size ${n}: give one per image`)
    texts = opts.objectives.map((t) => t.trim())
  } else {
    let text = params.objective.trim()
    if (!text) {
      check(opts.defaultUnit !== undefined, () => 'no objective given and the model has no default unit: pass an objective such as "conv2:3"')
      text = defaultObjectiveText(opts.defaultUnit!.layer, opts.defaultUnit!.channel)
    }
    texts = [text]
  }
  const refs = texts.flatMap((t) => imageReferences(t))
  const references = refs.length > 0 ? await referenceActivations(model, spec, refs, opts.images ?? {}) : undefined
  const objectives = texts.map((t) => parseObjective(t, { masks: opts.masks, references }))
  const shared = objectives.length === 1
  const objectiveOfImage = (i: number): Objective => objectives[shared ? 0 : i]
  const size: [number, number] = [spec.height, spec.width]
  const infos = new Map<string, LayerInfo>()
  const info = async (layer: string): Promise<LayerInfo> => {
    let li = infos.get(layer)
    if (!li) { li = layer === INPUT_LAYER ? inputLayerInfo(spec) : await model.layerInfo(layer, size); infos.set(layer, li) }
    return li
  }
  for (const o of objectives) await validateObjective(o, info)
  const objectiveLayers = [...new Set(objectives.flatMap((o) => o.layers))]
  const divLayer = params.diversity > 0 ? (params.diversity_layer || objectives[0].layers[0]) : null
  if (divLayer) await info(divLayer)
  const units = Array.from({ length: n }, (_, i) => singleUnit(objectiveOfImage(i)))
  const primaries: LayerInfo[] = []
  for (let i = 0; i < n; i++) primaries.push(await info(objectiveOfImage(i).leaves[0].leaf.layer))
  const targets = primaries.map((p, i) => targetOf(objectiveOfImage(i), p, spec.labels))
  const { height: h, width: w } = spec
  const t0 = performance.now()
  const backend = opts.backend ?? tf.getBackend()
  /** How a driving method's run ended (L-BFGS: written to info.json as method.lbfgs). */
  let driveInfo: Omit<DriveReport, 'interrupted'> | null = null

  let generator: Generator | null = null
  if (params.param === 'generator') {
    check(opts.readGenerator !== undefined, () => "param 'generator' needs a host that reads the generator's model files (the CLI's --generator DIR)")
    generator = await loadGenerator(await opts.readGenerator!(params.generator), { range: params.generator_range })
  }
  const rng = new Rng(params.rand_seed)
  const st = specTensors(spec)
  const optimizer = tf.train.adam(params.lr)
  let run: MethodRun | null = null
  let generatorVar: ImageParameterization | null = null
  const swap = channelSwapToRgb(spec.channelOrder)
  const perm = swap.every((v, i) => v === i) ? null : tf.tidy(() => {
    const m = new Float32Array(9)
    swap.forEach((src, k) => { m[k * 3 + src] = 1 }) // model channel swap[k] <- rgb k (an involution for RGB/BGR)
    return tf.tensor2d(m, [3, 3])
  })
  /** RGB [0,1] -> model channel order, 0..255. */
  const toModelPixels = (rgb: tf.Tensor4D): tf.Tensor4D => {
    const sc = tf.mul(rgb, PIXEL_SCALE) as tf.Tensor4D
    return perm ? tf.matMul(sc.reshape([-1, 3]), perm).reshape(sc.shape) as tf.Tensor4D : sc
  }
  const netInput = (pixels: tf.Tensor4D): tf.Tensor4D => tf.add(tf.mul(pixels, st.scale), st.offset) as tf.Tensor4D
  const forwardAll = (input: tf.Tensor4D, layers: string[]): ((layer: string) => tf.Tensor) => {
    const cache = new Map<string, tf.Tensor>()
    for (const l of layers) cache.set(l, l === INPUT_LAYER ? input : model.forward(input, l))
    return (l) => cache.get(l)!
  }
  /** Per-image objective values [N]: each image its own objective (the diagonal) when they differ. */
  const objectiveValue = (act: (layer: string) => tf.Tensor): tf.Tensor1D => shared
    ? objectives[0].value(act)
    : tf.concat(objectives.map((o, i) => o.value(act).slice([i], [1]))) as tf.Tensor1D
  /** Transparency map: accumulated |d loss / d image| (alpha-map.ts), unless the method opts out (cnnpref-gd's pixels). */
  const alpha = new AlphaAccumulator()
  const tap = (rgb: tf.Tensor4D): tf.Tensor4D => (method.tapsAlpha === false && !generator ? rgb : alpha.tap(rgb))
  const penaltyOf = method.recordedPenalty?.(params) ?? null

  const recorders: Recorder<tf.Tensor4D>[] = Array.from({ length: n }, () => tensorRecorder(1))
  /** Scheduled values per iteration, recorded as series (cnnpref-gd: momentum, decay, blur_sigma). */
  const scheduled: Record<string, number[]> = {}
  const penalties: number[][] = Array.from({ length: n }, () => [])
  const x0s: Float32Array[] = []
  let x0 = null as tf.Tensor4D | null
  let interrupted = false
  const readLayers = [...new Set([...objectiveLayers, ...primaries.map((p) => p.name)])]
  const ctx: MethodContext = {
    params, n, size, rng, optimizer, generator, alpha, diversityLayer: divLayer, spectrum: opts.spectrum, seedImage: opts.seedImage, tap, objectiveValue,
    objectiveOf: (rgb) => objectiveValue(forwardAll(netInput(toModelPixels(tap(rgb))), objectiveLayers)),
    objectiveOfCrops: (i, crops) => { const o = objectiveOfImage(i); return o.value(forwardAll(netInput(toModelPixels(crops)), o.layers)) },
    activations: (rgb, extra = []) => forwardAll(netInput(toModelPixels(rgb)), extra.length > 0 ? [...new Set([...objectiveLayers, ...extra])] : objectiveLayers),
  }

  /** The clean image (DVT space) and its statistics [N, STATS]; call in tidy. */
  const imageStats = (rgb: tf.Tensor4D, act: (layer: string) => tf.Tensor, obj: tf.Tensor1D): { x: tf.Tensor4D; stats: tf.Tensor2D } => {
    const x = tf.sub(toModelPixels(rgb), st.mean) as tf.Tensor4D
    const argmax = tf.concat(primaries.map((p, i) => tf.argMax(act(p.name).slice([i], [1]).reshape([1, -1]), 1))).cast('float32')
    const flat = x.reshape([n, -1])
    const ref = x0 ? x0.reshape([n, -1]) : flat
    const pen = penaltyOf ? tf.mul(penaltyOf(rgb), params.penalty_weight) : tf.zeros([n])
    const stats = tf.stack([
      obj, argmax, tf.sqrt(tf.sum(tf.square(flat), 1)), tf.sqrt(tf.sum(tf.square(tf.sub(flat, ref)), 1)),
      tf.sqrt(tf.moments(flat, 1).variance), pen,
    ], 1) as tf.Tensor2D
    return { x, stats }
  }
  /** Record every image's statistics of iteration ii (x: the batch in DVT space). */
  const recordAll = async (ii: number, x: tf.Tensor4D, s: Float32Array | Int32Array | Uint8Array, lr: number): Promise<tf.Tensor4D[]> => {
    if (x0 === null) {
      x0 = tf.keep(x.clone())
      const data = (await x0.data()) as Float32Array
      const per = h * w * 3
      for (let i = 0; i < n; i++) x0s.push(data.slice(i * per, (i + 1) * per))
    }
    const images = tf.tidy(() => tf.split(x, n, 0) as tf.Tensor4D[])
    for (let i = 0; i < n; i++) {
      const [obj, ext, norm, dist, std, pen] = Array.from(s.slice(i * STATS, (i + 1) * STATS))
      if (!Number.isFinite(obj)) { tf.dispose(images); throw new DeepVisError('INTERNAL', `image ${i}: the objective became ${obj} at iteration ${ii}; try a smaller lr`) }
      const idxmax = unravel(ext, primaries[i].shape)
      let ismax = false
      const unit = units[i]
      if (unit) {
        if (unit.kind === 'neuron' || primaries[i].shape.length === 1) ismax = idxmax.every((v, k) => v === targets[i].pushUnit[k])
        else ismax = idxmax[0] === unit.channel
      }
      recorders[i].record({ ii, obj, idxmax, ismax, norm, dist, std, lr, wall_ms: 0 }, images[i])
      penalties[i].push(pen)
    }
    return images
  }
  /** Wall time and the onIteration hook for iteration ii; disposes `images`. */
  const notify = async (ii: number, wall: number, images: tf.Tensor4D[]): Promise<void> => {
    try {
      for (let i = 0; i < n; i++) {
        recorders[i].series.wall_ms[recorders[i].series.wall_ms.length - 1] = wall
        if (opts.onIteration) {
          const sr = recorders[i].series
          const k = sr.ii.length - 1
          const img = images[i]
          await opts.onIteration({
            ii, obj: sr.obj[k], idxmax: sr.idxmax[k], ismax: sr.ismax[k], norm: sr.norm[k], dist: sr.dist[k], std: sr.std[k],
            lr: sr.lr[k], wall_ms: wall, maxIter: params.max_iter, imageIndex: i, image: () => img.data() as Promise<Float32Array>,
            penalty: penaltyOf ? penalties[i][k] : undefined,
          })
        }
      }
    } finally {
      tf.dispose(images)
    }
  }

  try {
    if (generator) {
      generatorVar = generatorParam({
        generator, batch: n, height: h, width: w, lower: params.code_lower, upper: params.code_upper,
        fit: params.generator_fit === 'auto' ? undefined : params.generator_fit,
      }, rng)
    }
    run = method.create(ctx, generatorVar)
    const p = run.param
    if (method.drive) {
      const report = await method.drive(ctx, run, {
        evaluate: () => {
          const rgb = tap(p.render())
          const act = forwardAll(netInput(toModelPixels(rgb)), readLayers)
          const obj = objectiveValue(act)
          return { loss: tf.neg(tf.sum(obj)) as tf.Scalar, ...imageStats(rgb, act, obj) }
        },
        recordAll, notify, signal: opts.signal,
      })
      interrupted = report.interrupted
      driveInfo = { stop: report.stop, iterations: report.iterations, evaluations: report.evaluations }
    }
    for (let ii = 0; !method.drive && ii < params.max_iter; ii++) {
      const tIter = performance.now()
      // 1. the clean image and its statistics (one read-back).
      const { x, stats } = tf.tidy(() => {
        const rgb = p.render()
        const act = forwardAll(netInput(toModelPixels(rgb)), readLayers)
        return imageStats(rgb, act, objectiveValue(act))
      })
      const s = await stats.data()
      stats.dispose()
      const lastIter = ii === params.max_iter - 1
      let images: tf.Tensor4D[]
      try {
        images = await recordAll(ii, x, s as Float32Array, lastIter ? NaN : (method.lrAt?.(params, ii) ?? params.lr))
      } finally {
        x.dispose()
      }
      for (const [k, v] of Object.entries(run.scheduled?.(ii) ?? {})) (scheduled[k] ??= []).push(v)
      try {
        // 2. the step (not on the last iteration).
        if (!lastIter) await run.step(ii)
      } catch (err) {
        tf.dispose(images)
        throw err
      }
      await notify(ii, performance.now() - tIter, images)
      if (lastIter) break
      if (opts.signal?.aborted) { interrupted = true; break }
    }
    const totalMs = performance.now() - t0
    const read = async (snap: { ii: number; obj: number; x: tf.Tensor4D } | null): Promise<ImageSnapshot | null> =>
      snap ? { ii: snap.ii, obj: snap.obj, x: (await snap.x.data()) as Float32Array } : null
    const results: MethodResult[] = []
    const codes = generatorVar ? (generatorVar as unknown as GeneratorParam).code() : null
    const alphas = await alpha.readAt(h, w)
    for (let i = 0; i < n; i++) {
      const rec = recorders[i]
      rec.finish()
      const series: MethodResult['series'] = { ...rec.series, ...scheduled }
      if (penaltyOf) series.penalty = penalties[i]
      results.push({
        method: {
          name: params.method, params: { ...params, objective: texts[shared ? 0 : i] }, objective: objectiveOfImage(i).description, image_index: i, batch_size: n,
          ...(driveInfo ? { lbfgs: driveInfo } : {}),
          ...(codes ? { code: Array.from(codes.subarray(i * (codes.length / n), (i + 1) * (codes.length / n))) } : {}),
        },
        target: targets[i],
        inputSpec: spec,
        backend,
        rng: { name: RNG_NAME, seed: params.rand_seed },
        x0: x0s[i],
        best: await read(rec.best),
        last: await read(rec.last),
        majority: await read(rec.majority),
        metaResult: rec.metaResult!,
        series,
        interrupted,
        totalMs,
        ...(alphas ? { alpha: { data: alphas[i], height: h, width: w, evaluations: alpha.count } } : {}),
      })
    }
    return results
  } finally {
    for (const r of recorders) r.dispose()
    run?.dispose?.()
    if (run) run.param.dispose()
    else generatorVar?.dispose()
    alpha.dispose()
    generator?.dispose()
    optimizer.dispose()
    tf.dispose([st.mean, st.scale, st.offset])
    if (perm) perm.dispose()
    if (x0) x0.dispose()
  }
}

/** The learning rate of iteration ii: the method's schedule (cnnpref-gd: linear lr -> lr_end), else constant lr. */
export function lrAt(p: GeneralParams, ii: number): number {
  return generalMethod(p.method).lrAt?.(p, ii) ?? p.lr
}

/** Optimize one image (batch_size must be 1); see optimizeGeneralBatch. */
export async function optimizeGeneral(
  model: VisModel, spec: InputSpec, rawParams: Partial<GeneralParams>, opts: GeneralOptions = {},
): Promise<MethodResult> {
  check((rawParams.batch_size ?? 1) === 1, () => `optimizeGeneral makes one image; use optimizeGeneralBatch for batch_size ${rawParams.batch_size}`)
  const [result] = await optimizeGeneralBatch(model, spec, rawParams, opts)
  return result
}
