/**
 * Input-gradient kernels that some backends lack, expressed through forward kernels every backend has.
 *
 * The wasm backend has no `DepthwiseConv2dNativeBackpropInput` (MobileNet's input gradient fails there).
 * The input gradient of a depthwise convolution is itself a depthwise convolution: insert (stride-1)
 * zeros between the rows/columns of dy, pad, and correlate with the spatially flipped filter.
 * installGradientOverrides also installs the convolution input gradient of conv-input-grad.ts.
 * Shape: `installGradientOverrides()` once at start-up (idempotent); `depthwiseInputGrad(dy, x, w, attrs)`.
 */
import * as tf from '@tensorflow/tfjs'
import { installConvInputGradient } from './conv-input-grad.ts'

type PadSpec = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding

interface DepthwiseAttrs {
  strides: number | [number, number]
  pad: PadSpec
  dilations?: number | [number, number]
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt]
  return typeof v === 'number' ? [v, v] : v
}

/** Insert (s-1) zeros between the rows and the columns of a NHWC tensor. */
function zeroInsert(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy
  const [n, h, w, c] = dy.shape
  const r = dy.reshape([n, h, 1, w, 1, c])
  const padded = tf.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]])
  const up = padded.reshape([n, h * sh, w * sw, c]) as tf.Tensor4D
  return up.slice([0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c])
}

/** Pad (or crop, for negative amounts) the spatial dims of a NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  let y = x
  const cropTop = Math.max(0, -top)
  const cropBottom = Math.max(0, -bottom)
  const cropLeft = Math.max(0, -left)
  const cropRight = Math.max(0, -right)
  if (cropTop || cropBottom || cropLeft || cropRight) {
    const [n, h, w, c] = y.shape
    y = y.slice([0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c])
  }
  const pt = Math.max(0, top), pb = Math.max(0, bottom), pl = Math.max(0, left), pr = Math.max(0, right)
  if (pt || pb || pl || pr) y = tf.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]])
  return y
}

/**
 * d(loss)/dx of `y = depthwiseConv2d(x, filter)` given dy, using only forward ops.
 * Supports any stride and padding, channel multiplier >= 1, dilation 1.
 */
export function depthwiseInputGrad(dy: tf.Tensor4D, xShape: [number, number, number, number], filter: tf.Tensor4D, attrs: DepthwiseAttrs): tf.Tensor4D {
  return tf.tidy((): tf.Tensor4D => {
    const [kh, kw, c, m] = filter.shape
    const [sh, sw] = pair(attrs.strides, 1)
    const info = tf.backend_util.computeConv2DInfo(
      xShape, filter.shape, [sh, sw], [1, 1], attrs.pad, attrs.dimRoundingMode, true, 'channelsLast')
    const [, h, w] = xShape
    const up = zeroInsert(dy, sh, sw)
    const top = kh - 1 - info.padInfo.top
    const left = kw - 1 - info.padInfo.left
    const bottom = h + kh - 1 - top - up.shape[1]
    const right = w + kw - 1 - left - up.shape[2]
    const padded = padOrCrop(up, top, bottom, left, right)
    // filter[kh, kw, c, m] -> flipped, one output channel per (c, q): [kh, kw, c*m, 1]
    const flipped = tf.reverse(filter, [0, 1]).reshape([kh, kw, c * m, 1]) as tf.Tensor4D
    const per = tf.depthwiseConv2d(padded, flipped, 1, 'valid')
    if (m === 1) return per
    const [n] = per.shape
    return per.reshape([n, h, w, c, m]).sum(4) as tf.Tensor4D
  })
}

let installed = false

/**
 * Register `config` as a gradient, replacing tfjs's own, without its "Overriding the gradient"
 * warning (these overrides are deliberate).
 */
function overrideGradient(config: tf.GradConfig): void {
  const warn = console.warn
  console.warn = () => {}
  try {
    tf.registerGradient(config)
  } finally {
    console.warn = warn
  }
}

/**
 * Backends whose MaxPoolGrad kernel mishandles windows whose maximum is <= 0 (see below). webgpu's
 * kernel (tfjs-backend-webgpu 4.22) routes such windows correctly, and it has native
 * DepthwiseConv2dNativeBackpropInput and Conv2DBackpropInput kernels, so it needs no override
 * (test/engine/gradients.test.ts, test/engine/backend-gradients.test.ts).
 */
const MAXPOOL_GRAD_NEEDS_POSITIVE = new Set(['wasm'])

/**
 * tfjs-backend-wasm 4.22's MaxPoolGrad starts each window's running maximum at 0, so a window whose
 * values are all <= 0 sends its gradient to the window's first element instead of its maximum
 * (measured: [-1, -2, -3, -0.5] -> dx [1, 0, 0, 0]; cpu gives [0, 0, 0, 1]). Post-ReLU networks never
 * notice (those windows carry a zero gradient anyway); leaky-ReLU ones (darknet) get wrong gradients.
 * On such backends the kernel is given x and y shifted by one constant that makes every value >= 1:
 * the same argmax per window (up to float rounding of near-ties), so the same gradient as cpu.
 */
function installMaxPoolOverride(): void {
  const original = tf.getGradient('MaxPool')
  if (!original) return
  const gradFunc: tf.GradConfig['gradFunc'] = (dy, saved, attrs) => {
    const orig = original.gradFunc(dy, saved, attrs)
    if (!MAXPOOL_GRAD_NEEDS_POSITIVE.has(tf.getBackend())) return orig
    const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D]
    return {
      ...orig,
      x: () => tf.tidy((): tf.Tensor => {
        const shift = tf.relu(tf.sub(1, tf.min(x)))
        const inputs = { dy: dy as tf.Tensor, input: tf.add(x, shift), output: tf.add(y, shift) }
        return tf.engine().runKernel('MaxPoolGrad', inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor
      }),
    }
  }
  overrideGradient({ ...original, gradFunc })
}

/**
 * Replace the DepthwiseConv2dNative gradient so that, on a backend without the native
 * backprop-input kernel, the input gradient is computed by `depthwiseInputGrad`; elsewhere the
 * original gradient runs unchanged. The filter gradient is left to the original (never needed here:
 * weights are not on the path from the input).
 */
export function installGradientOverrides(): void {
  if (installed) return
  // Stride-1 convolution input gradients through XNNPACK's forward conv on wasm: same values, 6-10x faster.
  installConvInputGradient()
  installMaxPoolOverride()
  const original = tf.getGradient('DepthwiseConv2dNative')
  if (!original) return
  const gradFunc: tf.GradConfig['gradFunc'] = (dy, saved, attrs) => {
    const orig = original.gradFunc(dy, saved, attrs)
    const native = tf.getKernel('DepthwiseConv2dNativeBackpropInput', tf.getBackend())
    const a = attrs as unknown as DepthwiseAttrs
    const dilations = pair(a.dilations, 1)
    if (native || dilations[0] !== 1 || dilations[1] !== 1) return orig
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D]
    return {
      ...orig,
      x: () => depthwiseInputGrad(dy as tf.Tensor4D, x.shape, filter, a),
    }
  }
  overrideGradient({ ...original, gradFunc })
  installed = true
}
