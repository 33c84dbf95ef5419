/**
 * Receptive fields of ONNX graphs (PyTorch exports, ../shared/models/onnx): the sizes carried agree
 * with every spatial layer's shape; ResNet-18's field of layer3 matches the closed form of its stem and
 * stages; a unit's box contains the support of its gradient on a real input; ceil-mode pools (the
 * Caffe GoogLeNet export) size like PyTorch.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { clipBox, receptiveField, receptiveFields, unitBox } from '../../../src/engine/inspect/receptive-field.ts'
import { layerActivations } from '../../../src/engine/inspect/activations.ts'
import { networkFromPixels, pixelTensor } from '../../../src/engine/inspect/network-input.ts'
import { loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { drawStimulus } from '../../../src/engine/stimuli.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { sharedModel } from '../../helpers/shared-models.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

const RESNET = sharedModel('onnx/resnet18')
const GOOGLENET = sharedModel('onnx/googlenet_bvlc')
const HAVE = existsSync(path.join(RESNET, 'model.onnx'))
if (!HAVE) console.warn('[deepvis tests] ../shared/models/onnx/resnet18 not found: ONNX receptive-field tests are skipped')

beforeAll(async () => { await useBackend('wasm') })

async function sizesAgree(loaded: LoadedModel): Promise<number> {
  const size: [number, number] = [loaded.inputSpec.height, loaded.inputSpec.width]
  const fields = receptiveFields(loaded.model.rfGraph!, size)
  let local = 0
  for (const l of await loaded.model.catalog(size)) {
    const rf = fields.get(l.name)
    if (l.shape.length !== 3 || rf?.kind !== 'local') continue
    expect([rf.y.size, rf.x.size], l.name).toEqual(l.shape.slice(0, 2))
    local++
  }
  return local
}

describe.skipIf(!HAVE)('receptive fields of ONNX graphs', () => {
  it('ResNet-18: sizes agree with every spatial layer; layer1 is the closed form; a unit\'s box contains its gradient support', async () => {
    const loaded = await loadModelFolder(RESNET)
    try {
      expect(await sizesAgree(loaded)).toBeGreaterThan(20)
      const size: [number, number] = [224, 224]
      // conv1 7x7/2 pad 3, maxpool 3/2 pad 1, then layer1 = two basic blocks of two 3x3/1 convs (pad 1):
      // extent 1 + 6 + 2*2 + 4*(2*4) = 43, jump 4, start -3 - 1*2 - 4*4 = -21 (the residual adds keep the union).
      expect(receptiveField(loaded.model.rfGraph!, 'layer1.1/relu_1', size)).toMatchObject({ kind: 'local', y: { jump: 4, extent: 43, start: -21 } })
      // The downsampling shortcut (1x1/2) of layer2.0 lies inside its main branch's field: the union is the main branch.
      expect(receptiveField(loaded.model.rfGraph!, 'layer2.0', size)).toEqual(receptiveField(loaded.model.rfGraph!, 'layer2.0/conv2', size))
      const layer = 'layer3.1/relu_1'
      const rf = receptiveField(loaded.model.rfGraph!, layer, size)
      expect(rf.kind).toBe('local')
      const spec = loaded.inputSpec
      const pixels = drawStimulus(7, new Rng(3), 224)
      const acts = await layerActivations(loaded.model, spec, { data: pixels, width: 224, height: 224 }, layer)
      const [h, w, c] = acts.shape
      const x0 = tf.tidy(() => networkFromPixels(pixelTensor([{ data: pixels, width: 224, height: 224 }], spec), spec))
      for (const [y, x] of [[0, 0], [h - 1, 2]]) {
        let ch = 0
        for (let k = 1; k < c; k++) if (acts.values[(y * w + x) * c + k] > acts.values[(y * w + x) * c + ch]) ch = k
        const box = clipBox(unitBox(rf, y, x, size)!, size)
        const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.slice(loaded.model.forward(t as tf.Tensor4D, layer), [0, y, x, ch], [1, 1, 1, 1]).sum())(x0))
        const v = g.dataSync()
        g.dispose()
        let count = 0
        for (let py = 0; py < 224; py++) {
          for (let px = 0; px < 224; px++) {
            if ([0, 1, 2].every((k) => v[(py * 224 + px) * 3 + k] === 0)) continue
            count++
            expect(py >= box.top && py < box.bottom && px >= box.left && px < box.right, `pixel (${py}, ${px}) outside ${JSON.stringify(box)}`).toBe(true)
          }
        }
        expect(count).toBeGreaterThan(0)
        expect(box.bottom - box.top).toBeLessThan(224)
      }
      x0.dispose()
    } finally {
      loaded.model.dispose()
    }
  })

  it.skipIf(!existsSync(path.join(GOOGLENET, 'model.onnx')))('the Caffe GoogLeNet export (ceil-mode pools): sizes agree with every spatial layer', async () => {
    const loaded = await loadModelFolder(GOOGLENET)
    try {
      expect(await sizesAgree(loaded)).toBeGreaterThan(50)
    } finally {
      loaded.model.dispose()
    }
  })
})
