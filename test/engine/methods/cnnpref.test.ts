/** Tests for cnnpref's per-step pieces and the VGG16 blog's normalized step. */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import {
  clipExtreme, clipSmallContribution, clipSmallNorm, drawJitter, isClipIteration, featureMaskObjective, momentumUpdate,
  normalizedStep, normalizeGradient, rollImage, unrollImage, unrollMomentumCnnpref,
} from '../../../src/engine/methods/cnnpref.ts'
import { percentile } from '../../../src/engine/percentile.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

const values = (t: tf.Tensor): number[] => { const v = Array.from(t.dataSync()); t.dispose(); return v }

describe('gradient normalization and momentum', () => {
  it('g / mean|g| per image; an all-zero gradient stays zero', () => {
    const g = tf.tensor4d([1, -3, 0, 0, 2, 2, -2, 2], [2, 2, 2, 1])
    // image 0: mean|g| = 1; image 1: mean|g| = 2
    expect(values(normalizeGradient(g))).toEqual([1, -3, 0, 0, 1, 1, -1, 1])
    const z = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D
    expect(values(normalizeGradient(z))).toEqual([0, 0, 0, 0])
    tf.dispose([g, z])
  })

  it('δ ← m·δ + g, iterated, is the geometric sum of the gradients', () => {
    const gs = [[1, 2], [3, -1], [0.5, 0.5]].map((v) => tf.tensor4d(v, [1, 1, 2, 1]))
    let delta = tf.zeros([1, 1, 2, 1]) as tf.Tensor4D
    const before = tf.memory().numTensors
    for (const g of gs) { const next = momentumUpdate(delta, g, 0.9); delta.dispose(); delta = next }
    expect(tf.memory().numTensors).toBe(before)
    const d = values(delta)
    expect(d[0]).toBeCloseTo(0.81 * 1 + 0.9 * 3 + 0.5, 5)
    expect(d[1]).toBeCloseTo(0.81 * 2 + 0.9 * -1 + 0.5, 5)
    tf.dispose(gs)
  })
})

describe('jitter', () => {
  it('offsets lie in {−J … J}, are the same for the same seed and cover the range', () => {
    const a = Array.from({ length: 400 }, ((rng) => () => drawJitter(rng, 3))(new Rng(42)))
    const b = Array.from({ length: 400 }, ((rng) => () => drawJitter(rng, 3))(new Rng(42)))
    const c = Array.from({ length: 400 }, ((rng) => () => drawJitter(rng, 3))(new Rng(43)))
    expect(a).toEqual(b)
    expect(a).not.toEqual(c)
    const seen = new Set(a.flatMap((o) => [o.ox, o.oy]))
    expect([...seen].sort((x, y) => x - y)).toEqual([-3, -2, -1, 0, 1, 2, 3])
    expect(drawJitter(new Rng(0), 0)).toEqual({ ox: 0, oy: 0 })
    expect(() => drawJitter(new Rng(0), -1)).toThrow(/jitter/)
  })

  it('roll is np.roll by (oy rows, ox columns) and un-roll restores the image', () => {
    // 2x3 single-channel image [[0,1,2],[3,4,5]]
    const img = tf.tensor4d([0, 1, 2, 3, 4, 5], [1, 2, 3, 1])
    const rolled = rollImage(img, { ox: 1, oy: 1 })
    // np.roll(np.roll(a, 1, axis=1), 1, axis=0) = [[5,3,4],[2,0,1]]
    expect(Array.from(rolled.dataSync())).toEqual([5, 3, 4, 2, 0, 1])
    expect(values(unrollImage(rolled, { ox: 1, oy: 1 }))).toEqual([0, 1, 2, 3, 4, 5])
    expect(values(rollImage(img, { ox: 3, oy: -2 }))).toEqual([0, 1, 2, 3, 4, 5])
    tf.dispose([img, rolled])
  })

  it('un-roll restores a random multi-channel batch for random seeded offsets', () => {
    const rng = new Rng(7)
    const data = rng.fill(2 * 9 * 7 * 3, (r) => r.normal())
    const img = tf.tensor4d(data, [2, 9, 7, 3])
    const before = tf.memory().numTensors
    for (let i = 0; i < 10; i++) {
      const o = drawJitter(rng, 5)
      const back = tf.tidy(() => unrollImage(rollImage(img, o), o))
      expect(Array.from(back.dataSync())).toEqual(Array.from(data))
      back.dispose()
    }
    expect(tf.memory().numTensors).toBe(before)
    img.dispose()
  })

  it("cnnpref's momentum un-roll keeps g in jittered coordinates: it differs from ours by g − roll(g, −o)", () => {
    const rng = new Rng(1)
    const delta = tf.tensor4d(rng.fill(16, (r) => r.normal()), [1, 4, 4, 1])
    const g = tf.tensor4d(rng.fill(16, (r) => r.normal()), [1, 4, 4, 1])
    const o = { ox: 1, oy: 2 }
    const diff = tf.tidy(() => tf.sub(unrollMomentumCnnpref(delta, g, o), unrollImage(delta, o)))
    const expected = tf.tidy(() => tf.sub(g, unrollImage(g, o)))
    const dv = values(diff)
    values(expected).forEach((v, i) => expect(dv[i]).toBeCloseTo(v, 5))
    tf.dispose([delta, g])
  })
})

