/**
 * MACO (Fel et al., NeurIPS 2023, "Unlocking Feature Visualization for Deeper Networks with MAgnitude
 * Constrained Optimization"; facts from serre-lab/Horama maco_fv.py and deel-ai/xplique maco.py).
 *
 * Parameterization (per image, a canvas of ch x cw pixels): a FIXED magnitude M [3, ch, cw/2+1] (the average
 * spectrum of natural images in the decorrelated colour space, resources/maco, resampled by frequency) and a
 * trained phase φ of the same shape. Render:
 *   φs = (φ - mean φ) / (std φ + 1e-5)                         (as both sources)
 *   φe = φs, except on the v = 0 and Nyquist columns where φe[u] = (φs[u] - φs[-u]) / 2: the half spectrum
 *        is then Hermitian, so the real inverse DFT keeps |X| = M on EVERY bin (the sources' irfft silently
 *        drops the non-Hermitian part of those columns, so their magnitude there is not exactly M);
 *   x = irfft2(M e^{i φe}); x = (x - mean x) / (std x + 1e-5)   -> the pre-colour image: spectrum exactly M / std
 *   rgb = sigmoid(x @ C^T) with C lucid's normalized colour-correlation square root -> [0, 1].
 * M's DC bin is 0 (the standardization removes the mean anyway).
 * Steps: K seeded square crops per image (centres N(0.5, centre_sd²) per axis, side N(box_t, box_sd²)
 * clipped to [0.05, 1] of the canvas, box_t linear from box_start to box_end over the run, as xplique),
 * bilinear crop-and-resize to the model's input (TF crop_and_resize: zero outside), plus Gaussian noise
 * N(0, noise²) and uniform noise U(-noise/2, noise/2) (tf.random with a per-step seed drawn from the MT19937);
 * loss = -mean over crops of the objective; NAdam on φ (nadam.ts).
 * Shapes: `resampleMagnitude(spectrum, h, w) => Float32Array [3, h, w/2+1]`; `macoParam(opts, rng) => MacoParam`;
 *   `drawCrops(rng, k, boxT, sd) => CropBox[]`; `cropAndResize(img [1,H,W,3], boxes, [oh, ow]) => [K, oh, ow, 3]`.
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'
import type { Rng } from '../rng.ts'
import { colorCorrelationNormalized, idftMatrices } from './image-param.ts'

/** The stored natural-image spectrum: float32 [3, Hs, Ws/2 + 1] (Ws = Hs, even), decorrelated colour space. */
export interface Spectrum {
  data: Float32Array
  shape: [number, number, number]
}

const RGB = 3
/** Both sources add this to the standard deviation before dividing (xplique: 1e-5; Horama: 1e-4). */
export const STANDARDIZE_EPS = 1e-5
/** xplique clips the crop side to [0.05, 1] of the canvas. */
export const MIN_BOX = 0.05
export const MAX_BOX = 1
/** Largest seed handed to tf.random (int32). */
const SEED_RANGE = 0x7fffffff

/** numpy fftfreq(n)[i] in cycles per pixel. */
function fftfreq(n: number, i: number): number {
  return i < Math.ceil(n / 2) ? i / n : (i - n) / n
}

/** Check a spectrum's shape and values; throws BAD_PARAM. */
export function checkSpectrum(s: Spectrum): void {
  const [c, hs, wf] = s.shape
  check(c === RGB && hs >= 4 && wf === hs / 2 + 1, () => `the natural-image spectrum must have shape [3, S, S/2 + 1] (S even); got [${s.shape.join(', ')}]`)
  check(s.data.length === c * hs * wf && s.data.every((v) => Number.isFinite(v) && v >= 0), () => 'the natural-image spectrum must hold finite non-negative magnitudes')
}

/**
 * The magnitude for an h x w image, sampled at each bin's frequency (cycles per pixel) from the stored
 * spectrum by bilinear interpolation (periodic along y, clamped along x); the source DC bin, which holds the
 * mean and no texture, is replaced by the mean of its three neighbours before sampling; the result's DC is 0,
 * and its v = 0 and Nyquist columns are made symmetric in u (as a real image's are).
 * (Horama and xplique resize the array itself, bilinearly, which mixes bins of different frequency near the
 * wrap-around; sampling by frequency keeps the radial profile.)
 */
