/**
 * What the regularizer panel knows about each DVT parameter: its range, step and a one-line
 * explanation (shown as a tooltip), plus the renderer's copy of DVT's CLI defaults.
 * Values (defaults, policies, start modes) come from `src/shared/dvt-params.ts`, the data the engine
 * validates against.
 * Shape: `PARAM_FIELDS[key] => { label, min, max, step, integer, log, help }`; `clampParam(key, v) => number`;
 *   the general methods: `METHOD_FIELD_KEYS[method]` over METHOD_NUMBER_FIELDS / METHOD_CHOICE_FIELDS / METHOD_FLAG_FIELDS; FAMILY_LABELS
 */
import {
  DEFAULT_PARAMS, LR_POLICIES as SHARED_LR_POLICIES, LR_POLICY_KEYS as SHARED_LR_POLICY_KEYS, START_MODES as SHARED_START_MODES,
  type FindParams, type LrPolicy, type StartAt,
} from '../../../shared/dvt-params'
import type { PresetFamily } from '../../../shared/run-types'

/** The parameters the user edits: everything but the unit (layer and channel come from the unit browser). */
export type EditableParams = Omit<FindParams, 'push_layer' | 'push_channel'>

/** Numeric top-level parameters that have a slider. */
export type NumericParamKey =
  | 'decay' | 'blur_radius' | 'blur_every' | 'small_val_percentile' | 'small_norm_percentile'
  | 'px_benefit_percentile' | 'px_abs_benefit_percentile' | 'max_iter' | 'rand_seed'

/** Range and help of one numeric parameter. */
export interface ParamField {
  /** Short label shown next to the slider. */
  label: string
  min: number
  max: number
  /** Step of the slider and number input. */
  step: number
  /** Integer-valued parameter (rounded on input). */
  integer: boolean
  /** Slider moves on a log10 scale (for values spanning decades, such as learning rates). */
  log: boolean
  /** One-line explanation, shown as the `title` tooltip. */
  help: string
}

const percentile = (label: string, help: string): ParamField => ({ label, min: 0, max: 100, step: 1, integer: false, log: false, help })

/** Every numeric parameter's range and tooltip (ranges follow `resolveParams`, with practical upper ends). */
export const PARAM_FIELDS: Record<NumericParamKey, ParamField> = {
  decay: {
    label: 'Decay', min: 0, max: 1, step: 0.0001, integer: false, log: false,
    help: 'L2 decay toward the mean image after each step: x ← (1 − decay)·x. 0 disables.',
  },
  blur_radius: {
    label: 'Blur radius', min: 0, max: 5, step: 0.05, integer: false, log: false,
    help: 'Gaussian blur sigma in pixels (reflect mode, truncated at 4σ). 0 disables.',
  },
  blur_every: {
    label: 'Blur every', min: 0, max: 50, step: 1, integer: true, log: false,
    help: 'Blur when iteration mod N == 0 (including iteration 0). 0 disables.',
  },
  small_val_percentile: percentile('Small value %', 'Zero entries whose |x| is under this percentile. 0 disables.'),
  small_norm_percentile: percentile('Small norm %', 'θ_n: zero pixels whose channel norm is under this percentile. 0 disables.'),
  px_benefit_percentile: percentile('Px benefit %', 'Zero pixels whose contribution Σc g·x is under this percentile (unused in the paper). 0 disables.'),
  px_abs_benefit_percentile: percentile('Px |benefit| %', 'θ_c: zero pixels whose |contribution| is under this percentile. 0 disables.'),
  max_iter: {
    label: 'Max iterations', min: 1, max: 5000, step: 1, integer: true, log: false,
    help: 'Number of iterations; the last one is recorded but not stepped.',
  },
  rand_seed: {
    label: 'Seed', min: 0, max: 4294967295, step: 1, integer: true, log: false,
    help: 'Seed of the MT19937 generator that builds the start image x0.',
  },
}

