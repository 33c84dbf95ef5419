/**
 * forwardMany (several layers from one pass, used by the top-k index) equals one forward() per layer,
 * on a LayersModel built in code and on GoogLeNet (a GraphModel), pseudo-layers included; no leak.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { createVisModel, type VisModel } from '../../../src/engine/model/vis-model.ts'
import { loadModelFolder } from '../../../src/engine/node/load-model.ts'
import { tinyCnnArtifacts } from '../../fixtures/tiny-cnn.ts'
import { HAVE_SHARED_MODELS, sharedModel } from '../../helpers/shared-models.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('wasm') })

function same(model: VisModel, x: tf.Tensor4D, layers: string[]): void {
  const before = tf.memory().numTensors
  const diffs = tf.tidy(() => {
    const many = model.forwardMany!(x, layers)
    return layers.map((l, i) => tf.max(tf.abs(tf.sub(many[i], model.forward(x, l)))).dataSync()[0])
  })
  expect(diffs).toEqual(layers.map(() => 0))
  expect(tf.memory().numTensors).toBe(before)
}

describe('forwardMany', () => {
  it('LayersModel: equals forward() per layer (shared ancestors, a pre_relu, the input-near and last layers)', async () => {
    const model = await createVisModel(await tinyCnnArtifacts(3))
    const x = tf.randomUniform([2, 16, 16, 3], -1, 1, 'float32', 4) as tf.Tensor4D
    same(model, x, ['conv_a', 'conv_b', 'conv_b/pre_relu', 'concat2', 'logits', 'prob'])
    x.dispose()
    model.dispose()
  })

  it.skipIf(!HAVE_SHARED_MODELS)('GoogLeNet: equals forward() per layer, node aliases included', async () => {
    const loaded = await loadModelFolder(sharedModel('googlenet_bvlc'))
    const x = tf.randomUniform([1, 224, 224, 3], -100, 100, 'float32', 5) as tf.Tensor4D
    same(loaded.model, x, ['inception_4c/output', 'inception_4c/relu_1x1', 'inception_4c/relu_1x1/pre_relu', 'loss3/classifier'])
    x.dispose()
    loaded.model.dispose()
  })
})
