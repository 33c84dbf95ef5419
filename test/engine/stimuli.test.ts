/**
 * Tests for src/engine/stimuli.ts: determinism per seed, variation across seeds, pixel range, and
 * that each class shows its defining feature (orientation, colour, isotropy) by simple statistics.
 */
import { describe, it, expect } from 'vitest'
import { Rng } from '../../src/engine/rng.ts'
import {
  DEFAULT_STIMULUS_SIZE,
  NUM_STIMULUS_CLASSES,
  STIMULUS_CHANNELS,
  STIMULUS_CLASSES,
  drawGrating,
  drawStimulus,
} from '../../src/engine/stimuli.ts'
import { dominantOrientationDeg, orientedPowerFraction } from '../helpers/orientation.ts'

const S = DEFAULT_STIMULUS_SIZE
const SEEDS = [0, 1, 2, 3]
const SAMPLES_PER_CLASS = 6

function angleDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 180
  return Math.min(d, 180 - d)
}

/** Fraction of the most colour-excessive pixels averaged by {@link colourExcess}. */
const TOP_FRACTION = 0.05

/**
 * Colour excess of channel c: mean, over the top 5% of pixels, of (channel c - mean of the other
 * two channels). High where a disc of that colour is; tint and noise alone keep it low.
 */
function colourExcess(img: Float32Array, c: number): number {
  const n = img.length / STIMULUS_CHANNELS
  const e = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let others = 0
    for (let k = 0; k < STIMULUS_CHANNELS; k++) if (k !== c) others += img[i * STIMULUS_CHANNELS + k]
    e[i] = img[i * STIMULUS_CHANNELS + c] - others / (STIMULUS_CHANNELS - 1)
  }
  e.sort()
  const top = Math.ceil(n * TOP_FRACTION)
  let s = 0
  for (let i = n - top; i < n; i++) s += e[i]
  return s / top
}

describe('STIMULUS_CLASSES', () => {
  it('has 10 classes with unique ids and labels, and non-empty descriptions', () => {
    expect(NUM_STIMULUS_CLASSES).toBe(10)
    expect(new Set(STIMULUS_CLASSES.map((c) => c.id)).size).toBe(NUM_STIMULUS_CLASSES)
    expect(new Set(STIMULUS_CLASSES.map((c) => c.label)).size).toBe(NUM_STIMULUS_CLASSES)
    for (const c of STIMULUS_CLASSES) {
      expect(c.preferred.length).toBeGreaterThan(10)
      expect(c.label).not.toMatch(/\n/)
    }
    expect(STIMULUS_CLASSES[0].label).toBe('grating vertical')
  })
})

