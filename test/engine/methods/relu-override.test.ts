/**
 * Lucid's redirected ReLU gradient: with the override a unit whose ReLU is dead at x0 still gets a
 * non-zero input gradient that would raise it; without it (and outside withReluOverride) the gradient is
 * tfjs's own; gradients pushing a dead input further down stay zero; live units are untouched.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { withReluOverride } from '../../../src/engine/methods/relu-override.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('wasm') })

/** -objective of a unit relu(w . x - 5), dead at x = 0 (pre-activation -5). */
const W = [0.5, -1, 2]
const loss = (x: tf.Tensor): tf.Scalar => tf.neg(tf.sum(tf.relu(tf.sub(tf.sum(tf.mul(x, tf.tensor1d(W)), -1), 5)))) as tf.Scalar

/** Plain numbers with -0 read as 0. */
const plainZeros = (v: number[]): number[] => v.map((x) => x + 0)

describe('redirected ReLU gradient', () => {
  it('a unit dead at x0 receives a non-zero input gradient in step 1 only with the override, pointing up the objective', () => {
    const before = tf.memory().numTensors
    tf.tidy(() => {
      const x0 = tf.zeros([1, 3])
      const plain = (tf.grad(loss)(x0).arraySync() as number[][])[0]
      expect(plainZeros(plain)).toEqual([0, 0, 0])
      const redirected = (withReluOverride(true, () => tf.grad(loss)(x0)).arraySync() as number[][])[0]
      // d(-obj)/dx = -W: a descent step raises the unit's pre-activation
      redirected.forEach((g, i) => expect(g).toBeCloseTo(-W[i], 6))
      // outside the wrapper the normal gradient is back
      expect(plainZeros((tf.grad(loss)(x0).arraySync() as number[][])[0])).toEqual([0, 0, 0])
    })
    expect(tf.memory().numTensors).toBe(before)
  })

  it('keeps the normal gradient when any unit of the image is live, and never pushes a dead input lower', () => {
    tf.tidy(() => {
      // two units: one live (x = 2), one dead (x = -1); objective = relu(a) + relu(b)
      const obj = (x: tf.Tensor) => tf.neg(tf.sum(tf.relu(x)))
      const x = tf.tensor2d([[2, -1]])
      expect(plainZeros((withReluOverride(true, () => tf.grad(obj)(x)).arraySync() as number[][])[0])).toEqual([-1, 0])
      // minimizing a dead unit (objective = -relu(x)): the redirect must not push it lower
      const down = (x: tf.Tensor) => tf.sum(tf.relu(x))
      expect(plainZeros((withReluOverride(true, () => tf.grad(down)(tf.tensor2d([[-1, -3]]))).arraySync() as number[][])[0])).toEqual([0, 0])
    })
  })
})
