/**
 * Image parameterizations (lucid/optvis/param: spatial.py, color.py): trainable variables plus a
 * function that renders them as an RGB image in [0, 1] (Lucent's `(params, image_f)` shape).
 *
 * - `fft`: the image is the inverse real 2-D DFT of a spectrum whose entries are scaled by
 *   1 / max(f, 1/max(w, h))^decay * sqrt(w*h) (f in cycles per pixel), then divided by FFT_OUTPUT_DIVISOR.
 *   The inverse DFT is an exact real matrix product (cos/sin matrices), differentiable on every backend
 *   and fast at these sizes; it equals numpy/TF irfft2d with the half spectrum of length w/2+1.
 * - `pixel`: the variables are the (pre-sigmoid) pixels themselves.
 * Then, optionally, lucid's colour decorrelation (multiply by the ImageNet colour-correlation square root,
 * normalized by its largest column norm) and a sigmoid to [0, 1].
 * Shape: `imageParam({kind, batch, height, width, sd, decay, decorrelate}, rng) => ImageParam`
 *        `param.render() => tf.Tensor4D [N, H, W, 3] RGB in [0, 1]` (call inside tf.tidy); `param.dispose()`
 */
import * as tf from '@tensorflow/tfjs'
import type { Rng } from '../rng.ts'
import type { ImageParamKind } from '../../shared/method-params.ts'

/** Lucid divides the FFT image by 4 ("TODO: is that a magic constant?"): it keeps the initial image near sigmoid's linear range. */
export const FFT_OUTPUT_DIVISOR = 4
/** ImageNet colour-correlation square root (lucid color.py `color_correlation_svd_sqrt`), rows = RGB. */
export const COLOR_CORRELATION_SVD_SQRT: readonly (readonly number[])[] = [
  [0.26, 0.09, 0.02],
  [0.27, 0.00, -0.05],
  [0.27, -0.09, 0.03],
]
const RGB = 3

export interface ImageParamOptions {
  kind: ImageParamKind
  batch: number
  height: number
  width: number
  /** Std of the initial parameters (lucid: 0.01). */
  sd: number
  /** 1/f^decay scaling of the spectrum (fft only; lucid: 1). */
  decay: number
  /** Decorrelated colour space (lucid: true). */
  decorrelate: boolean
  /** Apply the sigmoid (default true); false returns the pre-sigmoid image (for tests of the linear part). */
  sigmoid?: boolean
}

export interface ImageParam {
  /** The trainable variables (one). */
  readonly variables: tf.Variable[]
  /** The RGB image in [0, 1], [N, H, W, 3]. Call inside tf.tidy. */
  render(): tf.Tensor4D
  dispose(): void
}

/** Radial frequencies of the half spectrum, [h, w/2+1], cycles per pixel (lucid rfft2d_freqs, numpy fftfreq). */
export function rfft2dFreqs(h: number, w: number): Float32Array {
  const wf = Math.floor(w / 2) + 1
  const fftfreq = (n: number, i: number): number => (i < Math.ceil(n / 2) ? i / n : (i - n) / n)
  const out = new Float32Array(h * wf)
  for (let y = 0; y < h; y++) {
    const fy = fftfreq(h, y)
    for (let x = 0; x < wf; x++) {
      const fx = fftfreq(w, x)
      out[y * wf + x] = Math.sqrt(fx * fx + fy * fy)
    }
  }
  return out
}

/** The colour decorrelation matrix, normalized by its largest column norm (lucid `color_correlation_normalized`). */
export function colorCorrelationNormalized(): number[][] {
  const m = COLOR_CORRELATION_SVD_SQRT
  let maxNorm = 0
  for (let c = 0; c < RGB; c++) maxNorm = Math.max(maxNorm, Math.hypot(m[0][c], m[1][c], m[2][c]))
  return m.map((row) => row.map((v) => v / maxNorm))
}

/**
 * Real inverse 2-D DFT matrices: image[y, x] = sum_{u,v} (Cy Re - Sy Im)[y, v] * wv * cos(2 pi v x / W) / (H W)
 * - (Sy Re + Cy Im)[y, v] * wv * sin(2 pi v x / W) / (H W), with wv = 1 for v = 0 and the Nyquist bin, else 2.
 */
