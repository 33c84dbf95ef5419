import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { compileLayersModel } from '../../src/engine/model/layers-executor.ts'
import { createVisModel } from '../../src/engine/model/vis-model.ts'
import { tinyCnn, tinyCnnArtifacts } from '../fixtures/tiny-cnn.ts'
import { useBackend } from '../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

const LAYERS = ['conv_a', 'bn_a', 'relu_a', 'dw_b', 'pad_b', 'conv_b', 'pool_max', 'concat', 'add', 'conv_d', 'gap', 'logits', 'prob']

describe('plain-op LayersModel executor', () => {
  it.each(LAYERS)('layer %s equals tfjs-layers own output', (name) => {
    const model = tinyCnn(3)
    const compiled = compileLayersModel(model)
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5)
    const sub = tf.model({ inputs: model.inputs, outputs: model.getLayer(name).output as tf.SymbolicTensor })
    const want = sub.predict(x) as tf.Tensor
    const got = compiled.run(x, name)
    expect(got.shape).toEqual(want.shape)
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-4)
    expect(compiled.fallbackLayers).toEqual([])
    compiled.dispose(); model.dispose()
  })

  it('input gradients never compute a filter gradient (no Conv2DBackpropFilter kernel runs)', () => {
    const model = tinyCnn(4)
    const compiled = compileLayersModel(model)
    const kernels: string[] = []
    const profile = tf.profile(() => tf.grad((x: tf.Tensor) => compiled.run(x, 'logits').sum())(tf.ones([1, 16, 16, 3])))
    return profile.then((p) => {
      for (const k of p.kernels) kernels.push(k.name)
      expect(kernels).toContain('Conv2DBackpropInput')
      expect(kernels).not.toContain('Conv2DBackpropFilter')
      expect(kernels).not.toContain('DepthwiseConv2dNativeBackpropFilter')
      compiled.dispose(); model.dispose()
    })
  })

  it('computes only the ancestors of the requested layer', async () => {
    const model = tinyCnn(5)
    const compiled = compileLayersModel(model)
    const p = await tf.profile(() => compiled.run(tf.ones([1, 16, 16, 3]), 'relu_a'))
    const names = p.kernels.map((k) => k.name)
    expect(names).toContain('Conv2D')
    expect(names).not.toContain('DepthwiseConv2dNative')
    expect(names).not.toContain('MatMul')
    compiled.dispose(); model.dispose()
  })
})

describe('VisModel over a LayersModel', () => {
  it('catalog lists every layer with output shape and units', async () => {
    const vm = await createVisModel(await tinyCnnArtifacts(2))
    const cat = await vm.catalog([16, 16])
    const byName = Object.fromEntries(cat.map((l) => [l.name, l]))
    expect(byName.conv_a).toMatchObject({ type: 'Conv2D', shape: [16, 16, 6], units: 6 })
    expect(byName.dw_b).toMatchObject({ type: 'DepthwiseConv2D', shape: [8, 8, 12], units: 12 })
    expect(byName.logits).toMatchObject({ type: 'Dense', shape: [5], units: 5 })
    vm.dispose()
  })
  it('a wrong layer name is a BAD_LAYER error suggesting the closest names', async () => {
    const vm = await createVisModel(await tinyCnnArtifacts(2))
    await expect(vm.layerInfo('logit', [16, 16])).rejects.toMatchObject({ code: 'BAD_LAYER', message: expect.stringMatching(/no layer named 'logit'.*did you mean 'logits'/) })
    vm.dispose()
  })
})
