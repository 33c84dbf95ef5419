/**
 * The ONNX executor on small graphs built in the test: input gradients against central finite
 * differences (conv family with pads / strides / groups / ceil_mode / count_include_pad, and a
 * transformer-like graph with LayerNormalization, MatMul, Softmax, Erf, Gather, Slice), tensors flat
 * across iterations, a batch on a batch-of-one graph, and one-line errors for bad ONNX.
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { DeepVisError } from '../../src/shared/errors.ts'
import { createOnnxVisModel } from '../../src/engine/model/onnx/onnx-vis-model.ts'
import { parseOnnx } from '../../src/engine/model/onnx/proto.ts'
import { useBackend } from '../helpers/tf-backend.ts'
import { buildOnnx, values, type TestTensor } from '../fixtures/onnx-builder.ts'

const t = (name: string, dims: number[], seed: number, scale = 1): TestTensor =>
  ({ name, dims, data: values(dims.reduce((a, b) => a * b, 1), seed).map((v) => v * scale) })
const ints = (name: string, data: number[]): TestTensor => ({ name, dims: [data.length], data, int64: true })

export function cnnModel(batch: number | string = 1): Uint8Array {
  return buildOnnx({
    input: { name: 'input', dims: [batch, 3, 8, 8] },
    outputs: ['logits'],
    initializers: [
      t('w1', [4, 3, 3, 3], 2, 0.5), t('b1', [4], 3, 0.1),
      t('bn_s', [4], 4, 0.5), t('bn_b', [4], 5, 0.1), t('bn_m', [4], 6, 0.1), { ...t('bn_v', [4], 7), data: [0.5, 1, 1.5, 2] },
      t('w2', [4, 2, 3, 3], 8, 0.5), t('fc_w', [5, 16], 9, 0.5), t('fc_b', [5], 10, 0.1),
    ],
    nodes: [
      { op: 'Conv', name: '/features/conv1/Conv', inputs: ['input', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2], kernel_shape: [3, 3] } },
      { op: 'BatchNormalization', name: '/features/bn1/BatchNormalization', inputs: ['c1', 'bn_s', 'bn_b', 'bn_m', 'bn_v'], outputs: ['bn1'], attrs: { epsilon: 1e-3 } },
      { op: 'Relu', name: '/features/relu/Relu', inputs: ['bn1'], outputs: ['r1'] },
      { op: 'Conv', name: '/features/conv2/Conv', inputs: ['r1', 'w2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1], group: 2 } },
      { op: 'MaxPool', name: '/features/pool/MaxPool', inputs: ['c2'], outputs: ['p1'], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } },
      { op: 'AveragePool', name: '/features/avg/AveragePool', inputs: ['p1'], outputs: ['p2'], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 0 } },
      { op: 'LRN', name: '/features/norm/LRN', inputs: ['p2'], outputs: ['n1'], attrs: { size: 3, alpha: 0.01, beta: 0.75, bias: 1 } },
      { op: 'Flatten', name: '/Flatten', inputs: ['n1'], outputs: ['f'], attrs: { axis: 1 } },
      { op: 'Gemm', name: '/fc/Gemm', inputs: ['f', 'fc_w', 'fc_b'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  })
}

function transformerModel(): Uint8Array {
  return buildOnnx({
    opset: 17,
    input: { name: 'input', dims: [1, 3, 4, 4] },
    outputs: ['out'],
    initializers: [
      t('pw', [6, 3, 2, 2], 11, 0.5), t('pb', [6], 12, 0.1), ints('shape', [1, 6, 4]),
      t('ln_s', [6], 13, 0.5), t('ln_b', [6], 14, 0.1), t('wq', [6, 6], 15, 0.5),
      ints('s0', [1]), ints('e0', [5]), ints('ax', [2]), { name: 'idx', dims: [], data: [0], int64: true },
    ],
    nodes: [
      { op: 'Conv', inputs: ['input', 'pw', 'pb'], outputs: ['patch'], attrs: { strides: [2, 2], kernel_shape: [2, 2] } },
      { op: 'Reshape', inputs: ['patch', 'shape'], outputs: ['r'] },
      { op: 'Transpose', inputs: ['r'], outputs: ['tok'], attrs: { perm: [0, 2, 1] } },
      { op: 'LayerNormalization', inputs: ['tok', 'ln_s', 'ln_b'], outputs: ['ln'], attrs: { axis: -1, epsilon: 1e-5 } },
      { op: 'MatMul', inputs: ['ln', 'wq'], outputs: ['q'] },
      { op: 'Softmax', inputs: ['q'], outputs: ['sm'], attrs: { axis: -1 } },
      { op: 'Mul', inputs: ['sm', 'q'], outputs: ['m'] },
      { op: 'Erf', inputs: ['m'], outputs: ['e'] },
      { op: 'Slice', inputs: ['e', 's0', 'e0', 'ax'], outputs: ['sl'] },
      { op: 'Gather', inputs: ['sl', 'idx'], outputs: ['out'], attrs: { axis: 1 } },
    ],
  })
}

/** Max |analytic - central difference| over sampled input entries, relative to max |analytic|. */
function finiteDifferenceError(bytes: Uint8Array, layer: string, inShape: [number, number, number, number]): number {
  const model = createOnnxVisModel(parseOnnx(bytes))
  try {
    const x0 = tf.tensor(values(inShape.reduce((a, b) => a * b, 1), 21), inShape) as tf.Tensor4D
    const probe = model.forward(x0, layer)
    const r = tf.tensor(values(probe.size, 22), probe.shape)
    probe.dispose()
    const f = (x: tf.Tensor): tf.Scalar => tf.sum(tf.mul(model.forward(x as tf.Tensor4D, layer), r))
    const g = tf.grad(f)(x0)
    const gd = g.dataSync()
    const xd = x0.dataSync()
    const eps = 1e-2
    let worst = 0
    for (let k = 0; k < 24; k++) {
      const i = Math.floor(((k * 7919) % 997) / 997 * xd.length)
      const plus = Float32Array.from(xd); plus[i] += eps
      const minus = Float32Array.from(xd); minus[i] -= eps
      const fp = tf.tidy(() => f(tf.tensor(plus, inShape)).dataSync()[0])
      const fm = tf.tidy(() => f(tf.tensor(minus, inShape)).dataSync()[0])
      worst = Math.max(worst, Math.abs((fp - fm) / (2 * eps) - gd[i]))
    }
    const scale = tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0])
    tf.dispose([x0, r, g])
    return worst / scale
  } finally {
    model.dispose()
  }
}

