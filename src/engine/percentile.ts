/**
 * Percentiles exactly as `numpy.percentile(v, p)` with its default linear interpolation:
 * sort v, r = (p/100)(n-1), P = v[floor r] + (r - floor r)(v[ceil r] - v[floor r]).
 * Shape: (values, p) => threshold; masks keep entries whose value is NOT strictly below it.
 */

/** numpy-compatible linear percentile of `values` (not modified), p in [0, 100]. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const n = values.length
  if (n === 0) throw new RangeError('percentile of an empty array')
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`)
  const sorted = Float64Array.from(values).sort()
  const r = (p / 100) * (n - 1)
  const lo = Math.floor(r)
  const hi = Math.ceil(r)
  const frac = r - lo
  return sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

/** 1 where values[i] >= threshold (kept), 0 where values[i] < threshold (zeroed): DVT's strict `<`. */
export function keepMask(values: ArrayLike<number>, threshold: number): Float32Array {
  const mask = new Float32Array(values.length)
  for (let i = 0; i < values.length; i++) mask[i] = values[i] < threshold ? 0 : 1
  return mask
}
