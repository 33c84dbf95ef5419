/**
 * Real images into the network: RGB pixels (0..255, HWC, already at the model's input size: the
 * host fits them with src/shared/fit-policy.ts) -> the model's channel order -> its input spec's map
 * `pixel * scale + offset` (the same map the optimizer uses, since x + mean is the pixel there).
 * Shape: `pixelTensor(images, spec) => [N, H, W, 3]` pixels in model order (differentiable input of
 * the gradient views), `networkFromPixels(pixels, spec) => network input`.
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'
import { channelSwapToRgb, type InputSpec } from '../model/input-spec.ts'

/** An RGB image, HWC row-major, values 0..255. */
export interface RgbImage {
  data: Uint8Array | Uint8ClampedArray | Float32Array
  width: number
  height: number
}

/** Throw BAD_PARAM unless `img` is an RGB image of the model's input size. */
export function checkRgbImage(img: RgbImage, spec: InputSpec): void {
  if (img.width !== spec.width || img.height !== spec.height) {
    throw new DeepVisError('BAD_PARAM', `the image is ${img.width}x${img.height}; the model takes ${spec.width}x${spec.height} (fit it first)`)
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new DeepVisError('BAD_PARAM', `an RGB image of ${img.width}x${img.height} has ${img.width * img.height * 3} values; got ${img.data.length}`)
  }
}

/** A batch of RGB images as one [N, H, W, 3] tensor of pixels in the model's channel order (caller disposes). */
export function pixelTensor(images: readonly RgbImage[], spec: InputSpec): tf.Tensor4D {
  if (images.length === 0) throw new DeepVisError('BAD_PARAM', 'no images to run')
  for (const img of images) checkRgbImage(img, spec)
  const { height: h, width: w } = spec
  const per = h * w * 3
  const all = new Float32Array(images.length * per)
  // Model order from RGB: model channel k is RGB channel perm[k] (the swap is its own inverse).
  const perm = channelSwapToRgb(spec.channelOrder)
  images.forEach((img, n) => {
    const src = img.data
    const base = n * per
    for (let p = 0; p < h * w; p++) {
      for (let k = 0; k < 3; k++) all[base + p * 3 + k] = src[p * 3 + perm[k]]
    }
  })
  return tf.tensor4d(all, [images.length, h, w, 3])
}

/** The network input for pixels in model order: pixel * scale + offset, per channel (call inside tf.tidy). */
export function networkFromPixels(pixels: tf.Tensor4D, spec: InputSpec): tf.Tensor4D {
  const scale = tf.tensor(spec.scale, [1, 1, 1, spec.channels])
  const offset = tf.tensor(spec.offset, [1, 1, 1, spec.channels])
  return tf.add(tf.mul(pixels, scale), offset) as tf.Tensor4D
}