/** Range and help of each lr-policy parameter. */
export const LR_PARAM_FIELDS: Record<string, ParamField> = {
  lr: { label: 'lr', min: 1e-4, max: 1e9, step: 0.0001, integer: false, log: true, help: 'Constant learning rate: x ← x + lr·g.' },
  max_lr: { label: 'max lr', min: 1e-4, max: 1e9, step: 0.0001, integer: false, log: true, help: 'Upper bound of the learning rate.' },
  desired_prog: {
    label: 'desired prog', min: 1e-4, max: 1000, step: 0.0001, integer: false, log: true,
    help: 'Objective change wanted per step: lr = min(max_lr, desired_prog / ‖g‖²).',
  },
  early_prog: {
    label: 'early prog', min: 1e-4, max: 1, step: 0.0001, integer: false, log: true,
    help: 'progress01: wanted change early on, for outputs in [0, 1] such as softmax.',
  },
  late_prog_mult: {
    label: 'late prog mult', min: 1e-4, max: 1, step: 0.0001, integer: false, log: true,
    help: 'progress01: wanted change late on is late_prog_mult·(1 − obj).',
  },
}

export const START_MODES: readonly StartAt[] = SHARED_START_MODES
export const START_MODE_HELP: Record<StartAt, string> = {
  mean_plus_rand: 'mean image + N(0, 10²) noise',
  randu: 'uniform 0..255 noise',
  mean: 'exactly the mean image',
}

export const LR_POLICIES: readonly LrPolicy[] = SHARED_LR_POLICIES
/** Keys each lr policy requires (as the engine's LR_POLICY_KEYS). */
export const LR_POLICY_KEYS: Record<LrPolicy, readonly string[]> = SHARED_LR_POLICY_KEYS
export const LR_POLICY_HELP: Record<LrPolicy, string> = {
  constant: 'lr = lr_params.lr',
  progress: 'lr = min(max_lr, desired_prog / ‖g‖²): move the objective by desired_prog per step',
  progress01: 'for [0, 1] outputs: desired = min(early_prog, late_prog_mult·(1 − obj))',
}
/** Values filled in when switching to a policy whose keys are not set yet. */
export const LR_PARAM_DEFAULTS: Record<string, number> = { lr: 1, max_lr: 100, desired_prog: 2, early_prog: 0.03, late_prog_mult: 0.1 }

/** DVT's CLI defaults (OI L38-75). */
export const DEFAULT_EDITABLE_PARAMS: EditableParams = DEFAULT_PARAMS

/** `value` brought into `field`'s range (and rounded for integer fields); NaN becomes the minimum. */
export function clampToField(field: ParamField, value: number): number {
  if (!Number.isFinite(value)) return field.min
  const v = field.integer ? Math.round(value) : value
  return Math.min(field.max, Math.max(field.min, v))
}

/** Labels of the method families, in the order the method selector groups them. */
export const FAMILY_LABELS: Record<PresetFamily, string> = {
  dvt: 'DVT pixel-space',
  lucid: 'Lucid',
  maco: 'MACO, accentuation',
  dnnbrain: 'dnnbrain',
  cnnpref: 'cnnpref',
  seed003: 'seed 003',
  seed004: 'seed 004',
}

/**
 * Numeric fields of the general methods (GeneralParams keys), help copied from GeneralParams' JSDoc.
 * The unit, rand_seed and max_iter stay DVT's fields (the run section), so they are not listed here.
 */
