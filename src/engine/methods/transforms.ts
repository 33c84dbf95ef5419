/**
 * Transforms (lucid/optvis/transform.py): stochastic image -> image maps the visualization must survive,
 * applied to the [0, 1] RGB image before each forward pass. Lucid's `standard_transforms`, in order:
 * pad 12 (constant 0.5), jitter 8 (random crop, size - 8), random scale {0.90, 0.92, ..., 1.10}
 * (bilinear resize, TF1 align_corners=False), random rotate {-10..10 degrees, plus five extra 0s}
 * (bilinear, zero fill), jitter 4. The result is then resized (bilinear) to the model's input size, so
 * that fixed-size models and neuron positions work (lucid feeds the varying size; lucent upsamples to 224).
 *
 * Every random choice comes from the seeded MT19937 `Rng` (`drawTransforms`), so the same seed gives the
 * same sequence of offsets, scales and angles. Every resampling is a product with a constant bilinear
 * interpolation matrix (tf.matMul), so it is differentiable on every backend (tfjs has no gradient for
 * tf.image.transform, and wasm has no UnsortedSegmentSum for a gather-based sampler). Rotation is done as
 * three shears (Paeth 1986: x-shear tan(-a/2), y-shear sin(a), x-shear tan(-a/2)), each a per-row 1-D
 * bilinear resampling, i.e. one batched matMul.
 * Shapes: `resolveTransforms(choice) => TransformSpec | null`; `drawTransforms(spec, rng) => TransformDraw`;
 *         `applyTransforms(image [N,H,W,3], spec, draw, [outH, outW]) => tf.Tensor4D` (call inside tf.tidy).
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'
import type { Rng } from '../rng.ts'
import type { TransformSpec, TransformsChoice } from '../../shared/method-params.ts'

/** Value lucid pads with: mid-grey in [0, 1]. */
export const PAD_VALUE = 0.5
const STANDARD_PAD = 12
const STANDARD_JITTER = 8
const STANDARD_JITTER2 = 4
/** lucid: `[1 + (i - 5) / 50. for i in range(11)]`. */
const SCALE_STEPS = 11
const SCALE_CENTRE_STEP = 5
const SCALE_STEP_DIVISOR = 50
/** lucid: `list(range(-10, 11)) + 5 * [0]`. */
const MAX_ANGLE_DEG = 10
const EXTRA_ZERO_ANGLES = 5

/** lucid's standard_transforms as data. */
export function standardTransforms(): TransformSpec {
  const scales = Array.from({ length: SCALE_STEPS }, (_, i) => 1 + (i - SCALE_CENTRE_STEP) / SCALE_STEP_DIVISOR)
  const angles = [...Array.from({ length: 2 * MAX_ANGLE_DEG + 1 }, (_, i) => i - MAX_ANGLE_DEG), ...Array(EXTRA_ZERO_ANGLES).fill(0)]
  return { pad: STANDARD_PAD, jitter: STANDARD_JITTER, scales, angles, jitter2: STANDARD_JITTER2 }
}

/** The transform list a choice names (null = no transforms); throws BAD_PARAM for a malformed explicit list. */
export function resolveTransforms(choice: TransformsChoice): TransformSpec | null {
  if (choice === 'none') return null
  if (choice === 'standard') return standardTransforms()
  check(typeof choice === 'object' && choice !== null, () => `transforms must be 'standard', 'none' or {pad, jitter, scales, angles, jitter2}; got ${JSON.stringify(choice)}`)
  const t = choice
  for (const k of ['pad', 'jitter', 'jitter2'] as const) {
    check(Number.isInteger(t[k]) && t[k] >= 0, () => `transforms.${k} must be a non-negative integer (pixels); got ${JSON.stringify(t[k])}`)
  }
  check(Array.isArray(t.scales) && t.scales.length > 0 && t.scales.every((s) => Number.isFinite(s) && s > 0),
    () => `transforms.scales must be a non-empty list of positive numbers; got ${JSON.stringify(t.scales)}`)
  check(Array.isArray(t.angles) && t.angles.length > 0 && t.angles.every((a) => Number.isFinite(a)),
    () => `transforms.angles must be a non-empty list of degrees; got ${JSON.stringify(t.angles)}`)
  return { pad: t.pad, jitter: t.jitter, scales: [...t.scales], angles: [...t.angles], jitter2: t.jitter2 }
}

/** One step's random choices. */
export interface TransformDraw {
  /** Offset (y, x) of the first crop, each in 0..jitter. */
  jitter: [number, number]
  scale: number
  angleDeg: number
  /** Offset (y, x) of the second crop, each in 0..jitter2. */
  jitter2: [number, number]
}

/** Draw one step's choices, in a fixed order: jitter y, x; scale; angle; jitter2 y, x. */
export function drawTransforms(spec: TransformSpec, rng: Rng): TransformDraw {
  const offset = (d: number): [number, number] => [rng.int(0, d + 1), rng.int(0, d + 1)]
  const jitter = offset(spec.jitter)
  const scale = spec.scales[rng.int(0, spec.scales.length)]
  const angleDeg = spec.angles[rng.int(0, spec.angles.length)]
  const jitter2 = offset(spec.jitter2)
  return { jitter, scale, angleDeg, jitter2 }
}

