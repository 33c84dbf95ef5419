/**
 * The per-step pieces of cnnpref's gradient-descent preferred-image method (KamitaniLab/cnnpref
 * prefer_img_gd.py, utils.py) and of the VGG16 blog's normalized step (seed 003), as pure functions
 * the general loop composes: gradient normalization, momentum, jitter roll / un-roll, the three clips,
 * the feature-mask objective and the blog's max-normalized step.
 * Shape: tensors in, new tensors out ([N, H, W, C] batches; per image where a statistic is involved);
 * nothing is kept, every intermediate is tidied. The clips read values back (percentiles are computed
 * exactly as numpy on the CPU, src/engine/percentile.ts), so they are async.
 *
 * cnnpref's order per step: jitter (image and momentum) → forward/backward → g/mean|g| → δ ← m·δ + g →
 * img ← img − lr·δ (descent on −Σw·a; with objectives maximized, img + lr·δ) → clips every N →
 * un-roll → decay → blur.
 *
 * The momentum un-roll. cnnpref (L274-278) un-rolls the buffer as: δ ← δ − g; δ ← roll(δ, −o);
 * δ ← δ + g, i.e. the current gradient g is taken out, the rest rolled back, and g added back
 * UN-rolled, so g stays in jittered coordinates while the image and the older momentum go back. We
 * un-roll the whole buffer (δ ← roll(δ, −o)), so that δ and the image stay aligned pixel for pixel;
 * {@link unrollMomentumCnnpref} reproduces the original for comparison.
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'
import { percentile } from '../percentile.ts'
import type { Rng } from '../rng.ts'

/** Guards g / mean|g| and g / max|g| against an all-zero gradient (the blog's own epsilon). */
export const GRADIENT_EPSILON = 1e-8

function checkBatch(x: tf.Tensor, what: string): void {
  check(x.rank === 4, () => `${what} expects a batch [N, H, W, C]; got shape [${x.shape.join(', ')}]`)
}

function checkSameShape(a: tf.Tensor, b: tf.Tensor, what: string): void {
  check(a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]),
    () => `${what}: shapes differ, [${a.shape.join(', ')}] vs [${b.shape.join(', ')}]`)
}

/**
 * cnnpref's gradient normalization, per image: g / mean|g| (prefer_img_gd.py L221-224). An all-zero
 * gradient stays zero (the original divides 0 by 0 and gets NaN).
 * @example normalizeGradient(tf.tensor4d([1, -3], [1, 1, 2, 1])) // → [0.5, -1.5]
 */
export function normalizeGradient(g: tf.Tensor4D): tf.Tensor4D {
  checkBatch(g, 'normalizeGradient')
  return tf.tidy(() => {
    const meanAbs = tf.abs(g).mean([1, 2, 3], true)
    return tf.div(g, tf.maximum(meanAbs, GRADIENT_EPSILON)) as tf.Tensor4D
  })
}

/**
 * Momentum accumulation δ ← m·δ + g (prefer_img_gd.py L227).
 * @example const delta1 = momentumUpdate(delta0, g, 0.9)
 */
export function momentumUpdate(delta: tf.Tensor4D, g: tf.Tensor4D, momentum: number): tf.Tensor4D {
  checkSameShape(delta, g, 'momentumUpdate')
  check(Number.isFinite(momentum), () => `momentum must be finite; got ${momentum}`)
  return tf.tidy(() => tf.add(tf.mul(delta, momentum), g) as tf.Tensor4D)
}

/** A jitter offset in pixels: ox along the width (columns), oy along the height (rows). */
export interface JitterOffset {
  ox: number
  oy: number
}

/**
 * Draws cnnpref's jitter (ox, oy), each uniform in {−J … J} (np.random.randint(−J, J+1, 2)), from the
 * seeded generator: the same seed gives the same offsets. J = 0 gives (0, 0) and draws nothing.
 * @example const { ox, oy } = drawJitter(new Rng(0), 32)
 */
export function drawJitter(rng: Rng, jitterPx: number): JitterOffset {
  check(Number.isInteger(jitterPx) && jitterPx >= 0, () => `jitter size must be an integer >= 0; got ${jitterPx}`)
  if (jitterPx === 0) return { ox: 0, oy: 0 }
  const ox = rng.int(-jitterPx, jitterPx + 1)
  const oy = rng.int(-jitterPx, jitterPx + 1)
  return { ox, oy }
}