export function resampleMagnitude(s: Spectrum, h: number, w: number): Float32Array {
  checkSpectrum(s)
  const [, hs, wfs] = s.shape
  const ws = 2 * (wfs - 1)
  const src = Float32Array.from(s.data)
  for (let c = 0; c < RGB; c++) {
    const at = (y: number, x: number): number => src[(c * hs + y) * wfs + x]
    src[c * hs * wfs] = (at(1, 0) + at(hs - 1, 0) + at(0, 1)) / 3
  }
  const wf = Math.floor(w / 2) + 1
  const out = new Float32Array(RGB * h * wf)
  for (let u = 0; u < h; u++) {
    let sy = fftfreq(h, u) * hs
    if (sy < 0) sy += hs
    const y0 = Math.floor(sy)
    const fy = sy - y0
    const y1 = (y0 + 1) % hs
    for (let v = 0; v < wf; v++) {
      if (u === 0 && v === 0) continue
      const sx = Math.min((v / w) * ws, wfs - 1)
      const x0 = Math.min(Math.floor(sx), wfs - 1)
      const x1 = Math.min(x0 + 1, wfs - 1)
      const fx = sx - x0
      for (let c = 0; c < RGB; c++) {
        const at = (y: number, x: number): number => src[(c * hs + (y % hs)) * wfs + x]
        out[(c * h + u) * wf + v] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) + fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1))
      }
    }
  }
  // A real image's half spectrum has |X[-u, v]| = |X[u, v]| on the v = 0 and Nyquist columns: make M so.
  const cols = w % 2 === 0 ? [0, wf - 1] : [0]
  for (let c = 0; c < RGB; c++) {
    for (const v of cols) {
      for (let u = 1; u < h - u; u++) {
        const a = (c * h + u) * wf + v
        const b = (c * h + h - u) * wf + v
        out[a] = out[b] = (out[a] + out[b]) / 2
      }
    }
  }
  return out
}

export interface MacoParamOptions {
  batch: number
  height: number
  width: number
  /** The natural-image spectrum (resampled to height x width here). */
  spectrum: Spectrum
}

export interface MacoParam {
  /** One variable: the phase [N, 3, H, W/2+1]. */
  readonly variables: tf.Variable[]
  /** The fixed magnitude [3, H, W/2+1] (host copy). */
  readonly magnitude: Float32Array
  /** The standardized image before the colour transform, [N, H, W, 3]. Call inside tf.tidy. */
  linear(): tf.Tensor4D
  /** The RGB image in [0, 1], [N, H, W, 3]. Call inside tf.tidy. */
  render(): tf.Tensor4D
  dispose(): void
}

/** [h, h] matrix R with (R φ)[u] = φ[(h - u) mod h]. */
function flipRows(h: number): Float32Array {
  const r = new Float32Array(h * h)
  for (let u = 0; u < h; u++) r[u * h + ((h - u) % h)] = 1
  return r
}

/** Mean and population std over every axis but the first, keeping dims. */
function standardize(x: tf.Tensor): tf.Tensor {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1)
  const { mean, variance } = tf.moments(x, axes, true)
  return tf.div(tf.sub(x, mean), tf.add(tf.sqrt(variance), STANDARDIZE_EPS))
}

