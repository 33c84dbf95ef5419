/**
 * A faster input gradient of convolutions on the wasm backend.
 *
 * The wasm backend's `Conv2DBackpropInput` kernel is a plain scalar loop, while its forward `Conv2D`
 * runs on XNNPACK (SIMD, blocked GEMM). The profile of one GoogLeNet iteration (docs/benchmarks.md)
 * puts most of the time in that backprop kernel. For stride 1 the input gradient is itself a forward
 * convolution: pad dy by (k - 1 - pad) on each side and correlate it with the spatially flipped filter
 * whose in/out channels are swapped. It is 6-10x faster per layer, and on the layer shapes of our tests
 * and the full input gradients of GoogLeNet, SqueezeNet and MobileNet it gave the very same float32
 * values as the native kernel. Not always bit for bit: on the embedded model a few optimization runs
 * drift from iteration ~10 on by ~1e-6 relative (amplified later by the percentile clips, as any
 * rounding change would be). Strided convolutions with large filters (GoogLeNet's 7x7/2 conv1) use the
 * polyphase form (stride^2 stride-1 convolutions with sub-filters, interleaved), 2.5x faster; small
 * strided filters keep the native kernel (no faster that way; zero insertion would be slower).
 * The filter is flipped on every call (the gradient sees a fresh copy of the weight each time, so there
 * is nothing stable to cache it by); the flip avoids wasm's slow Reverse kernel.
 * Shape: `installConvInputGradient()` once (idempotent); `setConvInputGradientEnabled(bool)` (for A/B
 * benchmarks); `fastConvInputGrad(dy, xShape, filter, attrs)` => dx, or null where the native kernel is used.
 */
import * as tf from '@tensorflow/tfjs'

/** Backends whose native Conv2DBackpropInput is slower than their forward Conv2D (measured). */
export const FORWARD_CONV_INPUT_GRAD_BACKENDS: ReadonlySet<string> = new Set(['wasm'])

type PadSpec = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding

interface Conv2DAttrs {
  strides: number | [number, number]
  pad: PadSpec
  dataFormat?: 'NHWC' | 'NCHW'
  dilations?: number | [number, number]
  dimRoundingMode?: 'floor' | 'round' | 'ceil'
}

function pair(v: number | [number, number] | undefined, dflt: number): [number, number] {
  if (v === undefined) return [dflt, dflt]
  return typeof v === 'number' ? [v, v] : v
}

/**
 * filter[kh, kw, in, out] flipped in space with in/out swapped: [kh, kw, out, in].
 * Flipping both spatial axes is reversing the flattened kh*kw axis; it is done with row slices and one
 * concat, about twice as fast on wasm as its Reverse kernel (which took a quarter of a GoogLeNet
 * iteration). 1x1 filters need no flip.
 */
function flippedFilter(filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, cin, cout] = filter.shape
  const taps = kh * kw
  let spatial = filter
  if (taps > 1) {
    const rows = filter.reshape([taps, cin * cout])
    spatial = tf.concat(Array.from({ length: taps }, (_, i) => rows.slice([taps - 1 - i, 0], [1, cin * cout]))).reshape([kh, kw, cin, cout])
  }
  return tf.transpose(spatial, [0, 1, 3, 2])
}

/**
 * d(loss)/dx of `y = conv2d(x, filter, 1, pad)` (NHWC, stride 1, dilation 1) given dy, through a
 * forward convolution. Returns null where that does not apply (stride or dilation != 1, NCHW, or a
 * padding larger than the kernel), so that the caller falls back to the native kernel.
 */
export function convInputGradViaForward(
  dy: tf.Tensor4D, xShape: [number, number, number, number], filter: tf.Tensor4D, attrs: Conv2DAttrs,
): tf.Tensor4D | null {
  const strides = pair(attrs.strides, 1)
  const dilations = pair(attrs.dilations, 1)
  if (strides[0] !== 1 || strides[1] !== 1 || dilations[0] !== 1 || dilations[1] !== 1) return null
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return null
  const [kh, kw] = filter.shape
  const info = tf.backend_util.computeConv2DInfo(xShape, filter.shape, [1, 1], [1, 1], attrs.pad, attrs.dimRoundingMode, false, 'channelsLast')
  const top = kh - 1 - info.padInfo.top
  const left = kw - 1 - info.padInfo.left
  const bottom = xShape[1] + kh - 1 - top - dy.shape[1]
  const right = xShape[2] + kw - 1 - left - dy.shape[2]
  if (Math.min(top, left, bottom, right) < 0) return null
  return tf.tidy(() => {
    const padded = top || bottom || left || right ? tf.pad(dy, [[0, 0], [top, bottom], [left, right], [0, 0]]) : dy
    return tf.conv2d(padded as tf.Tensor4D, flippedFilter(filter), 1, 'valid')
  })
}

/**
 * d(loss)/dx of a strided `conv2d(x, filter, [sh, sw], pad)` (NHWC, dilation 1) in polyphase form:
 * the rows i of dx with (i + padTop) mod sh = ry only meet the filter taps ry, ry + sh, ..., so each of
 * the sh*sw phases of dx is a stride-1 correlation of dy with one sub-filter w[ry::sh, rx::sw]
 * (flipped, in/out swapped); the phases are then interleaved. Same products as the native kernel,
 * summed in another order. Every phase is computed Hn = ceil(H/sh) by Wn = ceil(W/sw) and the
 * interleaved result cropped to H x W.
 */
