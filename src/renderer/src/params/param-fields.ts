/**
 * What the regularizer panel knows about each DVT parameter: its range, step and a one-line
 * explanation (shown as a tooltip), plus the renderer's copy of DVT's CLI defaults.
 * Values (defaults, policies, start modes) come from `src/shared/dvt-params.ts`, the data the engine
 * validates against.
 * Shape: `PARAM_FIELDS[key] => { label, min, max, step, integer, log, help }`; `clampParam(key, v) => number`
 */
import {
  DEFAULT_PARAMS, LR_POLICIES as SHARED_LR_POLICIES, LR_POLICY_KEYS as SHARED_LR_POLICY_KEYS, START_MODES as SHARED_START_MODES,
  type FindParams, type LrPolicy, type StartAt,
} from '../../../shared/dvt-params'

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
