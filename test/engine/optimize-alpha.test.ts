/**
 * DVT's loop records the transparency map too: after one iteration it is Σ_channels |d unit / d x| at the cropped
 * x0 (computed here with tf.grad through the model and the input spec), one evaluation per iteration, and the loop
 * still frees every tensor it made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { cropToPixels, networkInput, optimizeImage, specTensors } from '../../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../../src/engine/params.ts'
import { useBackend } from '../helpers/tf-backend.ts'

let loaded: LoadedModel
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
})
afterAll(() => loaded?.model.dispose())

describe("DVT's transparency map", () => {
  it('is Σ_c |g| at the cropped x0 after one iteration; one evaluation per iteration; no leak', async () => {
    const spec = loaded.inputSpec
    const p = { ...PRESETS['yosinski-3'].params, push_layer: 'logits', push_channel: 2, max_iter: 1 } as FindParams
    const before = tf.memory().numTensors
    const r = await optimizeImage(loaded.model, spec, p)
    expect(tf.memory().numTensors).toBe(before)
    expect(r.alpha!.evaluations).toBe(1)
    const want = tf.tidy(() => {
      const st = specTensors(spec)
      const xc = cropToPixels(tf.tensor4d(r.x0, [1, spec.height, spec.width, 3]), st)
      const g = tf.grad((x: tf.Tensor) => loaded.model.forward(networkInput(x as tf.Tensor4D, st), 'logits').slice([0, 2], [1, 1]).sum())(xc)
      return tf.sum(tf.abs(g), -1).dataSync() as Float32Array
    })
    const got = r.alpha!.data
    const scale = Math.max(...want)
    expect(scale).toBeGreaterThan(0)
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4 * scale)
    const r5 = await optimizeImage(loaded.model, spec, { ...p, max_iter: 5 })
    expect(r5.alpha!.evaluations).toBe(5)
  })
})
