/**
 * MACO's parts (methods/maco.ts, nadam.ts, alpha-map.ts), each against a definition computed here in float64:
 * - the pre-colour image has exactly the fixed magnitude spectrum (up to the standardization's one scale),
 *   before and after NAdam steps that change the phase: |DFT(x)| / M is one constant on every bin;
 * - crop draws come from the seeded MT19937 (same seed, same boxes; their statistics are the documented ones)
 *   and cropAndResize follows TF crop_and_resize's sampling (identity for the full box, bilinear elsewhere,
 *   zero outside);
 * - NAdam's trajectory on a quadratic is PyTorch's NAdam formula, stepped here in float64;
 * - the transparency map is the accumulated Σ_c |dL/dx| of a tiny graph.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { Rng } from '../../../src/engine/rng.ts'
import { boxSizeAt, cropAndResize, drawCrops, macoParam, MIN_BOX, resampleMagnitude, type Spectrum } from '../../../src/engine/methods/maco.ts'
import { NAdam } from '../../../src/engine/methods/nadam.ts'
import { AlphaAccumulator } from '../../../src/engine/methods/alpha-map.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

/** A positive synthetic spectrum [3, S, S/2 + 1] falling as 1/f. */
function syntheticSpectrum(s: number, seed: number): Spectrum {
  const rng = new Rng(seed)
  const wf = s / 2 + 1
  const data = new Float32Array(3 * s * wf)
  for (let c = 0; c < 3; c++) {
    for (let u = 0; u < s; u++) {
      for (let v = 0; v < wf; v++) {
        const f = Math.hypot(u < s / 2 ? u : u - s, v) / s
        data[(c * s + u) * wf + v] = (1 + 0.3 * rng.random()) / Math.max(f, 1 / s) / (c + 1)
      }
    }
  }
  return { data, shape: [3, s, wf] }
}

/** |2-D DFT| of a real h x w channel, half spectrum [h, w/2+1], float64. */
function dftMagnitude(x: Float64Array, h: number, w: number): Float64Array {
  const wf = Math.floor(w / 2) + 1
  const out = new Float64Array(h * wf)
  for (let u = 0; u < h; u++) {
    for (let v = 0; v < wf; v++) {
      let re = 0
      let im = 0
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          const a = -2 * Math.PI * ((u * y) / h + (v * xx) / w)
          re += x[y * w + xx] * Math.cos(a)
          im += x[y * w + xx] * Math.sin(a)
        }
      }
      out[u * wf + v] = Math.hypot(re, im)
    }
  }
  return out
}

/** max over bins of | |X| / M - r | / r with r the median ratio, over bins with M > 1% of its max; and |X| at DC / max |X|. */
function magnitudeDeviation(img: Float32Array, h: number, w: number, m: Float32Array): { dev: number; dc: number } {
  const wf = Math.floor(w / 2) + 1
  const ratios: number[] = []
  let dc = 0
  let peak = 0
  for (let c = 0; c < 3; c++) {
    const ch = Float64Array.from({ length: h * w }, (_, i) => img[i * 3 + c])
    const mag = dftMagnitude(ch, h, w)
    const mc = m.subarray(c * h * wf, (c + 1) * h * wf)
    const mmax = Math.max(...mc)
    for (let k = 0; k < h * wf; k++) {
      peak = Math.max(peak, mag[k])
      if (k === 0) { dc = Math.max(dc, mag[0]); continue }
      if (mc[k] > 0.01 * mmax) ratios.push(mag[k] / mc[k])
    }
  }
  const r = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]
  return { dev: Math.max(...ratios.map((x) => Math.abs(x - r) / r)), dc: dc / peak }
}

