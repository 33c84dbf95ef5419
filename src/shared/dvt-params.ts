/**
 * DVT's parameters as data: the FindParams type (DVT's field names, verbatim), the CLI defaults, the
 * parameter table (DVT_PARAM_TABLE: one row per field, the single source of the CLI flags, the IPC bounds,
 * the info keys and the range checks) and the Table-1 presets. Pure data, shared by the engine (which
 * validates: engine/params.ts) and the renderer (which edits them).
 */
import type { ParamRow } from './param-table'

export const START_MODES = ['mean_plus_rand', 'randu', 'mean'] as const
export type StartAt = (typeof START_MODES)[number]

export const LR_POLICIES = ['constant', 'progress', 'progress01'] as const
export type LrPolicy = (typeof LR_POLICIES)[number]

/** Keys each lr policy requires (DVT GO L52-66); no other keys are accepted. */
export const LR_POLICY_KEYS: Record<LrPolicy, readonly string[]> = {
  constant: ['lr'],
  progress: ['max_lr', 'desired_prog'],
  progress01: ['max_lr', 'early_prog', 'late_prog_mult'],
}

export type LrParams = Record<string, number>

export interface FindParams {
  /** How x0 is built: mean + N(0, 10^2) noise, uniform 0..255 noise, or the mean image. */
  start_at: StartAt
  /** Seed of the numpy-compatible MT19937 generator that builds x0. */
  rand_seed: number
  /** Layer (or graph node) holding the unit. */
  push_layer: string
  /** Channel (conv) or neuron index (dense). */
  push_channel: number
  /** (y, x) of the unit in a conv layer's map; null = the centre (see resolveSpatial). */
  push_spatial: [number, number] | null
  /** +1 maximizes, -1 minimizes (any non-zero value scales the top diff, as DVT). */
  push_dir: number
  /** Multiplicative L2 decay toward the mean image, applied after each step. */
  decay: number
  /** Gaussian blur sigma in pixels; 0 disables. */
  blur_radius: number
  /** Blur when ii mod blur_every == 0 (including ii = 0); 0 disables. */
  blur_every: number
  /** Zero entries with |x| under this percentile; 0 disables. */
  small_val_percentile: number
  /** Zero pixels whose channel norm is under this percentile (theta_n_pct); 0 disables. */
  small_norm_percentile: number
  /** Zero pixels whose contribution sum_c g*x is under this percentile; 0 disables. */
  px_benefit_percentile: number
  /** Zero pixels whose |contribution| is under this percentile (theta_c_pct); 0 disables. */
  px_abs_benefit_percentile: number
  lr_policy: LrPolicy
  lr_params: LrParams
  /** Number of iterations; the last one is recorded but not stepped. */
  max_iter: number
  /** Largest random shift (pixels) of the image the gradient is taken at (seeded, recorded); 0 disables. Not DVT's: optional, so that runs stored before it still read. */
  jitter_px?: number
}

/** DVT's command-line defaults (OI L38-75), except the unit, which comes from the model. */
export const DEFAULT_PARAMS: Omit<FindParams, 'push_layer' | 'push_channel'> = {
  start_at: 'mean_plus_rand',
  rand_seed: 0,
  push_spatial: null,
  push_dir: 1,
  decay: 0,
  blur_radius: 0,
  blur_every: 0,
  small_val_percentile: 0,
  small_norm_percentile: 0,
  px_benefit_percentile: 0,
  px_abs_benefit_percentile: 0,
  lr_policy: 'constant',
  lr_params: { lr: 1 },
  max_iter: 500,
  jitter_px: 0,
}

/** Largest blur radius (sigma, pixels) accepted: its kernel (8 sigma + 1 wide) still fits a 4096-pixel image. */
export const MAX_BLUR_RADIUS = 500
/** Largest seed of the MT19937 generator (uint32). */
const MAX_SEED = 0xffffffff
const PERCENT = { kind: 'number', min: 0, max: 100, default: 0, valueName: 'p', regularizer: true } as const

