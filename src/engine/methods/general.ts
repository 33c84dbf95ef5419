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
import {
  CROP_METHODS, DEFAULT_GENERAL_PARAMS, GENERATOR_FITS, GENERATOR_OUTPUT_RANGES, INIT_IMAGES, GENERAL_METHODS, GENERAL_OPTIMIZERS, IMAGE_PARAMS, PENALTIES, type GeneralParams,
} from '../../shared/method-params.ts'
import { clipPxAbsBenefit, clipSmallNorm, gaussianBlur } from '../regularizers.ts'
import { l1Penalty, l2Penalty, totalVariation } from './penalties.ts'
import { smoothGradientFourier } from './fourier-smooth.ts'
import { clipExtreme, clipSmallNorm as cnnprefSmallNorm, clipSmallContribution, drawJitter, GRADIENT_EPSILON, isClipIteration, momentumUpdate, normalizeGradient, normalizedStep, rollImage, unrollImage } from './cnnpref.ts'
import { linearScheduleAt } from './schedules.ts'
import { imageParam } from './image-param.ts'
import { applyTransforms, drawTransforms, resolveTransforms } from './transforms.ts'
import { diversity as diversityOf, imageReferences, INPUT_LAYER, parseObjective, validateObjective, type Leaf, type MaskWeights, type Objective } from './objectives.ts'
import { minimizeLbfgsB } from './lbfgs.ts'
import { generatorParam, loadGenerator, type Generator, type GeneratorParam } from './generator-param.ts'
import { withReluOverride } from './relu-override.ts'
import { AlphaAccumulator } from './alpha-map.ts'
import { createMaco, type CropMethod } from './maco-step.ts'
import type { Spectrum } from './maco.ts'
import { createAccentuation, type RgbImage } from './accentuation.ts'
import { inputLayerInfo, referenceActivations } from './compare-refs.ts'

/** Largest crops per step, spread (sd) of the crop draws and noise, and canvas scale accepted (memory guards). */
const MAX_CROPS = 64
const MAX_CROP_SPREAD = 10
const MAX_CANVAS_SCALE = 8
/** Smallest crop side (xplique's clip). */
const MIN_BOX = 0.05

