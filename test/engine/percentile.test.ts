import { describe, expect, it } from 'vitest'
import { keepMask, percentile } from '../../src/engine/percentile.ts'

// Expected values from numpy 2.4: np.percentile(np.float32 array, p) (default linear interpolation).
const A = [3.5, -1.0, 2.0, 7.25, 0.0, 2.0, -4.5, 10.0, 1.0]
const NUMPY_A: [number, number][] = [
  [0, -4.5], [10, -1.7000000476837158], [20, -0.4000000059604645], [33.3, 0.6640000343322754],
  [50, 2.0], [90, 7.800000190734863], [100, 10.0],
]

describe('percentile (numpy linear interpolation)', () => {
  it.each(NUMPY_A)('p=%s of a fixed float32 array matches numpy', (p, want) => {
    expect(percentile(Float32Array.from(A), p)).toBeCloseTo(want, 6)
  })
  it('matches numpy on an array with many ties', () => {
    const b = Array.from({ length: 20 }, (_, i) => (i % 7) * 1.5 - 3)
    expect(percentile(b, 25)).toBeCloseTo(-1.5, 12)
    expect(percentile(b, 50)).toBeCloseTo(1.5, 12)
    expect(percentile(b, 75)).toBeCloseTo(3.375, 12)
  })
  it('does not reorder its input', () => {
    const v = Float32Array.from(A)
    percentile(v, 50)
    expect(Array.from(v)).toEqual(A)
  })
  it('rejects p outside [0, 100] and empty input', () => {
    expect(() => percentile([1, 2], 101)).toThrow(/\[0, 100\]/)
    expect(() => percentile([], 50)).toThrow(/empty/)
  })
})

describe('keepMask (strict <)', () => {
  it('keeps values equal to the threshold and zeroes those strictly below', () => {
    expect(Array.from(keepMask([1, 2, 2, 3], 2))).toEqual([0, 1, 1, 1])
  })
  it('after heavy clipping, exact zeros at the threshold survive (not re-counted as below)', () => {
    const v = [0, 0, 0, 0, 0, 0, 5, 6]
    const t = percentile(v, 50) // = 0
    expect(t).toBe(0)
    expect(Array.from(keepMask(v, t))).toEqual([1, 1, 1, 1, 1, 1, 1, 1])
  })
})