export const METHOD_NUMBER_FIELDS: Record<string, ParamField> = {
  lr: { label: 'Learning rate', min: 1e-4, max: 1000, step: 0.001, integer: false, log: true, help: "Step size: lucid/dnnbrain Adam's (parameter units); normstep, seed004 and cnnpref-gd in pixel units." },
  fft_decay: { label: 'FFT decay', min: 0, max: 3, step: 0.05, integer: false, log: false, help: 'Exponent of the 1/f spectrum scaling of the FFT parameterization.' },
  init_sd: { label: 'Init sd', min: 0, max: 1, step: 0.001, integer: false, log: false, help: 'Standard deviation of the initial parameters.' },
  penalty_weight: { label: 'Penalty weight', min: 0, max: 10, step: 0.01, integer: false, log: false, help: 'dnnbrain: weight of the penalty (regular_lambda); 0 = off.' },
  blur_radius: { label: 'Blur sigma', min: 0, max: 5, step: 0.025, integer: false, log: false, help: 'dnnbrain / seed004 / cnnpref-gd (first): sigma in pixels of the Gaussian blur of the image after a step; 0 = off.' },
  smooth_factor: { label: 'Smooth factor', min: 0, max: 2, step: 0.05, integer: false, log: false, help: 'dnnbrain: Fourier gradient smoothing exponent (filter r^(-2 factor)); 0 = off.' },
  blur_every: { label: 'Blur every', min: 1, max: 20, step: 1, integer: true, log: false, help: 'seed004: blur every this many iterations (theta_every).' },
  decay: { label: 'Decay', min: 0, max: 0.5, step: 0.001, integer: false, log: false, help: 'seed004 / cnnpref-gd (first): weight decay x <- (1 - decay) x of the centred image after each step; 0 = off.' },
  norm_crop_pct: { label: 'Norm crop %', min: 0, max: 100, step: 1, integer: false, log: false, help: 'seed004: zero pixels whose channel norm is below this percentile (Norm_Crop); 0 = off.' },
  contrib_crop_pct: { label: 'Contrib. crop %', min: 0, max: 100, step: 1, integer: false, log: false, help: 'seed004: zero pixels whose |sum_c x*g| is below this percentile (Contrib_Crop); 0 = off.' },
  lr_end: { label: 'Last lr', min: 0, max: 10, step: 0.01, integer: false, log: false, help: 'cnnpref-gd: learning rate at the last iteration (linear schedule from lr; pixel units).' },
  momentum: { label: 'Momentum', min: 0, max: 1, step: 0.001, integer: false, log: false, help: 'cnnpref-gd: momentum at the first iteration (linear schedule).' },
  momentum_end: { label: 'Last momentum', min: 0, max: 1, step: 0.001, integer: false, log: false, help: 'cnnpref-gd: momentum at the last iteration.' },
  decay_end: { label: 'Last decay', min: 0, max: 0.5, step: 0.001, integer: false, log: false, help: 'cnnpref-gd: decay at the last iteration (decay is the first).' },
  blur_radius_end: { label: 'Last blur sigma', min: 0, max: 5, step: 0.025, integer: false, log: false, help: 'cnnpref-gd: blur sigma at the last iteration (blur sigma is the first; 0 = no blur).' },
  jitter_px: { label: 'Jitter px', min: 0, max: 64, step: 1, integer: true, log: false, help: 'cnnpref-gd: largest jitter shift in pixels (image rolled by U{-J..J}).' },
  clip_every: { label: 'Clip every', min: 1, max: 20, step: 1, integer: true, log: false, help: 'cnnpref-gd: clip every this many iterations.' },
  clip_extreme_pct: { label: 'Extreme clip %', min: 0, max: 100, step: 0.5, integer: false, log: false, help: 'cnnpref-gd: clamp the image to its [e/2, 100-e/2] percentiles every "clip every"; 0 = off.' },
  clip_small_norm_pct: { label: 'Small-norm clip %', min: 0, max: 100, step: 1, integer: false, log: false, help: 'cnnpref-gd: clip_small_norm percentile; 0 = off.' },
  clip_small_contribution_pct: { label: 'Small-contrib. clip %', min: 0, max: 100, step: 1, integer: false, log: false, help: 'cnnpref-gd: clip_small_contribution percentile; 0 = off.' },
  crops: { label: 'Crops', min: 0, max: 64, step: 1, integer: true, log: false, help: 'maco / accentuation: crops per step (0 = the whole canvas).' },
  box_start: { label: 'Box start', min: 0.05, max: 1, step: 0.01, integer: false, log: false, help: 'maco / accentuation: mean crop side at the first step, a fraction of the canvas.' },
  box_end: { label: 'Box end', min: 0.05, max: 1, step: 0.01, integer: false, log: false, help: 'maco / accentuation: mean crop side at the last step (linear).' },
  box_sd: { label: 'Box sd', min: 0, max: 1, step: 0.01, integer: false, log: false, help: 'maco / accentuation: std of the crop side around its mean.' },
  centre_sd: { label: 'Centre sd', min: 0, max: 1, step: 0.01, integer: false, log: false, help: 'maco / accentuation: std of the crop centres around the middle.' },
  noise: { label: 'Noise', min: 0, max: 1, step: 0.005, integer: false, log: false, help: 'maco / accentuation: std of the noise added to the crops (RGB 0..1).' },
  canvas_scale: { label: 'Canvas scale', min: 1, max: 8, step: 0.05, integer: false, log: false, help: 'maco / accentuation: canvas side over the model input side.' },
  image_weight: { label: 'Image weight', min: 0, max: 10, step: 0.05, integer: false, log: false, help: 'accentuation: weight of mean((image - seed)^2) in the loss.' },
  relu_override_steps: { label: 'ReLU override', min: 0, max: 512, step: 1, integer: true, log: false, help: 'Steps during which ReLU gradients are redirected through dead units (lucid: 16).' },
}