/** Add bilinear weights for sampling source position `s` (zero outside [0, n-1]) to `row`. */
function addLinear(row: Float32Array, offset: number, s: number, n: number): void {
  const i0 = Math.floor(s)
  const f = s - i0
  if (i0 >= 0 && i0 < n) row[offset + i0] += 1 - f
  if (i0 + 1 >= 0 && i0 + 1 < n && f > 0) row[offset + i0 + 1] += f
}

/** [outLen, inLen] matrix of a 1-D resize, TF1 resize_bilinear with align_corners=False: src = j * in / out, clamped. */
function resizeMatrix(outLen: number, inLen: number): Float32Array {
  const m = new Float32Array(outLen * inLen)
  for (let j = 0; j < outLen; j++) addLinear(m, j * inLen, Math.min(j * (inLen / outLen), inLen - 1), inLen)
  return m
}

/** Resample along width with one shared matrix [wOut, w]. */
function resampleWidthShared(img: tf.Tensor4D, m: Float32Array, wOut: number): tf.Tensor4D {
  const [n, h, w, c] = img.shape
  const mt = tf.tensor2d(m, [wOut, w]).transpose()
  const rows = img.transpose([0, 1, 3, 2]).reshape([n * h * c, w])
  return tf.matMul(rows, mt).reshape([n, h, c, wOut]).transpose([0, 1, 3, 2]) as tf.Tensor4D
}

/** Resample along width with one matrix per row, m = [h, w, w] (same width in and out). */
function resampleWidthPerRow(img: tf.Tensor4D, m: Float32Array): tf.Tensor4D {
  const [n, h, w, c] = img.shape
  const mats = tf.tensor3d(m, [h, w, w])
  const cols = img.transpose([1, 2, 0, 3]).reshape([h, w, n * c])
  return tf.matMul(mats, cols).reshape([h, w, n, c]).transpose([2, 0, 1, 3]) as tf.Tensor4D
}

const swapHW = (t: tf.Tensor4D): tf.Tensor4D => t.transpose([0, 2, 1, 3])

/** Bilinear resize to [outH, outW] (separable; TF1 align_corners=False). */
export function resizeBilinearMatmul(img: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
  const [, h, w] = img.shape
  let t = img
  if (w !== outW) t = resampleWidthShared(t, resizeMatrix(outW, w), outW)
  if (h !== outH) t = swapHW(resampleWidthShared(swapHW(t), resizeMatrix(outH, h), outH))
  return t
}

/** x-shear about the centre: out[y, x] = in[y, x - k * (y - cy)], bilinear, zero outside. */
function shearX(img: tf.Tensor4D, k: number): tf.Tensor4D {
  const [, h, w] = img.shape
  const cy = (h - 1) / 2
  const m = new Float32Array(h * w * w)
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) addLinear(m, (y * w + x) * w, x - k * (y - cy), w)
  }
  return resampleWidthPerRow(img, m)
}

/**
 * Rotate the content by `angleDeg` counter-clockwise on screen (as tf.contrib.image.rotate), about the
 * centre, bilinear via three shears, zero fill; 0 is the identity.
 */
export function rotate(img: tf.Tensor4D, angleDeg: number): tf.Tensor4D {
  if (angleDeg === 0) return img
  // Shears in image coordinates (y down): a positive angle here turns clockwise on screen, hence the sign.
  const a = (-angleDeg * Math.PI) / 180
  const t = -Math.tan(a / 2)
  const s = Math.sin(a)
  const x1 = shearX(img, t)
  const y1 = swapHW(shearX(swapHW(x1), s))
  return shearX(y1, t)
}

function crop(img: tf.Tensor4D, d: number, [oy, ox]: [number, number]): tf.Tensor4D {
  if (d === 0) return img
  const [n, h, w, c] = img.shape
  check(h > d && w > d, () => `jitter ${d} is too large for a ${h}x${w} image`)
  return img.slice([0, oy, ox, 0], [n, h - d, w - d, c])
}

/** Apply one step's transforms, then resize to `outSize`. Differentiable; call inside tf.tidy. */
export function applyTransforms(img: tf.Tensor4D, spec: TransformSpec, draw: TransformDraw, outSize: [number, number]): tf.Tensor4D {
  let t = img
  if (spec.pad > 0) t = tf.pad(t, [[0, 0], [spec.pad, spec.pad], [spec.pad, spec.pad], [0, 0]], PAD_VALUE)
  t = crop(t, spec.jitter, draw.jitter)
  if (draw.scale !== 1) {
    const [, h, w] = t.shape
    t = resizeBilinearMatmul(t, Math.max(1, Math.floor(draw.scale * h)), Math.max(1, Math.floor(draw.scale * w)))
  }
  t = rotate(t, draw.angleDeg)
  t = crop(t, spec.jitter2, draw.jitter2)
  return resizeBilinearMatmul(t, outSize[0], outSize[1])
}
