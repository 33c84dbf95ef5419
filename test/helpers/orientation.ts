/**
 * Spectral orientation analysis of an image: which way do its bars run?
 *
 * A test oracle for activation maximization (the image synthesized for the default model's
 * `grating vertical` class must be dominated by vertical bars); no product code uses it, so it lives
 * under test/ (it was src/engine/analysis/orientation.ts).
 *
 * Orientation convention (shared with `stimuli.ts`): degrees in [0, 180), counter-clockwise from the
 * horizontal as seen on screen (x to the right, y UP), describing the BARS, not the wave vector:
 *   0   = horizontal bars (luminance varies along y),
 *   90  = vertical bars (luminance varies along x),
 *   45  = bars running bottom-left to top-right ("/"),
 *   135 = bars running top-left to bottom-right ("\").
 * A spectral component with frequency (fx, fy) in cycles per pixel, fy measured along rows (down),
 * has bars at ((atan2(-fy, fx) in degrees) + 90) mod 180.
 *
 * Pipeline: HxWxC row-major image -> grey (plain mean of the channels, so RGB and BGR agree) ->
 * subtract the mean -> optional separable Hann window (default on: it keeps image-border
 * discontinuities from leaking power onto the 0/90 axes) -> 2-D DFT (naive separable, O(HW(H+W)),
 * fine for the 64..256 px images this project analyses) -> power |F|^2 -> DC bin ignored.
 *
 * Shapes:
 * - `greyFromImage(image, h, w, channels = 3) -> Float64Array(h*w)`
 * - `powerSpectrum(grey, h, w, window = true) -> Float64Array(h*w)`, unshifted (index v*w + u)
 * - `dominantOrientationDeg(image, h, w, channels = 3, options?) -> number` in [0, 180), NaN if flat
 * - `orientedPowerFraction(image, h, w, orientationDeg, toleranceDeg = 15, channels = 3, options?)
 *    -> number` in [0, 1], NaN if flat
 */

/** Options shared by the orientation statistics. */
export interface SpectrumOptions {
  /** Apply a separable Hann window before the DFT (default true). */
  readonly window?: boolean
  /** Ignore components with radial frequency below this, in cycles per pixel (default 0: only DC is ignored). */
  readonly minCyclesPerPixel?: number
  /** Ignore components with radial frequency above this, in cycles per pixel (default: none ignored). */
  readonly maxCyclesPerPixel?: number
}

/** Default half-width of the orientation band used by {@link orientedPowerFraction}, degrees. */
export const DEFAULT_ORIENTATION_TOLERANCE_DEG = 15

const HALF_TURN_DEG = 180
const RAD_TO_DEG = 180 / Math.PI
/** Half-size (bins) of the neighbourhood around the spectral peak used to refine its angle. */
const PEAK_REFINE_RADIUS = 2

/**
 * Grey image as the plain mean of the channels.
 * @param image HxWxC row-major, any value range.
 * @returns Float64Array of length h*w.
 */
export function greyFromImage(image: Float32Array | Float64Array, height: number, width: number, channels = 3): Float64Array {
  const n = height * width
  if (image.length !== n * channels) {
    throw new RangeError(`image has ${image.length} values, expected ${height}x${width}x${channels} = ${n * channels}`)
  }
  const grey = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let c = 0; c < channels; c++) s += image[i * channels + c]
    grey[i] = s / channels
  }
  return grey
}

function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(n)
  const sin = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n)
    sin[k] = Math.sin((2 * Math.PI * k) / n)
  }
  return { cos, sin }
}

/**
 * 2-D power spectrum of a grey image after mean removal (and Hann window by default).
 * @param grey length h*w, row-major.
 * @returns Float64Array(h*w), unshifted: index v*w + u is frequency (u/w, v/h) cycles per pixel, with
 *   indices above half the size standing for negative frequencies. The DC bin is 0 after mean removal
 *   only without a window; callers ignore it anyway.
 */