describe('maco parameterization', () => {
  it.each([[12, 16], [10, 9]])('the pre-colour image (%ix%i) has exactly the fixed magnitude, before and after the phase is trained', (h, w) => {
    const spectrum = syntheticSpectrum(16, 1)
    const p = macoParam({ batch: 1, height: h, width: w, spectrum }, new Rng(0))
    const before = tf.tidy(() => p.linear().dataSync() as Float32Array).slice()
    const d0 = magnitudeDeviation(before, h, w, p.magnitude)
    expect(d0.dev).toBeLessThan(2e-3)
    expect(d0.dc).toBeLessThan(1e-4)
    // Train the phase towards a random target image for a few NAdam steps: the picture changes, the magnitude does not.
    const target = tf.tensor4d(new Rng(9).fill(h * w * 3, (r) => r.uniform()), [1, h, w, 3])
    const opt = new NAdam(0.5)
    for (let i = 0; i < 5; i++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.sub(p.render(), target))) as tf.Scalar, p.variables)
        opt.step(p.variables, [grads[p.variables[0].name]])
      })
    }
    const after = tf.tidy(() => p.linear().dataSync() as Float32Array).slice()
    const change = Math.max(...after.map((v, i) => Math.abs(v - before[i])))
    expect(change).toBeGreaterThan(0.1)
    expect(magnitudeDeviation(after, h, w, p.magnitude).dev).toBeLessThan(2e-3)
    opt.dispose()
    target.dispose()
    p.dispose()
  })

  it('resampling by frequency keeps the radial profile: the same size returns the stored values (DC 0)', () => {
    const s = syntheticSpectrum(16, 2)
    const m = resampleMagnitude(s, 16, 16)
    // Every bin but DC and the two symmetrized columns (v = 0, v = 8) is the stored value.
    for (let i = 1; i < m.length; i++) if (i % 9 !== 0 && i % 9 !== 8) expect(m[i]).toBeCloseTo(s.data[i], 5)
    for (let u = 1; u < 16; u++) expect(m[u * 9]).toBeCloseTo(m[(16 - u) * 9], 6)
    expect(m[0]).toBe(0)
  })
})

describe('maco crops', () => {
  it('the same seed draws the same boxes; another seed other ones; centres N(0.5, sd²), sides clipped', () => {
    const a = drawCrops(new Rng(4), 16, 0.3, 0.05, 0.15)
    expect(drawCrops(new Rng(4), 16, 0.3, 0.05, 0.15)).toEqual(a)
    expect(drawCrops(new Rng(5), 16, 0.3, 0.05, 0.15)).not.toEqual(a)
    const many = drawCrops(new Rng(1), 20000, 0.06, 0.05, 0.15)
    const cx = many.map((b) => b.cx)
    const mean = cx.reduce((x, y) => x + y, 0) / cx.length
    const sd = Math.sqrt(cx.reduce((x, y) => x + (y - mean) ** 2, 0) / cx.length)
    expect(mean).toBeCloseTo(0.5, 2)
    expect(sd).toBeCloseTo(0.15, 2)
    expect(Math.min(...many.map((b) => b.size))).toBe(MIN_BOX)
    expect(boxSizeAt(0.5, 0.05, 0, 256)).toBe(0.5)
    expect(boxSizeAt(0.5, 0.05, 255, 256)).toBeCloseTo(0.05, 12)
  })

  it("follows TF crop_and_resize: the full box is the identity, a sub-box samples bilinearly, outside is 0", () => {
    const h = 6
    const w = 8
    const data = new Rng(3).fill(h * w * 2, (r) => r.uniform())
    const img = tf.tensor4d(data, [1, h, w, 2])
    const full = tf.tidy(() => cropAndResize(img, [{ cy: 0.5, cx: 0.5, size: 1 }], [h, w]).dataSync())
    full.forEach((v, i) => expect(v).toBeCloseTo(data[i], 6))
    // The box [0.1, 0.7] x [0.1, 0.7] at 4 x 3: sample y = 0.1(h-1) + i 0.6(h-1)/3, x = 0.1(w-1) + j 0.6(w-1)/2.
    const out = tf.tidy(() => cropAndResize(img, [{ cy: 0.4, cx: 0.4, size: 0.6 }], [4, 3]).dataSync())
    const at = (y: number, x: number, c: number): number => {
      const y0 = Math.floor(y)
      const x0 = Math.floor(x)
      const v = (yy: number, xx: number): number => data[(Math.min(yy, h - 1) * w + Math.min(xx, w - 1)) * 2 + c]
      const fy = y - y0
      const fx = x - x0
      return (1 - fy) * ((1 - fx) * v(y0, x0) + fx * v(y0, x0 + 1)) + fy * ((1 - fx) * v(y0 + 1, x0) + fx * v(y0 + 1, x0 + 1))
    }
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 3; j++) {
        const y = 0.1 * (h - 1) + (i * 0.6 * (h - 1)) / 3
        const x = 0.1 * (w - 1) + (j * 0.6 * (w - 1)) / 2
        for (let c = 0; c < 2; c++) expect(out[(i * 3 + j) * 2 + c]).toBeCloseTo(at(y, x, c), 5)
      }
    }
    // Centre at the right edge: the right half of the crop is outside, hence 0.
    const edge = tf.tidy(() => cropAndResize(img, [{ cy: 0.5, cx: 1, size: 0.5 }], [2, 4]).dataSync())
    expect(edge[3 * 2]).toBe(0)
    expect(edge[3 * 2 + 1]).toBe(0)
    img.dispose()
  })
})