/** Choice fields of the general methods: options and help. */
export const METHOD_CHOICE_FIELDS: Record<string, { label: string; options: readonly string[]; help: string }> = {
  param: { label: 'Image', options: ['fft', 'pixel'], help: "Image parameterization: lucid's Fourier basis with 1/f scaling, or plain pixels." },
  penalty: { label: 'Penalty', options: ['none', 'tv', 'l1', 'l2'], help: 'dnnbrain: image penalty kind, computed on the [0, 1] image.' },
  transforms: { label: 'Transforms', options: ['standard', 'none'], help: "Transforms applied before each forward pass (standard = lucid's pad, jitter, scale, rotate, jitter)." },
}

/** Boolean fields of the general methods. */
export const METHOD_FLAG_FIELDS: Record<string, { label: string; help: string }> = {
  decorrelate: { label: 'Decorrelate colour', help: "Decorrelated colour space (lucid's ImageNet colour-correlation square root)." },
}

/** The fields each method shows, in order (keys of the three tables above). */
export const METHOD_FIELD_KEYS: Record<string, string[]> = {
  lucid: ['param', 'decorrelate', 'transforms', 'lr', 'fft_decay', 'init_sd', 'relu_override_steps'],
  dnnbrain: ['lr', 'penalty', 'penalty_weight', 'blur_radius', 'smooth_factor'],
  normstep: ['lr'],
  seed004: ['lr', 'decay', 'blur_radius', 'blur_every', 'norm_crop_pct', 'contrib_crop_pct'],
  'cnnpref-gd': ['lr', 'lr_end', 'momentum', 'momentum_end', 'decay', 'decay_end', 'blur_radius', 'blur_radius_end', 'jitter_px', 'clip_every', 'clip_extreme_pct', 'clip_small_norm_pct', 'clip_small_contribution_pct'],
  // L-BFGS as in cnnpref: no regularization (the engine refuses decay, blur and jitter for it).
  'cnnpref-lbfgs': [],
  maco: ['lr', 'crops', 'box_start', 'box_end', 'box_sd', 'centre_sd', 'noise', 'canvas_scale'],
  accentuation: ['lr', 'fft_decay', 'crops', 'box_start', 'box_end', 'box_sd', 'centre_sd', 'noise', 'canvas_scale', 'image_weight'],
}
