/**
 * Linear algebra, reductions and normalizations: MatMul (numpy broadcasting), Gemm (constant B
 * transposed once at load), Softmax / LogSoftmax (both opset conventions), ReduceMean / Sum / Max /
 * Min / SumSquare / L2, LayerNormalization.
 * Shape: `MATH_OPS: Record<opType, OpFactory>`.
 */
import * as tf from '@tensorflow/tfjs'
import {
  attrFloat, attrInt, attrInts, ints, logical, need, nodeError, normAxis, physAxis, releasing, val, type OpFactory,
} from './layout.ts'

type CustomGradFn = Parameters<typeof tf.customGrad>[0]

/** Swap the last two axes. */
function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = Array.from({ length: t.rank }, (_, i) => i)
  perm[t.rank - 2] = t.rank - 1
  perm[t.rank - 1] = t.rank - 2
  return tf.transpose(t, perm)
}

/**
 * a x b (2-D, or 3-D with equal batches) whose gradients are plain matMuls of explicitly transposed
 * operands: tfjs' own gradient uses matMul's transpose flags, which on wasm take a path ~10x slower
 * (197x768 by 768x192: 71 ms with transposeB, 6.7 ms without). With `bT` (the constant b, transposed
 * once at load) only the input gradient is computed.
 */
export function fastMatMul(a: tf.Tensor, b: tf.Tensor, bT?: tf.Tensor): tf.Tensor {
  if (bT) {
    const f = tf.customGrad(((x: tf.Tensor) => ({
      value: tf.matMul(x as tf.Tensor2D, b as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, bT as tf.Tensor2D),
    })) as unknown as CustomGradFn)
    return f(a)
  }
  const g = tf.customGrad(((x: tf.Tensor, y: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, y])
    return {
      value: tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.matMul(dy as tf.Tensor3D, swapLast(saved[1]) as tf.Tensor3D), tf.matMul(swapLast(saved[0]) as tf.Tensor3D, dy as tf.Tensor3D)],
    }
  }) as unknown as CustomGradFn)
  return g(a, b)
}

/**
 * numpy matmul for tfjs: 1-D operands promoted, batch dims broadcast, a 2-D right operand as one
 * GEMM (with `bT`, the constant right operand transposed, for a fast input gradient).
 */
export function matmul(a: tf.Tensor, b: tf.Tensor, bT?: tf.Tensor): tf.Tensor {
  const aVec = a.rank === 1
  const bVec = b.rank === 1
  const x = aVec ? tf.reshape(a, [1, a.shape[0]]) : a
  const y = bVec ? tf.reshape(b, [b.shape[0], 1]) : b
  let out: tf.Tensor
  if (y.rank === 2 && x.rank >= 2) {
    const lead = x.shape.slice(0, -1)
    const k = x.shape[x.rank - 1]
    out = tf.reshape(fastMatMul(tf.reshape(x, [-1, k]), y, bVec ? undefined : bT), [...lead, y.shape[1] as number])
  } else {
    const rank = Math.max(x.rank, y.rank)
    const batchA = x.shape.slice(0, -2)
    const batchB = y.shape.slice(0, -2)
    const n = rank - 2
    const pa = [...new Array(n - batchA.length).fill(1), ...batchA]
    const pb = [...new Array(n - batchB.length).fill(1), ...batchB]
    const batch = pa.map((d, i) => (d === 1 ? pb[i] : d))
    const same = (s: number[], t: number[]): boolean => s.length === t.length && s.every((d, i) => d === t[i])
    const bx = same(pa, batch) ? x : tf.broadcastTo(tf.reshape(x, [...pa, ...x.shape.slice(-2)]), [...batch, ...x.shape.slice(-2)])
    const by = same(pb, batch) ? y : tf.broadcastTo(tf.reshape(y, [...pb, ...y.shape.slice(-2)]), [...batch, ...y.shape.slice(-2)])
    const flatA = tf.reshape(bx, [-1, ...x.shape.slice(-2)])
    const flatB = tf.reshape(by, [-1, ...y.shape.slice(-2)])
    out = tf.reshape(fastMatMul(flatA, flatB), [...batch, x.shape[x.rank - 2], y.shape[y.rank - 1]])
  }
  if (aVec) out = tf.squeeze(out, [out.rank - 2])
  if (bVec) out = tf.squeeze(out, [out.rank - 1])
  return out
}

const MatMul: OpFactory = (ctx, consts, keep) => {
  const w = consts[1]
  const wT = w && w.rank === 2 ? keep(tf.transpose(w)) : undefined
  return (inputs) => {
    const a = logical(need(inputs[0], ctx.node, 0))
    const b = logical(need(inputs[1], ctx.node, 1))
    return [val(matmul(a, b, wT))]
  }
}

