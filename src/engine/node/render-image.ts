/**
 * The images of a result as DVT renders them (image_misc.py norm01 / norm01c, OpenCV's rounding), in
 * RGB order with DVT's channel_swap_to_rgb: best_X (x centred, the mean mid-grey), best_Xpm (x + mean,
 * stretched), the transparency map's grey image, and PNG encoding (sharp).
 * Shape: `renderX(x, spec)` / `renderXpm(x, spec)` / `renderAlpha(a)` => RGB bytes (HWC);
 *   `norm01c(v)` / `norm01(v)` => bytes; `await encodePng(rgb, spec)` => PNG bytes.
 */
import sharp from 'sharp'
import { DeepVisError } from '../../shared/errors.ts'
import { channelSwapToRgb, meanIsImage, type InputSpec } from '../model/input-spec.ts'

/** The alpha PNG maps this percentile of the accumulated map to white (a few hot pixels would otherwise leave the rest black). */
export const ALPHA_WHITE_PERCENTILE = 99
/** Denominator guard of DVT's norm01 / norm01c (image_misc.py). */
const NORM_EPS = 1e-10
const UINT8_MAX = 255

/** Round half to even, as OpenCV's saturate_cast (cvRound) does when DVT writes `255 * img`. */
function roundHalfEven(v: number): number {
  const r = Math.round(v)
  return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r
}

function toUint8(v: number): number {
  if (!Number.isFinite(v)) return 0
  return Math.min(UINT8_MAX, Math.max(0, roundHalfEven(v * UINT8_MAX)))
}

function finiteRange(v: Float32Array): { min: number; max: number } {
  let min = Infinity
  let max = -Infinity
  for (const x of v) {
    if (!Number.isFinite(x)) continue
    if (x < min) min = x
    if (x > max) max = x
  }
  return min <= max ? { min, max } : { min: 0, max: 0 }
}

/**
 * DVT's `norm01c(v, 0)` then ×255: v' = v / (max(2·max v, −2·min v) + 1e-10) + 0.5, so 0 (the mean) is
 * mid-grey (128) and the largest |v| reaches 0 or 255. Non-finite values become 0.
 */
export function norm01c(v: Float32Array): Uint8Array {
  const { min, max } = finiteRange(v)
  const scale = Math.max(2 * max, -2 * min) + NORM_EPS
  const out = new Uint8Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = toUint8(v[i] / scale + 0.5)
  return out
}

/** DVT's `norm01` then ×255: (v − min) / (max − min + 1e-10), a stretch (not a clip) to 0..255. */
export function norm01(v: Float32Array): Uint8Array {
  const { min, max } = finiteRange(v)
  const span = max - min + NORM_EPS
  const out = new Uint8Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = toUint8((v[i] - min) / span)
  return out
}

/** HWC model-order x (optionally + mean) → HWC RGB floats, with DVT's channel_swap_to_rgb. */
function toRgb(x: Float32Array, spec: InputSpec, addMean: boolean): Float32Array {
  const { height, width, channels } = spec
  if (channels !== 3) throw new DeepVisError('INTERNAL', `images need 3 channels; the input spec has ${channels}`)
  const pixels = height * width
  if (x.length !== pixels * channels) {
    throw new DeepVisError('INTERNAL', `image has ${x.length} values; the input spec ${height}x${width}x${channels} needs ${pixels * channels}`)
  }
  const swap = channelSwapToRgb(spec.channelOrder)
  const fullMean = meanIsImage(spec)
  const out = new Float32Array(pixels * 3)
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < 3; k++) {
      const src = p * channels + swap[k]
      out[p * 3 + k] = x[src] + (addMean ? spec.mean[fullMean ? src : swap[k]] : 0)
    }
  }
  return out
}

/** RGB bytes (HWC) of `best_X`: x in RGB order, centred-normalized by norm01c (the mean is mid-grey). */
export function renderX(x: Float32Array, spec: InputSpec): Uint8Array {
  return norm01c(toRgb(x, spec, false))
}

/** RGB bytes (HWC) of `best_Xpm`: x + mean (per channel or full image) in RGB order, stretched by norm01. */
export function renderXpm(x: Float32Array, spec: InputSpec): Uint8Array {
  return norm01(toRgb(x, spec, true))
}

/**
 * Grey RGB bytes of a transparency map (H*W): value / (its ALPHA_WHITE_PERCENTILE-th percentile, nearest rank),
 * clipped to 1, times 255; an all-zero map is black.
 */
export function renderAlpha(a: Float32Array): Uint8Array {
  const sorted = Float32Array.from(a).sort()
  const white = sorted[Math.min(sorted.length - 1, Math.floor((ALPHA_WHITE_PERCENTILE / 100) * sorted.length))]
  const out = new Uint8Array(a.length * 3)
  for (let i = 0; i < a.length; i++) {
    const v = white > 0 ? Math.round(Math.min(1, Math.max(0, a[i] / white)) * UINT8_MAX) : 0
    out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v
  }
  return out
}

/** PNG bytes of RGB bytes (HWC) of the input's size. */
export async function encodePng(rgb: Uint8Array, spec: InputSpec): Promise<Uint8Array> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), {
    raw: { width: spec.width, height: spec.height, channels: 3 },
  }).png().toBuffer()
}
