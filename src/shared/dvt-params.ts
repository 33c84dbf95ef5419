/**
 * DVT's parameters as data: the FindParams type (DVT's field names, verbatim), the CLI defaults and the
 * Table-1 presets. Pure data with no imports, shared by the engine (which validates: engine/params.ts)
 * and the renderer (which edits them).
 */

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