export function powerSpectrum(grey: Float64Array, height: number, width: number, window = true): Float64Array {
  const n = height * width
  if (grey.length !== n) throw new RangeError(`grey image has ${grey.length} values, expected ${n}`)
  let mean = 0
  for (let i = 0; i < n; i++) mean += grey[i]
  mean /= n
  const g = new Float64Array(n)
  for (let r = 0; r < height; r++) {
    const wr = window ? 0.5 - 0.5 * Math.cos((2 * Math.PI * (r + 0.5)) / height) : 1
    for (let x = 0; x < width; x++) {
      const wx = window ? 0.5 - 0.5 * Math.cos((2 * Math.PI * (x + 0.5)) / width) : 1
      g[r * width + x] = (grey[r * width + x] - mean) * wr * wx
    }
  }
  // rows: X[r][u] = sum_x g[r][x] e^{-2 pi i u x / w}
  const tw = twiddles(width)
  const xre = new Float64Array(n)
  const xim = new Float64Array(n)
  for (let r = 0; r < height; r++) {
    const base = r * width
    for (let u = 0; u < width; u++) {
      let re = 0
      let im = 0
      for (let x = 0; x < width; x++) {
        const k = (u * x) % width
        const v = g[base + x]
        re += v * tw.cos[k]
        im -= v * tw.sin[k]
      }
      xre[base + u] = re
      xim[base + u] = im
    }
  }
  // columns: F[v][u] = sum_r X[r][u] e^{-2 pi i v r / h}
  const th = twiddles(height)
  const power = new Float64Array(n)
  for (let u = 0; u < width; u++) {
    for (let v = 0; v < height; v++) {
      let re = 0
      let im = 0
      for (let r = 0; r < height; r++) {
        const k = (v * r) % height
        const a = xre[r * width + u]
        const b = xim[r * width + u]
        const c = th.cos[k]
        const s = th.sin[k]
        // (a + ib)(c - is)
        re += a * c + b * s
        im += b * c - a * s
      }
      power[v * width + u] = re * re + im * im
    }
  }
  return power
}

/** Signed frequency (cycles per pixel) of DFT index k of an n-point transform. */
function signedFreq(k: number, n: number): number {
  return (k < n / 2 ? k : k - n) / n
}

/** Bar orientation (deg, [0, 180)) of the component with frequency (fx, fy), fy along rows (down). */
function barOrientationDeg(fx: number, fy: number): number {
  const waveDeg = Math.atan2(-fy, fx) * RAD_TO_DEG
  const bar = (waveDeg + HALF_TURN_DEG / 2) % HALF_TURN_DEG
  return bar < 0 ? bar + HALF_TURN_DEG : bar
}

/** Smallest distance between two orientations on the 180-degree circle. */
function orientationDistanceDeg(a: number, b: number): number {
  const d = Math.abs(a - b) % HALF_TURN_DEG
  return Math.min(d, HALF_TURN_DEG - d)
}

interface AnalysedSpectrum {
  readonly power: Float64Array
  /** 1 where the bin takes part in the statistics (not DC, inside the frequency band). */
  readonly usable: Uint8Array
  readonly orientation: Float64Array
}

function analyse(image: Float32Array | Float64Array, height: number, width: number, channels: number, options: SpectrumOptions): AnalysedSpectrum {
  const power = powerSpectrum(greyFromImage(image, height, width, channels), height, width, options.window ?? true)
  const minF = options.minCyclesPerPixel ?? 0
  const maxF = options.maxCyclesPerPixel ?? Number.POSITIVE_INFINITY
  const usable = new Uint8Array(height * width)
  const orientation = new Float64Array(height * width)
  for (let v = 0; v < height; v++) {
    const fy = signedFreq(v, height)
    for (let u = 0; u < width; u++) {
      const fx = signedFreq(u, width)
      const i = v * width + u
      const radial = Math.hypot(fx, fy)
      usable[i] = (u !== 0 || v !== 0) && radial >= minF && radial <= maxF ? 1 : 0
      orientation[i] = barOrientationDeg(fx, fy)
    }
  }
  return { power, usable, orientation }
}

