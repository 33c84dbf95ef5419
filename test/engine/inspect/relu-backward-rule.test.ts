/**
 * The three ReLU backward rules on tiny graphs, checked against values worked out by hand:
 *   o = v · relu(A x), x = [1, -2, 3],
 *   A = [[1, 0, 1], [0, 1, 1], [-1, 0, 0]]  ->  pre-activations A x = [4, 1, -1]
 *   v = [1, -1, 2]                           ->  dy at the ReLU output = v
 * gradient: dx = Aᵀ (v ⊙ [Ax > 0])           = Aᵀ [1, -1, 0] = [1, -1, 0]
 * guided:   dx = Aᵀ (v ⊙ [Ax > 0] ⊙ [v > 0]) = Aᵀ [1, 0, 0]  = [1, 0, 1]
 * deconv:   dx = Aᵀ relu(v)                  = Aᵀ [1, 0, 2]  = [1 - 2, 0, 1] = [-1, 0, 1]
 * and through a max-pool (deconv's "switches" are the max-pool gradient) and two stacked ReLUs.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { withReluBackwardRule, type GradientViewMode } from '../../../src/engine/inspect/relu-backward-rule.ts'
import { withReluOverride } from '../../../src/engine/methods/relu-override.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('wasm') })

const A = tf.tensor2d([[1, 0, 1], [0, 1, 1], [-1, 0, 0]])
const V = [1, -1, 2]
const X = [1, -2, 3]

/** o = v · relu(A x) for x of shape [3] (the ReLU sees one batch row [1, 3]). */
function objective(x: tf.Tensor): tf.Scalar {
  const pre = tf.matMul(tf.reshape(x, [1, 3]), A, false, true)
  return tf.sum(tf.mul(tf.relu(pre), tf.tensor2d([V]))) as tf.Scalar
}

function gradOf(mode: GradientViewMode, f: (x: tf.Tensor) => tf.Scalar, x: number[]): number[] {
  return tf.tidy(() => Array.from(withReluBackwardRule(mode, () => tf.grad(f)(tf.tensor1d(x))).dataSync())).map((v) => v + 0)
}

describe('ReLU backward rules (hand-computed)', () => {
  it('gradient = true derivative, guided masks negative dy too, deconv passes relu(dy) whatever the input', () => {
    expect(gradOf('gradient', objective, X)).toEqual([1, -1, 0])
    expect(gradOf('guided', objective, X)).toEqual([1, 0, 1])
    expect(gradOf('deconv', objective, X)).toEqual([-1, 0, 1])
  })

  it('the rule applies at every ReLU of a chain: o = relu(-relu(x) + 0.5) summed, x = [2, -1]', () => {
    // h = relu(x) = [2, 0]; p = 0.5 - h = [-1.5, 0.5]; o = relu(p) summed = 0.5.
    // dy at the outer ReLU = 1, 1. gradient: outer mask [p>0] = [0, 1] -> dp = [0, 1] -> dh = [0, -1]
    //   -> inner mask [x>0] = [1, 0] -> dx = [0, 0].
    // guided: outer [0, 1] (dy > 0) -> dh = [0, -1] -> inner: mask x>0 and dh>0 -> [0, 0].
    // deconv: outer relu(1) = [1, 1] -> dh = [-1, -1] -> inner relu(dh) = [0, 0].
    const f = (x: tf.Tensor): tf.Scalar => tf.sum(tf.relu(tf.sub(0.5, tf.relu(x)))) as tf.Scalar
    expect(gradOf('gradient', f, [2, -1])).toEqual([0, 0])
    expect(gradOf('guided', f, [2, -1])).toEqual([0, 0])
    expect(gradOf('deconv', f, [2, -1])).toEqual([0, 0])
    // o = relu(2 * relu(x) - 1) summed, x = [2, -1]: h = [2, 0], p = [3, -1]; dy = 1.
    // gradient: dp = [1, 0], dh = [2, 0], dx = [2, 0]. guided: same. deconv: dp = [1, 1], dh = [2, 2], dx = relu = [2, 2].
    const g = (x: tf.Tensor): tf.Scalar => tf.sum(tf.relu(tf.sub(tf.mul(2, tf.relu(x)), 1))) as tf.Scalar
    expect(gradOf('gradient', g, [2, -1])).toEqual([2, 0])
    expect(gradOf('guided', g, [2, -1])).toEqual([2, 0])
    expect(gradOf('deconv', g, [2, -1])).toEqual([2, 2])
  })

  it('a max-pool sends the signal to the maximum of its window in every mode (the deconvnet switches)', () => {
    // 2x2 image [[1, 5], [3, -2]] -> relu -> max-pool 2x2 -> one value 5; o = -1 * 5 (dy negative).
    const f = (x: tf.Tensor): tf.Scalar => tf.mul(-1, tf.sum(tf.maxPool(tf.relu(x).reshape([1, 2, 2, 1]) as tf.Tensor4D, 2, 2, 'valid'))) as tf.Scalar
    const x = [1, 5, 3, -2]
    expect(gradOf('gradient', f, x)).toEqual([0, -1, 0, 0])
    expect(gradOf('guided', f, x)).toEqual([0, 0, 0, 0]) // dy < 0 is stopped at the ReLU
    expect(gradOf('deconv', f, x)).toEqual([0, 0, 0, 0]) // relu(-1) = 0
    const pos = (y: tf.Tensor): tf.Scalar => tf.neg(f(y))
    expect(gradOf('deconv', pos, x)).toEqual([0, 1, 0, 0])
  })

  it('Relu6 keeps its upper edge in gradient and guided mode; deconv ignores the input', () => {
    // x = [7, 3, -1], o = Σ c ⊙ relu6(x) with c = [1, 1, 1]: gradient [0, 1, 0]; deconv [1, 1, 1].
    const f = (x: tf.Tensor): tf.Scalar => tf.sum(tf.relu6(x)) as tf.Scalar
    expect(gradOf('gradient', f, [7, 3, -1])).toEqual([0, 1, 0])
    expect(gradOf('guided', f, [7, 3, -1])).toEqual([0, 1, 0])
    expect(gradOf('deconv', f, [7, 3, -1])).toEqual([1, 1, 1])
  })

  it('outside the wrapper (and after it) tfjs\'s own gradient is back; nested with the Lucid redirect both stay correct', () => {
    const plain = tf.tidy(() => Array.from(tf.grad(objective)(tf.tensor1d(X)).dataSync()))
    expect(plain.map((v) => v + 0)).toEqual([1, -1, 0])
    // Lucid's redirect only acts where the normal gradient is all zero; here it is not, so nothing changes.
    const both = tf.tidy(() => Array.from(withReluOverride(true, () => withReluBackwardRule('guided', () => tf.grad(objective)(tf.tensor1d(X)))).dataSync()))
    expect(both.map((v) => v + 0)).toEqual([1, 0, 1])
    expect(gradOf('gradient', objective, X)).toEqual([1, -1, 0])
  })

  it('leaks no tensors', () => {
    gradOf('deconv', objective, X)
    const before = tf.memory().numTensors
    for (let i = 0; i < 5; i++) for (const m of ['gradient', 'guided', 'deconv'] as const) gradOf(m, objective, X)
    expect(tf.memory().numTensors).toBe(before)
  })
})
