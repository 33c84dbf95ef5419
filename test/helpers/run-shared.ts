/** Run a short optimization of a shared model's class unit on the current backend. */
import * as tf from '@tensorflow/tfjs'
import { loadModelFolder } from '../../src/engine/node/load-model.ts'
import { optimizeImage } from '../../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../../src/engine/params.ts'
import type { OptimizeResult } from '../../src/engine/result.ts'
import { sharedModel } from './shared-models.ts'

export async function runShared(id: string, layer: string, channel: number, maxIter: number): Promise<OptimizeResult & { tensorsBefore: number; tensorsAfter: number }> {
  const loaded = await loadModelFolder(sharedModel(id))
  const tensorsBefore = tf.memory().numTensors
  try {
    const params = { ...PRESETS['yosinski-3'].params, push_layer: layer, push_channel: channel, max_iter: maxIter } as FindParams
    const result = await optimizeImage(loaded.model, loaded.inputSpec, params)
    return { ...result, tensorsBefore, tensorsAfter: tf.memory().numTensors }
  } finally {
    loaded.model.dispose()
  }
}
