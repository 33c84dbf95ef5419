/**
 * Quality readouts for a result image (reference-systems.md §D):
 * - spectrumSlope: naturalness. Grey-level image, Hann window, radially averaged power P(f), least
 *   squares fit log P = β·log f + c over 2 … N/4 cycles/image; natural images have β ≈ −2, white
 *   noise 0, over-blurred images steeper.
 * - activationRank: faithfulness. The target's activation and its rank among the layer's units.
 * - heldOutScore: semantics (MACO-style transferability). A second model's p(target) for the image,
 *   averaged over K seeded random crop/resize views (left-right flips optional, off by default: a flip turns a
 *   135° grating into a 45° one, so even the same model then misclassifies orientation classes), and whether the
 *   target is in its top k.
 * Shape: plain data or tensors in, numbers out; the model is a callback, nothing is kept.
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'
import { Rng } from '../rng.ts'

/** Lowest fitted frequency, cycles/image (excludes the DC/window-dominated bins). */
export const SLOPE_MIN_CYCLES = 2
/** The fit runs to N / SLOPE_MAX_DIVISOR cycles/image (N/4: below the pixel-level aliasing range). */
export const SLOPE_MAX_DIVISOR = 4

/** An image as plain data: row-major HWC values (any range). */
export interface ImageData {
  data: ArrayLike<number>
  width: number
  height: number
  channels: number
}

/** Grey level of the centred square crop (side min(H, W)): the mean over channels. */
function greySquare(img: ImageData): { grey: Float64Array; n: number } {
  const { data, width, height, channels } = img
  check(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0 && Number.isInteger(channels) && channels > 0,
    () => `image size must be positive integers; got ${height}x${width}x${channels}`)
  check(data.length === width * height * channels, () => `image has ${data.length} values; ${height}x${width}x${channels} needs ${width * height * channels}`)
  const n = Math.min(width, height)
  const y0 = Math.floor((height - n) / 2)
  const x0 = Math.floor((width - n) / 2)
  const grey = new Float64Array(n * n)
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let s = 0
      const base = ((y + y0) * width + (x + x0)) * channels
      for (let c = 0; c < channels; c++) s += data[base + c]
      grey[y * n + x] = s / channels
    }
  }
  return { grey, n }
}

/**
 * Radially averaged power spectrum of the grey-level, mean-removed, Hann-windowed image (centred square
 * crop). Entry f is the mean |FFT|² over frequencies with round(√(fx² + fy²)) = f, f = 0 … N/2.
 * @example radialPowerSpectrum({ data, width: 64, height: 64, channels: 3 }).length // 33
 */
export function radialPowerSpectrum(img: ImageData): Float64Array {
  const { grey, n } = greySquare(img)
  let mean = 0
  for (const v of grey) mean += v
  mean /= grey.length
  const hann = Float64Array.from({ length: n }, (_, i) => (n > 1 ? 0.5 * (1 - Math.cos((2 * Math.PI * i) / (n - 1))) : 1))
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) grey[y * n + x] = (grey[y * n + x] - mean) * hann[y] * hann[x]

  const cos = new Float64Array(n * n)
  const sin = new Float64Array(n * n)
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      const a = (2 * Math.PI * ((j * k) % n)) / n
      cos[j * n + k] = Math.cos(a)
      sin[j * n + k] = Math.sin(a)
    }
  }
  // Rows: R[y, kx] = Σ_x g[y, x] e^{−iθ}
  const rr = new Float64Array(n * n)
  const ri = new Float64Array(n * n)
  for (let y = 0; y < n; y++) {
    for (let k = 0; k < n; k++) {
      let sr = 0
      let si = 0
      for (let x = 0; x < n; x++) {
        const g = grey[y * n + x]
        sr += g * cos[x * n + k]
        si -= g * sin[x * n + k]
      }
      rr[y * n + k] = sr
      ri[y * n + k] = si
    }
  }
  const half = Math.floor(n / 2)
  const sum = new Float64Array(half + 1)
  const count = new Float64Array(half + 1)
  // Columns: F[ky, kx] = Σ_y R[y, kx] e^{−iθ}
  for (let ky = 0; ky < n; ky++) {
    const fy = ky <= half ? ky : ky - n
    for (let kx = 0; kx < n; kx++) {
      let sr = 0
      let si = 0
      for (let y = 0; y < n; y++) {
        const c = cos[y * n + ky]
        const s = sin[y * n + ky]
        const a = rr[y * n + kx]
        const b = ri[y * n + kx]
        sr += a * c + b * s
        si += b * c - a * s
      }
      const fx = kx <= half ? kx : kx - n
      const f = Math.round(Math.sqrt(fx * fx + fy * fy))
      if (f <= half) {
        sum[f] += sr * sr + si * si
        count[f]++
      }
    }
  }
  return Float64Array.from(sum, (s, f) => (count[f] ? s / count[f] : 0))
}

