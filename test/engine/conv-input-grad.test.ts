/**
 * The stride-1 convolution input gradient through a forward conv (src/engine/conv-input-grad.ts) on
 * wasm gives what tfjs' native Conv2DBackpropInput kernel gives, for every padding kind, and the
 * override leaves strided convolutions and the optimizer's results as they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import {
  convInputGradPolyphase, convInputGradViaForward, installConvInputGradient, setConvInputGradientEnabled,
} from '../../src/engine/conv-input-grad.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { optimizeImage } from '../../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../../src/engine/params.ts'
import { useBackend } from '../helpers/tf-backend.ts'

/**
 * Relative float tolerance. Per gradient the two paths agreed bit for bit on every shape we tried; over
 * an optimization, rare last-bit differences can grow through the percentile clips (a pixel on the
 * threshold flips), which is why the optimizer comparison uses a run without clips.
 */
const REL_TOL = 1e-6

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding

function nativeInputGrad(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, stride: number, pad: Pad): tf.Tensor4D {
  // conv2dTranspose runs the Conv2DBackpropInput kernel directly, whatever gradient is registered.
  return tf.conv2dTranspose(dy, w, x.shape, stride, pad as 'same' | 'valid' | number)
}

function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / Math.max(tf.max(tf.abs(b)).dataSync()[0], 1e-30))
}

function relDiffArrays(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0
  let scale = 1e-30
  for (let i = 0; i < b.length; i++) { worst = Math.max(worst, Math.abs(a[i] - b[i])); scale = Math.max(scale, Math.abs(b[i])) }
  return worst / scale
}

let loaded: LoadedModel
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
})
afterAll(() => loaded?.model.dispose())

