/**
 * PyTorch's reference numbers for the ONNX fixtures in ../shared/models/onnx/<model>/ref (see its
 * SOURCE.md): the input, logits, intermediate activations and input gradients, with the metrics the
 * tests use (relative L2 error, cosine, max error relative to the reference's max).
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { decodeNpy } from '../../src/engine/node/npy.ts'
import { SHARED_MODELS } from './shared-models.ts'

export const ONNX_FIXTURES = path.join(SHARED_MODELS, 'onnx')
export const HAVE_ONNX_FIXTURES = existsSync(path.join(ONNX_FIXTURES, 'resnet18', 'model.onnx'))
if (!HAVE_ONNX_FIXTURES) console.warn(`[deepvis tests] ${ONNX_FIXTURES} not found: ONNX-vs-PyTorch reference tests are skipped`)

export interface RefFile {
  file: string
  onnxTensor: string
  shape: number[]
  /** For gradients: the tensor whose objective is differentiated, and the channel (null: the logit 130). */
  objectiveTensor?: string
  channel?: number
}

export function refFiles(model: string): RefFile[] {
  const m = JSON.parse(readFileSync(path.join(ONNX_FIXTURES, model, 'ref', 'manifest.json'), 'utf8'))
  return Object.entries(m.files as Record<string, Record<string, unknown>>).map(([file, f]) => {
    const c = /_c(\d+)\.npy$/.exec(file)
    return {
      file,
      onnxTensor: f.onnx_tensor as string,
      shape: f.shape as number[],
      objectiveTensor: f.objective_tensor as string | undefined,
      channel: c ? Number(c[1]) : undefined,
    }
  })
}

/** A reference array as a tensor, 4-D ones turned NCHW -> NHWC like the engine's tensors. */
export function loadRef(model: string, file: string): tf.Tensor {
  const { data, shape } = decodeNpy(new Uint8Array(readFileSync(path.join(ONNX_FIXTURES, model, 'ref', file))))
  const t = tf.tensor(data, shape)
  if (shape.length !== 4) return t
  const out = tf.transpose(t, [0, 2, 3, 1])
  t.dispose()
  return out
}

export interface Agreement { relL2: number; cosine: number; relMax: number }

export function agreement(a: tf.Tensor, ref: tf.Tensor): Agreement {
  return tf.tidy(() => {
    const x = a.reshape([-1]).cast('float32')
    const y = ref.reshape([-1])
    const diff = tf.sub(x, y)
    const relL2 = tf.norm(diff).div(tf.norm(y)).dataSync()[0]
    const cosine = tf.sum(tf.mul(x, y)).div(tf.norm(x).mul(tf.norm(y))).dataSync()[0]
    const relMax = tf.max(tf.abs(diff)).div(tf.max(tf.abs(y))).dataSync()[0]
    return { relL2, cosine, relMax }
  })
}
