/** Tests for cnnpref's linear start → end schedules. */
import { describe, expect, it } from 'vitest'
import { linearSchedule, linearScheduleAt } from '../../../src/engine/methods/schedules.ts'

describe('linear schedules (cnnpref)', () => {
  it('follow v_t = start + t·(end − start)/iter_n and never reach end', () => {
    const v = linearSchedule(2, 1e-10, 200)
    expect(v).toHaveLength(200)
    expect(v[0]).toBe(2)
    for (const t of [1, 57, 199]) expect(v[t]).toBeCloseTo(2 + (t * (1e-10 - 2)) / 200, 12)
    expect(v[199]).toBeGreaterThan(1e-10)
    expect(linearSchedule(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75])
  })

  it('is constant when start = end and decreasing when end < start', () => {
    expect(linearSchedule(0.9, 0.9, 5).every((x) => x === 0.9)).toBe(true)
    const sigma = linearSchedule(2.5, 0.5, 10)
    for (let t = 1; t < sigma.length; t++) expect(sigma[t]).toBeLessThan(sigma[t - 1])
  })

  it('rejects bad lengths and iterations with clear errors', () => {
    expect(() => linearSchedule(0, 1, 0)).toThrow(/iter_n/)
    expect(() => linearScheduleAt(0, 1, 5, 5)).toThrow(/0\.\.4/)
    expect(() => linearScheduleAt(0, Number.NaN, 0, 5)).toThrow(/finite/)
  })
})