function rollAxis(x: tf.Tensor4D, shift: number, axis: 1 | 2): tf.Tensor4D {
  const n = x.shape[axis]
  const s = ((shift % n) + n) % n
  if (s === 0) return x
  const [a, b] = tf.split(x, [n - s, s], axis)
  return tf.concat([b, a], axis) as tf.Tensor4D
}

/**
 * np.roll of every image by (oy rows, ox columns), wrapping around: out[y, x] = x[y − oy, x − ox].
 * Used for the image and the momentum buffer alike.
 * @example rollImage(img, { ox: 3, oy: -2 })  // and rollImage(rolled, { ox: -3, oy: 2 }) undoes it
 */
export function rollImage(x: tf.Tensor4D, offset: JitterOffset): tf.Tensor4D {
  checkBatch(x, 'rollImage')
  check(Number.isInteger(offset.ox) && Number.isInteger(offset.oy), () => `roll offsets must be integers; got (${offset.ox}, ${offset.oy})`)
  return tf.tidy(() => {
    const out = rollAxis(rollAxis(x, offset.oy, 1), offset.ox, 2)
    return out === x ? tf.clone(x) : out
  })
}

/**
 * Un-roll: the inverse of {@link rollImage} with the same offset. Apply it to the image and to the
 * momentum buffer (our correct un-roll; see the header for cnnpref's).
 * @example const back = unrollImage(rollImage(img, o), o)   // equals img
 */
export function unrollImage(x: tf.Tensor4D, offset: JitterOffset): tf.Tensor4D {
  return rollImage(x, { ox: -offset.ox, oy: -offset.oy })
}

/**
 * cnnpref's own momentum un-roll (prefer_img_gd.py L274-278), kept to document and compare:
 * roll(δ − g, −o) + g. It differs from {@link unrollImage}(δ) by g − roll(g, −o).
 * @example const deltaOriginal = unrollMomentumCnnpref(delta, g, o)
 */
export function unrollMomentumCnnpref(delta: tf.Tensor4D, g: tf.Tensor4D, offset: JitterOffset): tf.Tensor4D {
  checkSameShape(delta, g, 'unrollMomentumCnnpref')
  return tf.tidy(() => {
    const rest = tf.sub(delta, g) as tf.Tensor4D
    const back = unrollImage(rest, offset)
    return tf.add(back, g) as tf.Tensor4D
  })
}

/**
 * Whether cnnpref clips at iteration t (0-based): on (t + 1) mod every == 0, so every = 1 clips at
 * every step and every = 4 at t = 3, 7, 11, … (prefer_img_gd.py).
 * @example isClipIteration(3, 4) // true; isClipIteration(0, 4) // false
 */
export function isClipIteration(t: number, every: number): boolean {
  check(Number.isInteger(every) && every > 0, () => `clip interval must be a positive integer; got ${every}`)
  check(Number.isInteger(t) && t >= 0, () => `iteration must be an integer >= 0; got ${t}`)
  return (t + 1) % every === 0
}

function checkPercent(p: number, what: string): void {
  check(Number.isFinite(p) && p >= 0 && p <= 100, () => `${what} must be a percentile in [0, 100]; got ${p}`)
}

/** Per-pixel RGB norm of every image, [N, H, W] as nested Float32Arrays. */
async function pixelNorms(x: tf.Tensor4D): Promise<Float32Array[]> {
  const norms = tf.tidy(() => tf.sqrt(tf.square(x).sum(3)))
  const data = (await norms.data()) as Float32Array
  norms.dispose()
  const [n, h, w] = x.shape
  return Array.from({ length: n }, (_, i) => data.subarray(i * h * w, (i + 1) * h * w))
}

/** Zeroes pixel (y, x) of each image where `norms[i][y·W + x] < threshold_i` (strict, as cnnpref). */
function zeroBelow(img: tf.Tensor4D, norms: Float32Array[], thresholds: number[]): tf.Tensor4D {
  const [n, h, w] = img.shape
  const keep = new Float32Array(n * h * w)
  norms.forEach((v, i) => {
    for (let j = 0; j < v.length; j++) keep[i * h * w + j] = v[j] < thresholds[i] ? 0 : 1
  })
  return tf.tidy(() => tf.mul(img, tf.tensor4d(keep, [n, h, w, 1])) as tf.Tensor4D)
}

