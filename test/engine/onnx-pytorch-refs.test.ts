/**
 * The ONNX executor against PyTorch's own numbers (../shared/models/onnx/<model>/ref, SOURCE.md there),
 * on wasm: logits, 3 intermediate tensors and 2 input gradients per model. Forward tensors: relative
 * L2 error < 1e-3 and max error <= 1e-4 of the reference's max, same argmax. Input gradients: cosine
 * > 0.9999, relative L2 < 1e-3 (5e-3 where the fixture documents a ReLU unit that float32 rounding
 * flips), max error <= 1e-2 of the max (SOURCE.md's recommendation). Skipped if the fixtures are absent.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseOnnx } from '../../src/engine/model/onnx/proto.ts'
import { createOnnxVisModel, type OnnxVisModel } from '../../src/engine/model/onnx/onnx-vis-model.ts'
import { useBackend } from '../helpers/tf-backend.ts'
import { agreement, HAVE_ONNX_FIXTURES, loadRef, ONNX_FIXTURES, refFiles } from '../helpers/onnx-refs.ts'

const MODELS = ['resnet18', 'mobilenet_v3_small', 'vit_tiny', 'googlenet_bvlc']

function unitObjective(a: tf.Tensor, ch: number): tf.Scalar {
  // mean of one unit (last axis) over everything else: a slice, not a gather (no gather gradient on wasm)
  const begin = a.shape.map((_, i) => (i === a.rank - 1 ? ch : 0))
  const size = a.shape.map((d, i) => (i === a.rank - 1 ? 1 : d))
  return tf.mean(tf.slice(a, begin, size))
}

describe.skipIf(!HAVE_ONNX_FIXTURES)('ONNX models vs PyTorch references (wasm)', () => {
  beforeAll(async () => { expect(await useBackend('wasm')).toBe('wasm') })

  describe.each(MODELS)('%s', (id) => {
    let model: OnnxVisModel
    let x: tf.Tensor4D
    const manifest = (): Record<string, unknown> => JSON.parse(readFileSync(path.join(ONNX_FIXTURES, id, 'ref', 'manifest.json'), 'utf8'))
    beforeAll(() => {
      model = createOnnxVisModel(parseOnnx(readFileSync(path.join(ONNX_FIXTURES, id, 'model.onnx'))), 'model.onnx')
      x = loadRef(id, 'x.npy') as tf.Tensor4D
    })
    afterAll(() => { model?.dispose(); x?.dispose() })

    it('logits and activations match', () => {
      for (const f of refFiles(id).filter((r) => r.file === 'logits.npy' || r.file.startsWith('act_'))) {
        tf.tidy(() => {
          const ref = loadRef(id, f.file)
          const got = model.forwardRaw(x, f.onnxTensor)
          expect(got.shape).toEqual(ref.shape)
          const a = agreement(got, ref)
          expect(a.relL2, f.file).toBeLessThan(1e-3)
          expect(a.relMax, f.file).toBeLessThanOrEqual(1e-4)
          if (f.file === 'logits.npy') expect(tf.argMax(got, 1).dataSync()[0]).toBe(tf.argMax(ref, 1).dataSync()[0])
        })
      }
    }, 120_000)

    it.runIf(id === 'vit_tiny')('token tensors: patch tokens on the 14x14 grid, the class token apart', () => {
      tf.tidy(() => {
        const layer = 'encoder/layers/encoder_layer_1'
        const raw = model.forwardRaw(x, layer) // [1, 197, 192]
        expect(raw.shape).toEqual([1, 197, 192])
        const grid = model.forward(x, layer)
        expect(grid.shape).toEqual([1, 14, 14, 192])
        // patch token t (1..196) is grid cell ((t-1) / 14, (t-1) % 14)
        const t = 1 + 3 * 14 + 5
        expect(tf.max(tf.abs(tf.sub(grid.slice([0, 3, 5, 0], [1, 1, 1, 192]).reshape([192]), raw.slice([0, t, 0], [1, 1, 192]).reshape([192])))).dataSync()[0]).toBe(0)
        const cls = model.forward(x, `${layer}/cls_token`)
        expect(cls.shape).toEqual([1, 192])
        expect(tf.max(tf.abs(tf.sub(cls, raw.slice([0, 0, 0], [1, 1, 192]).reshape([1, 192])))).dataSync()[0]).toBe(0)
      })
    })

    it('input gradients match', () => {
      const kinks = ((manifest().checks as Record<string, { disagreements?: number }>).kinks_float32_vs_float64?.disagreements ?? 0) > 0
      for (const f of refFiles(id).filter((r) => r.file.startsWith('grad_'))) {
        tf.tidy(() => {
          const ref = loadRef(id, f.file)
          const got = tf.grad((xx: tf.Tensor) => unitObjective(model.forwardRaw(xx as tf.Tensor4D, f.objectiveTensor!), f.channel ?? 130))(x)
          const a = agreement(got, ref)
          expect(a.cosine, f.file).toBeGreaterThan(0.9999)
          expect(a.relL2, f.file).toBeLessThan(kinks && f.file === 'grad_logit130.npy' ? 5e-3 : 1e-3)
          expect(a.relMax, f.file).toBeLessThanOrEqual(1e-2)
        })
      }
    }, 180_000)
  })
})