/** 0..255 pixel scale of the [0, 1] image. */
const PIXEL_SCALE = 255
/** Largest batch accepted (memory guard). */
export const MAX_BATCH = 64

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
  check((PENALTIES as readonly string[]).includes(p.penalty), () => `penalty must be one of ${PENALTIES.join(', ')}; got '${p.penalty}'`)
  check(Number.isFinite(p.penalty_weight) && p.penalty_weight >= 0, () => `penalty_weight must be >= 0; got ${p.penalty_weight}`)
  check(Number.isFinite(p.blur_radius) && p.blur_radius >= 0, () => `blur_radius must be >= 0 (pixels); got ${p.blur_radius}`)
  check(Number.isFinite(p.smooth_factor) && p.smooth_factor >= 0, () => `smooth_factor must be >= 0; got ${p.smooth_factor}`)
  check(Number.isInteger(p.blur_every) && p.blur_every >= 1, () => `blur_every must be a positive integer; got ${p.blur_every}`)
  check(Number.isFinite(p.decay) && p.decay >= 0 && p.decay < 1, () => `decay must be in [0, 1); got ${p.decay}`)
  check(Number.isFinite(p.norm_crop_pct) && p.norm_crop_pct >= 0 && p.norm_crop_pct <= 100, () => `norm_crop_pct must be a percentile in 0..100; got ${p.norm_crop_pct}`)
  check(Number.isFinite(p.contrib_crop_pct) && p.contrib_crop_pct >= 0 && p.contrib_crop_pct <= 100, () => `contrib_crop_pct must be a percentile in 0..100; got ${p.contrib_crop_pct}`)
  const dnnbrainOnly = p.penalty !== 'none' || p.penalty_weight > 0 || p.smooth_factor > 0
  check(!dnnbrainOnly || p.method === 'dnnbrain', () => `penalty, penalty_weight and smooth_factor apply to method dnnbrain only (method is ${p.method})`)
  check(p.blur_radius === 0 || ['dnnbrain', 'seed004', 'cnnpref-gd'].includes(p.method), () => `blur_radius applies to methods dnnbrain, seed004 and cnnpref-gd only (method is ${p.method})`)
  const seed004Only = p.blur_every !== 1 || p.norm_crop_pct > 0 || p.contrib_crop_pct > 0
  check(!seed004Only || p.method === 'seed004', () => `blur_every, norm_crop_pct and contrib_crop_pct apply to method seed004 only (method is ${p.method})`)
  check(p.decay === 0 || p.method === 'seed004' || p.method === 'cnnpref-gd', () => `decay applies to methods seed004 and cnnpref-gd only (method is ${p.method})`)
  for (const k of ['lr_end', 'momentum', 'momentum_end', 'decay_end', 'blur_radius_end', 'jitter_px', 'clip_extreme_pct', 'clip_small_norm_pct', 'clip_small_contribution_pct'] as const) {
    check(Number.isFinite(p[k]) && p[k] >= 0, () => `${k} must be a number >= 0; got ${p[k]}`)
  }
  check(p.momentum <= 1 && p.momentum_end <= 1 && p.decay_end < 1, () => `momentum, momentum_end must be <= 1 and decay_end < 1; got ${p.momentum}, ${p.momentum_end}, ${p.decay_end}`)
  check(Number.isInteger(p.jitter_px) && Number.isInteger(p.clip_every) && p.clip_every >= 1, () => `jitter_px must be an integer >= 0 and clip_every a positive integer; got ${p.jitter_px}, ${p.clip_every}`)
  check(p.clip_extreme_pct <= 100 && p.clip_small_norm_pct <= 100 && p.clip_small_contribution_pct <= 100, () => 'clip_extreme_pct, clip_small_norm_pct and clip_small_contribution_pct must be percentiles in 0..100')
  const cnnprefOnly = p.lr_end > 0 || p.momentum > 0 || p.momentum_end > 0 || p.decay_end > 0 || p.blur_radius_end > 0 || p.jitter_px > 0 || p.clip_every !== 1 || p.clip_extreme_pct > 0 || p.clip_small_norm_pct > 0 || p.clip_small_contribution_pct > 0
  check(!cnnprefOnly || p.method === 'cnnpref-gd', () => `lr_end, momentum(_end), decay_end, blur_radius_end, jitter_px, clip_every and the clip percentiles apply to method cnnpref-gd only (method is ${p.method})`)
  // transforms, param, decorrelate and relu_override_steps are lucid's and ignored by the pixel methods (their defaults are lucid's).
  check(p.method === 'lucid' || p.diversity === 0, () => `diversity applies to method lucid only; method ${p.method} needs diversity 0`)
  const cropMethod = (CROP_METHODS as readonly string[]).includes(p.method)
  check(Number.isInteger(p.crops) && p.crops >= 0 && p.crops <= MAX_CROPS, () => `crops must be an integer in 0..${MAX_CROPS}; got ${p.crops}`)
  for (const k of ['box_start', 'box_end'] as const) check(Number.isFinite(p[k]) && p[k] >= MIN_BOX && p[k] <= 1, () => `${k} must be a fraction of the canvas in ${MIN_BOX}..1; got ${p[k]}`)
  for (const k of ['box_sd', 'centre_sd', 'noise', 'image_weight'] as const) check(Number.isFinite(p[k]) && p[k] >= 0 && p[k] <= MAX_CROP_SPREAD, () => `${k} must be a number in 0..${MAX_CROP_SPREAD}; got ${p[k]}`)
  check(Number.isFinite(p.canvas_scale) && p.canvas_scale >= 1 && p.canvas_scale <= MAX_CANVAS_SCALE, () => `canvas_scale must be in 1..${MAX_CANVAS_SCALE}; got ${p.canvas_scale}`)
  const cropDefaults = p.crops === DEFAULT_GENERAL_PARAMS.crops && p.box_start === DEFAULT_GENERAL_PARAMS.box_start && p.box_end === DEFAULT_GENERAL_PARAMS.box_end &&
    p.box_sd === DEFAULT_GENERAL_PARAMS.box_sd && p.centre_sd === DEFAULT_GENERAL_PARAMS.centre_sd && p.noise === DEFAULT_GENERAL_PARAMS.noise && p.canvas_scale === DEFAULT_GENERAL_PARAMS.canvas_scale
  check(cropMethod || cropDefaults, () => `crops, box_start, box_end, box_sd, centre_sd, noise and canvas_scale apply to methods ${CROP_METHODS.join(', ')} only (method is ${p.method})`)
  check(p.method === 'accentuation' || (p.image === '' && p.image_weight === DEFAULT_GENERAL_PARAMS.image_weight), () => `image and image_weight apply to method accentuation only (method is ${p.method})`)
  check((INIT_IMAGES as readonly string[]).includes(p.init_image), () => `init_image must be one of ${INIT_IMAGES.join(', ')}; got '${p.init_image}'`)
  if (p.param === 'generator') {
    check(['lucid', 'cnnpref-gd', 'cnnpref-lbfgs'].includes(p.method), () => `param 'generator' works with methods lucid, cnnpref-gd and cnnpref-lbfgs (method is ${p.method})`)
    check(typeof p.generator === 'string' && p.generator.length > 0, () => "param 'generator' needs the generator's model folder (generator / --generator DIR)")
    check((GENERATOR_OUTPUT_RANGES as readonly string[]).includes(p.generator_range), () => `generator_range must be one of ${GENERATOR_OUTPUT_RANGES.join(', ')}; got '${p.generator_range}'`)
    check((GENERATOR_FITS as readonly string[]).includes(p.generator_fit), () => `generator_fit must be one of ${GENERATOR_FITS.join(', ')}; got '${p.generator_fit}'`)
    for (const [k, b] of [['code_lower', p.code_lower], ['code_upper', p.code_upper]] as const) {
      check(typeof b === 'number' ? Number.isFinite(b) : Array.isArray(b) && b.length > 0 && b.every(Number.isFinite), () => `${k} must be a finite number or a list of them; got ${JSON.stringify(b)}`)
    }
    const imageOps = p.jitter_px > 0 || p.blur_radius > 0 || p.blur_radius_end > 0 || p.clip_extreme_pct > 0 || p.clip_small_norm_pct > 0 || p.clip_small_contribution_pct > 0
    check(!imageOps, () => "jitter, blur and the pixel clips act on pixels; with param 'generator' the code is optimized (cnnpref's DGN-GD has none of them): set them to 0")
  }
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