describe('conv input gradient through a forward conv (wasm)', () => {
  it.each<[string, [number, number, number, number], number, number, Pad]>([
    ['3x3 same', [1, 12, 10, 5], 3, 7, 'same'],
    ['3x3 valid', [2, 9, 11, 4], 3, 6, 'valid'],
    ['1x1 same', [1, 8, 8, 16], 1, 8, 'same'],
    ['5x5 numeric pad 1', [1, 10, 9, 3], 5, 4, 1],
    ['4x4 same (asymmetric pad)', [1, 9, 9, 3], 4, 5, 'same'],
    ['3x3 explicit pads', [1, 8, 7, 3], 3, 2, [[0, 0], [2, 0], [1, 2], [0, 0]]],
  ])('%s equals the native kernel', (_, xShape, k, out, pad) => {
    tf.tidy(() => {
      const x = tf.randomNormal(xShape, 0, 1, 'float32', 1) as tf.Tensor4D
      const w = tf.randomNormal([k, k, xShape[3], out], 0, 0.3, 'float32', 2) as tf.Tensor4D
      const y = tf.conv2d(x, w, 1, pad as 'same')
      const dy = tf.randomNormal(y.shape, 0, 1, 'float32', 3) as tf.Tensor4D
      const fast = convInputGradViaForward(dy, xShape, w, { strides: 1, pad })
      expect(fast).not.toBeNull()
      expect(fast!.shape).toEqual(xShape)
      expect(relDiff(fast!, nativeInputGrad(x, w, dy, 1, pad))).toBeLessThanOrEqual(REL_TOL)
    })
  })

  it.each<[string, [number, number, number, number], number, number, number, Pad]>([
    ['7x7 stride 2 same (GoogLeNet conv1 shape, smaller)', [1, 30, 30, 3], 7, 6, 2, 'same'],
    ['3x3 stride 2 valid, odd size', [1, 27, 27, 3], 3, 5, 2, 'valid'],
    ['5x5 stride 3 same, batch 2', [2, 13, 10, 3], 5, 4, 3, 'same'],
    ['4x4 stride 2 valid', [1, 10, 9, 2], 4, 3, 2, 'valid'],
    ['1x1 stride 2 (phases without taps)', [1, 9, 11, 3], 1, 4, 2, 'same'],
    ['3x3 stride 2 explicit pads', [1, 9, 9, 2], 3, 3, 2, [[0, 0], [2, 1], [0, 1], [0, 0]]],
  ])('polyphase %s equals the native kernel', (_, xShape, k, out, stride, pad) => {
    tf.tidy(() => {
      const x = tf.randomNormal(xShape, 0, 1, 'float32', 1) as tf.Tensor4D
      const w = tf.randomNormal([k, k, xShape[3], out], 0, 0.3, 'float32', 2) as tf.Tensor4D
      const dy = tf.randomNormal(tf.conv2d(x, w, stride, pad as 'same').shape, 0, 1, 'float32', 3) as tf.Tensor4D
      const fast = convInputGradPolyphase(dy, xShape, w, { strides: stride, pad })
      expect(fast!.shape).toEqual(xShape)
      expect(relDiff(fast!, nativeInputGrad(x, w, dy, stride, pad))).toBeLessThanOrEqual(REL_TOL)
    })
  })

  it('the stride-1 path declines strided or dilated convolutions, the polyphase one dilated ones', () => {
    tf.tidy(() => {
      const w = tf.ones([3, 3, 2, 2]) as tf.Tensor4D
      const dy = tf.ones([1, 4, 4, 2]) as tf.Tensor4D
      expect(convInputGradViaForward(dy, [1, 8, 8, 2], w, { strides: 2, pad: 'same' })).toBeNull()
      expect(convInputGradViaForward(dy, [1, 8, 8, 2], w, { strides: 1, pad: 'valid', dilations: 2 })).toBeNull()
      expect(convInputGradPolyphase(dy, [1, 8, 8, 2], w, { strides: 2, pad: 'valid', dilations: 2 })).toBeNull()
    })
  })

  it.each([
    [1, 3, false], [2, 3, true], [2, 7, false],
  ])('once installed, tf.grad of a stride-%i %ix%i conv2d runs the native Conv2DBackpropInput: %s; values are the native ones', async (stride, k, usesNative) => {
    installConvInputGradient()
    {
      const x = tf.randomNormal([1, 11, 11, 3], 0, 1, 'float32', 4) as tf.Tensor4D
      const w = tf.randomNormal([k, k, 3, 4], 0, 0.3, 'float32', 5) as tf.Tensor4D
      const dy = tf.randomNormal(tf.tidy(() => tf.conv2d(x, w, stride, 'same')).shape, 0, 1, 'float32', 6) as tf.Tensor4D
      let g: tf.Tensor | null = null
      const info = await tf.profile(() => { g = tf.grad((xx: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, w, stride, 'same'))(x, dy) })
      const kernels = info.kernels.map((k) => k.name)
      expect(kernels.includes('Conv2DBackpropInput'), kernels.join(' ')).toBe(usesNative)
      const native = nativeInputGrad(x, w, dy, stride, 'same')
      expect(relDiff(g!, native)).toBeLessThanOrEqual(REL_TOL)
      tf.dispose([x, w, dy, g!, native])
    }
  })

  it('optimizeImage gives the same result with the override on and off', async () => {
    const p = { ...PRESETS['yosinski-3'].params, push_layer: 'logits', push_channel: 4, max_iter: 25 } as FindParams
    setConvInputGradientEnabled(false)
    const native = await optimizeImage(loaded.model, loaded.inputSpec, p)
    setConvInputGradientEnabled(true)
    const fast = await optimizeImage(loaded.model, loaded.inputSpec, p)
    expect(fast.series.ii).toEqual(native.series.ii)
    expect(relDiffArrays(fast.series.obj, native.series.obj)).toBeLessThanOrEqual(REL_TOL)
    expect(relDiffArrays(fast.last!.x, native.last!.x)).toBeLessThanOrEqual(REL_TOL)
    expect(fast.best!.ii).toBe(native.best!.ii)
  })
})