export function convInputGradPolyphase(
  dy: tf.Tensor4D, xShape: [number, number, number, number], filter: tf.Tensor4D, attrs: Conv2DAttrs,
): tf.Tensor4D | null {
  const [sh, sw] = pair(attrs.strides, 1)
  const dilations = pair(attrs.dilations, 1)
  if (dilations[0] !== 1 || dilations[1] !== 1) return null
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') return null
  const [kh, kw, cin, cout] = filter.shape
  const [n, h, w] = xShape
  const [, oh, ow] = dy.shape
  const info = tf.backend_util.computeConv2DInfo(xShape, filter.shape, [sh, sw], [1, 1], attrs.pad, attrs.dimRoundingMode, false, 'channelsLast')
  const { top, left } = info.padInfo
  const hn = Math.ceil(h / sh)
  const wn = Math.ceil(w / sw)
  return tf.tidy(() => {
    /** Phase (a, b): dx[a + sh*i, b + sw*j] for i < hn, j < wn. */
    const phase = (a: number, b: number): tf.Tensor4D => {
      const ry = (a + top) % sh
      const rx = (b + left) % sw
      const lh = ry < kh ? Math.ceil((kh - ry) / sh) : 0
      const lw = rx < kw ? Math.ceil((kw - rx) / sw) : 0
      if (lh === 0 || lw === 0) return tf.zeros([n, hn, wn, cin])
      const q0 = Math.floor((a + top) / sh)
      const p0 = Math.floor((b + left) / sw)
      const sub = tf.stridedSlice(filter, [ry, rx, 0, 0], [kh, kw, cin, cout], [sh, sw, 1, 1]) as tf.Tensor4D
      const bottom = Math.max(0, q0 + hn - oh)
      const right = Math.max(0, p0 + wn - ow)
      const padded = tf.pad(dy, [[0, 0], [lh - 1, bottom], [lw - 1, right], [0, 0]]) as tf.Tensor4D
      const full = tf.conv2d(padded, flippedFilter(sub), 1, 'valid')
      return full.slice([0, q0, p0, 0], [n, hn, wn, cin])
    }
    const rows: tf.Tensor[] = []
    for (let a = 0; a < sh; a++) {
      // [n, hn, wn, sw, cin] -> [n, hn, wn*sw, cin]: columns interleaved
      rows.push(tf.stack(Array.from({ length: sw }, (_, b) => phase(a, b)), 3).reshape([n, hn, wn * sw, cin]))
    }
    // [n, hn, sh, wn*sw, cin] -> [n, hn*sh, wn*sw, cin]: rows interleaved, then cropped to h x w
    const all = tf.stack(rows, 2).reshape([n, hn * sh, wn * sw, cin])
    return all.slice([0, 0, 0, 0], [n, h, w, cin]) as tf.Tensor4D
  })
}

/**
 * Smallest filter (kh*kw taps) whose strided input gradient goes the polyphase way. Measured on wasm:
 * GoogLeNet's 7x7 stride-2 conv1 2.5x faster than the native kernel; 3x3 stride-2 layers no faster.
 */
export const POLYPHASE_MIN_TAPS = 49

/** The forward-conv input gradient where it pays (see the header), else null (use the native kernel). */
export function fastConvInputGrad(
  dy: tf.Tensor4D, xShape: [number, number, number, number], filter: tf.Tensor4D, attrs: Conv2DAttrs,
): tf.Tensor4D | null {
  const [sh, sw] = pair(attrs.strides, 1)
  if (sh === 1 && sw === 1) return convInputGradViaForward(dy, xShape, filter, attrs)
  const [kh, kw] = filter.shape
  return kh * kw >= POLYPHASE_MIN_TAPS ? convInputGradPolyphase(dy, xShape, filter, attrs) : null
}

let installed = false
let enabled = true

/** Switch the override on (default) or off (the native kernel everywhere), e.g. to compare speeds in one process. */
export function setConvInputGradientEnabled(on: boolean): void {
  enabled = on
}

/**
 * Replace the Conv2D gradient so that on the backends of FORWARD_CONV_INPUT_GRAD_BACKENDS the input
 * gradient is computed by `fastConvInputGrad` where it applies; everywhere else (and for the filter
 * gradient) the original gradient runs unchanged.
 */
export function installConvInputGradient(): void {
  if (installed) return
  const original = tf.getGradient('Conv2D')
  if (!original) return
  const gradFunc: tf.GradConfig['gradFunc'] = (dy, saved, attrs) => {
    const orig = original.gradFunc(dy, saved, attrs)
    if (!enabled || !FORWARD_CONV_INPUT_GRAD_BACKENDS.has(tf.getBackend())) return orig
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D]
    return {
      ...orig,
      x: () => fastConvInputGrad(dy as tf.Tensor4D, x.shape, filter, attrs as unknown as Conv2DAttrs) ?? orig.x(),
    }
  }
  // Silence tfjs's "Overriding the gradient" warning: this override is deliberate.
  const warn = console.warn
  console.warn = () => {}
  try {
    tf.registerGradient({ ...original, gradFunc })
  } finally {
    console.warn = warn
  }
  installed = true
}