describe('clips (cnnpref utils.py)', () => {
  it('run on (t + 1) mod every == 0', () => {
    const at = (every: number): number[] => Array.from({ length: 12 }, (_, t) => t).filter((t) => isClipIteration(t, every))
    expect(at(4)).toEqual([3, 7, 11])
    expect(at(1)).toHaveLength(12)
    expect(() => isClipIteration(0, 0)).toThrow(/clip interval/)
  })

  // 2x2 RGB image: pixel norms 0, 5, 1, 13
  const IMG = [0, 0, 0, 3, 4, 0, 1, 0, 0, 12, 0, 5]

  it('clip_extreme clamps to the [e/2, 100 − e/2] percentiles of the image', async () => {
    const data = Array.from({ length: 30 }, (_, i) => (i * 7) % 30)
    const img = tf.tensor4d(data, [1, 2, 5, 3])
    const out = await clipExtreme(img, 20)
    const lo = percentile(data, 10)
    const hi = percentile(data, 90)
    expect(values(out)).toEqual(data.map((v) => Math.fround(Math.min(hi, Math.max(lo, v)))))
    img.dispose()
  })

  it('clip_small_norm zeroes exactly the pixels whose RGB norm is below the percentile', async () => {
    const img = tf.tensor4d(IMG, [1, 2, 2, 3])
    // norms [0, 5, 1, 13]; 50th percentile = 3 → zero pixels 0 and 2
    const out = values(await clipSmallNorm(img, 50))
    expect(out).toEqual([0, 0, 0, 3, 4, 0, 0, 0, 0, 12, 0, 5])
    // the 0th percentile is the minimum: strict < zeroes nothing
    expect(values(await clipSmallNorm(img, 0))).toEqual(IMG)
    img.dispose()
  })

  it('clip_small_contribution uses the norm of img ⊙ g, not of img', async () => {
    const img = tf.tensor4d(IMG, [1, 2, 2, 3])
    // g makes pixel 3 (largest image norm) contribute nothing and pixel 2 contribute most
    const g = tf.tensor4d([1, 1, 1, 1, 1, 1, 100, 0, 0, 0, 0, 0], [1, 2, 2, 3])
    // contribution norms [0, 5, 100, 0]; 50th percentile = 2.5 → zero pixels 0 and 3
    const out = values(await clipSmallContribution(img, g, 50))
    expect(out).toEqual([0, 0, 0, 3, 4, 0, 1, 0, 0, 0, 0, 0])
    tf.dispose([img, g])
  })

  it('clips work per image of a batch and reject bad percentiles', async () => {
    const img = tf.tensor4d([...IMG, ...IMG.map((v) => v * 2)], [2, 2, 2, 3])
    const out = values(await clipSmallNorm(img, 50))
    expect(out.slice(12)).toEqual(out.slice(0, 12).map((v) => v * 2))
    await expect(clipSmallNorm(img, 101)).rejects.toThrow(/percentile/)
    img.dispose()
  })
})