/**
 * Spectrum slope β of log P(f) = β·log f + c over 2 … N/4 cycles/image (N = min(H, W); the image is
 * centre-cropped to N×N). Natural images ≈ −2; white noise ≈ 0; blur makes β more negative.
 * Needs N ≥ 16 (at least 3 fitted frequencies). A constant image has no spectrum: NaN.
 * @example spectrumSlope({ data: rgbBytes, width: 128, height: 128, channels: 3 }) // e.g. −2.1
 */
export function spectrumSlope(img: ImageData): number {
  const n = Math.min(img.width, img.height)
  check(n >= 4 * SLOPE_MAX_DIVISOR, () => `spectrum slope needs an image of at least ${4 * SLOPE_MAX_DIVISOR} px per side; got ${img.height}x${img.width}`)
  const power = radialPowerSpectrum(img)
  const xs: number[] = []
  const ys: number[] = []
  for (let f = SLOPE_MIN_CYCLES; f <= Math.floor(n / SLOPE_MAX_DIVISOR); f++) {
    if (power[f] > 0) { xs.push(Math.log(f)); ys.push(Math.log(power[f])) }
  }
  if (xs.length < 2) return NaN
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < xs.length; i++) { sxy += (xs[i] - mx) * (ys[i] - my); sxx += (xs[i] - mx) ** 2 }
  return sxy / sxx
}

/** The target's activation and where it stands in its layer. */
export interface ActivationRank {
  value: number
  /** 1 = highest. Ties share the best rank: rank = 1 + (number of units strictly greater). */
  rank: number
  /** Number of units compared. */
  of: number
}

/**
 * Activation of `unit` and its rank among the layer's units: `activations` is [units] (a dense layer)
 * or [H, W, C] with `position` {y, x} (the units at that spatial position). Ties share the better
 * rank (competition ranking), so a unit equal to the maximum has rank 1; NaN activations are an error.
 * @example activationRank([0.1, 0.7, 0.7, 0.2], 2) // → { value: 0.7, rank: 1, of: 4 }
 */
export function activationRank(activations: ArrayLike<number>, unit: number, shape?: [number, number, number], position?: { y: number; x: number }): ActivationRank {
  let units: ArrayLike<number> = activations
  if (shape) {
    const [h, w, c] = shape
    check(activations.length === h * w * c, () => `activations have ${activations.length} values; shape [${shape.join(', ')}] needs ${h * w * c}`)
    check(position !== undefined && Number.isInteger(position.y) && Number.isInteger(position.x) && position.y >= 0 && position.y < h && position.x >= 0 && position.x < w,
      () => `a spatial position {y, x} inside ${h}x${w} is needed for [H, W, C] activations; got ${JSON.stringify(position)}`, 'BAD_UNIT')
    const base = (position.y * w + position.x) * c
    units = Array.prototype.slice.call(activations, base, base + c) as number[]
  }
  const of = units.length
  check(Number.isInteger(unit) && unit >= 0 && unit < of, () => `unit must be an integer in 0..${of - 1}; got ${unit}`, 'BAD_UNIT')
  const value = units[unit]
  let greater = 0
  for (let i = 0; i < of; i++) {
    check(!Number.isNaN(units[i]), () => `activation of unit ${i} is NaN`)
    if (units[i] > value) greater++
  }
  return { value, rank: greater + 1, of }
}

/** A held-out model: a batch [K, H, W, C] (the image's own space) → class probabilities [K, classes]. */
export type Classifier = (batch: tf.Tensor4D) => tf.Tensor2D | Promise<tf.Tensor2D>

export interface HeldOutOptions {
  /** Top-k of the (view-averaged) probabilities. Default 5. */
  topK?: number
  /** Number of random views; 0 (default) scores the image as it is. */
  augmentations?: number
  /** Seed of the views. Default 0. */
  seed?: number
  /** Smallest crop side as a fraction of the image side. Default 0.8. */
  minCropFraction?: number
  /**
   * Flip half of the views left-right. Default false: a mirror image changes orientation-selective classes
   * (a 135° grating becomes 45°), so flips are only right for mirror-symmetric class sets (e.g. ImageNet).
   */
  flip?: boolean
}

export interface HeldOutScore {
  /** Mean p(target) over the views. */
  probability: number
  /** Rank of the target in the mean probabilities, 1 = top (ties share the better rank). */
  rank: number
  inTopK: boolean
  views: number
}

