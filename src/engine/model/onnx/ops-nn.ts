/**
 * Convolution-family ONNX ops, computed in NHWC: Conv (groups, dilations, pads, auto_pad; 1-D and
 * 2-D), ConvTranspose, MaxPool / AveragePool (ceil_mode, count_include_pad), global pools,
 * BatchNormalization (reduced to x * a + b at load), LRN.
 * Constant weights are re-laid out once at load ([M, C/g, kh, kw] -> [kh, kw, C/g, M]); plain
 * (unfused) tfjs ops, so the tape needs only input-gradient kernels.
 * Shape: `NN_OPS: Record<opType, OpFactory>`.
 */
import * as tf from '@tensorflow/tfjs'
import {
  attrFloat, attrInt, attrInts, attrString, logical, need, nodeError, physNhwc, releasing, val,
  type OpCtx, type OpFactory, type Val,
} from './layout.ts'

type Pads4 = [[number, number], [number, number], [number, number], [number, number]]

interface Spatial {
  kernel: [number, number]
  strides: [number, number]
  dilations: [number, number]
  /** [[top, bottom], [left, right]] */
  pads: [[number, number], [number, number]]
}

/** Lift a 1-D attribute list to 2-D (H = 1). */
function lift(v: number[] | undefined, is1d: boolean, fill: number): number[] | undefined {
  if (!v || !is1d) return v
  return v.length === 2 ? [0, v[0], 0, v[1]] : [fill, v[0]]
}

/** Resolve kernel, strides, dilations and pads (auto_pad, ceil_mode) for an input of size [h, w]. */
function spatial(ctx: OpCtx, inHW: [number, number], kernelHW: [number, number] | null, is1d: boolean, ceil = false): Spatial {
  const node = ctx.node
  const k = lift(attrInts(node, 'kernel_shape'), is1d, 1) ?? kernelHW
  if (!k || k.length !== 2) throw nodeError(node, 'only 1-D and 2-D kernels are supported')
  const strides = (lift(attrInts(node, 'strides'), is1d, 1) ?? [1, 1]) as [number, number]
  const dilations = (lift(attrInts(node, 'dilations'), is1d, 1) ?? [1, 1]) as [number, number]
  const autoPad = attrString(node, 'auto_pad', 'NOTSET')
  const pads: [[number, number], [number, number]] = [[0, 0], [0, 0]]
  for (let d = 0; d < 2; d++) {
    const kd = (k[d] - 1) * dilations[d] + 1
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = Math.ceil(inHW[d] / strides[d])
      const total = Math.max(0, (out - 1) * strides[d] + kd - inHW[d])
      const small = Math.floor(total / 2)
      pads[d] = autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small]
    } else if (autoPad === 'NOTSET') {
      const p = lift(attrInts(node, 'pads'), is1d, 0) ?? [0, 0, 0, 0]
      pads[d] = [p[d], p[d + 2]]
    }
    if (ceil) {
      const span = inHW[d] + pads[d][0] + pads[d][1] - kd
      let out = Math.ceil(span / strides[d]) + 1
      if ((out - 1) * strides[d] >= inHW[d] + pads[d][0]) out--
      pads[d][1] += Math.max(0, (out - 1) * strides[d] + kd - (inHW[d] + pads[d][0] + pads[d][1]))
    }
  }
  return { kernel: [k[0], k[1]], strides, dilations, pads }
}

function tfPad(p: Spatial['pads']): 'valid' | Pads4 {
  return p[0][0] || p[0][1] || p[1][0] || p[1][1] ? [[0, 0], p[0], p[1], [0, 0]] : 'valid'
}