/** The MACO parameterization; the phase starts as N(0, 1) draws from `rng` (xplique / Horama: std 1). */
export function macoParam(opts: MacoParamOptions, rng: Rng): MacoParam {
  const { batch: n, height: h, width: w } = opts
  check(h >= 2 && w >= 2, () => `the MACO canvas must be at least 2x2; got ${h}x${w}`)
  const wf = Math.floor(w / 2) + 1
  const magnitude = resampleMagnitude(opts.spectrum, h, w)
  const init = rng.fill(n * RGB * h * wf, (r) => r.normal(0, 1))
  const keep: tf.Tensor[] = []
  const phase = tf.tidy(() => tf.variable(tf.tensor4d(init, [n, RGB, h, wf])))
  const mag = tf.tensor3d(magnitude, [RGB, h, wf])
  const flip = tf.tensor2d(flipRows(h), [h, h])
  const colMask = new Float32Array(wf)
  colMask[0] = 1
  if (w % 2 === 0) colMask[wf - 1] = 1
  const mask = tf.tensor1d(colMask)
  const m = idftMatrices(h, w)
  const colour = tf.tidy(() => tf.tensor2d(colorCorrelationNormalized()).transpose() as tf.Tensor2D)
  keep.push(mag, flip, mask, m.cy, m.sy, m.cx, m.sx, colour)
  const linear = (): tf.Tensor4D => {
    const ps = standardize(phase).reshape([n * RGB, h, wf])
    // (R φ) along y for every column: [B, h, wf] -> [B*wf, h] x R^T.
    const flipped = tf.matMul(ps.transpose([0, 2, 1]).reshape([-1, h]), flip, false, true).reshape([n * RGB, wf, h]).transpose([0, 2, 1])
    const anti = tf.div(tf.sub(ps, flipped), 2)
    const pe = tf.add(tf.mul(ps, tf.sub(1, mask)), tf.mul(anti, mask))
    const mb = tf.tile(mag, [n, 1, 1])
    const re = tf.mul(tf.cos(pe), mb) as tf.Tensor3D
    const im = tf.mul(tf.sin(pe), mb) as tf.Tensor3D
    const cyB = m.cy.expandDims(0).tile([n * RGB, 1, 1]) as tf.Tensor3D
    const syB = m.sy.expandDims(0).tile([n * RGB, 1, 1]) as tf.Tensor3D
    const zr = tf.sub(tf.matMul(cyB, re), tf.matMul(syB, im))
    const zi = tf.add(tf.matMul(syB, re), tf.matMul(cyB, im))
    const img = tf.sub(tf.matMul(zr.reshape([-1, wf]), m.cx), tf.matMul(zi.reshape([-1, wf]), m.sx))
    return standardize(img.reshape([n, RGB, h, w]).transpose([0, 2, 3, 1])) as tf.Tensor4D
  }
  return {
    variables: [phase],
    magnitude,
    linear,
    render: () => tf.sigmoid(tf.matMul(linear().reshape([-1, RGB]), colour).reshape([n, h, w, RGB])) as tf.Tensor4D,
    dispose: () => { phase.dispose(); tf.dispose(keep) },
  }
}

/** One crop: centre (cy, cx) and side, as fractions of the canvas. */
export interface CropBox {
  cy: number
  cx: number
  size: number
}

/** K crop boxes, drawn in a fixed order per crop (cy, cx, size) from `rng`. */
export function drawCrops(rng: Rng, k: number, box: number, boxSd: number, centreSd: number): CropBox[] {
  return Array.from({ length: k }, () => {
    const cy = rng.normal(0.5, centreSd)
    const cx = rng.normal(0.5, centreSd)
    const size = Math.min(MAX_BOX, Math.max(MIN_BOX, rng.normal(box, boxSd)))
    return { cy, cx, size }
  })
}

/** Side of the crop boxes at iteration ii of maxIter: linear from start to end (numpy linspace, as xplique). */
export function boxSizeAt(start: number, end: number, ii: number, maxIter: number): number {
  return maxIter <= 1 ? start : start + ((end - start) * ii) / (maxIter - 1)
}

/** A seed for tf.random drawn from the MT19937 (recorded implicitly by the run's seed). */
export function drawNoiseSeed(rng: Rng): number {
  return rng.int(0, SEED_RANGE)
}

/**
 * [K*out, in] rows of TF crop_and_resize along one axis: sample lo*(in-1) + i*(hi-lo)*(in-1)/(out-1),
 * bilinear, zero outside [0, in-1] (extrapolation_value 0).
 */
