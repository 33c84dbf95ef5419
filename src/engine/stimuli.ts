/**
 * Procedurally generated training images for the embedded default model ("DeepVis shapes").
 *
 * Every class has a KNOWN preferred stimulus (an orientation, a ring pattern, a colour...), which
 * makes the trained network a correctness oracle for the activation-maximization engine: the image
 * synthesized for `grating vertical` must be dominated by vertical bars, the one for `red blob` must
 * be reddish, and so on.
 *
 * Pure functions: no fs, no DOM, no tfjs. All randomness comes from the caller's {@link Rng}.
 *
 * Product code, not only a test oracle: `deepvis stimuli` (src/engine/node/stimulus-folder.ts) writes a
 * labelled image folder of them, and scripts/train-default-model.ts trains
 * the embedded model on them; the tests use it as the oracle above.
 *
 * Shapes:
 * - `STIMULUS_CLASSES: readonly StimulusClass[]` (index = class index = logit index).
 * - `drawStimulus(classIndex, rng, size = 64) -> Float32Array` of length size*size*3, HxWx3 row-major
 *   RGB, values in 0..255 (not quantized).
 * - `drawGrating(size, barOrientationDeg, periodPx, phaseRad, contrast, mean) -> Float32Array` (RGB,
 *   noise-free): a deterministic sinusoidal grating, handy for tests and probes.
 *
 * Orientation convention (shared with `test/helpers/orientation.ts`): angles in degrees in [0, 180),
 * measured counter-clockwise from the horizontal as seen on screen (x to the right, y UP), and they
 * describe the BARS: 0 = horizontal bars (luminance varies along y), 90 = vertical bars (luminance
 * varies along x), 45 = bars running bottom-left to top-right ("/"), 135 = top-left to bottom-right ("\").
 */

import { Rng } from './rng.ts'

/** One class of the default model: its index is its logit / label-line index. */
export interface StimulusClass {
  /** Stable machine id (snake case). */
  readonly id: string
  /** Short human label, as written to labels.txt. */
  readonly label: string
  /** One line: the stimulus this class responds to most. */
  readonly preferred: string
}

/** Class list, in logit order. */
export const STIMULUS_CLASSES: readonly StimulusClass[] = [
  { id: 'grating_vertical', label: 'grating vertical', preferred: 'vertical bars (luminance varies along x), orientation 90 deg' },
  { id: 'grating_horizontal', label: 'grating horizontal', preferred: 'horizontal bars (luminance varies along y), orientation 0 deg' },
  { id: 'grating_45', label: 'grating 45', preferred: 'diagonal bars running bottom-left to top-right ("/"), orientation 45 deg' },
  { id: 'grating_135', label: 'grating 135', preferred: 'diagonal bars running top-left to bottom-right ("\\"), orientation 135 deg' },
  { id: 'rings', label: 'concentric rings', preferred: 'concentric rings (isotropic radial grating) around a point near the centre' },
  { id: 'checkerboard', label: 'checkerboard', preferred: 'axis-aligned checkerboard (spectral energy on both diagonals plus odd harmonics)' },
  { id: 'dot_lattice', label: 'dot lattice', preferred: 'small round dots on a square lattice' },
  { id: 'red_blob', label: 'red blob', preferred: 'a soft red disc on a grey background' },
  { id: 'green_blob', label: 'green blob', preferred: 'a soft green disc on a grey background' },
  { id: 'blue_blob', label: 'blue blob', preferred: 'a soft blue disc on a grey background' },
]

/** Number of classes (= units of the `logits` layer). */
export const NUM_STIMULUS_CLASSES = STIMULUS_CLASSES.length

/** Default image side in pixels. */
export const DEFAULT_STIMULUS_SIZE = 64

/** Number of colour channels (RGB). */
export const STIMULUS_CHANNELS = 3

const PIXEL_MAX = 255
const TWO_PI = 2 * Math.PI
const DEG = Math.PI / 180

/** Bar orientation (deg) of each grating class, by class index. */
const GRATING_ORIENTATION_DEG: Readonly<Record<number, number>> = { 0: 90, 1: 0, 2: 45, 3: 135 }
/** Maximum random deviation (deg) of a grating from its class orientation. */
const ORIENTATION_JITTER_DEG = 5

/**
 * Grating / ring period band in pixels, relative to a 64-px image: 6..14 px, i.e. about 4.6..10.7
 * cycles per image (far from both DC and the Nyquist limit of 2 px).
 */