/** Default crop range of the views, as a fraction of the side. */
const DEFAULT_MIN_CROP = 0.8
/** Probability of a horizontal flip per view. */
const FLIP_PROBABILITY = 0.5

/** Options of {@link augmentViews}. */
export interface AugmentOptions {
  /** Smallest crop side as a fraction of the image side. Default 0.8. */
  minCropFraction?: number
  /** Flip views left-right with p = 0.5. Default true here; heldOutScore passes its own default (false). */
  flip?: boolean
}

/**
 * K seeded views of one image [1, H, W, C]: a random square-ish crop (side fraction uniform in
 * [minCrop, 1], uniform position), resized back to H×W bilinearly, flipped left-right with p = 0.5 when
 * `flip` (the flip is drawn either way, so the crops are the same with and without flips).
 * @example const views = augmentViews(img, 8, new Rng(0), { flip: false })  // [8, H, W, C]
 */
export function augmentViews(image: tf.Tensor4D, count: number, rng: Rng, opts: AugmentOptions = {}): tf.Tensor4D {
  const { minCropFraction = DEFAULT_MIN_CROP, flip = true } = opts
  check(image.rank === 4 && image.shape[0] === 1, () => `augmentViews expects one image [1, H, W, C]; got [${image.shape.join(', ')}]`)
  check(Number.isInteger(count) && count > 0, () => `view count must be a positive integer; got ${count}`)
  check(minCropFraction > 0 && minCropFraction <= 1, () => `minCropFraction must be in (0, 1]; got ${minCropFraction}`)
  const [, h, w] = image.shape
  const boxes: number[][] = []
  const flips: boolean[] = []
  for (let i = 0; i < count; i++) {
    const fh = rng.uniform(minCropFraction, 1)
    const fw = rng.uniform(minCropFraction, 1)
    const top = rng.uniform(0, 1 - fh)
    const left = rng.uniform(0, 1 - fw)
    boxes.push([top, left, top + fh, left + fw])
    flips.push(rng.random() < FLIP_PROBABILITY && flip)
  }
  return tf.tidy(() => {
    const crops = tf.image.cropAndResize(image, boxes, new Array(count).fill(0), [h, w], 'bilinear')
    const views = tf.unstack(crops).map((v, i) => (flips[i] ? tf.reverse(v, 1) : v))
    return tf.stack(views) as tf.Tensor4D
  })
}

/**
 * Held-out transfer score of an image for class `target` under another model (§D metric 1).
 * @param image [H, W, C] or [1, H, W, C], in whatever space `classify` expects.
 * @example const s = await heldOutScore(img, 130, (b) => otherModel.predict(b) as tf.Tensor2D, { augmentations: 8 })
 */
export async function heldOutScore(image: tf.Tensor3D | tf.Tensor4D, target: number, classify: Classifier, options: HeldOutOptions = {}): Promise<HeldOutScore> {
  const { topK = 5, augmentations = 0, seed = 0, minCropFraction = DEFAULT_MIN_CROP, flip = false } = options
  check(image.rank === 3 || (image.rank === 4 && image.shape[0] === 1), () => `heldOutScore expects one image [H, W, C]; got [${image.shape.join(', ')}]`)
  check(Number.isInteger(topK) && topK > 0, () => `topK must be a positive integer; got ${topK}`)
  check(Number.isInteger(augmentations) && augmentations >= 0, () => `augmentations must be an integer >= 0; got ${augmentations}`)
  const one = (image.rank === 3 ? tf.expandDims(image, 0) : tf.clone(image)) as tf.Tensor4D
  const batch = augmentations > 0 ? augmentViews(one, augmentations, new Rng(seed), { minCropFraction, flip }) : tf.clone(one)
  one.dispose()
  let probs: tf.Tensor2D
  try {
    probs = await classify(batch)
  } finally {
    batch.dispose()
  }
  const views = batch.shape[0]
  const shape = probs.shape
  if (!(probs.rank === 2 && shape[0] === views)) {
    probs.dispose()
    check(false, () => `the classifier returned shape [${shape.join(', ')}] for ${views} views; expected [${views}, classes]`)
  }
  const classes = shape[1]
  if (!(Number.isInteger(target) && target >= 0 && target < classes)) {
    probs.dispose()
    check(false, () => `target class must be an integer in 0..${classes - 1}; got ${target}`, 'BAD_UNIT')
  }
  const meanT = tf.tidy(() => probs.mean(0))
  probs.dispose()
  const mean = (await meanT.data()) as Float32Array
  meanT.dispose()
  const { rank } = activationRank(mean, target)
  return { probability: mean[target], rank, inTopK: rank <= topK, views }
}
