import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { depthwiseInputGrad } from '../../src/engine/gradients.ts'
import { useBackend } from '../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

type Shape4 = [number, number, number, number]
const CASES: [string, Shape4, Shape4, number, 'same' | 'valid'][] = [
  // name, x shape, filter shape [kh, kw, c, m], stride, pad
  ['3x3 s1 same', [1, 7, 7, 3], [3, 3, 3, 1], 1, 'same'],
  ['3x3 s2 same odd', [1, 7, 7, 3], [3, 3, 3, 1], 2, 'same'],
  ['3x3 s2 same even', [2, 8, 6, 2], [3, 3, 2, 1], 2, 'same'],
  ['3x3 s2 valid', [1, 9, 8, 2], [3, 3, 2, 1], 2, 'valid'],
  ['5x3 s1 valid mult 2', [1, 9, 7, 2], [5, 3, 2, 2], 1, 'valid'],
  ['3x3 s2 same mult 3', [1, 8, 8, 2], [3, 3, 2, 3], 2, 'same'],
]

describe('depthwise conv input gradient through forward ops', () => {
  it.each(CASES)('%s equals the native DepthwiseConv2dNativeBackpropInput', (_name, xs, fs, stride, pad) => {
    const x = tf.randomNormal(xs, 0, 1, 'float32', 1) as tf.Tensor4D
    const f = tf.randomNormal(fs, 0, 1, 'float32', 2) as tf.Tensor4D
    const y = tf.depthwiseConv2d(x, f, stride, pad)
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3) as tf.Tensor4D
    const native = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(xx as tf.Tensor4D, f, stride, pad), dy)))(x)
    const ours = depthwiseInputGrad(dy, x.shape, f, { strides: stride, pad })
    expect(ours.shape).toEqual(native.shape)
    expect(tf.max(tf.abs(tf.sub(ours, native))).dataSync()[0]).toBeLessThan(1e-4)
  })
})