const PERIOD_MIN_FRAC = 6 / 64
const PERIOD_MAX_FRAC = 14 / 64
/** Mean brightness band for the patterned classes and the blob background (0..255). */
const MEAN_MIN = 90
const MEAN_MAX = 165
/** Pattern amplitude (half peak-to-peak) band. */
const CONTRAST_MIN = 35
const CONTRAST_MAX = 90
/** Per-channel additive tint applied to whole images, so colour alone never names a pattern class. */
const TINT_MAX = 12
/** Per-pixel Gaussian noise standard deviation band. */
const NOISE_SD_MIN = 2
const NOISE_SD_MAX = 8
/** Rings: maximum offset of the centre from the image centre (fraction of the size). */
const RING_CENTRE_JITTER_FRAC = 10 / 64
/** Checkerboard: check side band (fraction of the size) and edge sharpness band (tanh gain). */
const CHECK_MIN_FRAC = 5 / 64
const CHECK_MAX_FRAC = 11 / 64
const CHECK_SHARPNESS_MIN = 2
const CHECK_SHARPNESS_MAX = 6
/** Dot lattice: lattice spacing band, dot radius band (fractions of the size), edge softness (px). */
const DOT_SPACING_MIN_FRAC = 8 / 64
const DOT_SPACING_MAX_FRAC = 14 / 64
const DOT_RADIUS_MIN_FRAC = 1.5 / 64
const DOT_RADIUS_MAX_FRAC = 3 / 64
const DOT_EDGE_PX = 0.6
/** Dot lattice: probability of dark dots on a bright background (else bright dots on dark). */
const DARK_DOTS_PROBABILITY = 0.5
/** Blobs: disc radius band (fraction of the size) and edge softness band (px). */
const BLOB_RADIUS_MIN_FRAC = 8 / 64
const BLOB_RADIUS_MAX_FRAC = 18 / 64
const BLOB_EDGE_MIN_PX = 0.8
const BLOB_EDGE_MAX_PX = 3
/** Blobs: the defining channel lies in HIGH band, the other two in LOW band. */
const BLOB_HIGH_MIN = 170
const BLOB_HIGH_MAX = 255
const BLOB_LOW_MIN = 0
const BLOB_LOW_MAX = 70
/** Class index of the first blob class; blob k's defining channel is k - FIRST_BLOB_CLASS (R, G, B). */
const FIRST_BLOB_CLASS = 7

const RINGS_CLASS = 4
const CHECKERBOARD_CLASS = 5
const DOT_LATTICE_CLASS = 6

function clampPixel(v: number): number {
  return v < 0 ? 0 : v > PIXEL_MAX ? PIXEL_MAX : v
}

/** Writes a grey pattern `mean + amp * pattern(x, y)` (pattern in -1..1) into RGB, plus tint. */
function renderGrey(
  size: number,
  pattern: (x: number, y: number) => number,
  mean: number,
  amp: number,
  tint: readonly [number, number, number],
): Float32Array {
  const out = new Float32Array(size * size * STIMULUS_CHANNELS)
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const v = mean + amp * pattern(col, row)
      const o = (row * size + col) * STIMULUS_CHANNELS
      for (let c = 0; c < STIMULUS_CHANNELS; c++) out[o + c] = v + tint[c]
    }
  }
  return out
}

/** Adds Gaussian pixel noise and clamps to 0..255, in place. */
function addNoiseAndClamp(img: Float32Array, rng: Rng, sd: number): Float32Array {
  for (let i = 0; i < img.length; i++) img[i] = clampPixel(img[i] + rng.normal(0, sd))
  return img
}

/**
 * Pattern value of a sinusoidal grating at pixel (col, row): bars at `barOrientationDeg` (see the
 * module convention, y up), so luminance varies along the bar normal.
 */
function gratingValue(col: number, row: number, size: number, barOrientationDeg: number, periodPx: number, phaseRad: number): number {
  const theta = barOrientationDeg * DEG
  const x = col + 0.5 - size / 2
  const yUp = size / 2 - (row + 0.5)
  // unit normal to the bars, in (x, y-up) coordinates
  const n = -Math.sin(theta) * x + Math.cos(theta) * yUp
  return Math.cos((TWO_PI * n) / periodPx + phaseRad)
}

/**
 * A noise-free, untinted sinusoidal grating (RGB, 0..255, clamped).
 * @param size image side in pixels (square).
 * @param barOrientationDeg bar orientation in degrees (0 = horizontal bars, 90 = vertical bars).
 * @param periodPx spatial period in pixels.
 * @param phaseRad phase in radians.
 * @param contrast amplitude (half peak-to-peak), pixel units.
 * @param mean mean brightness, pixel units.
 */
export function drawGrating(
  size: number,
  barOrientationDeg: number,
  periodPx: number,
  phaseRad = 0,
  contrast = 100,
  mean = 127.5,
): Float32Array {
  const img = renderGrey(size, (x, y) => gratingValue(x, y, size, barOrientationDeg, periodPx, phaseRad), mean, contrast, [0, 0, 0])
  for (let i = 0; i < img.length; i++) img[i] = clampPixel(img[i])
  return img
}

/**
 * Draws one random example of class `classIndex` (see {@link STIMULUS_CLASSES}).
 * @param classIndex 0 .. NUM_STIMULUS_CLASSES-1.
 * @param rng source of all randomness; the draw consumes a class-dependent number of values.
 * @param size image side in pixels (square), default 64; bands scale with the size.
 * @returns Float32Array, length size*size*3, HxWx3 row-major RGB in 0..255.
 */
