/**
 * Tests for src/engine/analysis/orientation.ts.
 *
 * Convention under test: orientation in degrees in [0, 180) of the BARS, counter-clockwise from the
 * horizontal as seen on screen (y up): 90 = vertical bars (luminance varies along x), 0 = horizontal
 * bars (luminance varies along y), 45 = "/" bars, 135 = "\" bars.
 */
import { describe, it, expect } from 'vitest'
import { Rng } from '../../src/engine/rng.ts'
import { drawGrating, drawStimulus } from '../../src/engine/stimuli.ts'
import {
  DEFAULT_ORIENTATION_TOLERANCE_DEG,
  dominantOrientationDeg,
  greyFromImage,
  orientedPowerFraction,
  powerSpectrum,
} from './orientation.ts'

const H = 64
const W = 64
const RINGS_CLASS = 4

function angleDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 180
  return Math.min(d, 180 - d)
}

/** Grating built by hand from pixel coordinates (independent of stimuli.ts), 1 channel. */
function handGrating(h: number, w: number, f: (row: number, col: number) => number): Float64Array {
  const img = new Float64Array(h * w)
  for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) img[r * w + c] = 128 + 100 * Math.cos(f(r, c))
  return img
}

describe('dominantOrientationDeg', () => {
  it('returns ~90 for vertical bars (luminance varying along x)', () => {
    const img = handGrating(H, W, (_r, c) => (2 * Math.PI * c) / 8)
    expect(angleDistance(dominantOrientationDeg(img, H, W, 1), 90)).toBeLessThan(1)
  })

  it('returns ~0 for horizontal bars (luminance varying along y)', () => {
    const img = handGrating(H, W, (r) => (2 * Math.PI * r) / 8)
    expect(angleDistance(dominantOrientationDeg(img, H, W, 1), 0)).toBeLessThan(1)
  })

  it('returns ~45 for "/" bars and ~135 for "\\" bars (row index grows downwards)', () => {
    // one pixel right and one pixel up (row - 1) keeps col + row: bars along "/"; col - row: bars along "\"
    const slash = handGrating(H, W, (r, c) => (2 * Math.PI * (c + r)) / 10)
    const backslash = handGrating(H, W, (r, c) => (2 * Math.PI * (c - r)) / 10)
    expect(angleDistance(dominantOrientationDeg(slash, H, W, 1), 45)).toBeLessThan(1)
    expect(angleDistance(dominantOrientationDeg(backslash, H, W, 1), 135)).toBeLessThan(1)
  })

  it('recovers arbitrary orientations and periods of RGB gratings within 2 degrees', () => {
    for (const deg of [0, 10, 30, 45, 60, 90, 112, 135, 160, 175]) {
      for (const period of [5, 7.3, 11, 16]) {
        const img = drawGrating(H, deg, period, 1.1, 80, 120)
        const got = dominantOrientationDeg(img, H, W)
        expect(got).toBeGreaterThanOrEqual(0)
        expect(got).toBeLessThan(180)
        expect(angleDistance(got, deg)).toBeLessThan(2)
      }
    }
  })

  it('is unaffected by mean brightness and by channel order, and works on non-square images', () => {
    const a = drawGrating(H, 30, 9, 0, 60, 60)
    const b = drawGrating(H, 30, 9, 0, 60, 190)
    expect(dominantOrientationDeg(a, H, W)).toBeCloseTo(dominantOrientationDeg(b, H, W), 6)
    // non-square: 48 rows x 80 columns, vertical bars
    const rect = handGrating(48, 80, (_r, c) => (2 * Math.PI * c) / 10)
    expect(angleDistance(dominantOrientationDeg(rect, 48, 80, 1), 90)).toBeLessThan(1)
  })

  it('returns NaN for a flat image and rejects a wrong-sized buffer', () => {
    expect(dominantOrientationDeg(new Float32Array(H * W * 3).fill(77), H, W)).toBeNaN()
    expect(() => dominantOrientationDeg(new Float32Array(10), H, W)).toThrow(RangeError)
  })
})

