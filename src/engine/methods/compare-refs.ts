/**
 * The reference activations of invert(layer, image) / caricature(layer, image) (objectives.ts): each named image
 * (RGB [0, 1], resized antialiased to the model's input) is put through the model's preprocessing (channel order,
 * 0..255, scale and offset, as the optimized image is) and read at the layer; INPUT_LAYER ('@input') is the
 * preprocessed input itself.
 * Shape: `referenceActivations(model, spec, refs, images) => references[name][layer]` (throws BAD_PARAM for a missing image).
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'
import { specTensors } from '../optimize.ts'
import { channelSwapToRgb, type InputSpec } from '../model/input-spec.ts'
import type { LayerInfo, VisModel } from '../model/vis-model.ts'
import type { RgbImage } from './accentuation.ts'
import { resizeAA } from './maco.ts'
import { INPUT_LAYER, type MaskWeights } from './objectives.ts'

const PIXEL_SCALE = 255

/** The model input [N, H, W, C] of RGB [0, 1] images [N, H, W, 3] (model channel order, 0..255, scale, offset). Call inside tf.tidy. */
export function modelInputOf(rgb: tf.Tensor4D, spec: InputSpec): tf.Tensor4D {
  const swap = channelSwapToRgb(spec.channelOrder)
  const chans = tf.split(tf.mul(rgb, PIXEL_SCALE), 3, 3)
  const ordered = new Array<tf.Tensor>(3)
  swap.forEach((dst, k) => { ordered[dst] = chans[k] })
  const st = specTensors(spec)
  const out = tf.add(tf.mul(tf.concat(ordered, 3), st.scale), st.offset) as tf.Tensor4D
  return out
}

/** LayerInfo of INPUT_LAYER for an input spec. */
export function inputLayerInfo(spec: InputSpec): LayerInfo {
  return { name: INPUT_LAYER, type: 'input', shape: [spec.height, spec.width, spec.channels], units: spec.channels }
}

export async function referenceActivations(
  model: VisModel, spec: InputSpec, refs: { layer: string; name: string }[], images: Record<string, RgbImage>,
): Promise<Record<string, Record<string, MaskWeights>>> {
  const out: Record<string, Record<string, MaskWeights>> = {}
  for (const { layer, name } of refs) {
    const img = images[name]
    check(img !== undefined, () => `no image was given for ${JSON.stringify(name)} (invert / caricature read the image file of that name)`)
    const act = tf.tidy(() => {
      const rgb = resizeAA(tf.tensor4d(img.data, [1, img.height, img.width, 3]), spec.height, spec.width)
      const input = modelInputOf(rgb, spec)
      return layer === INPUT_LAYER ? input : model.forward(input, layer)
    })
    const data = (await act.data()) as Float32Array
    const shape = act.shape.slice(1)
    act.dispose()
    out[name] = { ...(out[name] ?? {}), [layer]: { data, shape } }
  }
  return out
}
