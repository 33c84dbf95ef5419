/**
 * Parameters of the general (non-DVT) optimization methods as plain JSON data: the GeneralParams type,
 * its defaults and the method presets. Pure data with no imports, shared by the engine (which validates:
 * engine/methods/general.ts `resolveGeneralParams`), the CLI and, later, the renderer.
 * Shape: `GeneralParams` (all fields JSON); `DEFAULT_GENERAL_PARAMS`; `METHOD_PRESETS[name]`.
 */

export const GENERAL_METHODS = ['lucid'] as const
export type GeneralMethod = (typeof GENERAL_METHODS)[number]

export const IMAGE_PARAMS = ['fft', 'pixel'] as const
export type ImageParamKind = (typeof IMAGE_PARAMS)[number]

export const GENERAL_OPTIMIZERS = ['adam'] as const
export type GeneralOptimizer = (typeof GENERAL_OPTIMIZERS)[number]

/** Explicit transform list (lucid's standard_transforms when every field is at its default). */
export interface TransformSpec {
  /** Constant padding on every side, in pixels (lucid: 12, value 0.5 = mid-grey). */
  pad: number
  /** First random crop: the image loses `jitter` pixels in height and width (lucid: 8). */
  jitter: number
  /** Random scale factors, one drawn per step (lucid: 0.90, 0.92, ..., 1.10). */
  scales: number[]
  /** Random rotation angles in degrees, one drawn per step (lucid: -10..10 plus five extra 0s). */
  angles: number[]
  /** Second random crop after rotation (lucid: 4). */
  jitter2: number
}

export type TransformsChoice = 'standard' | 'none' | TransformSpec

export interface GeneralParams {
  /** Which method: only 'lucid' (Olah et al. 2017, tensorflow/lucid render_vis) for now. */
  method: GeneralMethod
  /**
   * Objective expression, maximized: `layer:channel` (channel mean), `layer:channel@y,x` (neuron),
   * `neuron(layer, c[, y, x])`, `channel(layer, c)`, `direction(layer, [v...][, cossim_pow])`, combined
   * with `+`, `-`, `number *` and parentheses. Empty = the model's default unit (channel for conv layers,
   * neuron for dense layers).
   */
  objective: string
  /** Image parameterization: lucid's Fourier basis with 1/f scaling, or plain pixels. */
  param: ImageParamKind
  /** Decorrelated colour space (lucid's ImageNet colour-correlation square root). */
  decorrelate: boolean
  /** Exponent of the 1/f spectrum scaling of the FFT parameterization. */
  fft_decay: number
  /** Standard deviation of the initial parameters. */
  init_sd: number
  /** Transforms applied before each forward pass. */
  transforms: TransformsChoice
  optimizer: GeneralOptimizer
  /** Adam learning rate (in parameter units, not pixels). */
  lr: number
  /** Number of iterations; the last one is recorded but not stepped (as DVT). */
  max_iter: number
  /** Seed of the MT19937 generator for the initial parameters and every transform draw. */
  rand_seed: number
  /** Number of images optimized together (each gets its own result). */
  batch_size: number
  /** Weight of lucid's diversity penalty (Gram-matrix cosine similarity across the batch). */
  diversity: number
  /** Layer the diversity penalty reads; empty = the objective's first layer. */
  diversity_layer: string
  /** Steps during which ReLU gradients are redirected through dead units (lucid: 16). */
  relu_override_steps: number
}

/** Lucid's published defaults (render_vis, param.image, standard_transforms, Adam 0.05, 512 steps). */
export const DEFAULT_GENERAL_PARAMS: GeneralParams = {
  method: 'lucid',
  objective: '',
  param: 'fft',
  decorrelate: true,
  fft_decay: 1,
  init_sd: 0.01,
  transforms: 'standard',
  optimizer: 'adam',
  lr: 0.05,
  max_iter: 512,
  rand_seed: 0,
  batch_size: 1,
  diversity: 0,
  diversity_layer: '',
  relu_override_steps: 16,
}

export interface MethodPreset {
  description: string
  params: Partial<GeneralParams>
}

/** Presets of the general methods (the DVT presets are PRESETS in dvt-params.ts). */
export const METHOD_PRESETS: Record<string, MethodPreset> = {
  lucid: {
    description: 'tensorflow/lucid render_vis defaults (Olah et al. 2017): FFT 1/f image, decorrelated colour + sigmoid, standard transforms, Adam 0.05, 512 steps, ReLU gradient redirect for 16 steps',
    params: { ...DEFAULT_GENERAL_PARAMS },
  },
}
