/**
 * Parameters of the general (non-DVT) optimization methods as plain JSON data: the GeneralParams type,
 * its defaults and the method presets. Pure data with no imports, shared by the engine (which validates:
 * engine/methods/general.ts `resolveGeneralParams`), the CLI and, later, the renderer.
 * Shape: `GeneralParams` (all fields JSON); `DEFAULT_GENERAL_PARAMS`; `METHOD_PRESETS[name]`.
 */

/** A method's name: one of the general methods in the engine's registry (engine/methods/registry.ts), which validates it. */
export type GeneralMethod = string

/** fft / pixel: lucid's image parameterizations; generator: the bounded input code of a user generator model (lucid, cnnpref-gd, cnnpref-lbfgs). */
export const IMAGE_PARAMS = ['fft', 'pixel', 'generator'] as const
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

/** dnnbrain's image penalty R(img) in loss = -activation + penalty_weight * R(img). */
export const PENALTIES = ['none', 'tv', 'l1', 'l2'] as const
export type PenaltyKind = (typeof PENALTIES)[number]

/** Initial image of the pixel methods: mid-grey or black (cnnpref's L-BFGS examples), plus N(0, init_sd²) noise. */
export const INIT_IMAGES = ['grey', 'black'] as const
export type InitImage = (typeof INIT_IMAGES)[number]

/** Value range of a generator's output image. */
export const GENERATOR_OUTPUT_RANGES = ['0,1', '-1,1', '0,255'] as const
export type GeneratorOutputRange = (typeof GENERATOR_OUTPUT_RANGES)[number]

/** How a generator's image is fitted to the classifier's input: centre crop when large enough else resize (auto), or forced. */
export const GENERATOR_FITS = ['auto', 'crop', 'resize'] as const
export type GeneratorFit = (typeof GENERATOR_FITS)[number]

export type TransformsChoice = 'standard' | 'none' | TransformSpec

