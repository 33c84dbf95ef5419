/**
 * Number formatting for the panels: fixed decimals in the readable range, exponent notation for
 * very large or very small magnitudes, and '—' for a missing or non-finite value (a NaN crosses
 * the WebSocket as null; an objective can be ±Infinity before a run fails).
 * Shape: `formatNumber(v, expDigits?) => string`
 * @example formatNumber(0.00012) // '1.200e-4'; formatNumber(null) // '—'
 */

/** Magnitudes at or above this are written with an exponent. */
const EXP_ABOVE = 1e4
/** Non-zero magnitudes below this are written with an exponent. */
const EXP_BELOW = 1e-3
const FIXED_DIGITS = 3

export function formatNumber(v: number | null | undefined, expDigits = 3): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—'
  const a = Math.abs(v)
  return a >= EXP_ABOVE || (a < EXP_BELOW && v !== 0) ? v.toExponential(expDigits) : v.toFixed(FIXED_DIGITS)
}