/** Lower / upper bound of the L-BFGS pixel variable (RGB, 0..255 units: DVT's [-mean, 255 - mean] shifted by the mean). */
const PIXEL_MIN = 0
const PIXEL_MAX = 255

/** Optimize `batch_size` images with the general method; one OptimizeResult per image (see the header). */
export async function optimizeGeneralBatch(
  model: VisModel, spec: InputSpec, rawParams: Partial<GeneralParams>, opts: GeneralOptions = {},
): Promise<MethodResult[]> {
  const params = resolveGeneralParams(rawParams)
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
  const transformSpec = resolveTransforms(params.transforms)
  const units = Array.from({ length: n }, (_, i) => singleUnit(objectiveOfImage(i)))
  const primaries: LayerInfo[] = []
  for (let i = 0; i < n; i++) primaries.push(await info(objectiveOfImage(i).leaves[0].leaf.layer))
  const targets = primaries.map((p, i) => targetOf(objectiveOfImage(i), p, spec.labels))
  const { height: h, width: w } = spec
  const t0 = performance.now()
  const backend = opts.backend ?? tf.getBackend()
  const lbfgs = params.method === 'cnnpref-lbfgs'
  /** How an L-BFGS run ended (written to info.json as method.lbfgs). */
  let lbfgsInfo: { stop: string; iterations: number; evaluations: number } | null = null

  let generator: Generator | null = null
  if (params.param === 'generator') {
    check(opts.readGenerator !== undefined, () => "param 'generator' needs a host that reads the generator's model files (the CLI's --generator DIR)")
    generator = await loadGenerator(await opts.readGenerator!(params.generator), { range: params.generator_range })
  }
  const rng = new Rng(params.rand_seed)
  const st = specTensors(spec)
  const lucid = params.method === 'lucid'
  const optimizer = tf.train.adam(params.lr)
  let param: { variables: tf.Variable[]; render(): tf.Tensor4D; dispose(): void; project?: () => void } | null = null
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
  /** Transparency map: accumulated |d loss / d image| (alpha-map.ts); not for cnnpref-gd's pixels, whose gradient is taken on the rolled image. */
  const alpha = new AlphaAccumulator()
  const tap = (rgb: tf.Tensor4D): tf.Tensor4D => (params.method === 'cnnpref-gd' && !generator ? rgb : alpha.tap(rgb))
  const objectiveOfRgb = (rgb: tf.Tensor4D): tf.Tensor1D => objectiveValue(forwardAll(netInput(toModelPixels(tap(rgb))), objectiveLayers))
  /** Objective of image i of the batch on a batch of its crops (the crop methods). */
  const objectiveOfCrops = (i: number, crops: tf.Tensor4D): tf.Tensor1D => {
    const o = objectiveOfImage(i)
    return o.value(forwardAll(netInput(toModelPixels(crops)), o.layers))
  }
  let crop: CropMethod | null = null
  const penaltyOf = params.method === 'dnnbrain' && params.penalty_weight > 0 ? { none: null, tv: totalVariation, l1: l1Penalty, l2: l2Penalty }[params.penalty] : null

  const recorders: Recorder<tf.Tensor4D>[] = Array.from({ length: n }, () => tensorRecorder(1))
  /** Scheduled values per iteration (cnnpref-gd: momentum, decay, blur_sigma; dnnbrain: penalty per image). */
  const scheduled: { momentum: number[]; decay: number[]; blur_sigma: number[] } = { momentum: [], decay: [], blur_sigma: [] }
  const penalties: number[][] = Array.from({ length: n }, () => [])
  const x0s: Float32Array[] = []
  let x0 = null as tf.Tensor4D | null
  let interrupted = false
  /** cnnpref-gd's momentum buffer (pixel units, or code units with a generator). */
  let delta: tf.Tensor | null = null
  const readLayers = [...new Set([...objectiveLayers, ...primaries.map((p) => p.name)])]

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
      param = generatorParam({
        generator, batch: n, height: h, width: w, lower: params.code_lower, upper: params.code_upper,
        fit: params.generator_fit === 'auto' ? undefined : params.generator_fit,
      }, rng)
    } else if (params.method === 'maco') {
      check(opts.spectrum !== undefined, () => 'method maco needs the natural-image spectrum (the CLI reads resources/maco/natural-spectrum.npy)')
      crop = createMaco(params, n, [h, w], opts.spectrum!, rng, alpha, objectiveOfCrops)
      param = crop.param
    } else if (params.method === 'accentuation') {
      check(opts.seedImage !== undefined, () => 'method accentuation needs a seed image (the CLI\'s --image FILE)')
      crop = createAccentuation(params, n, [h, w], opts.seedImage!, rng, alpha, objectiveOfCrops)
      param = crop.param
    } else if (lucid) {
      param = imageParam({ kind: params.param as 'fft' | 'pixel', batch: n, height: h, width: w, sd: params.init_sd, decay: params.fft_decay, decorrelate: params.decorrelate }, rng)
    } else {
      param = plainPixelImage(n, h, w, params.init_sd, params.init_image === 'black' ? 0 : MID_GREY, rng, lbfgs ? PIXEL_SCALE : 1)
    }
    const p = param
    if (lbfgs) {
      const stop = await runLbfgs(params, p, n, recordAll, notify, () => {
        const rgb = tap(p.render())
        const act = forwardAll(netInput(toModelPixels(rgb)), readLayers)
        const obj = objectiveValue(act)
        return { loss: tf.neg(tf.sum(obj)) as tf.Scalar, ...imageStats(rgb, act, obj) }
      }, generator ? { lower: params.code_lower, upper: params.code_upper } : { lower: PIXEL_MIN, upper: PIXEL_MAX }, opts.signal)
      interrupted = stop.interrupted
      lbfgsInfo = { stop: stop.stop, iterations: stop.iterations, evaluations: stop.evaluations }
    }
    for (let ii = 0; !lbfgs && ii < params.max_iter; ii++) {
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
        images = await recordAll(ii, x, s as Float32Array, lastIter ? NaN : lrAt(params, ii))
      } finally {
        x.dispose()
      }
      if (params.method === 'cnnpref-gd') {
        const at = (a: number, b: number): number => linearScheduleAt(a, b, ii, params.max_iter)
        scheduled.momentum.push(at(params.momentum, params.momentum_end))
        scheduled.decay.push(at(params.decay, params.decay_end))
        scheduled.blur_sigma.push(at(params.blur_radius, params.blur_radius_end))
      }
      try {
        // 2. the step (not on the last iteration).
        if (!lastIter && params.method === 'cnnpref-gd' && generator) {
          delta = codeStep(params, ii, p.variables[0], delta, objectiveOfRgb, p.render)
          p.project!()
        } else if (!lastIter && params.method === 'cnnpref-gd') {
          delta = await cnnprefStep(params, ii, p.variables[0], delta as tf.Tensor4D | null, rng, objectiveOfRgb)
        } else if (!lastIter && params.method === 'seed004') {
          await seed004Step(params, ii, p.variables[0], objectiveOfRgb)
        } else if (!lastIter && crop) {
          crop.step(ii)
        } else if (!lastIter && !lucid) {
          pixelStep(params, p, optimizer, objectiveOfRgb)
        } else if (!lastIter) {
          const draw = transformSpec ? drawTransforms(transformSpec, rng) : null
          withReluOverride(ii < params.relu_override_steps, () => {
            optimizer.minimize(() => {
              const rgb = tap(p.render())
              const seen = transformSpec && draw ? applyTransforms(rgb, transformSpec, draw, [h, w]) : rgb
              const layers = divLayer ? [...new Set([...objectiveLayers, divLayer])] : objectiveLayers
              const act = forwardAll(netInput(toModelPixels(seen)), layers)
              let loss = tf.neg(tf.sum(objectiveValue(act))) as tf.Scalar
              if (divLayer) loss = tf.add(loss, tf.mul(diversityOf(act(divLayer)), params.diversity)) as tf.Scalar
              return loss
            }, false, p.variables)
          })
          p.project?.()
        }
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
    const codes = generator ? (param as GeneratorParam).code() : null
    const alphas = await alpha.readAt(h, w)
    for (let i = 0; i < n; i++) {
      const rec = recorders[i]
      rec.finish()
      const series: MethodResult['series'] = { ...rec.series }
      if (params.method === 'cnnpref-gd') Object.assign(series, { momentum: scheduled.momentum, decay: scheduled.decay, blur_sigma: scheduled.blur_sigma })
      if (penaltyOf) series.penalty = penalties[i]
      results.push({
        method: {
          name: params.method, params: { ...params, objective: texts[shared ? 0 : i] }, objective: objectiveOfImage(i).description, image_index: i, batch_size: n,
          ...(lbfgsInfo ? { lbfgs: lbfgsInfo } : {}),
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
    param?.dispose()
    alpha.dispose()
    generator?.dispose()
    optimizer.dispose()
    tf.dispose([st.mean, st.scale, st.offset])
    if (perm) perm.dispose()
    if (x0) x0.dispose()
    if (delta) delta.dispose()
  }
}

/**
 * cnnpref-lbfgs (prefer_img_lbfgs.py / prefer_img_dgn_lbfgs.py): scipy-style bounded L-BFGS (lbfgs.ts) on the
 * parameterization's one variable, the RGB pixels in 0..255 (bounds [0, 255], i.e. DVT's [-mean, 255 - mean]
 * shifted by the mean, which L-BFGS is invariant to) or the generator code (bounds code_lower..code_upper).
 * Each function evaluation is one forward/backward of -Σ obj; the initial point is recorded as ii 0 and every
 * accepted iterate as ii 1, 2, ... (at most max_iter - 1 L-BFGS iterations, so at most max_iter records as the
 * other methods). It stops early at scipy's tolerances (recorded as method.lbfgs.stop) or on the abort signal.
 */
async function runLbfgs(
  params: GeneralParams, param: { variables: tf.Variable[] }, n: number,
  recordAll: (ii: number, x: tf.Tensor4D, s: Float32Array, lr: number) => Promise<tf.Tensor4D[]>,
  notify: (ii: number, wall: number, images: tf.Tensor4D[]) => Promise<void>,
  evaluate: () => { loss: tf.Scalar; x: tf.Tensor4D; stats: tf.Tensor2D },
  bounds: { lower: number | number[]; upper: number | number[] }, signal?: AbortSignal,
): Promise<{ stop: string; iterations: number; evaluations: number; interrupted: boolean }> {
  const v = param.variables[0]
  const perImage = v.size / n
  const expand = (b: number | number[]): number | Float64Array => typeof b === 'number' ? b : Float64Array.from({ length: v.size }, (_, k) => b[k % perImage])
  /** The latest evaluation's image and statistics (the accepted iterate is always the latest evaluation). */
  let latest: { x: tf.Tensor4D; s: Float32Array } | null = null
  let pending: Promise<void> = Promise.resolve()
  let tIter = performance.now()
  let evaluations = 0
  const record = (ii: number): void => {
    const { x, s } = latest!
    const wall = performance.now() - tIter
    tIter = performance.now()
    pending = pending.then(async () => notify(ii, wall, await recordAll(ii, x, s, NaN)))
  }
  const f = async (vec: Float64Array): Promise<{ value: number; grad: Float32Array }> => {
    await pending
    tf.tidy(() => { v.assign(tf.tensor(Float32Array.from(vec), v.shape)) })
    let kept: { x: tf.Tensor4D; stats: tf.Tensor2D } | null = null
    const { value, grads } = tf.variableGrads(() => {
      const r = evaluate()
      kept = { x: tf.keep(r.x), stats: tf.keep(r.stats) }
      return r.loss
    }, [v])
    const k = kept as unknown as { x: tf.Tensor4D; stats: tf.Tensor2D }
    const s = (await k.stats.data()) as Float32Array
    k.stats.dispose()
    const loss = (await value.data())[0]
    const grad = (await grads[v.name].data()) as Float32Array
    tf.dispose([value, grads[v.name]])
    latest?.x.dispose()
    latest = { x: k.x, s }
    if (evaluations++ === 0) record(0)
    return { value: loss, grad }
  }
  try {
    const start = Float64Array.from(await v.data())
    const r = await minimizeLbfgsB(f, start, {
      lower: expand(bounds.lower), upper: expand(bounds.upper), maxIter: params.max_iter - 1,
      onIteration: (iteration) => { record(iteration); return signal?.aborted === true },
    })
    await pending
    return { stop: r.stop, iterations: r.iterations, evaluations: r.evaluations, interrupted: r.stop === 'callback' }
  } finally {
    await pending.catch(() => undefined)
    ;(latest as { x: tf.Tensor4D } | null)?.x.dispose()
  }
}

/** Mid-grey (0.5) of the [0, 1] image the pixel methods start from. */
const MID_GREY = 0.5

/**
 * The pixel image of the pixel methods: one variable, the RGB image in [0, 1] times `scale` (1; cnnpref-lbfgs: 255,
 * pixel units as scipy sees them in cnnpref), initialized to `base` (mid-grey, or 0 = black) plus seeded
 * N(0, sd^2) noise, clipped to the valid range (dnnbrain starts from unseeded U[0, 1) noise; we seed and centre it).
 */
function plainPixelImage(n: number, h: number, w: number, sd: number, base: number, rng: Rng, scale = 1): { variables: tf.Variable[]; render(): tf.Tensor4D; dispose(): void } {
  const init = rng.fill(n * h * w * 3, (r) => Math.min(1, Math.max(0, base + r.normal(0, sd))) * scale)
  const variable = tf.tidy(() => tf.variable(tf.tensor4d(init, [n, h, w, 3])))
  return { variables: [variable], render: () => (scale === 1 ? variable as unknown as tf.Tensor4D : tf.div(variable, scale) as tf.Tensor4D), dispose: () => variable.dispose() }
}

/**
 * One step of cnnpref's DGN-GD (prefer_img_dgn_gd.py L189-207) on the generator code z [N, D]: g = d obj / dz,
 * g / mean|g| per image; δ <- m_t δ + g; z <- (1 - decay_t) (z + lr_t δ) (ascent on the maximized objective);
 * the caller clamps z to its bounds. Returns the new momentum buffer (the old one is disposed).
 */
function codeStep(
  p: GeneralParams, ii: number, v: tf.Variable, delta: tf.Tensor | null, objectiveOf: (rgb: tf.Tensor4D) => tf.Tensor, render: () => tf.Tensor4D,
): tf.Tensor {
  const at = (a: number, b: number): number => linearScheduleAt(a, b, ii, p.max_iter)
  const next = tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.sum(objectiveOf(render())) as tf.Scalar, [v])
    const g = grads[v.name]
    const gn = tf.div(g, tf.maximum(tf.mean(tf.abs(g), 1, true), GRADIENT_EPSILON))
    const d = delta ? tf.add(tf.mul(delta, at(p.momentum, p.momentum_end)), gn) : gn
    v.assign(tf.mul(tf.add(v, tf.mul(d, lrAt(p, ii))), 1 - at(p.decay, p.decay_end)))
    return d
  })
  delta?.dispose()
  return next
}