/** The image input as NHWC, 1-D signals lifted to H = 1; with a function to bring the result back. */
function imageIn(x: Val, node: OpCtx['node']): { t: tf.Tensor4D; is1d: boolean; out: (y: tf.Tensor) => Val } {
  if (x.t.rank === 3) {
    const [n, c, l] = x.t.shape
    const t = tf.transpose(tf.reshape(x.t, [n, c, 1, l]), [0, 2, 3, 1]) as tf.Tensor4D
    return { t, is1d: true, out: (y) => val(tf.reshape(tf.transpose(y, [0, 3, 1, 2]), [y.shape[0], y.shape[3] as number, y.shape[2] as number])) }
  }
  if (x.t.rank !== 4) throw nodeError(node, `a rank-${x.t.rank} input (${x.t.rank - 2}-D) is not supported; 1-D and 2-D inputs (rank 3 or 4) are`)
  return { t: physNhwc(x) as tf.Tensor4D, is1d: false, out: (y) => val(y, true) }
}

function liftWeight(w: tf.Tensor): tf.Tensor {
  return w.rank === 3 ? tf.reshape(w, [w.shape[0], w.shape[1] as number, 1, w.shape[2] as number]) : w
}

/** Conv weight [M, C/g, kh, kw] -> per group tfjs filters; depthwise when group = C and C/g = 1. */
function convFilters(w: tf.Tensor, group: number): { filters: tf.Tensor4D[]; depthwise: boolean } {
  const w4 = liftWeight(w)
  const [m, cg, kh, kw] = w4.shape
  if (group > 1 && cg === 1) {
    // depthwise: output channel o = c * mult + j reads input channel c.
    const mult = m / group
    return { filters: [tf.transpose(tf.reshape(w4, [group, mult, kh, kw]), [2, 3, 0, 1]) as tf.Tensor4D], depthwise: true }
  }
  const per = m / group
  const filters = Array.from({ length: group }, (_, g) => {
    const part = group === 1 ? w4 : tf.slice(w4, [g * per, 0, 0, 0], [per, cg, kh, kw])
    return tf.transpose(part, [2, 3, 1, 0]) as tf.Tensor4D
  })
  return { filters, depthwise: false }
}

/** Smallest kernel (taps) computed as a patch embedding; smaller ones stay convolutions. */
const PATCHIFY_MIN_TAPS = 16

/** A ViT patch embedding: stride = kernel, no padding, no dilation, the input tiled exactly. */
function isPatchify(shape: number[], kh: number, kw: number, s: Spatial): boolean {
  return kh * kw >= PATCHIFY_MIN_TAPS && s.strides[0] === kh && s.strides[1] === kw && s.dilations[0] === 1 && s.dilations[1] === 1 &&
    tfPad(s.pads) === 'valid' && shape[1] % kh === 0 && shape[2] % kw === 0
}

/**
 * Non-overlapping patches times the filter as one matMul ([patches, kh*kw*C] x [kh*kw*C, M]): the same
 * sums as the convolution, and an input gradient of one matMul and a transpose instead of the
 * kh*kw strided convolutions of the polyphase gradient (256 for a 16x16 patch).
 */
