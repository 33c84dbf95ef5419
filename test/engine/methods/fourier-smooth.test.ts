/** Tests for dnnbrain's Fourier gradient smoothing (true FFT frequencies), on cpu and wasm. */
import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { fftFrequency, smoothGradientFourier, smoothingFilter } from '../../../src/engine/methods/fourier-smooth.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

/** Sum of squared differences between horizontal and vertical neighbours: high-frequency energy. */
function hfEnergy(x: Float32Array, n: number, h: number, w: number, c: number): number {
  let e = 0
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let i = 0; i < w; i++) for (let k = 0; k < c; k++) {
    const at = (yy: number, xx: number): number => x[((b * h + yy) * w + xx) * c + k]
    if (i + 1 < w) e += (at(y, i + 1) - at(y, i)) ** 2
    if (y + 1 < h) e += (at(y + 1, i) - at(y, i)) ** 2
  }
  return e
}

/** Plain 2-D DFT filtering of one channel in JS (float64), the reference for the matMul version. */
function referenceFilter(g: Float64Array, h: number, w: number, f: Float32Array): Float64Array {
  const re = new Float64Array(h * w)
  const im = new Float64Array(h * w)
  for (let ky = 0; ky < h; ky++) for (let kx = 0; kx < w; kx++) {
    let sr = 0
    let si = 0
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const a = -2 * Math.PI * (ky * y / h + kx * x / w)
      sr += g[y * w + x] * Math.cos(a)
      si += g[y * w + x] * Math.sin(a)
    }
    re[ky * w + kx] = sr * f[ky * w + kx]
    im[ky * w + kx] = si * f[ky * w + kx]
  }
  const out = new Float64Array(h * w)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let s = 0
    for (let ky = 0; ky < h; ky++) for (let kx = 0; kx < w; kx++) {
      const a = 2 * Math.PI * (ky * y / h + kx * x / w)
      s += re[ky * w + kx] * Math.cos(a) - im[ky * w + kx] * Math.sin(a)
    }
    out[y * w + x] = s / (h * w)
  }
  return out
}

describe('the smoothing filter', () => {
  it('uses the true FFT frequency min(k, n − k) (dnnbrain: min(k, n−1−k))', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((k) => fftFrequency(k, 8))).toEqual([0, 1, 2, 3, 4, 3, 2, 1])
    const f = smoothingFilter(8, 8, 0.5)
    // symmetric in k ↔ n − k: index 6 is frequency 2 like index 2 (dnnbrain's min(6, 1) = 1 would be
    // the DC-like gain of the clamp), index 5 is frequency 3 like index 3
    expect(f[6]).toBeCloseTo(f[2], 6)
    expect(f[5]).toBeCloseTo(f[3], 6)
    expect(f[6]).toBeLessThan(f[1])
  })

  it('has mean 1, equals 1/max(1, r^(2·factor)) up to that normalization, and is flat for factor 0', () => {
    const f = smoothingFilter(6, 10, 0.3)
    expect(f.reduce((a, b) => a + b, 0) / f.length).toBeCloseTo(1, 5)
    // t(ky=2, kx=3) / t(0,0) = 1 / (4 + 9)^0.3
    expect(f[2 * 10 + 3] / f[0]).toBeCloseTo(1 / Math.pow(13, 0.3), 5)
    expect(Array.from(smoothingFilter(5, 5, 0)).every((v) => v === 1)).toBe(true)
  })

  it('rejects a negative factor', () => {
    expect(() => smoothingFilter(4, 4, -1)).toThrow(/factor/)
  })
})

describe.each(['cpu', 'wasm'] as const)('smoothGradientFourier on %s', (backend) => {
  it('matches a direct 2-D DFT filter and leaves a constant gradient constant, scaled by F(0)', async () => {
    await useBackend(backend)
    const h = 6
    const w = 8
    const rng = new Rng(11)
    const g = rng.fill(h * w, (r) => r.normal(0, 1))
    const out = tf.tidy(() => smoothGradientFourier(tf.tensor4d(g, [1, h, w, 1]), 0.4).dataSync())
    const ref = referenceFilter(Float64Array.from(g), h, w, smoothingFilter(h, w, 0.4))
    for (let i = 0; i < ref.length; i++) expect(out[i]).toBeCloseTo(ref[i], 3)

    const dc = tf.tidy(() => smoothGradientFourier(tf.fill([2, 5, 5, 3], 2.5) as tf.Tensor4D, 0.3).dataSync())
    const gain = smoothingFilter(5, 5, 0.3)[0]
    for (const v of dc) expect(v).toBeCloseTo(2.5 * gain, 3)
  })

  it('lowers the high-frequency energy of a noise gradient relative to its mean energy; factor 0 is identity', async () => {
    await useBackend(backend)
    const [n, h, w, c] = [2, 16, 16, 3]
    const g = new Rng(5).fill(n * h * w * c, (r) => r.normal(0, 1))
    const x = tf.tensor4d(g, [n, h, w, c])
    const before = tf.memory().numTensors
    const smoothed = smoothGradientFourier(x, 0.5)
    const identity = smoothGradientFourier(x, 0)
    const s = smoothed.dataSync() as Float32Array
    const id = identity.dataSync() as Float32Array
    tf.dispose([smoothed, identity])
    expect(tf.memory().numTensors).toBe(before)
    const energy = (v: Float32Array): number => v.reduce((a, b) => a + b * b, 0)
    // high-frequency share of the energy drops
    expect(hfEnergy(s, n, h, w, c) / energy(s)).toBeLessThan(0.5 * hfEnergy(g, n, h, w, c) / energy(g))
    expect(Array.from(id)).toEqual(Array.from(g))
    x.dispose()
  })
})