describe('drawStimulus', () => {
  it('is deterministic for a seed, differs across seeds, and stays in 0..255', () => {
    for (let cls = 0; cls < NUM_STIMULUS_CLASSES; cls++) {
      const a = drawStimulus(cls, new Rng(42))
      const b = drawStimulus(cls, new Rng(42))
      expect(a.length).toBe(S * S * STIMULUS_CHANNELS)
      expect(Array.from(a)).toEqual(Array.from(b))
      const c = drawStimulus(cls, new Rng(43))
      let diff = 0
      for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - c[i])
      expect(diff / a.length).toBeGreaterThan(1)
      for (const seed of SEEDS) {
        const img = drawStimulus(cls, new Rng(seed))
        let lo = Infinity
        let hi = -Infinity
        for (const v of img) {
          if (v < lo) lo = v
          if (v > hi) hi = v
        }
        expect(lo).toBeGreaterThanOrEqual(0)
        expect(hi).toBeLessThanOrEqual(255)
        expect(hi - lo).toBeGreaterThan(40) // never a blank image
        expect(Number.isFinite(lo + hi)).toBe(true)
      }
    }
  })

  it('honours the size argument and rejects bad arguments', () => {
    expect(drawStimulus(0, new Rng(0), 32).length).toBe(32 * 32 * STIMULUS_CHANNELS)
    expect(() => drawStimulus(NUM_STIMULUS_CLASSES, new Rng(0))).toThrow(RangeError)
    expect(() => drawStimulus(-1, new Rng(0))).toThrow(RangeError)
    expect(() => drawStimulus(0.5, new Rng(0))).toThrow(RangeError)
  })

  it('draws gratings whose dominant orientation is the class orientation (90, 0, 45, 135)', () => {
    const expected = [90, 0, 45, 135]
    const rng = new Rng(7)
    expected.forEach((deg, cls) => {
      for (let k = 0; k < SAMPLES_PER_CLASS; k++) {
        const img = drawStimulus(cls, rng)
        // the class jitters orientation by up to 5 degrees
        expect(angleDistance(dominantOrientationDeg(img, S, S), deg)).toBeLessThan(8)
        expect(orientedPowerFraction(img, S, S, deg)).toBeGreaterThan(0.8)
      }
    })
  })

  it('draws rings and dot lattices without one dominant orientation, checkerboards with two diagonals', () => {
    const rng = new Rng(8)
    for (let k = 0; k < SAMPLES_PER_CLASS; k++) {
      const rings = drawStimulus(4, rng)
      for (const deg of [0, 45, 90, 135]) expect(orientedPowerFraction(rings, S, S, deg)).toBeLessThan(0.4)
      const checks = drawStimulus(5, rng)
      expect(orientedPowerFraction(checks, S, S, 45)).toBeGreaterThan(0.3)
      expect(orientedPowerFraction(checks, S, S, 135)).toBeGreaterThan(0.3)
      expect(orientedPowerFraction(checks, S, S, 0)).toBeLessThan(0.15)
      expect(orientedPowerFraction(checks, S, S, 90)).toBeLessThan(0.15)
      const dots = drawStimulus(6, rng)
      for (const deg of [0, 45, 90, 135]) expect(orientedPowerFraction(dots, S, S, deg)).toBeLessThan(0.6)
    }
  })

  it('draws blobs whose defining colour stands out (red, green, blue) and patterns that are nearly grey', () => {
    const rng = new Rng(9)
    const MIN_DISC_EXCESS = 80
    const MAX_BACKGROUND_EXCESS = 60
    for (let channel = 0; channel < STIMULUS_CHANNELS; channel++) {
      for (let k = 0; k < SAMPLES_PER_CLASS; k++) {
        const img = drawStimulus(7 + channel, rng)
        for (let c = 0; c < STIMULUS_CHANNELS; c++) {
          if (c === channel) expect(colourExcess(img, c)).toBeGreaterThan(MIN_DISC_EXCESS)
          else expect(colourExcess(img, c)).toBeLessThan(MAX_BACKGROUND_EXCESS)
        }
      }
    }
    for (let cls = 0; cls < 7; cls++) {
      const img = drawStimulus(cls, rng)
      for (let c = 0; c < STIMULUS_CHANNELS; c++) expect(colourExcess(img, c)).toBeLessThan(MAX_BACKGROUND_EXCESS)
    }
  })
})

describe('drawGrating', () => {
  it('draws vertical bars as luminance varying along x only (90 deg convention)', () => {
    const img = drawGrating(S, 90, 8)
    // constant down each column, varying along each row
    for (let col = 0; col < S; col++) expect(img[(10 * S + col) * 3]).toBeCloseTo(img[(50 * S + col) * 3], 4)
    let rowRange = 0
    for (let col = 1; col < S; col++) rowRange = Math.max(rowRange, Math.abs(img[col * 3] - img[0]))
    expect(rowRange).toBeGreaterThan(100)
  })

  it('draws 45-degree bars rising to the right ("/"): constant along the anti-diagonal of the pixel grid', () => {
    const img = drawGrating(S, 45, 8)
    // moving one pixel right and one pixel UP (row - 1) stays on the same bar
    for (const [row, col] of [
      [40, 10],
      [30, 20],
      [50, 5],
    ]) {
      expect(img[(row * S + col) * 3]).toBeCloseTo(img[((row - 3) * S + col + 3) * 3], 3)
    }
  })
})