/**
 * One step of a pixel method on the [0, 1] image variable; the image is then clipped to [0, 1] (the valid pixel range).
 * - dnnbrain: loss = -sum(obj) + penalty_weight * sum(R(img)); gradient smoothed in the Fourier domain when
 *   smooth_factor > 0; Adam step; Gaussian blur of the image (sigma blur_radius, per channel) when > 0.
 *   Difference from dnnbrain, on purpose: its code re-creates Adam every iteration when the blur is on (each step is
 *   then Adam's first, ~ lr * sign(g)); we keep one Adam for the whole run, so its moments accumulate.
 * - normstep: x <- x + (lr / 255) * g / max|g| (lr is the largest pixel change in 0..255 units; seed 003 divides by
 *   max(g), which flips or blows up the step when max(g) < 0).
 */
function pixelStep(
  params: GeneralParams, param: { variables: tf.Variable[] }, optimizer: tf.Optimizer,
  objectiveOf: (rgb: tf.Tensor4D) => tf.Tensor,
): void {
  const v = param.variables[0]
  tf.tidy(() => {
    const img = v as unknown as tf.Tensor4D
    if (params.method === 'normstep') {
      const { grads } = tf.variableGrads(() => tf.sum(objectiveOf(img)) as tf.Scalar, [v])
      v.assign(tf.clipByValue(normalizedStep(img, grads[v.name] as tf.Tensor4D, params.lr / PIXEL_SCALE), 0, 1))
      return
    }
    const penaltyOf = { none: null, tv: totalVariation, l1: l1Penalty, l2: l2Penalty }[params.penalty]
    const { grads } = tf.variableGrads(() => {
      let loss = tf.neg(tf.sum(objectiveOf(img))) as tf.Scalar
      if (penaltyOf && params.penalty_weight > 0) loss = tf.add(loss, tf.mul(tf.sum(penaltyOf(img)), params.penalty_weight)) as tf.Scalar
      return loss
    }, [v])
    let g = grads[v.name] as tf.Tensor4D
    if (params.smooth_factor > 0) g = smoothGradientFourier(g, params.smooth_factor)
    optimizer.applyGradients({ [v.name]: g })
    let next = v as unknown as tf.Tensor4D
    if (params.blur_radius > 0) next = gaussianBlur(next, params.blur_radius)
    v.assign(tf.clipByValue(next, 0, 1))
  })
}

