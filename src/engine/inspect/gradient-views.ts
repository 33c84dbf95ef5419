/**
 * Gradient views of one unit with respect to the current input image (DVT's backprop / deconv panes):
 * the derivative of the unit's objective with respect to every input pixel (0..255, RGB), under one of
 * the three ReLU backward rules of relu-backward-rule.ts ('gradient', 'guided', 'deconv').
 *
 * The unit's objective:
 * - a dense unit c: its activation a_c;
 * - a conv unit c at a position (y, x): a[y, x, c];
 * - a conv channel c without a position: ½ Σ_yx a[y, x, c]², whose top diff is the channel's own map.
 *   This is DVT's choice (live_vis: `diffs[0][unit] = blob.data[0, unit]`): the whole map, each
 *   position weighted by how strongly it fires, so the view shows everything in the image that drives
 *   the channel.
 * The gradient is taken with respect to the pixels in the model's channel order and returned in RGB.
 * Shape: `await gradientView(model, spec, image, unit, mode) => GradientView`; `gradientToRgb(view) => bytes`.
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'
import { channelSwapToRgb, type InputSpec } from '../model/input-spec.ts'
import type { VisModel } from '../model/vis-model.ts'
import { checkGridShape } from './activations.ts'
import { networkFromPixels, pixelTensor, type RgbImage } from './network-input.ts'
import { withReluBackwardRule, type GradientViewMode } from './relu-backward-rule.ts'

/** The unit a view is of. */
export interface UnitRef {
  layer: string
  channel: number
  /** [y, x] in a conv map; null or absent: the whole channel (DVT's rule, see the module header). */
  spatial?: [number, number] | null
}

export interface GradientView {
  mode: GradientViewMode
  /** d objective / d pixel, HWC RGB, the input's size. */
  grad: Float32Array
  height: number
  width: number
  /** The unit's objective on this image (see the module header). */
  objective: number
}

/** The scalar objective of `unit` from the layer output `a` ([1, ...shape]); checks the unit first. */
function unitObjective(a: tf.Tensor, unit: UnitRef): tf.Scalar {
  const shape = a.shape.slice(1)
  checkGridShape(unit.layer, shape)
  const units = shape[shape.length - 1]
  if (!Number.isInteger(unit.channel) || unit.channel < 0 || unit.channel >= units) {
    throw new DeepVisError('BAD_UNIT', `unit ${unit.channel} is out of range: layer '${unit.layer}' has ${units} units (0..${units - 1})`)
  }
  if (shape.length === 1) return tf.reshape(tf.slice(a, [0, unit.channel], [1, 1]), []) as tf.Scalar
  const [h, w] = shape
  if (unit.spatial) {
    const [y, x] = unit.spatial
    if (!(Number.isInteger(y) && Number.isInteger(x) && y >= 0 && x >= 0 && y < h && x < w)) {
      throw new DeepVisError('BAD_UNIT', `position (${y}, ${x}) is outside layer '${unit.layer}' (${h}x${w})`)
    }
    return tf.reshape(tf.slice(a, [0, y, x, unit.channel], [1, 1, 1, 1]), []) as tf.Scalar
  }
  const map = tf.slice(a, [0, 0, 0, unit.channel], [1, h, w, 1])
  return tf.mul(0.5, tf.sum(tf.square(map))) as tf.Scalar
}

/** The gradient view of `unit` for `image` (an RGB image at the model's input size). */
export async function gradientView(model: VisModel, spec: InputSpec, image: RgbImage, unit: UnitRef, mode: GradientViewMode): Promise<GradientView> {
  const { value, grad: g } = tf.tidy(() => {
    const px = pixelTensor([image], spec)
    const f = (p: tf.Tensor): tf.Scalar => unitObjective(model.forward(networkFromPixels(p as tf.Tensor4D, spec), unit.layer), unit)
    return withReluBackwardRule(mode, () => tf.valueAndGrad(f)(px))
  })
  let grad: Float32Array
  let objective: number
  try {
    grad = (await g.data()) as Float32Array
    objective = (await value.data())[0]
  } finally {
    g.dispose()
    value.dispose()
  }
  // Model order -> RGB (the swap is its own inverse).
  const perm = channelSwapToRgb(spec.channelOrder)
  const out = new Float32Array(grad.length)
  for (let p = 0; p < grad.length; p += 3) for (let k = 0; k < 3; k++) out[p + perm[k]] = grad[p + k]
  return { mode, grad: out, height: spec.height, width: spec.width, objective }
}

/**
 * A gradient as an RGB image the way DVT draws it (norm01c around 0): 0 is mid-grey, the largest
 * |value| over all pixels and channels reaches 0 or 255; a zero gradient is plain grey.
 */
export function gradientToRgb(grad: Float32Array): Uint8Array {
  let m = 0
  for (const v of grad) m = Math.max(m, Math.abs(v))
  const out = new Uint8Array(grad.length)
  const s = m > 0 ? 127.5 / m : 0
  for (let i = 0; i < grad.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(127.5 + grad[i] * s)))
  return out
}