function patchify(x: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor {
  const [n, h, w, c] = x.shape
  const [kh, kw, , m] = filter.shape
  const gh = h / kh
  const gw = w / kw
  const patches = tf.reshape(tf.transpose(tf.reshape(x, [n * gh, kh, gw, kw * c]), [0, 2, 1, 3]), [n * gh * gw, kh * kw * c])
  return tf.reshape(tf.matMul(patches as tf.Tensor2D, tf.reshape(filter, [kh * kw * c, m]) as tf.Tensor2D), [n, gh, gw, m])
}

const Conv: OpFactory = (ctx, consts, keep) => {
  const node = ctx.node
  const group = attrInt(node, 'group', 1)
  const prepared = consts[1] ? convFilters(consts[1], group) : null
  if (prepared) prepared.filters.forEach(keep)
  const bias = consts[2] ?? null
  return releasing((inputs) => {
    const x = need(inputs[0], node, 0)
    const img = imageIn(x, node)
    const { filters, depthwise } = prepared ?? convFilters(logical(need(inputs[1], node, 1)), group)
    const [kh, kw] = filters[0].shape
    const s = spatial(ctx, [img.t.shape[1], img.t.shape[2]], [kh, kw], img.is1d)
    if ((s.strides[0] > 1 || s.strides[1] > 1) && (s.dilations[0] > 1 || s.dilations[1] > 1)) {
      throw nodeError(node, 'strides and dilations both above 1 are not supported')
    }
    const pad = tfPad(s.pads)
    let y: tf.Tensor
    if (!depthwise && filters.length === 1 && isPatchify(img.t.shape, kh, kw, s)) y = patchify(img.t, filters[0])
    else if (depthwise) y = tf.depthwiseConv2d(img.t, filters[0], s.strides, pad, 'NHWC', s.dilations)
    else if (filters.length === 1) y = tf.conv2d(img.t, filters[0], s.strides, pad, 'NHWC', s.dilations)
    else {
      const xs = tf.split(img.t, group, 3)
      y = tf.concat(xs.map((xi, g) => tf.conv2d(xi as tf.Tensor4D, filters[g], s.strides, pad, 'NHWC', s.dilations)), 3)
    }
    const b = bias ?? (inputs[2] ? logical(inputs[2]) : null)
    if (b) y = tf.add(y, b)
    return [img.out(y)]
  }, prepared ? [1] : [])
}

const ConvTranspose: OpFactory = (ctx, consts, keep) => {
  const node = ctx.node
  if (attrInt(node, 'group', 1) !== 1) throw nodeError(node, 'grouped ConvTranspose is not supported')
  const filterOf = (w: tf.Tensor): tf.Tensor4D => tf.transpose(liftWeight(w), [2, 3, 1, 0]) as tf.Tensor4D // [kh, kw, M, C]
  const prepared = consts[1] ? keep(filterOf(consts[1])) as tf.Tensor4D : null
  return releasing((inputs) => {
    const x = need(inputs[0], node, 0)
    const img = imageIn(x, node)
    const f = prepared ?? filterOf(logical(need(inputs[1], node, 1)))
    const [kh, kw, m] = f.shape
    const is1d = img.is1d
    const strides = (lift(attrInts(node, 'strides'), is1d, 1) ?? [1, 1])
    const dil = lift(attrInts(node, 'dilations'), is1d, 1) ?? [1, 1]
    if (dil[0] !== 1 || dil[1] !== 1) throw nodeError(node, 'dilated ConvTranspose is not supported')
    const outPad = lift(attrInts(node, 'output_padding'), is1d, 0) ?? [0, 0]
    const [n, h, w] = img.t.shape
    const full = [(h - 1) * strides[0] + kh, (w - 1) * strides[1] + kw]
    const outShape = lift(attrInts(node, 'output_shape'), is1d, 1)
    let pads = lift(attrInts(node, 'pads'), is1d, 0) ?? [0, 0, 0, 0]
    const autoPad = attrString(node, 'auto_pad', 'NOTSET')
    const target = [0, 1].map((d) => (outShape ? outShape[outShape.length - 2 + d]
      : autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER' ? [h, w][d] * strides[d]
        : full[d] + outPad[d] - pads[d] - pads[d + 2]))
    if (outShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = [0, 1].map((d) => Math.max(0, full[d] + outPad[d] - target[d]))
      const upper = autoPad === 'SAME_UPPER'
      const begin = total.map((t) => (upper ? Math.floor(t / 2) : t - Math.floor(t / 2)))
      pads = [begin[0], begin[1], total[0] - begin[0], total[1] - begin[1]]
    }
    let y: tf.Tensor = tf.conv2dTranspose(img.t, f, [n, full[0], full[1], m], strides as [number, number], 'valid')
    const extra = [Math.max(0, pads[0] + target[0] - full[0]), Math.max(0, pads[1] + target[1] - full[1])]
    if (extra[0] || extra[1]) y = tf.pad(y, [[0, 0], [0, extra[0]], [0, extra[1]], [0, 0]])
    y = tf.slice(y, [0, pads[0], pads[1], 0], [n, target[0], target[1], m])
    const b = consts[2] ?? (inputs[2] ? logical(inputs[2]) : null)
    if (b) y = tf.add(y, b)
    return [img.out(y)]
  }, prepared ? [1] : [])
}

function checkPoolOutputs(ctx: OpCtx): void {
  if (ctx.node.outputs.length > 1 && ctx.node.outputs[1]) throw nodeError(ctx.node, 'the Indices output of MaxPool is not supported')
}

const MaxPool: OpFactory = (ctx) => (inputs) => {
  checkPoolOutputs(ctx)
  const img = imageIn(need(inputs[0], ctx.node, 0), ctx.node)
  const s = spatial(ctx, [img.t.shape[1], img.t.shape[2]], null, img.is1d, attrInt(ctx.node, 'ceil_mode', 0) === 1)
  if (s.dilations[0] !== 1 || s.dilations[1] !== 1) throw nodeError(ctx.node, 'dilated pooling is not supported')
  const xf = img.t.dtype === 'float32' ? img.t : tf.cast(img.t, 'float32')
  const y = tf.maxPool(xf, s.kernel, s.strides, tfPad(s.pads))
  return [img.out(img.t.dtype === 'float32' ? y : tf.cast(y, img.t.dtype))]
}

const AveragePool: OpFactory = (ctx) => (inputs) => {
  const img = imageIn(need(inputs[0], ctx.node, 0), ctx.node)
  const [, h, w] = img.t.shape
  const s0 = spatial(ctx, [h, w], null, img.is1d)
  const s = spatial(ctx, [h, w], null, img.is1d, attrInt(ctx.node, 'ceil_mode', 0) === 1)
  if (s.dilations[0] !== 1 || s.dilations[1] !== 1) throw nodeError(ctx.node, 'dilated pooling is not supported')
  const pads = s.pads
  if (!pads[0][0] && !pads[0][1] && !pads[1][0] && !pads[1][1]) return [img.out(tf.avgPool(img.t, s.kernel, s.strides, 'valid'))]
  // Sum over each window divided by the number of counted cells: real cells, plus the explicit
  // pads when count_include_pad (never the cells added by ceil_mode).
  const taps = s.kernel[0] * s.kernel[1]
  const sum = tf.mul(tf.avgPool(tf.pad(img.t, [[0, 0], pads[0], pads[1], [0, 0]]) as tf.Tensor4D, s.kernel, s.strides, 'valid'), taps)
  const include = attrInt(ctx.node, 'count_include_pad', 0) === 1
  const region = include ? [h + s0.pads[0][0] + s0.pads[0][1], w + s0.pads[1][0] + s0.pads[1][1]] : [h, w]
  const before = include ? [0, 0] : [pads[0][0], pads[1][0]]
  const hp = h + pads[0][0] + pads[0][1]
  const wp = w + pads[1][0] + pads[1][1]
  const mask = tf.pad(tf.ones([1, region[0], region[1], 1]), [[0, 0], [before[0], hp - region[0] - before[0]], [before[1], wp - region[1] - before[1]], [0, 0]]) as tf.Tensor4D
  const count = tf.mul(tf.avgPool(mask, s.kernel, s.strides, 'valid'), taps)
  return [img.out(tf.div(sum, count))]
}

function globalPool(kind: 'mean' | 'max'): OpFactory {
  return (ctx) => (inputs) => {
    const x = need(inputs[0], ctx.node, 0)
    if (x.nhwc) return [val(kind === 'mean' ? tf.mean(x.t, [1, 2], true) : tf.max(x.t, [1, 2], true), true)]
    const axes = Array.from({ length: x.t.rank - 2 }, (_, i) => i + 2)
    return [val(kind === 'mean' ? tf.mean(x.t, axes, true) : tf.max(x.t, axes, true))]
  }
}

/** Per-channel (axis 1) affine map of a value in its own layout. */
function perChannel(x: Val, a: tf.Tensor, b: tf.Tensor): Val {
  if (x.nhwc || x.t.rank <= 2) return { t: tf.add(tf.mul(x.t, a), b), nhwc: x.nhwc }
  const shape = [a.shape[0], ...new Array(x.t.rank - 2).fill(1)]
  return val(tf.add(tf.mul(x.t, tf.reshape(a, shape)), tf.reshape(b, shape)))
}

const BatchNormalization: OpFactory = (ctx, consts, keep) => {
  const node = ctx.node
  if (attrInt(node, 'training_mode', 0) === 1 || node.outputs.filter(Boolean).length > 1) {
    throw nodeError(node, 'training-mode batch normalization is not supported (export the model in eval mode)')
  }
  const eps = attrFloat(node, 'epsilon', 1e-5)
  const fold = (scale: tf.Tensor, bias: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor): [tf.Tensor, tf.Tensor] => {
    const a = tf.mul(scale, tf.rsqrt(tf.add(variance, eps)))
    return [a, tf.sub(bias, tf.mul(mean, a))]
  }
  const allConst = [1, 2, 3, 4].every((i) => consts[i])
  const folded = allConst ? tf.tidy(() => fold(consts[1]!, consts[2]!, consts[3]!, consts[4]!)).map(keep) : null
  return releasing((inputs) => {
    const x = need(inputs[0], node, 0)
    const [a, b] = folded ?? fold(...([1, 2, 3, 4].map((i) => logical(need(inputs[i], node, i))) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]))
    return [perChannel(x, a, b)]
  }, folded ? [1, 2, 3, 4] : [])
}