export interface GeneralParams {
  /**
   * Which method: 'lucid' (Olah et al. 2017, tensorflow/lucid render_vis); 'dnnbrain' (BNUCNL/dnnbrain
   * SynthesisImage: pixel image in [0, 1], Adam, penalty, Gaussian blur, Fourier gradient smoothing);
   * 'normstep' (seed 003's VGG16 blog ascent: x += lr * g / max|g|, lr in 0..255 pixel units);
   * 'seed004' (Nguyen-Hoa/Activation-Maximization act_max: x += lr * g, then decay, blur every N, norm crop, contribution crop);
   * 'cnnpref-gd' (KamitaniLab/cnnpref prefer_img_gd: jitter, g / mean|g|, momentum, lr/momentum/decay/sigma schedules, clips every N);
   * 'cnnpref-lbfgs' (prefer_img_lbfgs: bounded L-BFGS on the pixels, or on the generator code, no regularization).
   */
  method: GeneralMethod
  /**
   * Objective expression, maximized: `layer:channel` (channel mean), `layer:channel@y,x` (neuron),
   * `neuron(layer, c[, y, x])`, `channel(layer, c)`, `max(layer:c)` (spatial max of the channel),
   * `mask(layer, 'file.npy')` (Σ w·a, per-unit weights read by the host), `direction(layer, [v...][, cossim_pow])`, combined
   * with `+`, `-`, `number *` and parentheses. Empty = the model's default unit (channel for conv layers,
   * neuron for dense layers).
   */
  objective: string
  /** Image parameterization: lucid's Fourier basis with 1/f scaling, plain pixels, or a generator's code ('generator': lucid, cnnpref-gd, cnnpref-lbfgs). */
  param: ImageParamKind
  /** param 'generator': folder of the generator's TensorFlow.js model.json (maps a code [batch, D] to an image [batch, H, W, 3]). */
  generator: string
  /** param 'generator': value range of the generator's output. */
  generator_range: GeneratorOutputRange
  /** param 'generator': lower / upper bound of the code, one number for every dimension or one per dimension (cnnpref: 0, 100). */
  code_lower: number | number[]
  code_upper: number | number[]
  /** param 'generator': fit of the generator's image to the classifier's input size. */
  generator_fit: GeneratorFit
  /** Pixel methods (dnnbrain, normstep, seed004, cnnpref-gd, cnnpref-lbfgs): initial image, grey or black (plus init_sd noise). */
  init_image: InitImage
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
  /** dnnbrain: image penalty kind (none, tv, l1, l2); computed on the [0, 1] image. */
  penalty: PenaltyKind
  /** dnnbrain: weight of the penalty (regular_lambda); range 0..10, 0 = off. */
  penalty_weight: number
  /** dnnbrain / seed004: sigma in pixels of the Gaussian blur of the image after a step (GB_radius, theta_width); 0..5, 0 = off. */
  blur_radius: number
  /** dnnbrain: Fourier gradient smoothing exponent (factor; filter r^(-2 factor)); 0..2, 0 = off. */
  smooth_factor: number
  /** seed004: blur every this many iterations (theta_every; 1..20); dnnbrain blurs every step. */
  blur_every: number
  /** seed004: weight decay x <- (1 - decay) x of the centred image after each step (theta_decay); 0..0.5, 0 = off. */
  decay: number
  /** seed004: zero (to mid-grey) pixels whose channel norm is below this percentile (Norm_Crop, theta_n_crop); 0..100, 0 = off. */
  norm_crop_pct: number
  /** seed004: zero pixels whose |contribution| |sum_c x*g| is below this percentile (Contrib_Crop, theta_c_crop); 0..100, 0 = off. */
  contrib_crop_pct: number
  /** cnnpref-gd: learning rate at the last iteration (lr is the first; linear schedule; pixel units). 0..10. */
  lr_end: number
  /** cnnpref-gd: momentum at the first / last iteration (linear schedule); 0..1. */
  momentum: number
  momentum_end: number
  /** cnnpref-gd: decay at the last iteration (decay is the first); 0..0.5. */
  decay_end: number
  /** cnnpref-gd: blur sigma at the last iteration (blur_radius is the first; 0 = no blur); 0..5 px. */
  blur_radius_end: number
  /** cnnpref-gd: largest jitter shift in pixels (image rolled by U{-J..J}); 0..64. */
  jitter_px: number
  /** cnnpref-gd: clip every this many iterations (at (t+1) mod N == 0); 1..20. */
  clip_every: number
  /** cnnpref-gd: clip_extreme: clamp the image to its [e/2, 100-e/2] percentiles every clip_every; 0..100, 0 = off. */
  clip_extreme_pct: number
  /** cnnpref-gd: clip_small_norm / clip_small_contribution percentiles; 0..100, 0 = off. */
  clip_small_norm_pct: number
  clip_small_contribution_pct: number
  /** maco, accentuation: crops per step (xplique nb_crops; 0 = the whole canvas resized to the input). 0..64. */
  crops: number
  /** maco, accentuation: mean crop side, a fraction of the canvas, at the first / last step (linear; xplique 0.5 -> 0.05). */
  box_start: number
  box_end: number
  /** maco, accentuation: std of the crop side around its mean (xplique 0.05); sides are clipped to [0.05, 1]. */
  box_sd: number
  /** maco, accentuation: std of the crop centres around the middle (0.5), per axis (both sources: 0.15). */
  centre_sd: number
  /** maco, accentuation: std of the Gaussian noise (and width of the uniform noise) added to the crops, RGB [0, 1] units. */
  noise: number
  /** maco, accentuation: canvas side over the model's input side (xplique: 512 for 224 = 2.29; 1 = the input size). */
  canvas_scale: number
  /** accentuation: the seed image (a file the host reads; the CLI's --image). */
  image: string
  /** accentuation: weight of mean((canvas - seed)²) in the loss (Horama: 1). */
  image_weight: number
}

