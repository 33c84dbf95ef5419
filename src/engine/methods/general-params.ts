/**
 * Validation of the general methods' parameters, once, in the engine: ranges of every field, then the keys a
 * method does not read (from each method's `reads` in the registry: a key off its default for a method that
 * does not read it is refused, naming the methods that do), then the method's own checks.
 * Shape: `resolveGeneralParams(partial) => GeneralParams` (throws DeepVisError('BAD_PARAM') naming the bad value).
 */
import { check, DeepVisError } from '../../shared/errors.ts'
import {
  DEFAULT_GENERAL_PARAMS, GENERATOR_FITS, GENERATOR_OUTPUT_RANGES, INIT_IMAGES, GENERAL_OPTIMIZERS, IMAGE_PARAMS, PENALTIES, type GeneralParams,
} from '../../shared/method-params.ts'
import { resolveTransforms } from './transforms.ts'
import { GENERAL_METHOD_DEFS, generalMethod, generalMethodNames, readersOf } from './registry.ts'

/** Largest crops per step, spread (sd) of the crop draws and noise, and canvas scale accepted (memory guards). */
const MAX_CROPS = 64
const MAX_CROP_SPREAD = 10
const MAX_CANVAS_SCALE = 8
/** Smallest crop side (xplique's clip). */
const MIN_BOX = 0.05
/** Largest batch accepted (memory guard). */
export const MAX_BATCH = 64

/** 'a', 'a and b', 'a, b and c'. */
const listed = (xs: readonly string[]): string => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`)

/** Refuse a key off its default that the method does not read, naming the methods that read it (and the keys read by exactly those). */
function checkReads(p: GeneralParams): void {
  const method = generalMethod(p.method)
  const keys = [...new Set(GENERAL_METHOD_DEFS.flatMap((m) => m.reads))]
  const off = keys.find((k) => !method.reads.includes(k) && JSON.stringify(p[k]) !== JSON.stringify(DEFAULT_GENERAL_PARAMS[k]))
  if (off === undefined) return
  const readers = readersOf(off)
  const group = keys.filter((k) => JSON.stringify(readersOf(k)) === JSON.stringify(readers))
  throw new DeepVisError('BAD_PARAM', `${listed(group)} ${group.length > 1 ? 'apply' : 'applies'} to ${readers.length > 1 ? 'methods' : 'method'} ${listed(readers)} only (method is ${p.method})`)
}

export function resolveGeneralParams(partial: Partial<GeneralParams>): GeneralParams {
  const p: GeneralParams = { ...DEFAULT_GENERAL_PARAMS, ...partial }
  const method = generalMethod(p.method)
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
  for (const k of ['lr_end', 'momentum', 'momentum_end', 'decay_end', 'blur_radius_end', 'jitter_px', 'clip_extreme_pct', 'clip_small_norm_pct', 'clip_small_contribution_pct'] as const) {
    check(Number.isFinite(p[k]) && p[k] >= 0, () => `${k} must be a number >= 0; got ${p[k]}`)
  }
  check(p.momentum <= 1 && p.momentum_end <= 1 && p.decay_end < 1, () => `momentum, momentum_end must be <= 1 and decay_end < 1; got ${p.momentum}, ${p.momentum_end}, ${p.decay_end}`)
  check(Number.isInteger(p.jitter_px) && Number.isInteger(p.clip_every) && p.clip_every >= 1, () => `jitter_px must be an integer >= 0 and clip_every a positive integer; got ${p.jitter_px}, ${p.clip_every}`)
  check(p.clip_extreme_pct <= 100 && p.clip_small_norm_pct <= 100 && p.clip_small_contribution_pct <= 100, () => 'clip_extreme_pct, clip_small_norm_pct and clip_small_contribution_pct must be percentiles in 0..100')
  check(Number.isInteger(p.crops) && p.crops >= 0 && p.crops <= MAX_CROPS, () => `crops must be an integer in 0..${MAX_CROPS}; got ${p.crops}`)
  for (const k of ['box_start', 'box_end'] as const) check(Number.isFinite(p[k]) && p[k] >= MIN_BOX && p[k] <= 1, () => `${k} must be a fraction of the canvas in ${MIN_BOX}..1; got ${p[k]}`)
  for (const k of ['box_sd', 'centre_sd', 'noise', 'image_weight'] as const) check(Number.isFinite(p[k]) && p[k] >= 0 && p[k] <= MAX_CROP_SPREAD, () => `${k} must be a number in 0..${MAX_CROP_SPREAD}; got ${p[k]}`)
  check(Number.isFinite(p.canvas_scale) && p.canvas_scale >= 1 && p.canvas_scale <= MAX_CANVAS_SCALE, () => `canvas_scale must be in 1..${MAX_CANVAS_SCALE}; got ${p.canvas_scale}`)
  check((INIT_IMAGES as readonly string[]).includes(p.init_image), () => `init_image must be one of ${INIT_IMAGES.join(', ')}; got '${p.init_image}'`)
  // transforms, param, decorrelate and relu_override_steps are lucid's and ignored by the pixel methods (their defaults are lucid's).
  checkReads(p)
  if (p.param === 'generator') {
    const accepting = GENERAL_METHOD_DEFS.filter((m) => m.acceptsGenerator).map((m) => m.name)
    check(method.acceptsGenerator === true, () => `param 'generator' works with methods ${listed(accepting)} (method is ${p.method})`)
    check(typeof p.generator === 'string' && p.generator.length > 0, () => "param 'generator' needs the generator's model folder (generator / --generator DIR)")
    check((GENERATOR_OUTPUT_RANGES as readonly string[]).includes(p.generator_range), () => `generator_range must be one of ${GENERATOR_OUTPUT_RANGES.join(', ')}; got '${p.generator_range}'`)
    check((GENERATOR_FITS as readonly string[]).includes(p.generator_fit), () => `generator_fit must be one of ${GENERATOR_FITS.join(', ')}; got '${p.generator_fit}'`)
    for (const [k, b] of [['code_lower', p.code_lower], ['code_upper', p.code_upper]] as const) {
      check(typeof b === 'number' ? Number.isFinite(b) : Array.isArray(b) && b.length > 0 && b.every(Number.isFinite), () => `${k} must be a finite number or a list of them; got ${JSON.stringify(b)}`)
    }
    const imageOps = p.jitter_px > 0 || p.blur_radius > 0 || p.blur_radius_end > 0 || p.clip_extreme_pct > 0 || p.clip_small_norm_pct > 0 || p.clip_small_contribution_pct > 0
    check(!imageOps, () => "jitter, blur and the pixel clips act on pixels; with param 'generator' the code is optimized (cnnpref's DGN-GD has none of them): set them to 0")
  }
  method.validate?.(p)
  return p
}

export { generalMethodNames }