/**
 * Orientation of the bars of the dominant spatial frequency of an image.
 *
 * Finds the strongest non-DC bin of the power spectrum, then refines its angle with the
 * power-weighted circular mean (angles doubled, as orientations are 180-periodic) over the
 * (2*2+1)^2-bin neighbourhood of the peak, so the result is not quantized to the DFT grid.
 *
 * @param image HxWxC row-major (e.g. RGB 0..255), Float32Array or Float64Array.
 * @param channels values per pixel (default 3); the channels are averaged to grey.
 * @returns degrees in [0, 180): 90 = vertical bars (luminance varies along x), 0 = horizontal bars,
 *   45 = "/" bars, 135 = "\" bars (y up, as seen on screen). NaN for an image with no usable power.
 */
export function dominantOrientationDeg(
  image: Float32Array | Float64Array,
  height: number,
  width: number,
  channels = 3,
  options: SpectrumOptions = {},
): number {
  const { power, usable, orientation } = analyse(image, height, width, channels, options)
  let best = -1
  let bestPower = 0
  for (let i = 0; i < power.length; i++) {
    if (usable[i] && power[i] > bestPower) {
      bestPower = power[i]
      best = i
    }
  }
  if (best < 0) return Number.NaN
  const pv = Math.floor(best / width)
  const pu = best % width
  let sx = 0
  let sy = 0
  for (let dv = -PEAK_REFINE_RADIUS; dv <= PEAK_REFINE_RADIUS; dv++) {
    for (let du = -PEAK_REFINE_RADIUS; du <= PEAK_REFINE_RADIUS; du++) {
      const v = (((pv + dv) % height) + height) % height
      const u = (((pu + du) % width) + width) % width
      const i = v * width + u
      if (!usable[i]) continue
      const a = (2 * orientation[i]) / RAD_TO_DEG
      sx += power[i] * Math.cos(a)
      sy += power[i] * Math.sin(a)
    }
  }
  const deg = (Math.atan2(sy, sx) * RAD_TO_DEG) / 2
  const wrapped = ((deg % HALF_TURN_DEG) + HALF_TURN_DEG) % HALF_TURN_DEG
  // guard the 180 -> 0 wrap of rounding at the top edge
  return wrapped >= HALF_TURN_DEG ? 0 : wrapped
}

/**
 * Fraction of the (non-DC) spectral power whose bar orientation lies within ±`toleranceDeg` of
 * `orientationDeg`. About 1 for a clean grating at that orientation; about 2*tol/180 (1/6 for the
 * default ±15°) for isotropic content such as concentric rings or white noise. A more robust test
 * statistic than {@link dominantOrientationDeg}, since it weighs all the power, not one peak.
 *
 * @param image HxWxC row-major, Float32Array or Float64Array.
 * @param orientationDeg bar orientation to test, degrees (same convention as
 *   {@link dominantOrientationDeg}: 90 = vertical bars, 0 = horizontal bars).
 * @param toleranceDeg half-width of the band, degrees (default 15).
 * @param channels values per pixel (default 3).
 * @returns number in [0, 1]; NaN for an image with no usable power.
 */
export function orientedPowerFraction(
  image: Float32Array | Float64Array,
  height: number,
  width: number,
  orientationDeg: number,
  toleranceDeg: number = DEFAULT_ORIENTATION_TOLERANCE_DEG,
  channels = 3,
  options: SpectrumOptions = {},
): number {
  const { power, usable, orientation } = analyse(image, height, width, channels, options)
  let inBand = 0
  let total = 0
  for (let i = 0; i < power.length; i++) {
    if (!usable[i]) continue
    total += power[i]
    if (orientationDistanceDeg(orientation[i], orientationDeg) <= toleranceDeg) inBand += power[i]
  }
  return total > 0 ? inBand / total : Number.NaN
}
