/**
 * formatNumber: readable fixed decimals, exponents at the extremes, and '—' for a value that is
 * missing or not finite (a NaN learning rate crosses the WebSocket as null and must not crash a panel).
 */
import { describe, expect, it } from 'vitest'
import { formatNumber } from '../../src/shared/format'

describe('formatNumber', () => {
  it('writes readable numbers with three decimals and extremes with an exponent', () => {
    expect(formatNumber(2.5)).toBe('2.500')
    expect(formatNumber(0)).toBe('0.000')
    expect(formatNumber(123456)).toBe('1.235e+5')
    expect(formatNumber(0.00012, 2)).toBe('1.20e-4')
  })
  it('writes a dash for null, undefined, NaN and infinities', () => {
    for (const v of [null, undefined, NaN, Infinity, -Infinity]) expect(formatNumber(v)).toBe('—')
  })
})