/** Lucid's published defaults (render_vis, param.image, standard_transforms, Adam 0.05, 512 steps). */
export const DEFAULT_GENERAL_PARAMS: GeneralParams = {
  method: 'lucid',
  objective: '',
  param: 'fft',
  generator: '',
  generator_range: '0,1',
  code_lower: 0,
  code_upper: 100,
  generator_fit: 'auto',
  init_image: 'grey',
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
  penalty: 'none',
  penalty_weight: 0,
  blur_radius: 0,
  smooth_factor: 0,
  blur_every: 1,
  decay: 0,
  norm_crop_pct: 0,
  contrib_crop_pct: 0,
  lr_end: 0,
  momentum: 0,
  momentum_end: 0,
  decay_end: 0,
  blur_radius_end: 0,
  jitter_px: 0,
  clip_every: 1,
  clip_extreme_pct: 0,
  clip_small_norm_pct: 0,
  clip_small_contribution_pct: 0,
  crops: 32,
  box_start: 0.5,
  box_end: 0.05,
  box_sd: 0.05,
  centre_sd: 0.15,
  noise: 0.04,
  canvas_scale: 1,
  image: '',
  image_weight: 1,
}

/**
 * torchvision's ImageNet Normalize std (RGB): seed004's and dnnbrain's PyTorch models take z = (rgb - mean) / std
 * with rgb in [0, 1], while our pixel methods step on rgb itself. A step Δz is a step std·Δz on rgb, a gradient
 * d/dz is std·d/drgb, and a penalty summed over z is the rgb penalty divided by std; the presets convert with the
 * channel average.
 */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225]
/** Mean of IMAGENET_STD (0.226): one normalized unit in [0, 1] rgb units. */
export const IMAGENET_STD_MEAN = IMAGENET_STD.reduce((a, b) => a + b, 0) / IMAGENET_STD.length
/** Mean of IMAGENET_STD² (0.0511): z += α dA/dz is rgb += α std² dA/drgb. */
export const IMAGENET_VARIANCE_MEAN = IMAGENET_STD.reduce((a, b) => a + b * b, 0) / IMAGENET_STD.length
/** dnnbrain's published Adam lr and regular_lambda (@0569f86), in its normalized input space. */
const DNNBRAIN_LR = 0.1
const DNNBRAIN_LAMBDA = 1
/** seed004's README alpha, in its normalized input space. */
const SEED004_ALPHA = 100
/** Round a converted preset value to 2 decimals (readable in the app's fields). */
const round2 = (v: number): number => Math.round(v * 100) / 100

