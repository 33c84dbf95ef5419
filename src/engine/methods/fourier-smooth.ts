/**
 * dnnbrain's Fourier-domain gradient smoothing (SynthesisImage._smooth_fourier, dnnbrain dnn/algo.py
 * L443-468): every channel of every image's gradient is filtered as g ← IFFT2(FFT2(g)·F) with
 *   t(k_y, k_x) = 1 / max(1, (k_x² + k_y²)^factor),  F = t / mean(t),
 * an r^(−2·factor) amplitude filter normalized to mean 1 over the spectrum (DC gain 1/mean(t) ≥ 1).
 * Shape: (grad: tf.Tensor4D [N, H, W, C], factor) => tf.Tensor4D, same shape; pure.
 *
 * Differences from dnnbrain, on purpose:
 * - k is the TRUE FFT frequency |k| = min(k, n−k); dnnbrain uses min(k, n−1−k), an off-by-one that
 *   gives index n−1 frequency 0 (like DC) and every negative frequency one step too low.
 * - The 2-D DFT is done with cosine/sine matrices and matMul (separable, O(HW(H+W)) per channel),
 *   not tf.spectral: tfjs's wasm backend has no complex kernels ('Complex' is not registered), and
 *   matMul runs on every backend, with the same numbers.
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'

/** True FFT frequency magnitude of index k of an n-point DFT: min(k, n − k). */
export function fftFrequency(k: number, n: number): number {
  return Math.min(k, n - k)
}

/**
 * The smoothing filter F (H×W, row-major, mean 1) for `factor`; factor 0 gives all ones (identity).
 * @example smoothingFilter(4, 4, 0.5)[0] // DC gain 1/mean(t)
 */
export function smoothingFilter(height: number, width: number, factor: number): Float32Array {
  check(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0,
    () => `smoothing filter size must be positive integers; got ${height}x${width}`)
  check(Number.isFinite(factor) && factor >= 0, () => `smoothing factor must be a finite number >= 0; got ${factor}`)
  const t = new Float64Array(height * width)
  let sum = 0
  for (let y = 0; y < height; y++) {
    const ky = fftFrequency(y, height)
    for (let x = 0; x < width; x++) {
      const kx = fftFrequency(x, width)
      const v = 1 / Math.max(1, Math.pow(kx * kx + ky * ky, factor))
      t[y * width + x] = v
      sum += v
    }
  }
  const mean = sum / t.length
  return Float32Array.from(t, (v) => v / mean)
}

/** cos(2π jk/n) and sin(2π jk/n), n×n, both symmetric. */
function dftMatrices(n: number): [tf.Tensor2D, tf.Tensor2D] {
  const cos = new Float32Array(n * n)
  const sin = new Float32Array(n * n)
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < n; k++) {
      const a = (2 * Math.PI * ((j * k) % n)) / n
      cos[j * n + k] = Math.cos(a)
      sin[j * n + k] = Math.sin(a)
    }
  }
  return [tf.tensor2d(cos, [n, n]), tf.tensor2d(sin, [n, n])]
}

/** x·M for x [B, H, W], M [W, W]. */
function right(x: tf.Tensor3D, m: tf.Tensor2D): tf.Tensor3D {
  const [b, h, w] = x.shape
  return tf.matMul(x.reshape([b * h, w]), m).reshape([b, h, w])
}

/** M·x for x [B, H, W], M [H, H] symmetric. */
function left(x: tf.Tensor3D, m: tf.Tensor2D): tf.Tensor3D {
  const [b, h, w] = x.shape
  const xt = tf.transpose(x, [0, 2, 1]).reshape([b * w, h])
  return tf.transpose(tf.matMul(xt, m).reshape([b, w, h]), [0, 2, 1]) as tf.Tensor3D
}

/**
 * Smooths a gradient batch in the Fourier domain (see the file header). factor 0 returns a copy.
 * @param grad [N, H, W, C] gradient (any real values).
 * @param factor exponent of the filter; dnnbrain's default 0.3 gives amplitude ∝ r^−0.6.
 * @example const smoothed = smoothGradientFourier(grad, 0.3)   // same shape as grad
 */
export function smoothGradientFourier(grad: tf.Tensor4D, factor: number): tf.Tensor4D {
  check(grad.rank === 4, () => `smoothGradientFourier expects [N, H, W, C]; got shape [${grad.shape.join(', ')}]`)
  const [n, h, w, c] = grad.shape
  const filter = smoothingFilter(h, w, factor)
  if (factor === 0) return tf.clone(grad)
  return tf.tidy(() => {
    const [ch, sh] = dftMatrices(h)
    const [cw, sw] = w === h ? [ch, sh] : dftMatrices(w)
    const f = tf.tensor3d(filter, [1, h, w])
    const g = tf.transpose(grad, [0, 3, 1, 2]).reshape([n * c, h, w]) as tf.Tensor3D
    // Forward: G = (Ch − iSh) g (Cw − iSw) = Re + i·Im
    const gc = right(g, cw)
    const gs = right(g, sw)
    const re = tf.sub(left(gc, ch), left(gs, sh))
    const im = tf.neg(tf.add(left(gs, ch), left(gc, sh)))
    const fr = tf.mul(re, f) as tf.Tensor3D
    const fi = tf.mul(im, f) as tf.Tensor3D
    // Inverse: g' = Re[(Ch + iSh)(fr + i·fi)(Cw + iSw)] / (HW) = (P·Cw − Q·Sw) / (HW)
    const p = tf.sub(left(fr, ch), left(fi, sh)) as tf.Tensor3D
    const q = tf.add(left(fi, ch), left(fr, sh)) as tf.Tensor3D
    const out = tf.div(tf.sub(right(p, cw), right(q, sw)), h * w)
    return tf.transpose(out.reshape([n, c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D
  })
}
