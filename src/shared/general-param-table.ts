/**
 * The general methods' CLI flags as one table (rows of shared/param-table.ts, one per flag; a field reached by two
 * tools' names has two rows, e.g. decay as seed004's --theta-decay and cnnpref's --decay-start): the single source
 * of those flags, their --help and the flags the DVT method refuses. Pure data.
 * The ranges are checked once, by the engine (engine/methods/general-params.ts).
 */
import type { ParamRow } from './param-table'
import { DEFAULT_GENERAL_PARAMS, GENERATOR_FITS, GENERATOR_OUTPUT_RANGES, IMAGE_PARAMS, INIT_IMAGES, PENALTIES } from './method-params'

export const GENERAL_FLAG_TABLE: readonly ParamRow[] = [
  { key: 'objective', kind: 'string', label: 'objective', help: 'lucid: objective to maximize, e.g. "conv2:3", "conv3:7@8,8", "logits:0 - 0.5*logits:1", "neuron(conv3, 2)", "direction(conv3, [..], 1)" (default: --push-layer:--push-channel)', flag: '--objective', valueName: 'expr' },
  { key: 'param', kind: 'choice', choices: IMAGE_PARAMS, label: 'param', help: 'lucid: image parameterization', flag: '--param', valueName: 'kind' },
  { key: 'decorrelate', kind: 'boolean', label: 'decorrelate', help: 'lucid: optimize in plain RGB instead of the decorrelated colour space', flag: '--no-decorrelate', valueName: '' },
  { key: 'transforms', kind: 'choice', choices: ['standard', 'none'], label: 'transforms', help: 'lucid: transforms before each forward pass (standard = pad 12, jitter 8, scale 0.9..1.1, rotate +-10 deg, jitter 4)', flag: '--transforms', valueName: 'set' },
  { key: 'lr', kind: 'number', label: 'lr', help: `lucid: Adam learning rate (default ${DEFAULT_GENERAL_PARAMS.lr})`, flag: '--lr', valueName: 'lr' },
  { key: 'batch_size', kind: 'integer', label: 'batch_size', help: 'lucid: images optimized together (one result each)', flag: '--batch-size', valueName: 'n' },
  { key: 'diversity', kind: 'number', label: 'diversity', help: 'lucid: weight of the batch diversity penalty (needs --batch-size >= 2)', flag: '--diversity', valueName: 'w' },
  { key: 'diversity_layer', kind: 'string', label: 'diversity_layer', help: 'lucid: layer the diversity penalty reads (default: the objective\'s first layer)', flag: '--diversity-layer', valueName: 'name' },
  { key: 'relu_override_steps', kind: 'integer', label: 'relu_override_steps', help: `lucid: steps with the redirected ReLU gradient (default ${DEFAULT_GENERAL_PARAMS.relu_override_steps})`, flag: '--relu-override-steps', valueName: 'n' },
  { key: 'penalty', kind: 'choice', choices: PENALTIES, label: 'penalty', help: 'dnnbrain: image penalty in the loss (regularization)', flag: '--penalty', valueName: 'kind' },
  { key: 'penalty_weight', kind: 'number', label: 'penalty_weight', help: 'dnnbrain: weight of the penalty (regular_lambda)', flag: '--penalty-weight', valueName: 'w' },
  { key: 'blur_radius', kind: 'number', label: 'blur_radius', help: 'dnnbrain, seed004: Gaussian blur sigma applied to the image after each step (GB_radius; 0 = off)', flag: '--gb-radius', valueName: 'px' },
  { key: 'smooth_factor', kind: 'number', label: 'smooth_factor', help: 'dnnbrain: Fourier-domain gradient smoothing exponent (factor; 0 = off)', flag: '--smooth-factor', valueName: 'f' },
  { key: 'blur_every', kind: 'integer', label: 'blur_every', help: 'seed004: blur every n iterations (with --gb-radius as sigma)', flag: '--theta-every', valueName: 'n' },
  { key: 'decay', kind: 'number', label: 'decay', help: 'seed004: weight decay of the centred image after each step', flag: '--theta-decay', valueName: 'd' },
  { key: 'norm_crop_pct', kind: 'number', label: 'norm_crop_pct', help: 'seed004: zero pixels whose channel norm is below this percentile', flag: '--norm-crop', valueName: 'pct' },
  { key: 'contrib_crop_pct', kind: 'number', label: 'contrib_crop_pct', help: 'seed004: zero pixels whose |contribution| is below this percentile', flag: '--contrib-crop', valueName: 'pct' },
  { key: 'lr_end', kind: 'number', label: 'lr_end', help: 'cnnpref-gd: learning rate at the last iteration (--lr is the first; linear schedule)', flag: '--lr-end', valueName: 'lr' },
  { key: 'momentum', kind: 'number', label: 'momentum', help: 'cnnpref-gd: momentum at the first iteration', flag: '--momentum', valueName: 'm' },
  { key: 'momentum_end', kind: 'number', label: 'momentum_end', help: 'cnnpref-gd: momentum at the last iteration', flag: '--momentum-end', valueName: 'm' },
  { key: 'decay', kind: 'number', label: 'decay', help: 'cnnpref-gd: decay at the first iteration', flag: '--decay-start', valueName: 'd' },
  { key: 'decay_end', kind: 'number', label: 'decay_end', help: 'cnnpref-gd: decay at the last iteration', flag: '--decay-end', valueName: 'd' },
  { key: 'blur_radius', kind: 'number', label: 'blur_radius', help: 'cnnpref-gd: blur sigma at the first iteration', flag: '--sigma-start', valueName: 'px' },
  { key: 'blur_radius_end', kind: 'number', label: 'blur_radius_end', help: 'cnnpref-gd: blur sigma at the last iteration', flag: '--sigma-end', valueName: 'px' },
  { key: 'jitter_px', kind: 'integer', label: 'jitter_px', help: 'cnnpref-gd: largest jitter shift in pixels', flag: '--jitter', valueName: 'px' },
  { key: 'clip_every', kind: 'integer', label: 'clip_every', help: 'cnnpref-gd: clip every n iterations', flag: '--clip-every', valueName: 'n' },
  { key: 'clip_extreme_pct', kind: 'number', label: 'clip_extreme_pct', help: 'cnnpref-gd: clamp the image to its [pct/2, 100-pct/2] percentiles', flag: '--clip-extreme', valueName: 'pct' },
  { key: 'clip_small_norm_pct', kind: 'number', label: 'clip_small_norm_pct', help: 'cnnpref-gd: zero pixels whose RGB norm is below this percentile', flag: '--clip-small-norm', valueName: 'pct' },
  { key: 'clip_small_contribution_pct', kind: 'number', label: 'clip_small_contribution_pct', help: 'cnnpref-gd: zero pixels whose norm of img*g is below this percentile', flag: '--clip-small-contribution', valueName: 'pct' },
  { key: 'init_image', kind: 'choice', choices: INIT_IMAGES, label: 'init_image', help: 'pixel methods: start from mid-grey or black (cnnpref-lbfgs\'s examples), plus the init noise', flag: '--init-image', valueName: 'kind' },
  { key: 'generator', kind: 'string', label: 'generator', help: 'lucid, cnnpref-gd, cnnpref-lbfgs: optimize the input code of this TensorFlow.js generator (code [batch, D] -> image [batch, H, W, 3]) instead of the pixels', flag: '--generator', valueName: 'dir' },
  { key: 'generator_range', kind: 'choice', choices: GENERATOR_OUTPUT_RANGES, label: 'generator_range', help: 'value range of the generator\'s output image', flag: '--generator-range', valueName: 'range' },
  { key: 'code_lower', kind: 'numbers', label: 'code_lower', help: 'lower bound of the generator code: one number, or one per dimension separated by commas (default 0)', flag: '--code-lower', valueName: 'v' },
  { key: 'code_upper', kind: 'numbers', label: 'code_upper', help: 'upper bound of the generator code, as --code-lower (default 100)', flag: '--code-upper', valueName: 'v' },
  { key: 'generator_fit', kind: 'choice', choices: GENERATOR_FITS, label: 'generator_fit', help: 'fit of the generator image to the classifier input: centre crop when large enough else resize (auto), or forced', flag: '--generator-fit', valueName: 'fit' },
  { key: 'crops', kind: 'integer', label: 'crops', help: `maco, accentuation: crops per step (0 = the whole canvas; default ${DEFAULT_GENERAL_PARAMS.crops})`, flag: '--crops', valueName: 'n' },
  { key: 'box_start', kind: 'number', label: 'box_start', help: 'maco, accentuation: mean crop side at the first step, a fraction of the canvas', flag: '--box-start', valueName: 'f' },
  { key: 'box_end', kind: 'number', label: 'box_end', help: 'maco, accentuation: mean crop side at the last step (linear in between)', flag: '--box-end', valueName: 'f' },
  { key: 'box_sd', kind: 'number', label: 'box_sd', help: 'maco, accentuation: std of the crop side around its mean', flag: '--box-sd', valueName: 'f' },
  { key: 'centre_sd', kind: 'number', label: 'centre_sd', help: 'maco, accentuation: std of the crop centres around the middle', flag: '--centre-sd', valueName: 'f' },
  { key: 'noise', kind: 'number', label: 'noise', help: 'maco, accentuation: std of the noise added to the crops (RGB 0..1 units)', flag: '--noise', valueName: 's' },
  { key: 'canvas_scale', kind: 'number', label: 'canvas_scale', help: 'maco: canvas side over the model input side (the image saved is the canvas at the input size)', flag: '--canvas-scale', valueName: 'k' },
  { key: 'image', kind: 'string', label: 'image', help: 'accentuation: the seed image (PNG/JPEG, resized to the input)', flag: '--image', valueName: 'file' },
  { key: 'image_weight', kind: 'number', label: 'image_weight', help: 'accentuation: weight of mean((image - seed)^2) in the loss', flag: '--image-weight', valueName: 'w' },
]