function cropRows(lohi: [number, number][], out: number, inLen: number): Float32Array {
  const m = new Float32Array(lohi.length * out * inLen)
  lohi.forEach(([lo, hi], k) => {
    for (let i = 0; i < out; i++) {
      const s = out > 1 ? lo * (inLen - 1) + (i * (hi - lo) * (inLen - 1)) / (out - 1) : 0.5 * (lo + hi) * (inLen - 1)
      if (s < 0 || s > inLen - 1) continue
      const i0 = Math.floor(s)
      const f = s - i0
      const row = (k * out + i) * inLen
      m[row + i0] += 1 - f
      if (f > 0 && i0 + 1 < inLen) m[row + i0 + 1] += f
    }
  })
  return m
}

/** Bilinear crops of one image [1, H, W, C] to [K, oh, ow, C] (differentiable matMuls). Call inside tf.tidy. */
export function cropAndResize(img: tf.Tensor4D, boxes: CropBox[], [oh, ow]: [number, number]): tf.Tensor4D {
  const [one, h, w, c] = img.shape
  check(one === 1, () => `cropAndResize takes one image; got ${one}`)
  const k = boxes.length
  const ry = tf.tensor2d(cropRows(boxes.map((b) => [b.cy - b.size / 2, b.cy + b.size / 2]), oh, h), [k * oh, h])
  const rx = tf.tensor3d(cropRows(boxes.map((b) => [b.cx - b.size / 2, b.cx + b.size / 2]), ow, w), [k, ow, w])
  const alongY = tf.matMul(ry, img.reshape([h, w * c])).reshape([k, oh, w, c]) // [K, oh, W, C]
  const rows = alongY.transpose([0, 3, 1, 2]).reshape([k, c * oh, w])
  return tf.matMul(rows, rx, false, true).reshape([k, c, oh, ow]).transpose([0, 2, 3, 1]) as tf.Tensor4D
}

/** Crops plus N(0, noise²) and U(-noise/2, noise/2) noise (tf.random seeded from `seed`). Call inside tf.tidy. */
export function addCropNoise(crops: tf.Tensor4D, noise: number, seed: number): tf.Tensor4D {
  if (noise === 0) return crops
  const g = tf.randomNormal(crops.shape, 0, noise, 'float32', seed)
  const u = tf.randomUniform(crops.shape, -noise / 2, noise / 2, 'float32', seed + 1)
  return tf.add(crops, tf.add(g, u)) as tf.Tensor4D
}

/**
 * [out, in] antialiased resize matrix (triangle filter widened by the scale when shrinking, as PIL's
 * bilinear with antialias); rows sum to 1. Used to show the canvas at the model's input size.
 */
export function resizeMatrixAA(out: number, inLen: number): Float32Array {
  const m = new Float32Array(out * inLen)
  const scale = inLen / out
  const support = Math.max(1, scale)
  for (let j = 0; j < out; j++) {
    const centre = (j + 0.5) * scale - 0.5
    let sum = 0
    for (let i = Math.max(0, Math.floor(centre - support)); i <= Math.min(inLen - 1, Math.ceil(centre + support)); i++) {
      const wgt = Math.max(0, 1 - Math.abs(i - centre) / support)
      m[j * inLen + i] = wgt
      sum += wgt
    }
    for (let i = 0; i < inLen; i++) m[j * inLen + i] /= sum
  }
  return m
}

/** Antialiased resize of [N, H, W, C] to [N, oh, ow, C]; identity when the size matches. Call inside tf.tidy. */
export function resizeAA(img: tf.Tensor4D, oh: number, ow: number): tf.Tensor4D {
  const [n, h, w, c] = img.shape
  if (h === oh && w === ow) return img
  const my = tf.tensor2d(resizeMatrixAA(oh, h), [oh, h])
  const mx = tf.tensor2d(resizeMatrixAA(ow, w), [ow, w])
  const ty = tf.matMul(my, img.transpose([1, 0, 2, 3]).reshape([h, n * w * c])).reshape([oh, n, w, c]).transpose([1, 0, 2, 3])
  const tx = tf.matMul(mx, ty.transpose([2, 0, 1, 3]).reshape([w, n * oh * c])).reshape([ow, n, oh, c]).transpose([1, 2, 0, 3])
  return tx as tf.Tensor4D
}