describe('NAdam', () => {
  it("matches PyTorch's NAdam formula on a quadratic (float64 reference stepped here)", () => {
    const a = [1, 4, 0.25, 9]
    const c = [0.5, -1, 2, 0.1]
    const lr = 0.1
    const x = tf.variable(tf.tensor1d([3, 3, -3, 0]))
    const opt = new NAdam(lr)
    // Reference: torch.optim.NAdam defaults (betas 0.9, 0.999, eps 1e-8, momentum_decay 4e-3).
    const theta = [3, 3, -3, 0]
    const m = [0, 0, 0, 0]
    const v = [0, 0, 0, 0]
    let muProd = 1
    let worst = 0
    for (let t = 1; t <= 30; t++) {
      tf.tidy(() => {
        const g = tf.mul(tf.tensor1d(a), tf.sub(x, tf.tensor1d(c)))
        opt.step([x], [g])
      })
      const mu = 0.9 * (1 - 0.5 * 0.96 ** (t * 0.004))
      const muNext = 0.9 * (1 - 0.5 * 0.96 ** ((t + 1) * 0.004))
      muProd *= mu
      for (let i = 0; i < 4; i++) {
        const g = a[i] * (theta[i] - c[i])
        m[i] = 0.9 * m[i] + 0.1 * g
        v[i] = 0.999 * v[i] + 0.001 * g * g
        const denom = Math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8
        theta[i] -= (lr * (1 - mu) / (1 - muProd)) * g / denom + (lr * muNext / (1 - muProd * muNext)) * m[i] / denom
      }
      const got = x.dataSync()
      for (let i = 0; i < 4; i++) worst = Math.max(worst, Math.abs(got[i] - theta[i]) / (1 + Math.abs(theta[i])))
    }
    // float32 against float64: 30 steps stay within 1e-4 (relative); measured about 7e-6.
    expect(worst).toBeLessThan(1e-4)
    // And it minimizes: every coordinate moved towards its minimum.
    const got = Array.from(x.dataSync())
    got.forEach((g, i) => expect(Math.abs(g - c[i])).toBeLessThan(Math.abs([3, 3, -3, 0][i] - c[i])))
    opt.dispose()
    x.dispose()
  })
})

describe('transparency map', () => {
  it('is the accumulated Σ_c |dL/dx| over the gradient evaluations (tiny graph L = Σ w x²)', async () => {
    const shape: [number, number, number, number] = [2, 2, 3, 3]
    const rng = new Rng(7)
    const w = rng.fill(36, (r) => r.normal())
    const xs = [rng.fill(36, (r) => r.normal()), rng.fill(36, (r) => r.normal())]
    const acc = new AlphaAccumulator()
    const before = tf.memory().numTensors
    for (const xv of xs) {
      tf.tidy(() => {
        const x = tf.tensor4d(xv, shape)
        tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.square(acc.tap(t)), tf.tensor4d(w, shape))))(x)
      })
    }
    expect(tf.memory().numTensors).toBe(before + 1) // the accumulator only
    const maps = (await acc.read())!
    expect(maps).toHaveLength(2)
    for (let n = 0; n < 2; n++) {
      for (let p = 0; p < 6; p++) {
        let want = 0
        for (const xv of xs) for (let ch = 0; ch < 3; ch++) { const i = (n * 6 + p) * 3 + ch; want += Math.abs(2 * w[i] * xv[i]) }
        expect(maps[n][p]).toBeCloseTo(want, 4)
      }
    }
    expect(acc.count).toBe(2)
    acc.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})