export function drawStimulus(classIndex: number, rng: Rng, size: number = DEFAULT_STIMULUS_SIZE): Float32Array {
  if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= NUM_STIMULUS_CLASSES) {
    throw new RangeError(`class index must be an integer in 0..${NUM_STIMULUS_CLASSES - 1}, got ${classIndex}`)
  }
  if (!Number.isInteger(size) || size < 8) throw new RangeError(`size must be an integer >= 8, got ${size}`)

  const mean = rng.uniform(MEAN_MIN, MEAN_MAX)
  const amp = rng.uniform(CONTRAST_MIN, CONTRAST_MAX)
  const tint: [number, number, number] = [rng.uniform(-TINT_MAX, TINT_MAX), rng.uniform(-TINT_MAX, TINT_MAX), rng.uniform(-TINT_MAX, TINT_MAX)]
  const noiseSd = rng.uniform(NOISE_SD_MIN, NOISE_SD_MAX)

  let img: Float32Array
  if (classIndex in GRATING_ORIENTATION_DEG) {
    const orientation = GRATING_ORIENTATION_DEG[classIndex] + rng.uniform(-ORIENTATION_JITTER_DEG, ORIENTATION_JITTER_DEG)
    const period = rng.uniform(PERIOD_MIN_FRAC, PERIOD_MAX_FRAC) * size
    const phase = rng.uniform(0, TWO_PI)
    img = renderGrey(size, (x, y) => gratingValue(x, y, size, orientation, period, phase), mean, amp, tint)
  } else if (classIndex === RINGS_CLASS) {
    const period = rng.uniform(PERIOD_MIN_FRAC, PERIOD_MAX_FRAC) * size
    const phase = rng.uniform(0, TWO_PI)
    const jitter = RING_CENTRE_JITTER_FRAC * size
    const cx = size / 2 + rng.uniform(-jitter, jitter)
    const cy = size / 2 + rng.uniform(-jitter, jitter)
    img = renderGrey(size, (x, y) => Math.cos((TWO_PI * Math.hypot(x + 0.5 - cx, y + 0.5 - cy)) / period + phase), mean, amp, tint)
  } else if (classIndex === CHECKERBOARD_CLASS) {
    const check = rng.uniform(CHECK_MIN_FRAC, CHECK_MAX_FRAC) * size
    const ox = rng.uniform(0, 2 * check)
    const oy = rng.uniform(0, 2 * check)
    const k = rng.uniform(CHECK_SHARPNESS_MIN, CHECK_SHARPNESS_MAX)
    const norm = Math.tanh(k) * Math.tanh(k)
    img = renderGrey(
      size,
      (x, y) => (Math.tanh(k * Math.cos((Math.PI * (x + 0.5 - ox)) / check)) * Math.tanh(k * Math.cos((Math.PI * (y + 0.5 - oy)) / check))) / norm,
      mean,
      amp,
      tint,
    )
  } else if (classIndex === DOT_LATTICE_CLASS) {
    const spacing = rng.uniform(DOT_SPACING_MIN_FRAC, DOT_SPACING_MAX_FRAC) * size
    const radius = rng.uniform(DOT_RADIUS_MIN_FRAC, DOT_RADIUS_MAX_FRAC) * size
    const ox = rng.uniform(0, spacing)
    const oy = rng.uniform(0, spacing)
    const polarity = rng.random() < DARK_DOTS_PROBABILITY ? -1 : 1
    // signed offset (one axis) from the nearest dot centre, in -spacing/2 .. spacing/2
    const wrap = (v: number): number => (((v % spacing) + spacing) % spacing) - spacing / 2
    img = renderGrey(
      size,
      (x, y) => {
        const d = Math.hypot(wrap(x + 0.5 - ox), wrap(y + 0.5 - oy))
        const inside = 1 / (1 + Math.exp((d - radius) / DOT_EDGE_PX))
        // polarity +1: bright dots (+1) on a dark background (-1); polarity -1: the reverse
        return polarity * (2 * inside - 1)
      },
      mean,
      amp,
      tint,
    )
  } else {
    const channel = classIndex - FIRST_BLOB_CLASS
    const radius = rng.uniform(BLOB_RADIUS_MIN_FRAC, BLOB_RADIUS_MAX_FRAC) * size
    const edge = rng.uniform(BLOB_EDGE_MIN_PX, BLOB_EDGE_MAX_PX)
    const cx = rng.uniform(radius, size - radius)
    const cy = rng.uniform(radius, size - radius)
    const colour = [0, 0, 0].map((_, c) => (c === channel ? rng.uniform(BLOB_HIGH_MIN, BLOB_HIGH_MAX) : rng.uniform(BLOB_LOW_MIN, BLOB_LOW_MAX)))
    img = new Float32Array(size * size * STIMULUS_CHANNELS)
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const d = Math.hypot(col + 0.5 - cx, row + 0.5 - cy)
        const inside = 1 / (1 + Math.exp((d - radius) / edge))
        const o = (row * size + col) * STIMULUS_CHANNELS
        for (let c = 0; c < STIMULUS_CHANNELS; c++) {
          const bg = mean + tint[c]
          img[o + c] = bg + inside * (colour[c] - bg)
        }
      }
    }
  }
  return addNoiseAndClamp(img, rng, noiseSd)
}