describe('feature mask objective', () => {
  it('equals Σ w·a computed by hand, per image', () => {
    const rng = new Rng(2)
    const shape = [2, 3, 4, 5]
    const a = rng.fill(2 * 3 * 4 * 5, (r) => r.normal())
    const w = rng.fill(3 * 4 * 5, (r) => (r.random() < 0.3 ? r.uniform(-2, 2) : 0))
    const acts = tf.tensor(a, shape)
    const weights = tf.tensor(w, [3, 4, 5])
    const out = values(featureMaskObjective(acts, weights))
    for (let n = 0; n < 2; n++) {
      let s = 0
      for (let i = 0; i < w.length; i++) s += w[i] * a[n * w.length + i]
      expect(out[n]).toBeCloseTo(s, 4)
    }
    // a one-hot mask picks one unit
    const onehot = tf.tidy(() => tf.oneHot([2 * 5 + 3], 60).reshape([3, 4, 5]).toFloat())
    expect(values(featureMaskObjective(acts, onehot))[1]).toBeCloseTo(a[60 + 13], 5)
    expect(() => featureMaskObjective(acts, tf.zeros([3, 4]))).toThrow(/feature mask shape/)
    tf.dispose([acts, weights, onehot])
  })
})

describe("the VGG16 blog's normalized step", () => {
  it('x + step·g/(max|g| + 1e-8): the largest change is step, even when max(g) < 0', () => {
    const x = tf.tensor4d([1, 1, 1, 1], [1, 2, 2, 1])
    const g = tf.tensor4d([-4, -2, -1, -0.5], [1, 2, 2, 1])
    const out = values(normalizedStep(x, g, 2))
    // max|g| = 4: steps are −2, −1, −0.5, −0.25 (the blog's max(g) = −0.5 would flip and quadruple them)
    ;[-1, 0, 0.5, 0.75].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 6))
    tf.dispose([x, g])
  })
})

describe('the same numbers on the wasm backend', () => {
  it('roll, normalization, momentum, clips, mask objective and normalized step match cpu', async () => {
    const rng = new Rng(21)
    const img = rng.fill(2 * 6 * 5 * 3, (r) => r.normal(0, 50))
    const g = rng.fill(2 * 6 * 5 * 3, (r) => r.normal())
    const w = rng.fill(6 * 5 * 3, (r) => r.uniform(-1, 1))
    const run = async (): Promise<number[][]> => {
      const x = tf.tensor4d(img, [2, 6, 5, 3])
      const gt = tf.tensor4d(g, [2, 6, 5, 3])
      const wt = tf.tensor3d(w, [6, 5, 3])
      const out = [
        values(rollImage(x, { ox: 2, oy: -3 })),
        values(normalizeGradient(gt)),
        values(momentumUpdate(x, gt, 0.9)),
        values(await clipSmallNorm(x, 30)),
        values(await clipSmallContribution(x, gt, 30)),
        values(await clipExtreme(x, 10)),
        values(featureMaskObjective(x, wt)),
        values(normalizedStep(x, gt, 2)),
      ]
      tf.dispose([x, gt, wt])
      return out
    }
    const cpu = await run()
    await useBackend('wasm')
    const wasm = await run()
    await useBackend('cpu')
    cpu.forEach((a, k) => a.forEach((v, i) => expect(wasm[k][i]).toBeCloseTo(v, 2)))
  })
})