describe('ONNX executor on small graphs (cpu)', () => {
  beforeAll(async () => { await useBackend('cpu') })

  it('input gradients of a conv / pool / norm / dense graph match finite differences', () => {
    expect(finiteDifferenceError(cnnModel(), 'logits', [1, 8, 8, 3])).toBeLessThan(2e-2)
  })

  it('input gradients of a transformer-like graph match finite differences', () => {
    expect(finiteDifferenceError(transformerModel(), 'out', [1, 4, 4, 3])).toBeLessThan(2e-2)
  })

  it('a patch-embedding conv (stride = kernel) equals tf.conv2d, and its gradient finite differences', () => {
    const w = t('pw', [5, 3, 4, 4], 31, 0.5)
    const bytes = buildOnnx({
      input: { name: 'input', dims: [1, 3, 8, 8] }, outputs: ['y'], initializers: [w],
      nodes: [{ op: 'Conv', inputs: ['input', 'pw'], outputs: ['y'], attrs: { strides: [4, 4], kernel_shape: [4, 4] } }],
    })
    const model = createOnnxVisModel(parseOnnx(bytes))
    tf.tidy(() => {
      const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D
      const filter = tf.transpose(tf.tensor(w.data, w.dims), [2, 3, 1, 0]) as unknown as tf.Tensor4D
      const want = tf.conv2d(x, filter, 4, 'valid')
      const got = model.forward(x, 'y')
      expect(got.shape).toEqual([2, 2, 2, 5])
      expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-5)
    })
    model.dispose()
    expect(finiteDifferenceError(bytes, 'y', [1, 8, 8, 3])).toBeLessThan(2e-2)
  })

  it('names layers by module, offers pre_relu, returns NHWC maps, keeps tensors flat', () => {
    const model = createOnnxVisModel(parseOnnx(cnnModel()))
    expect(model.layerNames).toContain('features/conv1')
    expect(model.layerNames).toContain('features/relu/pre_relu')
    const x = tf.randomNormal([1, 8, 8, 3]) as tf.Tensor4D
    const step = (): void => {
      tf.tidy(() => {
        const a = model.forward(x, 'features/conv2')
        expect(a.shape).toEqual([1, 4, 4, 4])
        // pre_relu is the batch-norm output; relu of it is the relu layer
        const pre = model.forward(x, 'features/relu/pre_relu')
        expect(tf.max(tf.abs(tf.sub(tf.relu(pre), model.forward(x, 'features/relu')))).dataSync()[0]).toBe(0)
        tf.grad((xx: tf.Tensor) => tf.sum(model.forward(xx as tf.Tensor4D, 'logits')))(x)
      })
    }
    step()
    const before = tf.memory().numTensors
    for (let i = 0; i < 3; i++) step()
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
    model.dispose()
  })

  it('runs a batch on a graph exported with batch 1 image by image, same as one at a time', () => {
    const model = createOnnxVisModel(parseOnnx(cnnModel(1)))
    tf.tidy(() => {
      const x = tf.randomNormal([3, 8, 8, 3]) as tf.Tensor4D
      const all = model.forward(x, 'logits')
      expect(all.shape).toEqual([3, 5])
      const one = model.forward(x.slice([2, 0, 0, 0], [1, 8, 8, 3]), 'logits')
      expect(tf.max(tf.abs(tf.sub(all.slice([2, 0], [1, 5]), one))).dataSync()[0]).toBeLessThan(1e-6)
    })
    model.dispose()
  })

  const expectOneLine = (f: () => unknown, ...parts: RegExp[]): void => {
    try { f() } catch (e) {
      expect(e).toBeInstanceOf(DeepVisError)
      const msg = (e as Error).message
      expect(msg).not.toContain('\n')
      for (const p of parts) expect(msg).toMatch(p)
      return
    }
    throw new Error('expected a DeepVisError')
  }

  it('bad ONNX gets one clear line', () => {
    const before = tf.memory().numTensors
    expectOneLine(() => parseOnnx(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]), { fileName: 'bad.onnx' }), /bad\.onnx/, /not a valid ONNX model/)
    expectOneLine(() => parseOnnx(new TextEncoder().encode('{"modelTopology": {}}'), { fileName: 'x.onnx' }), /x\.onnx/)
    const unsupported = buildOnnx({ input: { name: 'input', dims: [1, 3, 4, 4] }, outputs: ['y'], nodes: [{ op: 'NonMaxSuppression', name: 'nms_1', inputs: ['input'], outputs: ['y'] }] })
    expectOneLine(() => createOnnxVisModel(parseOnnx(unsupported), 'm.onnx'), /unsupported ONNX op 'NonMaxSuppression'/, /nms_1/, /Supported ops: .*Conv/)
    const relu = [{ op: 'Relu', inputs: ['input'], outputs: ['y'] }]
    expectOneLine(() => parseOnnx(buildOnnx({ opset: 3, input: { name: 'input', dims: [1, 3, 4, 4] }, outputs: ['y'], nodes: relu })), /opset 3/, /7 to 21/)
    expectOneLine(() => parseOnnx(buildOnnx({ opset: 99, input: { name: 'input', dims: [1, 3, 4, 4] }, outputs: ['y'], nodes: relu })), /opset 99/)
    const external = buildOnnx({
      input: { name: 'input', dims: [1, 3, 4, 4] }, outputs: ['y'],
      initializers: [{ name: 'w', dims: [2, 3, 1, 1], data: [], external: { location: 'weights.bin' } }],
      nodes: [{ op: 'Conv', inputs: ['input', 'w'], outputs: ['y'] }],
    })
    expectOneLine(() => parseOnnx(external), /weights\.bin/)
    expectOneLine(() => parseOnnx(external, { readExternal: () => new Uint8Array(8) }), /tensor 'w'/, /needs 24/)
    const noInput = buildOnnx({ input: { name: 'input', dims: [1, 3, 4, 4] }, outputs: ['y'], nodes: [{ op: 'Add', inputs: ['input', 'ghost'], outputs: ['y'] }] })
    expectOneLine(() => createOnnxVisModel(parseOnnx(noInput)), /ghost/)
    expect(tf.memory().numTensors).toBe(before)
  })
})
