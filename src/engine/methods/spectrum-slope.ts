/**
 * The radial slope of a magnitude spectrum: the least-squares line of log(mean |X| over a ring) on
 * log(radial frequency), over rings between 2/S and 0.4 cycles per pixel. Natural images give about -1 for the
 * magnitude (-2 for the power). Used by scripts/natural-spectrum.ts and its test.
 * Shape: `radialSlope(half [S, S/2 + 1] row-major, S) => number`.
 */

/** Frequency band of the fit, cycles per pixel. */
export const SLOPE_FMIN_BINS = 2
export const SLOPE_FMAX = 0.4

export function radialSlope(half: ArrayLike<number>, s: number): number {
  const wf = s / 2 + 1
  const rings = new Map<number, { sum: number; n: number }>()
  for (let u = 0; u < s; u++) {
    const fu = u < s / 2 ? u : u - s
    for (let v = 0; v < wf; v++) {
      const r = Math.round(Math.hypot(fu, v))
      if (r < SLOPE_FMIN_BINS || r / s > SLOPE_FMAX) continue
      const ring = rings.get(r) ?? { sum: 0, n: 0 }
      ring.sum += half[u * wf + v]
      ring.n++
      rings.set(r, ring)
    }
  }
  const xs: number[] = []
  const ys: number[] = []
  for (const [r, { sum, n }] of rings) { xs.push(Math.log(r / s)); ys.push(Math.log(sum / n)) }
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  let sxy = 0
  let sxx = 0
  xs.forEach((x, i) => { sxy += (x - mx) * (ys[i] - my); sxx += (x - mx) ** 2 })
  return sxy / sxx
}