const Gemm: OpFactory = (ctx, consts, keep) => {
  const node = ctx.node
  const alpha = attrFloat(node, 'alpha', 1)
  const beta = attrFloat(node, 'beta', 1)
  const transA = attrInt(node, 'transA', 0) === 1
  const transB = attrInt(node, 'transB', 0) === 1
  // B as [K, N], scaled by alpha, computed once when B is a constant.
  const prepB = (b: tf.Tensor): tf.Tensor2D => {
    let t = transB ? tf.transpose(b) : b
    if (alpha !== 1) t = tf.mul(t, alpha)
    return t as tf.Tensor2D
  }
  const bConst = consts[1] ? keep(tf.tidy(() => prepB(consts[1]!))) as tf.Tensor2D : null
  const bConstT = bConst ? keep(tf.transpose(bConst)) : undefined
  const cConst = consts[2] ? keep(tf.tidy(() => (beta !== 1 ? tf.mul(consts[2]!, beta) : consts[2]!.clone()))) : null
  return releasing((inputs) => {
    let a = logical(need(inputs[0], node, 0))
    if (a.rank !== 2) throw nodeError(node, `expects a 2-D input A; got shape [${a.shape.join(', ')}]`)
    if (transA) a = tf.transpose(a)
    const b = bConst ?? prepB(logical(need(inputs[1], node, 1)))
    let y: tf.Tensor = fastMatMul(a, b, bConst ? bConstT : undefined)
    const c = cConst ?? (inputs[2] ? (beta !== 1 ? tf.mul(logical(inputs[2]), beta) : logical(inputs[2])) : null)
    if (c && beta !== 0) y = tf.add(y, c)
    return [val(y)]
  }, [...(bConst ? [1] : []), ...(cConst ? [2] : [])])
}

/** Softmax over one axis (tf.softmax works on the last axis only). */
function softmaxAxis(x: tf.Tensor, axis: number, log: boolean): tf.Tensor {
  const f = (t: tf.Tensor): tf.Tensor => (log ? tf.logSoftmax(t) : tf.softmax(t))
  if (axis === x.rank - 1) return f(x)
  const perm = Array.from({ length: x.rank }, (_, i) => i)
  perm[axis] = x.rank - 1
  perm[x.rank - 1] = axis
  return tf.transpose(f(tf.transpose(x, perm)), perm)
}

function softmax(log: boolean): OpFactory {
  return (ctx) => (inputs) => {
    const x = need(inputs[0], ctx.node, 0)
    const rank = x.t.rank
    if (ctx.opset >= 13) {
      const axis = normAxis(attrInt(ctx.node, 'axis', -1), rank)
      return [val(softmaxAxis(x.t, physAxis(x, axis), log), x.nhwc)]
    }
    // Opsets < 13: the input is coerced to 2-D at `axis` (default 1) and normalized over the second part.
    const axis = normAxis(attrInt(ctx.node, 'axis', 1), rank)
    const t = logical(x)
    const outer = t.shape.slice(0, axis).reduce((a, b) => a * b, 1)
    return [val(tf.reshape(softmaxAxis(tf.reshape(t, [outer, -1]), 1, log), t.shape))]
  }
}

type Reducer = (x: tf.Tensor, axes: number[], keep: boolean) => tf.Tensor

function reduce(fn: Reducer): OpFactory {
  return (ctx) => (inputs) => {
    const x = need(inputs[0], ctx.node, 0)
    const rank = x.t.rank
    const fromInput = (ctx.node.opType === 'ReduceSum' && ctx.opset >= 13) || ctx.opset >= 18
    let axes = fromInput ? (inputs[1] && inputs[1].t.size ? ints(inputs[1].t) : undefined) : attrInts(ctx.node, 'axes')
    const keep = attrInt(ctx.node, 'keepdims', 1) === 1
    if (!axes || axes.length === 0) {
      if (attrInt(ctx.node, 'noop_with_empty_axes', 0) === 1) return [x]
      axes = Array.from({ length: rank }, (_, i) => i)
    }
    const ax = axes.map((a) => normAxis(a, rank))
    const src = x.t.dtype === 'bool' ? tf.cast(x.t, 'float32') : x.t
    if (x.nhwc && keep) return [val(fn(src, ax.map((a) => physAxis(x, a)), true), true)]
    return [val(fn(x.nhwc ? logical({ t: src, nhwc: true }) : src, ax, keep))]
  }
}

/** LayerNormalization (opset 17): normalize over axes [axis, rank), then scale and shift. */
const LayerNormalization: OpFactory = (ctx) => (inputs) => {
  const node = ctx.node
  const x = logical(need(inputs[0], node, 0))
  const axis = normAxis(attrInt(node, 'axis', -1), x.rank)
  const eps = attrFloat(node, 'epsilon', 1e-5)
  const axes = Array.from({ length: x.rank - axis }, (_, i) => axis + i)
  const mean = tf.mean(x, axes, true)
  const centered = tf.sub(x, mean)
  const variance = tf.mean(tf.square(centered), axes, true)
  let y = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)))
  y = tf.mul(y, logical(need(inputs[1], node, 1)))
  if (inputs[2]) y = tf.add(y, logical(inputs[2]))
  return [val(y), val(mean), val(tf.rsqrt(tf.add(variance, eps)))]
}

export const MATH_OPS: Record<string, OpFactory> = {
  MatMul, Gemm, LayerNormalization,
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
  ReduceMean: reduce((x, a, k) => tf.mean(x, a, k)),
  ReduceSum: reduce((x, a, k) => tf.sum(x, a, k)),
  ReduceMax: reduce((x, a, k) => tf.max(x, a, k)),
  ReduceMin: reduce((x, a, k) => tf.min(x, a, k)),
  ReduceProd: reduce((x, a, k) => tf.prod(x, a, k)),
  ReduceSumSquare: reduce((x, a, k) => tf.sum(tf.square(x), a, k)),
  ReduceL2: reduce((x, a, k) => tf.sqrt(tf.sum(tf.square(x), a, k))),
  ReduceL1: reduce((x, a, k) => tf.sum(tf.abs(x), a, k)),
}