/**
 * One step of seed 004's act_max on the [0, 1] image variable: x += lr * g (raw gradient), then on the image
 * centred at mid-grey c = x - 0.5: c *= 1 - decay; Gaussian blur (sigma blur_radius) when ii mod blur_every == 0;
 * zero pixels whose channel norm is below the norm_crop_pct percentile; zero pixels whose |contribution|
 * |sum_c c*g| is below the contrib_crop_pct percentile (percentiles over the whole batch); finally clip to [0, 1].
 * Differences from seed 004, on purpose: its "contrib crop" zeroes small |x| and never uses the gradient (we use the
 * contribution, as named); its best image is stored after the update but scored before it (our recorder scores
 * the image it stores); it does not clip (we clip to the valid pixel range); zero is mid-grey here (its zero is
 * the ImageNet mean of its normalized space), and lr applies to the [0, 1] image.
 */
async function seed004Step(params: GeneralParams, ii: number, v: tf.Variable, objectiveOf: (rgb: tf.Tensor4D) => tf.Tensor): Promise<void> {
  const { c, g } = tf.tidy(() => {
    const img = v as unknown as tf.Tensor4D
    const { grads } = tf.variableGrads(() => tf.neg(tf.sum(objectiveOf(img))) as tf.Scalar, [v])
    const g = tf.neg(grads[v.name]) as tf.Tensor4D
    let c = tf.sub(tf.add(img, tf.mul(g, params.lr)), MID_GREY) as tf.Tensor4D
    if (params.decay > 0) c = tf.mul(c, 1 - params.decay) as tf.Tensor4D
    if (params.blur_radius > 0 && ii % params.blur_every === 0) c = gaussianBlur(c, params.blur_radius)
    return { c, g }
  })
  let cur = c
  const replace = (next: tf.Tensor4D): void => { if (next !== cur) { cur.dispose(); cur = next } }
  try {
    if (params.norm_crop_pct > 0) replace(await clipSmallNorm(cur, params.norm_crop_pct))
    if (params.contrib_crop_pct > 0) replace(await clipPxAbsBenefit(cur, g, params.contrib_crop_pct))
    tf.tidy(() => { v.assign(tf.clipByValue(tf.add(cur, MID_GREY), 0, 1)) })
  } finally {
    cur.dispose()
    g.dispose()
  }
}