export function idftMatrices(h: number, w: number): { cy: tf.Tensor2D; sy: tf.Tensor2D; cx: tf.Tensor2D; sx: tf.Tensor2D } {
  const wf = Math.floor(w / 2) + 1
  const cy = new Float32Array(h * h)
  const sy = new Float32Array(h * h)
  for (let y = 0; y < h; y++) {
    for (let u = 0; u < h; u++) {
      const a = (2 * Math.PI * u * y) / h
      cy[y * h + u] = Math.cos(a)
      sy[y * h + u] = Math.sin(a)
    }
  }
  const cx = new Float32Array(wf * w)
  const sx = new Float32Array(wf * w)
  for (let v = 0; v < wf; v++) {
    const weight = v === 0 || (w % 2 === 0 && v === w / 2) ? 1 : 2
    for (let x = 0; x < w; x++) {
      const a = (2 * Math.PI * v * x) / w
      cx[v * w + x] = (weight * Math.cos(a)) / (h * w)
      sx[v * w + x] = (weight * Math.sin(a)) / (h * w)
    }
  }
  return {
    cy: tf.tensor2d(cy, [h, h]), sy: tf.tensor2d(sy, [h, h]),
    cx: tf.tensor2d(cx, [wf, w]), sx: tf.tensor2d(sx, [wf, w]),
  }
}

/** Build a parameterization; the initial values are N(0, sd^2) draws from `rng` (numpy's order: re then im, channel-major). */
export function imageParam(opts: ImageParamOptions, rng: Rng): ImageParam {
  const { batch: n, height: h, width: w, sd } = opts
  const sigmoid = opts.sigmoid ?? true
  const keep: tf.Tensor[] = []
  const colour = opts.decorrelate ? tf.tidy(() => tf.tensor2d(colorCorrelationNormalized()).transpose() as tf.Tensor2D) : null
  if (colour) keep.push(colour)
  let variable: tf.Variable
  let linear: () => tf.Tensor4D
  if (opts.kind === 'fft') {
    const wf = Math.floor(w / 2) + 1
    // [2 (re, im), N, C, H, Wf]
    const init = rng.fill(2 * n * RGB * h * wf, (r) => r.normal(0, sd))
    variable = tf.tidy(() => tf.variable(tf.tensor(init, [2, n, RGB, h, wf])))
    const freqs = rfft2dFreqs(h, w)
    const floor = 1 / Math.max(w, h)
    const scale = (tf.tensor(Float32Array.from(freqs, (f) => Math.sqrt(w * h) / Math.max(f, floor) ** opts.decay), [1, 1, h, wf]))
    const m = idftMatrices(h, w)
    keep.push(scale, m.cy, m.sy, m.cx, m.sx)
    linear = () => {
      const re = tf.mul(variable.slice([0, 0, 0, 0, 0], [1, n, RGB, h, wf]).reshape([n * RGB, h, wf]), scale.reshape([1, h, wf]))
      const im = tf.mul(variable.slice([1, 0, 0, 0, 0], [1, n, RGB, h, wf]).reshape([n * RGB, h, wf]), scale.reshape([1, h, wf]))
      // Along y (full complex inverse DFT): Z = (Cy + i Sy)(Re + i Im)
      const cyB = m.cy.expandDims(0).tile([n * RGB, 1, 1]) as tf.Tensor3D
      const syB = m.sy.expandDims(0).tile([n * RGB, 1, 1]) as tf.Tensor3D
      const zr = tf.sub(tf.matMul(cyB, re as tf.Tensor3D), tf.matMul(syB, im as tf.Tensor3D))
      const zi = tf.add(tf.matMul(syB, re as tf.Tensor3D), tf.matMul(cyB, im as tf.Tensor3D))
      // Along x (real inverse of the half spectrum)
      const img = tf.sub(
        tf.matMul(zr.reshape([n * RGB * h, wf]), m.cx),
        tf.matMul(zi.reshape([n * RGB * h, wf]), m.sx),
      ) // [N*C*H, W]
      return tf.div(img.reshape([n, RGB, h, w]).transpose([0, 2, 3, 1]), FFT_OUTPUT_DIVISOR) as tf.Tensor4D
    }
  } else {
    const init = rng.fill(n * h * w * RGB, (r) => r.normal(0, sd))
    variable = tf.tidy(() => tf.variable(tf.tensor(init, [n, h, w, RGB])))
    linear = () => variable as unknown as tf.Tensor4D
  }
  return {
    variables: [variable],
    render(): tf.Tensor4D {
      let t = linear()
      if (colour) t = tf.matMul(t.reshape([-1, RGB]), colour).reshape([n, h, w, RGB]) as tf.Tensor4D
      return sigmoid ? tf.sigmoid(t) : t
    },
    dispose(): void {
      variable.dispose()
      tf.dispose(keep)
    },
  }
}
