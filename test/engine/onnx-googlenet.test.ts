/**
 * The same network two ways: BVLC GoogLeNet as a TF.js GraphModel (../shared/models/googlenet_bvlc) and
 * as its ONNX export (../shared/models/onnx/googlenet_bvlc, with its Caffe deepvis.json). On wasm, the
 * DVT yosinski-3 run on the flamingo logit starts at the same objective (-1.195) and follows the same
 * series to float tolerance. Skipped when ../shared/models is absent.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadModelFolder } from '../../src/engine/node/load-model.ts'
import { optimizeImage } from '../../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../../src/engine/params.ts'
import { useBackend } from '../helpers/tf-backend.ts'
import { sharedModel } from '../helpers/shared-models.ts'

const ONNX = sharedModel('onnx/googlenet_bvlc')
const HAVE = existsSync(path.join(ONNX, 'model.onnx')) && existsSync(path.join(sharedModel('googlenet_bvlc'), 'model.json'))

async function series(dir: string): Promise<{ obj: number[]; label: string | null; tensors: [number, number] }> {
  const loaded = await loadModelFolder(dir)
  try {
    const before = tf.memory().numTensors
    const params = { ...PRESETS['yosinski-3'].params, push_layer: 'loss3/classifier', push_channel: 130, max_iter: 5, rand_seed: 0 } as FindParams
    const r = await optimizeImage(loaded.model, loaded.inputSpec, params)
    return { obj: r.series.obj, label: r.target.label, tensors: [before, tf.memory().numTensors] }
  } finally {
    loaded.model.dispose()
  }
}

describe.skipIf(!HAVE)('GoogLeNet: ONNX export vs TF.js GraphModel (wasm)', () => {
  beforeAll(async () => { expect(await useBackend('wasm')).toBe('wasm') })

  it('the flamingo run starts at the same objective and follows the same series', async () => {
    const onnx = await series(ONNX)
    const graph = await series(sharedModel('googlenet_bvlc'))
    expect(onnx.label).toBe('flamingo')
    expect(onnx.obj[0]).toBeCloseTo(-1.195, 3)
    expect(onnx.obj[0]).toBeCloseTo(graph.obj[0], 4)
    for (let i = 0; i < graph.obj.length; i++) expect(Math.abs(onnx.obj[i] - graph.obj[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(graph.obj[i])))
    expect(onnx.tensors[1]).toBe(onnx.tensors[0])
  }, 600_000)
})