describe('orientedPowerFraction', () => {
  it('is high at the grating orientation and low 90 degrees away', () => {
    for (const deg of [0, 45, 90, 135]) {
      const img = drawGrating(H, deg, 8, 0.3)
      expect(orientedPowerFraction(img, H, W, deg)).toBeGreaterThan(0.9)
      expect(orientedPowerFraction(img, H, W, deg + 90)).toBeLessThan(0.05)
    }
  })

  it('is low (near 2*15/180) in every direction for concentric rings and for white noise', () => {
    const rings = drawStimulus(RINGS_CLASS, new Rng(3))
    const rng = new Rng(4)
    const noise = new Float32Array(H * W * 3)
    for (let i = 0; i < noise.length; i++) noise[i] = rng.uniform(0, 255)
    for (const deg of [0, 30, 45, 90, 135, 150]) {
      expect(orientedPowerFraction(rings, H, W, deg)).toBeLessThan(0.4)
      expect(orientedPowerFraction(noise, H, W, deg)).toBeLessThan(0.3)
      expect(orientedPowerFraction(noise, H, W, deg)).toBeGreaterThan(0.08)
    }
  })

  it('sums to exactly 1 over six 30-degree bands that partition the half circle', () => {
    const rng = new Rng(5)
    const noise = new Float32Array(H * W * 3)
    for (let i = 0; i < noise.length; i++) noise[i] = rng.uniform(0, 255)
    // bands centred on 5, 35, ..., 155 (boundaries at 20, 50, ...: no DFT bin lies exactly on one)
    const total = [5, 35, 65, 95, 125, 155].reduce((s, deg) => s + orientedPowerFraction(noise, H, W, deg, 15), 0)
    expect(total).toBeCloseTo(1, 9)
    expect(DEFAULT_ORIENTATION_TOLERANCE_DEG).toBe(15)
  })

  it('respects the frequency band options', () => {
    // vertical bars at period 4 px (0.25 cycles/px) plus horizontal bars at period 16 px (1/16)
    const img = handGrating(H, W, (_r, c) => (2 * Math.PI * c) / 4)
    const low = handGrating(H, W, (r) => (2 * Math.PI * r) / 16)
    for (let i = 0; i < img.length; i++) img[i] = (img[i] + low[i]) / 2
    expect(orientedPowerFraction(img, H, W, 90, 15, 1)).toBeLessThan(0.6)
    expect(orientedPowerFraction(img, H, W, 0, 15, 1)).toBeLessThan(0.6)
    expect(orientedPowerFraction(img, H, W, 90, 15, 1, { minCyclesPerPixel: 0.15 })).toBeGreaterThan(0.9)
    expect(orientedPowerFraction(img, H, W, 0, 15, 1, { maxCyclesPerPixel: 0.15 })).toBeGreaterThan(0.9)
  })
})

describe('powerSpectrum and greyFromImage', () => {
  it('puts a pure cosine at its frequency bin (Parseval-consistent, no window)', () => {
    const u0 = 5
    const grey = new Float64Array(H * W)
    for (let r = 0; r < H; r++) for (let c = 0; c < W; c++) grey[r * W + c] = Math.cos((2 * Math.PI * u0 * c) / W)
    const p = powerSpectrum(grey, H, W, false)
    // energy sum |x|^2 * N equals the sum of |F|^2 (Parseval); all of it at (u0, 0) and (W - u0, 0)
    let total = 0
    for (const v of p) total += v
    expect((p[u0] + p[W - u0]) / total).toBeCloseTo(1, 9)
    expect(p[u0]).toBeCloseTo(p[W - u0], 6)
  })

  it('averages channels to grey', () => {
    const g = greyFromImage(new Float32Array([0, 30, 60, 255, 255, 255]), 1, 2)
    expect(Array.from(g)).toEqual([30, 255])
  })
})
