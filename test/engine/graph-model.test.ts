/**
 * A GraphModel with a fused convolution, as tfjs-converter writes them (_FusedConv2D with BiasAdd and
 * Relu): the VisModel computes the same values as tfjs' own executor, but its input gradient runs no
 * weight-gradient kernel (the fused-convolution trap), while the unmodified model's does.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { createVisModel } from '../../src/engine/model/vis-model.ts'
import { useBackend } from '../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) })
const b64 = (s: string): string => btoa(s)

function fusedGraphArtifacts(fusedOps: string[] = ['BiasAdd', 'Relu']): tf.io.ModelArtifacts {
  const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 11).dataSync() as Float32Array
  const b = Float32Array.from([0.1, -0.2, 0.3, 0.05])
  const weightData = new Float32Array([...w, ...b]).buffer
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims(-1, 8, 8, 3) } } },
    { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(3, 3, 3, 4) } } } },
    { name: 'b', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(4) } } } },
    {
      name: 'conv', op: '_FusedConv2D', input: ['x', 'w', 'b'],
      attr: {
        T: { type: 'DT_FLOAT' }, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: b64('SAME') },
        data_format: { s: b64('NHWC') }, dilations: { list: { i: ['1', '1', '1', '1'] } },
        fused_ops: { list: { s: fusedOps.map(b64) } }, num_args: { i: '1' }, epsilon: { f: 0 },
      },
    },
    { name: 'pool', op: 'MaxPool', input: ['conv'], attr: { T: { type: 'DT_FLOAT' }, ksize: { list: { i: ['1', '2', '2', '1'] } }, strides: { list: { i: ['1', '2', '2', '1'] } }, padding: { s: b64('VALID') }, data_format: { s: b64('NHWC') } } },
  ]
  return {
    format: 'graph-model',
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightSpecs: [{ name: 'w', shape: [3, 3, 3, 4], dtype: 'float32' }, { name: 'b', shape: [4], dtype: 'float32' }],
    weightData,
  }
}

describe('GraphModel with fused convolutions', () => {
  it('computes the same activations as tfjs-converter executes them', async () => {
    const a = fusedGraphArtifacts()
    const vm = await createVisModel(a)
    const original = await tf.loadGraphModel(tf.io.fromMemory(a))
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D
    for (const node of ['conv', 'pool']) {
      const want = original.execute({ x }, node) as tf.Tensor
      const got = vm.forward(x, node)
      expect(got.shape).toEqual(want.shape)
      expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-5)
    }
    expect(vm.notes.join(' ')).toMatch(/fused nodes split into plain ops: 1/)
    expect(vm.layerNames).toEqual(['conv', 'conv/pre_relu', 'pool'])
  })

  it('its input gradient runs no Conv2DBackpropFilter, unlike the unmodified linear fused conv', async () => {
    // tfjs keeps a *linear* fused conv fused while recording gradients, and its custom gradient then
    // computes the filter gradient too (with a fused Relu it falls back to plain ops by itself).
    const a = fusedGraphArtifacts(['BiasAdd'])
    const vm = await createVisModel(a)
    const original = await tf.loadGraphModel(tf.io.fromMemory(a))
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 4)
    // tf.profile returns the same (mutated) object each call: copy the kernel names out at once.
    const names = (p: Awaited<ReturnType<typeof tf.profile>>): string[] => p.kernels.map((k) => k.name)
    const ours = names(await tf.profile(() => tf.grad((xx: tf.Tensor) => tf.sum(vm.forward(xx as tf.Tensor4D, 'pool')))(x)))
    const theirs = names(await tf.profile(() => tf.grad((xx: tf.Tensor) => tf.sum(original.execute({ x: xx }, 'pool') as tf.Tensor))(x)))
    expect(ours).toContain('Conv2DBackpropInput')
    expect(ours).not.toContain('Conv2DBackpropFilter')
    expect(theirs).toContain('Conv2DBackpropFilter')
  })
})
