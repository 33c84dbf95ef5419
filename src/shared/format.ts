/**
 * Number formatting shared by the CLI and the app's panels: fixed decimals in the readable range,
 * exponent notation for very large or very small magnitudes (`formatMagnitude`); the panels'
 * `formatNumber` also writes '—' for a missing or non-finite value (a NaN crosses the WebSocket as
 * null; an objective can be ±Infinity before a run fails).
 * Shape: `formatMagnitude(v, expDigits?) => string`, `formatNumber(v, expDigits?) => string`
 * @example formatNumber(0.00012) // '1.200e-4'; formatNumber(null) // '—'
 */

/** Magnitudes at or above this are written with an exponent. */
const EXP_ABOVE = 1e4
/** Non-zero magnitudes below this are written with an exponent. */
const EXP_BELOW = 1e-3
const FIXED_DIGITS = 3

/** Three decimals, or an exponent at the extremes (a non-finite value prints as JavaScript writes it). */
export function formatMagnitude(v: number, expDigits = 3): string {
  const a = Math.abs(v)
  return a >= EXP_ABOVE || (a < EXP_BELOW && v !== 0) ? v.toExponential(expDigits) : v.toFixed(FIXED_DIGITS)
}

/** `formatMagnitude`, with '—' for a missing or non-finite value. */
export function formatNumber(v: number | null | undefined, expDigits = 3): string {
  return typeof v === 'number' && Number.isFinite(v) ? formatMagnitude(v, expDigits) : '—'
}