/** The learning rate of iteration ii: cnnpref-gd's linear lr -> lr_end schedule, else constant lr. */
export function lrAt(p: GeneralParams, ii: number): number {
  return p.method === 'cnnpref-gd' ? linearScheduleAt(p.lr, p.lr_end, ii, p.max_iter) : p.lr
}

/**
 * One step of cnnpref's prefer_img_gd (see cnnpref.ts for the order) on the [0, 1] image variable, in
 * centred pixel units c = 255 (x - 0.5): roll c and δ by a seeded jitter; g = d obj / dc, g / mean|g|;
 * δ <- m_t δ + g; c <- c + lr_t δ (ascent on the maximized objective); clip_small_norm / clip_small_contribution
 * (norm of c*g) at (t+1) mod clip_every == 0; un-roll c and δ (the whole buffer: cnnpref keeps g rolled, see
 * cnnpref.ts); c <- (1 - decay_t) c; blur with sigma_t; x = c / 255 + 0.5 clipped to [0, 1].
 * Schedules are linear start -> end over max_iter (cnnpref: the end value is never quite reached).
 */
async function cnnprefStep(
  p: GeneralParams, ii: number, v: tf.Variable, delta: tf.Tensor4D | null, rng: Rng, objectiveOf: (rgb: tf.Tensor4D) => tf.Tensor,
): Promise<tf.Tensor4D> {
  const at = (a: number, b: number): number => linearScheduleAt(a, b, ii, p.max_iter)
  const offset = drawJitter(rng, p.jitter_px)
  const { c, g, d } = tf.tidy(() => {
    const c0 = rollImage(tf.mul(tf.sub(v, MID_GREY), PIXEL_SCALE) as tf.Tensor4D, offset)
    const d0 = delta ? rollImage(delta, offset) : tf.zerosLike(c0)
    const grad = tf.grad((cc: tf.Tensor) => tf.sum(objectiveOf(tf.add(tf.div(cc, PIXEL_SCALE), MID_GREY) as tf.Tensor4D)))(c0) as tf.Tensor4D
    const g = normalizeGradient(grad)
    const d = momentumUpdate(d0 as tf.Tensor4D, g, at(p.momentum, p.momentum_end))
    const c = tf.add(c0, tf.mul(d, lrAt(p, ii))) as tf.Tensor4D
    return { c, g, d }
  })
  let cur = c
  const replace = (next: tf.Tensor4D): void => { if (next !== cur) { cur.dispose(); cur = next } }
  try {
    if (isClipIteration(ii, p.clip_every)) {
      // cnnpref's order: extremes, small norm, small contribution.
      if (p.clip_extreme_pct > 0) replace(await clipExtreme(cur, p.clip_extreme_pct))
      if (p.clip_small_norm_pct > 0) replace(await cnnprefSmallNorm(cur, p.clip_small_norm_pct))
      if (p.clip_small_contribution_pct > 0) replace(await clipSmallContribution(cur, g, p.clip_small_contribution_pct))
    }
    const nextDelta = tf.tidy(() => unrollImage(d, offset))
    tf.tidy(() => {
      let x = tf.mul(unrollImage(cur, offset), 1 - at(p.decay, p.decay_end)) as tf.Tensor4D
      const sigma = at(p.blur_radius, p.blur_radius_end)
      if (sigma > 0) x = gaussianBlur(x, sigma)
      v.assign(tf.clipByValue(tf.add(tf.div(x, PIXEL_SCALE), MID_GREY), 0, 1))
    })
    if (delta) delta.dispose()
    return nextDelta
  } finally {
    cur.dispose()
    g.dispose()
    d.dispose()
  }
}

/** Optimize one image (batch_size must be 1); see optimizeGeneralBatch. */
export async function optimizeGeneral(
  model: VisModel, spec: InputSpec, rawParams: Partial<GeneralParams>, opts: GeneralOptions = {},
): Promise<MethodResult> {
  check((rawParams.batch_size ?? 1) === 1, () => `optimizeGeneral makes one image; use optimizeGeneralBatch for batch_size ${rawParams.batch_size}`)
  const [result] = await optimizeGeneralBatch(model, spec, rawParams, opts)
  return result
}
