/**
 * Every unit of a layer on one real image (the live view's grid): the layer's activations, and per
 * channel its maximum, where that maximum is and its mean. A conv layer gives [H, W, C] (one map per
 * channel), a dense layer [C] (one value per unit).
 * Shape: `await layerActivations(model, spec, image, layer) => LayerActivations`;
 *   `channelStats(values, shape) => ChannelStats`; `quantizeChannels(values, shape) => QuantizedMaps`.
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'
import type { InputSpec } from '../model/input-spec.ts'
import type { VisModel } from '../model/vis-model.ts'
import { networkFromPixels, pixelTensor, type RgbImage } from './network-input.ts'

export interface LayerActivations {
  layer: string
  /** Output shape without the batch: [H, W, C] or [C]. */
  shape: number[]
  /** Values, HWC row-major ([C] for a dense layer). */
  values: Float32Array
}

/** Per-channel summary of a layer's activations. */
export interface ChannelStats {
  /** Largest value of each channel's map (the value itself for a dense unit). */
  max: Float32Array
  /** Where that maximum is, [y, x] per channel (0, 0 for a dense unit); the first one on ties. */
  argmax: Int32Array
  /** Mean of each channel's map. */
  mean: Float32Array
}

/** A layer's maps quantized to bytes per channel: value ≈ min[c] + byte / 255 * (max[c] - min[c]). */
export interface QuantizedMaps {
  shape: number[]
  /** Per-channel minimum and maximum (exact). */
  min: Float32Array
  max: Float32Array
  /** CHW order (one contiguous map per channel), one byte per value. */
  bytes: Uint8Array
}

/** Check a layer is a dense [C] or conv [H, W, C] output; throws BAD_LAYER otherwise. */
export function checkGridShape(layer: string, shape: number[]): void {
  if (shape.length !== 1 && shape.length !== 3) {
    throw new DeepVisError('BAD_LAYER', `layer '${layer}' has output shape [${shape.join(', ')}]; only dense [units] and conv [H, W, C] layers have unit views`)
  }
}

/** Activations of `layer` for one RGB image at the model's input size. */
export async function layerActivations(model: VisModel, spec: InputSpec, image: RgbImage, layer: string): Promise<LayerActivations> {
  const out = tf.tidy(() => {
    const px = pixelTensor([image], spec)
    return model.forward(networkFromPixels(px, spec), layer)
  })
  try {
    const shape = out.shape.slice(1)
    checkGridShape(layer, shape)
    const values = (await out.data()) as Float32Array
    return { layer, shape, values: values instanceof Float32Array ? values : Float32Array.from(values) }
  } finally {
    out.dispose()
  }
}

/** Per-channel max, arg-max position and mean of HWC `values` of `shape` ([H, W, C] or [C]). */
export function channelStats(values: Float32Array, shape: number[]): ChannelStats {
  const c = shape[shape.length - 1]
  const hw = shape.length === 3 ? shape[0] * shape[1] : 1
  const w = shape.length === 3 ? shape[1] : 1
  const max = new Float32Array(c).fill(-Infinity)
  const at = new Int32Array(c)
  const sum = new Float64Array(c)
  for (let p = 0; p < hw; p++) {
    for (let k = 0; k < c; k++) {
      const v = values[p * c + k]
      sum[k] += v
      if (v > max[k]) { max[k] = v; at[k] = p }
    }
  }
  const argmax = new Int32Array(2 * c)
  for (let k = 0; k < c; k++) { argmax[2 * k] = Math.floor(at[k] / w); argmax[2 * k + 1] = at[k] % w }
  return { max, argmax, mean: Float32Array.from(sum, (s) => s / hw) }
}

/** Quantize HWC maps to one byte per value per channel, laid out CHW (for sending a grid). */
export function quantizeChannels(values: Float32Array, shape: number[]): QuantizedMaps {
  const c = shape[shape.length - 1]
  const hw = values.length / c
  const min = new Float32Array(c).fill(Infinity)
  const max = new Float32Array(c).fill(-Infinity)
  for (let p = 0; p < hw; p++) {
    for (let k = 0; k < c; k++) {
      const v = values[p * c + k]
      if (v < min[k]) min[k] = v
      if (v > max[k]) max[k] = v
    }
  }
  const bytes = new Uint8Array(values.length)
  for (let k = 0; k < c; k++) {
    const span = max[k] - min[k]
    const inv = span > 0 ? 255 / span : 0
    for (let p = 0; p < hw; p++) bytes[k * hw + p] = Math.round((values[p * c + k] - min[k]) * inv)
  }
  return { shape: [...shape], min, max, bytes }
}