/** xplique's MACO: noise std in its (-1, 1) input range, canvas side, and the input side it is meant for. */
const XPLIQUE_NOISE = 0.08
const XPLIQUE_CANVAS = 512
const XPLIQUE_INPUT = 224
/** Steps of the accentuation preset (Horama: 1000). */
const ACCENT_STEPS = 256

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
  dnnbrain: {
    description: `BNUCNL/dnnbrain SynthesisImage, older documented API (@0569f86): regular_lambda 1 with TV, GB_radius 0.875, factor 0.5, Adam lr 0.1, 150 iterations (lr and n_iter are our choice: the spec gives none), applied to our [0, 1] rgb image. dnnbrain optimizes the normalized input z = (rgb - mean) / std, where the same steps and balance would be lr 0.1 x std = ${(DNNBRAIN_LR * IMAGENET_STD_MEAN).toFixed(4)} and weight 1 / std = ${(DNNBRAIN_LAMBDA / IMAGENET_STD_MEAN).toFixed(2)} on rgb; but with our one Adam for the run (dnnbrain re-creates Adam every step, i.e. sign steps, so the activation decides wherever the TV signs cancel) that converted setting stalls on GoogLeNet (flamingo, 60 steps: best -1.1, rank 763, flat noise), while the published numbers on rgb give a small flamingo (best 17.9, rank 1), so the preset keeps them. For a full image use the source-space lr with a weaker TV: --lr ${(DNNBRAIN_LR * IMAGENET_STD_MEAN).toFixed(4)} --penalty-weight ${(0.01 / IMAGENET_STD_MEAN).toFixed(4)} (regular_lambda 0.01 in z): flamingos over the whole image, best 116, rank 1`,
    params: { method: 'dnnbrain', penalty: 'tv', penalty_weight: DNNBRAIN_LAMBDA, blur_radius: 0.875, smooth_factor: 0.5, lr: DNNBRAIN_LR, max_iter: 150, transforms: 'none', relu_override_steps: 0 },
  },
  seed004: {
    description: `seed 004 (Nguyen-Hoa/Activation-Maximization act_max, README example): 100 steps, alpha 100, L2 decay 0.1, blur sigma 1 every 4, norm crop and contribution crop at the 30th percentile. act_max steps on the ImageNet-normalized input z (z += alpha dA/dz); on our [0, 1] rgb image that is rgb += alpha std² dA/drgb, so our lr is alpha x ${IMAGENET_VARIANCE_MEAN.toFixed(4)} = ${(SEED004_ALPHA * IMAGENET_VARIANCE_MEAN).toFixed(2)} (alpha 100 applied to rgb directly blows the image up to saturated noise: GoogLeNet flamingo, 60 steps, best 3.3, rank 67; converted: best 12.3, rank 1, still speckled by the 30% crops, as the method has no smoothness prior but the blur every 4)`,
    params: { method: 'seed004', lr: round2(SEED004_ALPHA * IMAGENET_VARIANCE_MEAN), max_iter: 100, decay: 0.1, blur_radius: 1, blur_every: 4, norm_crop_pct: 30, contrib_crop_pct: 30, transforms: 'none', relu_override_steps: 0 },
  },
  'cnnpref-gd': {
    description: "KamitaniLab/cnnpref prefer_img_gd example settings for higher layers: 200 iterations, lr 1 -> 1e-10 (our end: 0), momentum 0.001, decay 0.001, sigma 2.5 -> 0.5, jitter 32, clip_small_norm and clip_small_contribution every step at 5%",
    params: { method: 'cnnpref-gd', max_iter: 200, lr: 1, lr_end: 0, momentum: 0.001, momentum_end: 0.001, decay: 0.001, decay_end: 0.001, blur_radius: 2.5, blur_radius_end: 0.5, jitter_px: 32, clip_every: 1, clip_small_norm_pct: 5, clip_small_contribution_pct: 5, transforms: 'none', relu_override_steps: 0 },
  },
  'cnnpref-lbfgs': {
    description: "KamitaniLab/cnnpref prefer_img_lbfgs example (example/generate_preferred_image_lbfgs__for_higher_layer.py): scipy L-BFGS-B on the pixels bounded to the valid range [-mean, 255 - mean], maxiter 500, from a black image (zeros -> -mean), no regularization. feature_weight 10 is not applied: L-BFGS is invariant to the objective's scale except for scipy's absolute gtol (write '10 * layer:c' to match it exactly). Unregularized, so the image is high-frequency patterns on a dark ground, as the original's",
    params: { method: 'cnnpref-lbfgs', max_iter: 500, init_image: 'black', init_sd: 0, transforms: 'none', relu_override_steps: 0 },
  },
  'cnnpref-dgn-gd': {
    description: "KamitaniLab/cnnpref prefer_img_dgn_gd defaults: gradient descent on a generator's code (give --generator DIR), code lr 2 -> 1e-10 (our end: 0), momentum 0.9, decay 0.01, code bounds 0..100, initial code relu(N(0, 1)) * 10, 200 iterations",
    params: { method: 'cnnpref-gd', param: 'generator', max_iter: 200, lr: 2, lr_end: 0, momentum: 0.9, momentum_end: 0.9, decay: 0.01, decay_end: 0.01, code_lower: 0, code_upper: 100, transforms: 'none', relu_override_steps: 0 },
  },
  maco: {
    description: `MACO (Fel et al. 2023), deel-ai/xplique maco() defaults: phase-only Fourier image with the natural-image magnitude, NAdam lr 1, 256 steps, 32 crops per step, crop side linear 0.5 -> 0.05 of the canvas (sd 0.05), centres N(0.5, 0.15²), noise 0.08 of xplique's (-1, 1) input range = ${XPLIQUE_NOISE / 2} in our [0, 1] RGB, canvas 512 px for a 224 input (scale ${round2(XPLIQUE_CANVAS / XPLIQUE_INPUT)}). Horama's code differs: 1000 steps, 6 crops, sides U(0.25, 0.30) (its box_size (0.20, 0.25) is offset by its upper bound), noise 0.05 of (-2.5, 2.5) = 0.01, canvas 1280; its README says canvas 1000 and noise 0.1 (preset maco-horama). We take xplique's: it is the maintained implementation, it shrinks the crops over the run as the paper describes, and 256 steps fit the issue's budget`,
    params: { method: 'maco', lr: 1, max_iter: 256, crops: 32, box_start: 0.5, box_end: 0.05, box_sd: 0.05, centre_sd: 0.15, noise: XPLIQUE_NOISE / 2, canvas_scale: round2(XPLIQUE_CANVAS / XPLIQUE_INPUT), transforms: 'none', relu_override_steps: 0 },
  },
  'maco-horama': {
    description: `MACO with serre-lab/Horama maco_fv.py's code defaults: NAdam lr 1, 1000 steps, 6 crops, crop side U(0.25, 0.30) (as its code draws it; modelled as mean 0.275, sd ${round2(0.05 / Math.sqrt(12))}), noise 0.05 of (-2.5, 2.5) = 0.01 in [0, 1] RGB, canvas 1280 px for 224 (scale ${round2(1280 / XPLIQUE_INPUT)}: slow on a CPU; pass --canvas-scale 1 to try it quickly)`,
    params: { method: 'maco', lr: 1, max_iter: 1000, crops: 6, box_start: 0.275, box_end: 0.275, box_sd: round2(0.05 / Math.sqrt(12)), centre_sd: 0.15, noise: 0.01, canvas_scale: round2(1280 / XPLIQUE_INPUT), transforms: 'none', relu_override_steps: 0 },
  },
  accentuation: {
    description: `Feature accentuation (Hamblin et al. 2024), serre-lab/Horama feature_accentuation.py defaults: the seed image's Fourier spectrum (inverse of sigmoid and colour recorrelation) as the start, gradients scaled by the 1/f^1.5 spectrum, NAdam lr 1, 6 crops, noise 0.01 in [0, 1] RGB, penalty 1 x mean((image - seed)²). Horama runs 1000 steps on a 1280 px canvas with crop sides U(0.25, 0.30), i.e. crops of about 352 px = 1.57 x a 224 input; here ${ACCENT_STEPS} steps on a canvas 1.25 x the input with crop sides 0.9 (1.1 x the input: the CPU budget; 0.275 crops of an input-size canvas zoom 3.6 x and the whole image's objective fell: embedded model, 'concentric rings' from a 45° grating, 128 steps, 164.6 -> never above its start, against 154.1 -> 167.1 in 64 steps with these). Give the seed image with --image FILE`,
    params: { method: 'accentuation', lr: 1, max_iter: ACCENT_STEPS, fft_decay: 1.5, crops: 6, box_start: 0.9, box_end: 0.9, box_sd: round2(0.05 / Math.sqrt(12)), centre_sd: 0.15, noise: 0.01, canvas_scale: 1.25, image_weight: 1, transforms: 'none', relu_override_steps: 0 },
  },
  normstep: {
    description: 'seed 003 (VGG16 filter-visualization blog): x += step * g / max|g| on the channel mean, step 2 (pixels), 150 iterations, no regularization (the blog VGG16 takes 0..255 pixels minus the mean, as our pixel units: the step means the same); unregularized, the image is high-frequency noise with small parts of the class',
    params: { method: 'normstep', lr: 2, max_iter: 150, transforms: 'none', relu_override_steps: 0 },
  },
}
