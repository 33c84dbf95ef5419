import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { depthwiseInputGrad } from '../../src/engine/gradients.ts'
import { useBackend } from '../helpers/tf-backend.ts'
import { probeWebGpu } from '../helpers/webgpu.ts'

const WEBGPU = await probeWebGpu()

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

describe('max-pool input gradient on wasm and webgpu equals cpu, also where a window is all negative', () => {
  /** d sum(maxPool(x) * dy) / dx on `backend` for fixed values (dy weights tell the windows apart). */
  async function poolGrad(backend: 'cpu' | 'wasm' | 'webgpu', x: number[], shape: Shape4, size: number, stride: number, pad: 'same' | 'valid'): Promise<number[]> {
    expect(await useBackend(backend)).toBe(backend)
    const g = tf.tidy(() => {
      const xt = tf.tensor4d(x, shape)
      const y = tf.maxPool(xt, size, stride, pad)
      const dy = tf.range(1, y.size + 1).reshape(y.shape)
      return tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(xx as tf.Tensor4D, size, stride, pad), dy)))(xt)
    })
    const out = Array.from(await g.data())
    g.dispose()
    await useBackend('cpu')
    return out
  }

  it('routes an all-negative window to its maximum (the stock wasm kernel picks the first element)', async () => {
    const x = [-1, -2, -3, -0.5]
    expect(await poolGrad('cpu', x, [1, 2, 2, 1], 2, 2, 'valid')).toEqual([0, 0, 0, 1])
    expect(await poolGrad('wasm', x, [1, 2, 2, 1], 2, 2, 'valid')).toEqual([0, 0, 0, 1])
  })

  it.skipIf(!WEBGPU.ok)('routes an all-negative window to its maximum on webgpu', async () => {
    expect(await poolGrad('webgpu', [-1, -2, -3, -0.5], [1, 2, 2, 1], 2, 2, 'valid')).toEqual([0, 0, 0, 1])
  })

  it.each([
    ['2x2 s2 same odd', [1, 7, 7, 3] as Shape4, 2, 2, 'same' as const],
    ['3x3 s2 valid (GoogLeNet-style overlap)', [2, 9, 9, 2] as Shape4, 3, 2, 'valid' as const],
    ['3x3 s1 same', [1, 6, 5, 2] as Shape4, 3, 1, 'same' as const],
  ])('%s with mixed-sign values', async (_n, shape, size, stride, pad) => {
    const n = shape.reduce((a, b) => a * b)
    // Distinct values of both signs (a fixed permutation of -n/2..n/2), so no window has a tie.
    const x = Array.from({ length: n }, (_, i) => ((i * 37) % n) - n / 2 + 0.25)
    const cpu = await poolGrad('cpu', x, shape, size, stride, pad)
    expect(cpu.some((v) => v !== 0)).toBe(true)
    expect(await poolGrad('wasm', x, shape, size, stride, pad)).toEqual(cpu)
    if (WEBGPU.ok) expect(await poolGrad('webgpu', x, shape, size, stride, pad)).toEqual(cpu)
  })
})
