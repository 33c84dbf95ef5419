/** Tests for dnnbrain's image penalties: TV (anisotropic sum), L1, L2 (the norm), per image. */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { l1Penalty, l2Penalty, totalVariation } from '../../../src/engine/methods/penalties.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

/** Energy of the pixel-to-pixel differences along x: a high-frequency measure independent of TV's form. */
function highFrequencyEnergy(x: Float32Array, h: number, w: number): number {
  let e = 0
  for (let y = 0; y < h; y++) for (let i = 0; i + 1 < w; i++) e += (x[y * w + i + 1] - x[y * w + i]) ** 2
  return e
}

describe('penalties on fixed arrays', () => {
  // Image 0: [[1, 4], [2, 8]], 1 channel; image 1: [[-1, 0], [0, 3]].
  const x = () => tf.tensor4d([1, 4, 2, 8, -1, 0, 0, 3], [2, 2, 2, 1])

  it('TV = Σ|Δy| + Σ|Δx|, per image', () => {
    const v = tf.tidy(() => Array.from(totalVariation(x()).dataSync()))
    // image 0: |2-1| + |8-4| + |4-1| + |8-2| = 1 + 4 + 3 + 6 = 14; image 1: 1 + 3 + 1 + 3 = 8
    expect(v).toEqual([14, 8])
  })

  it('TV sums over channels as well', () => {
    const v = tf.tidy(() => totalVariation(tf.tensor4d([0, 10, 1, 10], [1, 1, 2, 2])).dataSync()[0])
    expect(v).toBe(1 + 0)
  })

  it('L1 = Σ|x| and L2 = sqrt(Σx²) (not squared)', () => {
    const [a, b] = tf.tidy(() => [Array.from(l1Penalty(x()).dataSync()), Array.from(l2Penalty(x()).dataSync())])
    expect(a).toEqual([15, 4])
    expect(b[0]).toBeCloseTo(Math.sqrt(1 + 16 + 4 + 64), 5)
    expect(b[1]).toBeCloseTo(Math.sqrt(10), 5)
  })

  it('TV of a constant image is 0 and a checkerboard has more than a smooth ramp of the same range', () => {
    const n = 8
    const constant = tf.fill([1, n, n, 3], 7) as tf.Tensor4D
    const checker = tf.tensor4d(Array.from({ length: n * n * 3 }, (_, i) => (Math.floor(i / 3) % n + Math.floor(i / 3 / n)) % 2), [1, n, n, 3])
    const ramp = tf.tensor4d(Array.from({ length: n * n * 3 }, (_, i) => (Math.floor(i / 3) % n) / (n - 1)), [1, n, n, 3])
    const [c, k, r] = tf.tidy(() => [constant, checker, ramp].map((t) => totalVariation(t).dataSync()[0]))
    expect(c).toBe(0)
    // checkerboard: every one of the 2·n·(n−1) neighbour pairs differs by 1, in 3 channels
    expect(k).toBeCloseTo(2 * n * (n - 1) * 3, 4)
    expect(k).toBeGreaterThan(r)
    tf.dispose([constant, checker, ramp])
  })

  it('rejects a tensor that is not a batch', () => {
    const t = tf.zeros([4, 4, 3]) as unknown as tf.Tensor4D
    expect(() => totalVariation(t)).toThrow(/\[N, H, W, C\]/)
    expect(() => l1Penalty(t)).toThrow(/\[N, H, W, C\]/)
    t.dispose()
  })
})

describe('penalties are differentiable', () => {
  it('gradient descent on TV lowers high-frequency energy and leaks no tensors', () => {
    const h = 16
    const w = 16
    const rng = new Rng(3)
    const x0 = rng.fill(h * w, (r) => r.normal(0, 1))
    const x = tf.variable(tf.tensor4d(x0, [1, h, w, 1]))
    const grad = tf.grad((t: tf.Tensor) => totalVariation(t as tf.Tensor4D).sum())
    const before = tf.memory().numTensors
    for (let i = 0; i < 50; i++) {
      tf.tidy(() => { x.assign(tf.sub(x, tf.mul(grad(x), 0.02))) })
    }
    expect(tf.memory().numTensors).toBe(before)
    const after = x.dataSync() as Float32Array
    expect(highFrequencyEnergy(after, h, w)).toBeLessThan(0.5 * highFrequencyEnergy(x0, h, w))
    x.dispose()
  })

  it('the gradients of L1 and L2 are sign(x) and x/‖x‖', () => {
    const x = tf.tensor4d([3, -4], [1, 1, 2, 1])
    const [g1, g2] = tf.tidy(() => [
      Array.from(tf.grad((t: tf.Tensor) => l1Penalty(t as tf.Tensor4D).sum())(x).dataSync()),
      Array.from(tf.grad((t: tf.Tensor) => l2Penalty(t as tf.Tensor4D).sum())(x).dataSync()),
    ])
    expect(g1).toEqual([1, -1])
    expect(g2[0]).toBeCloseTo(0.6, 6)
    expect(g2[1]).toBeCloseTo(-0.8, 6)
    x.dispose()
  })
})

describe('the same numbers on the wasm backend', () => {
  it('values and TV gradient match cpu', async () => {
    const data = new Rng(8).fill(2 * 5 * 4 * 3, (r) => r.normal())
    const run = (): number[][] => tf.tidy(() => {
      const x = tf.tensor4d(data, [2, 5, 4, 3])
      return [totalVariation(x), l1Penalty(x), l2Penalty(x), tf.grad((t: tf.Tensor) => totalVariation(t as tf.Tensor4D).sum())(x)]
        .map((t) => Array.from(t.dataSync()))
    })
    const cpu = run()
    await useBackend('wasm')
    const wasm = run()
    await useBackend('cpu')
    cpu.forEach((a, k) => a.forEach((v, i) => expect(wasm[k][i]).toBeCloseTo(v, 3)))
  })
})