/**
 * clip_extreme (cnnpref utils.py L98-107): clamps every image to its own [e/2, 100 − e/2] value
 * percentiles (all channels together, numpy's linear percentile).
 * @example const clipped = await clipExtreme(img, 1)   // clamps to the 0.5th..99.5th percentiles
 */
export async function clipExtreme(img: tf.Tensor4D, pct: number): Promise<tf.Tensor4D> {
  checkBatch(img, 'clipExtreme')
  checkPercent(pct, 'clip_extreme percent')
  const [n, h, w, c] = img.shape
  const data = (await img.data()) as Float32Array
  const size = h * w * c
  const out = new Float32Array(data.length)
  for (let i = 0; i < n; i++) {
    const v = data.subarray(i * size, (i + 1) * size)
    const lo = percentile(v, pct / 2)
    const hi = percentile(v, 100 - pct / 2)
    for (let j = 0; j < size; j++) out[i * size + j] = Math.min(hi, Math.max(lo, v[j]))
  }
  return tf.tensor4d(out, [n, h, w, c])
}

/**
 * clip_small_norm (cnnpref utils.py L109-123): zeroes the pixels whose RGB norm is below the pct-th
 * percentile of the image's pixel norms.
 * @example const clipped = await clipSmallNorm(img, 5)
 */
export async function clipSmallNorm(img: tf.Tensor4D, pct: number): Promise<tf.Tensor4D> {
  checkBatch(img, 'clipSmallNorm')
  checkPercent(pct, 'clip_small_norm percent')
  const norms = await pixelNorms(img)
  return zeroBelow(img, norms, norms.map((v) => percentile(v, pct)))
}

/**
 * clip_small_contribution (cnnpref utils.py L125-139): zeroes the pixels whose RGB norm of img⊙g (the
 * normalized gradient) is below the pct-th percentile. Unlike DVT it uses a norm, not a channel sum.
 * @example const clipped = await clipSmallContribution(img, g, 5)
 */
export async function clipSmallContribution(img: tf.Tensor4D, g: tf.Tensor4D, pct: number): Promise<tf.Tensor4D> {
  checkBatch(img, 'clipSmallContribution')
  checkSameShape(img, g, 'clipSmallContribution')
  checkPercent(pct, 'clip_small_contribution percent')
  const contribution = tf.mul(img, g) as tf.Tensor4D
  const norms = await pixelNorms(contribution)
  contribution.dispose()
  return zeroBelow(img, norms, norms.map((v) => percentile(v, pct)))
}

/**
 * cnnpref's feature-mask objective, to be maximized: Σ w·a per image, w a per-unit weight tensor shaped
 * like one image's layer output (binary mask × feature_weight; any real weights work).
 * @param activations [N, ...layerShape]
 * @param weights layerShape (broadcast over the batch)
 * @example featureMaskObjective(acts, mask) // acts [1,4,4,8], mask [4,4,8] one-hot at (2,2,5) → [acts(0,2,2,5)]
 */
export function featureMaskObjective(activations: tf.Tensor, weights: tf.Tensor): tf.Tensor1D {
  const layer = activations.shape.slice(1)
  check(activations.rank >= 2 && layer.length === weights.rank && layer.every((d, i) => d === weights.shape[i]),
    () => `feature mask shape [${weights.shape.join(', ')}] must equal the layer's output shape [${layer.join(', ')}]`)
  return tf.tidy(() => {
    const axes = layer.map((_, i) => i + 1)
    return tf.mul(activations, weights).sum(axes) as tf.Tensor1D
  })
}

/**
 * The VGG16 blog's normalized ascent step (seed 003), per image: x + step·g / (max|g| + 1e-8). The blog
 * divides by max(g), not max|g|, so a gradient whose maximum is negative flips the step or blows it
 * up; we use max|g|, so the largest pixel change is exactly `step`.
 * @example const x1 = normalizedStep(x0, g, 2)
 */
export function normalizedStep(x: tf.Tensor4D, g: tf.Tensor4D, step: number): tf.Tensor4D {
  checkSameShape(x, g, 'normalizedStep')
  checkBatch(x, 'normalizedStep')
  check(Number.isFinite(step), () => `step must be finite; got ${step}`)
  return tf.tidy(() => {
    const maxAbs = tf.abs(g).max([1, 2, 3], true)
    return tf.add(x, tf.mul(tf.div(g, tf.add(maxAbs, GRADIENT_EPSILON)), step)) as tf.Tensor4D
  })
}