const LRN: OpFactory = (ctx) => (inputs) => {
  const node = ctx.node
  const x = need(inputs[0], node, 0)
  if (x.t.rank !== 4) throw nodeError(node, `expects a rank-4 input; got rank ${x.t.rank}`)
  const size = attrInt(node, 'size', 1)
  const alpha = attrFloat(node, 'alpha', 1e-4)
  const beta = attrFloat(node, 'beta', 0.75)
  const bias = attrFloat(node, 'bias', 1)
  const t = physNhwc(x) as tf.Tensor4D
  if (size % 2 === 1) return [val(tf.localResponseNormalization(t, (size - 1) / 2, bias, alpha / size, beta), true)]
  // Even size: the window is [c - floor((size-1)/2), c + ceil((size-1)/2)].
  const lo = Math.floor((size - 1) / 2)
  const hi = Math.ceil((size - 1) / 2)
  const c = t.shape[3]
  const sq = tf.pad(tf.square(t), [[0, 0], [0, 0], [0, 0], [lo, hi]])
  let sum: tf.Tensor = tf.slice(sq, [0, 0, 0, 0], [-1, -1, -1, c])
  for (let i = 1; i < size; i++) sum = tf.add(sum, tf.slice(sq, [0, 0, 0, i], [-1, -1, -1, c]))
  return [val(tf.div(t, tf.pow(tf.add(tf.mul(sum, alpha / size), bias), beta)), true)]
}

const InstanceNormalization: OpFactory = (ctx) => (inputs) => {
  const node = ctx.node
  const x = need(inputs[0], node, 0)
  const eps = attrFloat(node, 'epsilon', 1e-5)
  const scale = logical(need(inputs[1], node, 1))
  const bias = logical(need(inputs[2], node, 2))
  const axes = x.nhwc ? [1, 2] : Array.from({ length: x.t.rank - 2 }, (_, i) => i + 2)
  const { mean, variance } = tf.moments(x.t, axes, true)
  const norm: Val = { t: tf.div(tf.sub(x.t, mean), tf.sqrt(tf.add(variance, eps))), nhwc: x.nhwc }
  return [perChannel(norm, scale, bias)]
}

export const NN_OPS: Record<string, OpFactory> = {
  Conv, ConvTranspose, MaxPool, AveragePool, BatchNormalization, LRN, InstanceNormalization,
  GlobalAveragePool: globalPool('mean'),
  GlobalMaxPool: globalPool('max'),
}
