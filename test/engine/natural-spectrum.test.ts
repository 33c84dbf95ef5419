/**
 * MACO's natural-image magnitude spectrum (resources/maco, scripts/natural-spectrum.ts): it loads through
 * the safe reader with the documented shape, it falls as ~1/f (the fitted radial slope of the magnitude is
 * near -1, i.e. about -2 for the power; the fit is checked first on exact power laws), and its recorded slope is
 * the one the file gives.
 */
import { describe, expect, it } from 'vitest'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { loadNaturalSpectrum, NATURAL_SPECTRUM_FILE } from '../../src/engine/node/natural-spectrum.ts'
import { radialSlope } from '../../src/engine/methods/spectrum-slope.ts'

describe('radialSlope', () => {
  it.each([1, 1.5, 2])('gives -%s for an exact 1/f^a half spectrum', (a) => {
    const s = 64
    const wf = s / 2 + 1
    const half = Float64Array.from({ length: s * wf }, (_, k) => {
      const u = Math.floor(k / wf)
      const f = Math.hypot(u < s / 2 ? u : u - s, k % wf) / s
      return f === 0 ? 0 : f ** -a
    })
    expect(radialSlope(half, s)).toBeCloseTo(-a, 1)
  })
})

describe('the natural-image spectrum', () => {
  // Measured: -1.379 (luminance), -1.262, -1.051 for the magnitude (power: -2.76, -2.52, -2.10); 4 photos with smooth, out-of-focus
  // backgrounds fall a little faster than 1/f in luminance.
  it('has shape [3, 128, 65], falls as ~1/f (magnitude slope in -1.5 .. -0.9 in every channel) as its JSON records', async () => {
    const sp = await loadNaturalSpectrum()
    expect(sp.shape).toEqual([3, 128, 65])
    const per = 128 * 65
    const slopes = [0, 1, 2].map((c) => radialSlope(sp.data.subarray(c * per, (c + 1) * per), 128))
    for (const s of slopes) { expect(s).toBeGreaterThan(-1.5); expect(s).toBeLessThan(-0.9) }
    const info = JSON.parse(await readFile(path.join(path.dirname(NATURAL_SPECTRUM_FILE), 'natural-spectrum.json'), 'utf8'))
    slopes.forEach((s, c) => expect(s).toBeCloseTo(info.radial_slope[c], 2))
  })

  it('refuses a file that is not a spectrum', async () => {
    await expect(loadNaturalSpectrum(path.join(path.dirname(NATURAL_SPECTRUM_FILE), 'natural-spectrum.json'))).rejects.toThrow(/natural-image spectrum|NPY/)
  })
})
