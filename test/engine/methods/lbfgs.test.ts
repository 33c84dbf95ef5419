/** Tests for projected L-BFGS with box bounds. */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { minimizeLbfgsB, type ValueAndGrad } from '../../../src/engine/methods/lbfgs.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

/** f(x) = ½ (x − c)ᵀ A (x − c), A = diag(a) + a rank-one coupling (SPD), minimizer c. */
function quadratic(c: number[], a: number[]): (x: Float64Array) => ValueAndGrad {
  return (x) => {
    const d = Array.from(x, (v, i) => v - c[i])
    const sumD = d.reduce((s, v) => s + v, 0)
    const grad = d.map((v, i) => a[i] * v + 0.5 * sumD)
    const value = 0.5 * d.reduce((s, v, i) => s + v * grad[i], 0)
    return { value, grad }
  }
}

function rosenbrock(x: Float64Array): ValueAndGrad {
  const [a, b] = [x[0], x[1]]
  return { value: (1 - a) ** 2 + 100 * (b - a * a) ** 2, grad: [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)] }
}

describe('minimizeLbfgsB', () => {
  it('converges on an ill-conditioned quadratic to 1e-6 of the minimizer', async () => {
    const c = [1, -2, 3, 0.5, -0.25, 4, 10, -7]
    const a = [1, 10, 100, 3, 30, 0.5, 7, 1000]
    const r = await minimizeLbfgsB(quadratic(c, a), new Array(c.length).fill(0), { gtol: 1e-10, ftol: 0 })
    expect(r.converged).toBe(true)
    c.forEach((v, i) => expect(Math.abs(r.x[i] - v)).toBeLessThan(1e-6))
  })

  it('converges on 2-D Rosenbrock from (−1.2, 1)', async () => {
    const r = await minimizeLbfgsB(rosenbrock, [-1.2, 1], { gtol: 1e-8, ftol: 0, maxIter: 500 })
    expect(r.converged).toBe(true)
    expect(Math.abs(r.x[0] - 1)).toBeLessThan(1e-5)
    expect(Math.abs(r.x[1] - 1)).toBeLessThan(1e-5)
    expect(r.value).toBeLessThan(1e-10)
  })

  it('respects bounds: the answer lies on the bound and satisfies KKT', async () => {
    // unconstrained minimum c is outside [−1, 1] in coordinates 0, 2 and 5
    const c = [2, 0.3, -5, 0.1, -0.4, 1.5]
    const a = [1, 2, 3, 4, 5, 6]
    const f = quadratic(c, a)
    const visited: number[] = []
    const r = await minimizeLbfgsB((x) => { visited.push(...x); return f(x) }, [0, 0, 0, 0, 0, 0],
      { lower: -1, upper: 1, gtol: 1e-9, ftol: 0 })
    expect(r.converged).toBe(true)
    expect(visited.every((v) => v >= -1 && v <= 1)).toBe(true)
    const g = f(r.x).grad as number[]
    for (let i = 0; i < c.length; i++) {
      if (r.x[i] >= 1) expect(g[i]).toBeLessThanOrEqual(1e-8) // at the upper bound: pushing outwards or zero
      else if (r.x[i] <= -1) expect(g[i]).toBeGreaterThanOrEqual(-1e-8)
      else expect(Math.abs(g[i])).toBeLessThan(1e-8) // free: stationary
    }
    expect(r.x[0]).toBe(1)
    expect(r.x[2]).toBe(-1)
  })

  it('a bounded quadratic matches the value of the best point on a fine grid (2-D)', async () => {
    const f = quadratic([3, -0.5], [1, 4])
    const r = await minimizeLbfgsB(f, [0, 0], { lower: [-1, -1], upper: [1, 1], gtol: 1e-10, ftol: 0 })
    let best = Infinity
    for (let i = 0; i <= 200; i++) for (let j = 0; j <= 200; j++) best = Math.min(best, f(Float64Array.of(-1 + i / 100, -1 + j / 100)).value)
    expect(r.value).toBeLessThanOrEqual(best + 1e-9)
  })

  it('respects maxIter and reports it', async () => {
    const r = await minimizeLbfgsB(rosenbrock, [-1.2, 1], { maxIter: 3, gtol: 0, ftol: 0 })
    expect(r.iterations).toBe(3)
    expect(r.stop).toBe('maxIter')
    expect(r.converged).toBe(false)
    const zero = await minimizeLbfgsB(rosenbrock, [-1.2, 1], { maxIter: 0 })
    expect(zero.iterations).toBe(0)
    expect(Array.from(zero.x)).toEqual([-1.2, 1])
  })

  it('takes an async tensor objective (the way an image is optimized) and leaks no tensors', async () => {
    const target = new Rng(4).fill(12, (r) => r.uniform(-1, 1))
    const t = tf.tensor1d(target)
    const before = tf.memory().numTensors
    const f = async (x: Float64Array): Promise<ValueAndGrad> => {
      const [value, grad] = tf.tidy(() => {
        const xt = tf.tensor1d(Float32Array.from(x))
        const { value: v, grad: g } = tf.valueAndGrad((y: tf.Tensor) => tf.sum(tf.square(tf.sub(y, t))))(xt)
        return [v, g]
      })
      const out = { value: (await value.data())[0], grad: await grad.data() }
      tf.dispose([value, grad])
      return out
    }
    const r = await minimizeLbfgsB(f, new Array(12).fill(0), { lower: -0.5, upper: 0.5 })
    expect(tf.memory().numTensors).toBe(before)
    target.forEach((v, i) => expect(r.x[i]).toBeCloseTo(Math.min(0.5, Math.max(-0.5, v)), 4))
    t.dispose()
  })

  it('rejects inconsistent bounds and gradient sizes', async () => {
    await expect(minimizeLbfgsB(rosenbrock, [0, 0], { lower: 1, upper: 0 })).rejects.toThrow(/lower bound/)
    await expect(minimizeLbfgsB(rosenbrock, [0, 0], { lower: [0, 0, 0] })).rejects.toThrow(/3 values for 2/)
    await expect(minimizeLbfgsB(() => ({ value: 0, grad: [0] }), [0, 0])).rejects.toThrow(/gradient values/)
  })
})
