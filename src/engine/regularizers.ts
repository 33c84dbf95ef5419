/**
 * DVT's regularizers on the image x ([1, H, W, C], mean-subtracted pixel units), in DVT's order:
 * step -> decay -> blur -> small_val -> small_norm -> px_benefit -> px_abs_benefit.
 * The tensor ops (decay, blur) are pure tfjs; the percentile clips read the statistic back, take
 * numpy's linear percentile in float64 and zero what lies strictly below it.
 * Shape: (x, ...) => new x (inputs are not disposed; wrap calls in tf.tidy)
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../shared/errors.ts'
import { keepMask, percentile } from './percentile.ts'

/** scipy.ndimage's default truncation: the kernel extends to 4 sigma. */
export const GAUSSIAN_TRUNCATE = 4
/** Largest kernel radius built (a 4096-pixel image's side): beyond it the blur is refused before allocating. */
const MAX_KERNEL_RADIUS = 4096

/** scipy.ndimage.gaussian_filter1d's kernel: radius int(4 sigma + 0.5), weights exp(-x^2 / 2 sigma^2), normalized. */
export function gaussianKernel1d(sigma: number): Float32Array {
  check(Number.isFinite(sigma) && sigma > 0, () => `blur sigma must be a finite number > 0; got ${sigma}`)
  const radius = Math.floor(GAUSSIAN_TRUNCATE * sigma + 0.5)
  check(radius <= MAX_KERNEL_RADIUS, () => `blur sigma ${sigma} needs a ${2 * radius + 1}-pixel kernel, over the ${2 * MAX_KERNEL_RADIUS + 1} pixels any image here can use`)
  const k = new Float64Array(2 * radius + 1)
  let sum = 0
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp((-0.5 * i * i) / (sigma * sigma))
    k[i + radius] = v
    sum += v
  }
  return Float32Array.from(k, (v) => v / sum)
}

/**
 * Per-channel Gaussian blur with scipy's 'reflect' boundary (d c b a | a b c d: the edge pixel is
 * repeated, i.e. TensorFlow's 'symmetric' mirror padding), separable.
 */
export function gaussianBlur(x: tf.Tensor4D, sigma: number): tf.Tensor4D {
  const kernel = gaussianKernel1d(sigma)
  const r = (kernel.length - 1) / 2
  if (r === 0) return x.clone()
  const [, h, w, c] = x.shape
  check(r <= h && r <= w, () => `blur radius ${sigma} needs a ${2 * r + 1}-pixel kernel, larger than the ${h}x${w} image`)
  return tf.tidy((): tf.Tensor4D => {
    const k = tf.tensor1d(kernel)
    const kh = tf.tile(k.reshape([2 * r + 1, 1, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D
    const kw = tf.tile(k.reshape([1, 2 * r + 1, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D
    const padded = tf.mirrorPad(x, [[0, 0], [r, r], [r, r], [0, 0]], 'symmetric')
    const rows = tf.depthwiseConv2d(padded, kh, 1, 'valid')
    return tf.depthwiseConv2d(rows, kw, 1, 'valid')
  })
}

/** Multiplicative L2 decay toward the mean image: x <- (1 - decay) x. */
export function decay(x: tf.Tensor4D, amount: number): tf.Tensor4D {
  return tf.mul(x, 1 - amount) as tf.Tensor4D
}

/** Whether DVT blurs at iteration ii (GO L316-323): blur_every != 0, radius > 0, ii mod every == 0. */
export function blursAt(ii: number, blurEvery: number, blurRadius: number): boolean {
  return blurEvery !== 0 && blurRadius > 0 && ii % blurEvery === 0
}

/** Zero the entries of x whose |x| is strictly below the p-th percentile of |x| (small_val). */
export async function clipSmallVal(x: tf.Tensor4D, p: number): Promise<tf.Tensor4D> {
  const abs = tf.abs(x)
  const values = await abs.data()
  abs.dispose()
  const mask = keepMask(values, percentile(values, p))
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape)) as tf.Tensor4D)
}

/** Zero pixels by a per-pixel statistic [1, H, W] strictly below its p-th percentile. */
async function clipPixels(x: tf.Tensor4D, stat: tf.Tensor, p: number, abs: boolean): Promise<tf.Tensor4D> {
  const raw = await stat.data()
  const values = abs ? Float32Array.from(raw, Math.abs) : raw
  const mask = keepMask(values, percentile(values, p))
  const [n, h, w] = x.shape
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, [n, h, w, 1])) as tf.Tensor4D)
}

/** small_norm: zero pixels whose channel L2 norm is strictly below the p-th percentile. */
export async function clipSmallNorm(x: tf.Tensor4D, p: number): Promise<tf.Tensor4D> {
  const norms = tf.tidy(() => tf.sqrt(tf.sum(tf.square(x), 3)))
  try { return await clipPixels(x, norms, p, false) } finally { norms.dispose() }
}

/**
 * Contribution of each pixel, sum over channels of g * x: the first-order change of the objective
 * that replacing the pixel by the mean would undo. (DVT's code negates it and so removes the most
 * useful pixels; we follow its documented intent: remove the least useful ones.)
 */
export function pixelContribution(x: tf.Tensor4D, g: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.sum(tf.mul(g, x), 3) as tf.Tensor3D)
}

/** px_benefit: zero pixels whose contribution is strictly below the p-th percentile. */
export async function clipPxBenefit(x: tf.Tensor4D, g: tf.Tensor4D, p: number): Promise<tf.Tensor4D> {
  const b = pixelContribution(x, g)
  try { return await clipPixels(x, b, p, false) } finally { b.dispose() }
}

/** px_abs_benefit: zero pixels whose |contribution| is strictly below the p-th percentile. */
export async function clipPxAbsBenefit(x: tf.Tensor4D, g: tf.Tensor4D, p: number): Promise<tf.Tensor4D> {
  const b = pixelContribution(x, g)
  try { return await clipPixels(x, b, p, true) } finally { b.dispose() }
}