/** DVT's parameters, one row each, in DVT's order (info.txt's order). */
export const DVT_PARAM_TABLE: readonly ParamRow[] = [
  { key: 'start_at', kind: 'choice', choices: START_MODES, default: DEFAULT_PARAMS.start_at, label: 'Start image', help: 'how to generate x0', flag: '--start-at', valueName: 'mode' },
  { key: 'rand_seed', kind: 'integer', min: 0, max: MAX_SEED, default: DEFAULT_PARAMS.rand_seed, label: 'Seed', help: 'seed of the numpy-compatible generator for x0', flag: '--rand-seed', valueName: 'n', shared: true },
  { key: 'push_layer', kind: 'string', label: 'Layer', help: 'layer (graph node) containing the unit (default: from the model, else its last layer)', flag: '--push-layer', valueName: 'name', shared: true },
  { key: 'push_channel', kind: 'integer', min: 0, label: 'Unit', help: 'channel (conv) or neuron index (dense) (default: from the model, else 0)', flag: '--push-channel', valueName: 'n', shared: true, code: 'BAD_UNIT' },
  { key: 'push_spatial', kind: 'spatial', default: DEFAULT_PARAMS.push_spatial, label: 'Position (y, x)', help: 'unit position "(y,x)" in a conv map; None = the centre (floor(H/2), floor(W/2)), where DVT recommends', flag: '--push-spatial', valueName: 'yx', code: 'BAD_UNIT' },
  { key: 'push_dir', kind: 'number', nonZero: true, default: DEFAULT_PARAMS.push_dir, label: 'Direction', help: '1 maximizes, -1 minimizes the unit', flag: '--push-dir', valueName: 'd' },
  { key: 'decay', kind: 'number', min: 0, max: 1, default: DEFAULT_PARAMS.decay, label: 'L2 decay', help: 'L2 decay toward the mean per step', flag: '--decay', valueName: 'd', regularizer: true },
  { key: 'blur_radius', kind: 'number', min: 0, max: MAX_BLUR_RADIUS, unit: 'pixels', default: DEFAULT_PARAMS.blur_radius, label: 'Blur sigma', help: 'Gaussian blur sigma in pixels; 0 = no blur', flag: '--blur-radius', valueName: 'px', regularizer: true },
  { key: 'blur_every', kind: 'integer', min: 0, default: DEFAULT_PARAMS.blur_every, label: 'Blur every', help: 'blur when iteration mod n == 0; 0 = no blur', flag: '--blur-every', valueName: 'n', regularizer: true },
  { ...PERCENT, key: 'small_val_percentile', label: 'Small value %', help: 'zero entries with |x| under this percentile; 0 = off', flag: '--small-val-percentile' },
  { ...PERCENT, key: 'small_norm_percentile', label: 'Small norm %', help: 'zero pixels with norm under this percentile (theta_n_pct); 0 = off', flag: '--small-norm-percentile' },
  { ...PERCENT, key: 'px_benefit_percentile', label: 'Pixel benefit %', help: 'zero pixels whose contribution sum_c g*x is under this percentile; 0 = off. (DVT\'s code negates the sign and removes the MOST useful pixels; we follow its documented intent.)', flag: '--px-benefit-percentile' },
  { ...PERCENT, key: 'px_abs_benefit_percentile', label: 'Pixel |benefit| %', help: 'zero pixels whose |contribution| is under this percentile (theta_c_pct); 0 = off', flag: '--px-abs-benefit-percentile' },
  { key: 'lr_policy', kind: 'choice', choices: LR_POLICIES, default: DEFAULT_PARAMS.lr_policy, label: 'LR policy', help: 'learning rate policy', flag: '--lr-policy', valueName: 'policy' },
  { key: 'lr_params', kind: 'dict', default: DEFAULT_PARAMS.lr_params, label: 'LR params', help: 'lr policy params as a dict: constant {\'lr\'}, progress {\'max_lr\', \'desired_prog\'}, progress01 {\'max_lr\', \'early_prog\', \'late_prog_mult\'}; Python or JSON spelling', flag: '--lr-params', valueName: 'dict' },
  { key: 'max_iter', kind: 'integer', min: 1, default: DEFAULT_PARAMS.max_iter, label: 'Iterations', help: 'number of iterations', flag: '--max-iter', valueName: 'n', shared: true },
  { key: 'jitter_px', kind: 'integer', min: 0, max: 64, unit: 'pixels', default: DEFAULT_PARAMS.jitter_px, label: 'Jitter', help: 'take each gradient at the image rolled by a seeded random shift of up to this many pixels per axis (recorded as jitter_dy, jitter_dx); 0 = off', flag: '--jitter-px', valueName: 'px', regularizer: true, info: 'when-set' },
]

/** The row of a DVT field. */
export function dvtRow(key: string): ParamRow {
  const row = DVT_PARAM_TABLE.find((r) => r.key === key)
  if (!row) throw new Error(`no DVT parameter '${key}'`)
  return row
}

export interface Preset {
  description: string
  params: Partial<FindParams>
}

/** The four hyper-parameter sets of Yosinski et al. 2015, Table 1, in the paper's order. */
export const PRESETS: Record<string, Preset> = {
  'yosinski-1': {
    description: 'Yosinski et al. 2015 Table 1 row 1: no decay, blur 0.5/4, small-norm 50%, progress lr',
    params: {
      decay: 0, blur_radius: 0.5, blur_every: 4, small_norm_percentile: 50, max_iter: 500,
      lr_policy: 'progress', lr_params: { max_lr: 100, desired_prog: 2 },
    },
  },
  'yosinski-2': {
    description: 'Yosinski et al. 2015 Table 1 row 2: decay 0.3, no blur, small-norm 20%, constant lr 100',
    params: {
      decay: 0.3, blur_radius: 0, blur_every: 0, small_norm_percentile: 20, max_iter: 750,
      lr_policy: 'constant', lr_params: { lr: 100 },
    },
  },
  'yosinski-3': {
    description: 'Yosinski et al. 2015 Table 1 row 3 (most paper figures): decay 1e-4, blur 1.0/4, constant lr 100',
    params: {
      decay: 0.0001, blur_radius: 1, blur_every: 4, max_iter: 1000,
      lr_policy: 'constant', lr_params: { lr: 100 },
    },
  },
  'yosinski-4': {
    description: 'Yosinski et al. 2015 Table 1 row 4: no decay, blur 0.5/4, px-abs-benefit 90%, progress lr',
    params: {
      decay: 0, blur_radius: 0.5, blur_every: 4, px_abs_benefit_percentile: 90, max_iter: 1000,
      lr_policy: 'progress', lr_params: { max_lr: 100000000, desired_prog: 2 },
    },
  },
}

