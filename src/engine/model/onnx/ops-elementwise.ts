/**
 * Element-wise ONNX ops: activations, arithmetic with numpy broadcasting, comparisons, Where, Cast.
 * They keep their operands' layout: if any operand is an NHWC image tensor, all operands are brought
 * to NHWC (lower-rank ones broadcast-aligned first), so a conv's output stays NHWC through its
 * activations, residual adds and per-channel scales without a transpose.
 * Shape: `ELEMENTWISE_OPS: Record<opType, OpFactory>`.
 */
import * as tf from '@tensorflow/tfjs'
import { attrFloat, attrInt, attrString, need, nodeError, physNhwc, val, type OpFactory, type Val } from './layout.ts'

type Unary = (x: tf.Tensor, ctx: Parameters<OpFactory>[0]) => tf.Tensor

function unary(fn: Unary): OpFactory {
  return (ctx) => (inputs) => {
    const x = need(inputs[0], ctx.node, 0)
    return [{ t: fn(x.t, ctx), nhwc: x.nhwc }]
  }
}

/** Bring operands to one layout: NHWC if any is an NHWC image tensor (and none has rank > 4). */
export function align(vs: Val[]): { ts: tf.Tensor[]; nhwc: boolean } {
  const anyNhwc = vs.some((v) => v.nhwc) && vs.every((v) => v.t.rank <= 4)
  if (!anyNhwc) return { ts: vs.map((v) => (v.nhwc ? tf.transpose(v.t, [0, 3, 1, 2]) : v.t)), nhwc: false }
  return { ts: vs.map((v) => (v.t.rank === 0 ? v.t : physNhwc(v))), nhwc: true }
}

function nary(fn: (ts: tf.Tensor[], ctx: Parameters<OpFactory>[0]) => tf.Tensor): OpFactory {
  return (ctx) => (inputs) => {
    const vs = inputs.map((v, i) => need(v, ctx.node, i))
    const { ts, nhwc } = align(vs)
    return [val(fn(ts, ctx), nhwc)]
  }
}

/** Binary arithmetic in a common dtype (tfjs refuses mixed int32/float32). */
function same(a: tf.Tensor, b: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (a.dtype === b.dtype) return [a, b]
  return a.dtype === 'float32' ? [a, tf.cast(b, 'float32')] : b.dtype === 'float32' ? [tf.cast(a, 'float32'), b] : [a, tf.cast(b, a.dtype)]
}

function binary(fn: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor): OpFactory {
  return nary(([a, b]) => fn(...same(a, b)))
}

function scalarValue(t: tf.Tensor): number | null {
  return t.size === 1 ? (t.dataSync()[0] as number) : null
}

const hardSigmoid = (x: tf.Tensor, alpha: number, beta: number): tf.Tensor => tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1)

/** ONNX Div: integer division truncates toward zero. */
function div(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (a.dtype !== 'int32') return tf.div(a, b)
  const q = tf.div(tf.cast(a, 'float32'), tf.cast(b, 'float32'))
  return tf.cast(tf.sign(q).mul(tf.floor(tf.abs(q))), 'int32')
}

function pow(a: tf.Tensor, b: tf.Tensor, bConst: boolean): tf.Tensor {
  const e = bConst ? scalarValue(b) : null
  if (e === 2) return tf.square(a)
  if (e === 1) return a
  if (e === 0.5) return tf.sqrt(a)
  if (a.dtype === 'int32' && b.dtype === 'int32') return tf.pow(a, b)
  return tf.pow(tf.cast(a, 'float32'), tf.cast(b, 'float32'))
}

const DTYPE_OF: Record<number, 'float32' | 'int32' | 'bool'> = { 1: 'float32', 10: 'float32', 11: 'float32', 9: 'bool', 2: 'int32', 3: 'int32', 4: 'int32', 5: 'int32', 6: 'int32', 7: 'int32', 12: 'int32', 13: 'int32' }

export const ELEMENTWISE_OPS: Record<string, OpFactory> = {
  Identity: unary((x) => x),
  Relu: unary((x) => tf.relu(x)),
  LeakyRelu: unary((x, c) => tf.leakyRelu(x, attrFloat(c.node, 'alpha', 0.01))),
  Elu: unary((x, c) => {
    const alpha = attrFloat(c.node, 'alpha', 1)
    return alpha === 1 ? tf.elu(x) : tf.where(tf.greater(x, 0), x, tf.mul(tf.sub(tf.exp(x), 1), alpha))
  }),
  Selu: unary((x, c) => {
    const alpha = attrFloat(c.node, 'alpha', 1.67326319217681884765625)
    const gamma = attrFloat(c.node, 'gamma', 1.05070102214813232421875)
    return tf.mul(tf.where(tf.greater(x, 0), x, tf.mul(tf.sub(tf.exp(x), 1), alpha)), gamma)
  }),
  Sigmoid: unary((x) => tf.sigmoid(x)),
  HardSigmoid: unary((x, c) => hardSigmoid(x, attrFloat(c.node, 'alpha', 0.2), attrFloat(c.node, 'beta', 0.5))),
  HardSwish: unary((x) => tf.mul(x, hardSigmoid(x, 1 / 6, 0.5))),
  Tanh: unary((x) => tf.tanh(x)),
  Softplus: unary((x) => tf.softplus(x)),
  Softsign: unary((x) => tf.div(x, tf.add(tf.abs(x), 1))),
  Exp: unary((x) => tf.exp(x)),
  Log: unary((x) => tf.log(x)),
  Sqrt: unary((x) => tf.sqrt(x)),
  Reciprocal: unary((x) => tf.reciprocal(x)),
  Erf: unary((x) => tf.erf(x)),
  Abs: unary((x) => tf.abs(x)),
  Neg: unary((x) => tf.neg(x)),
  Floor: unary((x) => tf.floor(x)),
  Ceil: unary((x) => tf.ceil(x)),
  Sin: unary((x) => tf.sin(x)),
  Cos: unary((x) => tf.cos(x)),
  Not: unary((x) => tf.logicalNot(x)),
  Gelu: unary((x, c) => {
    const approx = attrString(c.node, 'approximate', 'none')
    if (approx === 'tanh') {
      const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))
      return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
    }
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1))
  }),
  Dropout: (ctx) => (inputs) => {
    const x = need(inputs[0], ctx.node, 0)
    if (inputs[2] && inputs[2].t.dataSync()[0]) throw nodeError(ctx.node, 'training-mode dropout is not supported (export the model in eval mode)')
    return ctx.node.outputs.length > 1 && ctx.node.outputs[1] ? [x, val(tf.onesLike(x.t).cast('bool'), x.nhwc)] : [x]
  },
  Clip: (ctx) => (inputs) => {
    const x = need(inputs[0], ctx.node, 0)
    let lo = -Infinity
    let hi = Infinity
    if (ctx.opset < 11) {
      lo = attrFloat(ctx.node, 'min', -Infinity)
      hi = attrFloat(ctx.node, 'max', Infinity)
    } else {
      if (inputs[1]) lo = scalarValue(inputs[1].t) ?? lo
      if (inputs[2]) hi = scalarValue(inputs[2].t) ?? hi
    }
    if (lo > hi) return [{ t: tf.fill(x.t.shape, hi, x.t.dtype), nhwc: x.nhwc }]
    if (x.t.dtype !== 'float32') {
      // integer clip (wasm's ClipByValue is float-only)
      let t = x.t
      if (lo > -Infinity) t = tf.maximum(t, tf.scalar(lo, t.dtype))
      if (hi < Infinity) t = tf.minimum(t, tf.scalar(hi, t.dtype))
      return [{ t, nhwc: x.nhwc }]
    }
    const t = lo === 0 && hi === 6 ? tf.relu6(x.t) : lo === 0 && hi === Infinity ? tf.relu(x.t) : tf.clipByValue(x.t, lo, hi)
    return [{ t, nhwc: x.nhwc }]
  },
  Cast: (ctx) => (inputs) => {
    const x = need(inputs[0], ctx.node, 0)
    const to = attrInt(ctx.node, 'to', 1)
    const dtype = DTYPE_OF[to]
    if (!dtype) throw nodeError(ctx.node, `cast to ONNX type ${to} is not supported (float, integer and bool types are)`)
    if (x.t.dtype === dtype) return [x]
    // float -> int truncates toward zero, as ONNX (and C) do.
    const src = dtype === 'int32' && x.t.dtype === 'float32' ? tf.mul(tf.sign(x.t), tf.floor(tf.abs(x.t))) : x.t
    return [{ t: tf.cast(src, dtype), nhwc: x.nhwc }]
  },
  Add: binary((a, b) => tf.add(a, b)),
  Sub: binary((a, b) => tf.sub(a, b)),
  Mul: binary((a, b) => tf.mul(a, b)),
  Div: binary(div),
  Pow: (ctx) => {
    const inner = nary(([a, b]) => pow(a, b, ctx.isConst(1)))
    return inner(ctx, [], (t) => t)
  },
  Max: nary((ts) => ts.reduce((a, b) => tf.maximum(...same(a, b)))),
  Min: nary((ts) => ts.reduce((a, b) => tf.minimum(...same(a, b)))),
  Sum: nary((ts) => ts.reduce((a, b) => tf.add(...same(a, b)))),
  Mean: nary((ts) => tf.div(ts.reduce((a, b) => tf.add(...same(a, b))), ts.length)),
  Equal: binary((a, b) => tf.equal(a, b)),
  Greater: binary((a, b) => tf.greater(a, b)),
  Less: binary((a, b) => tf.less(a, b)),
  GreaterOrEqual: binary((a, b) => tf.greaterEqual(a, b)),
  LessOrEqual: binary((a, b) => tf.lessEqual(a, b)),
  And: binary((a, b) => tf.logicalAnd(a, b)),
  Or: binary((a, b) => tf.logicalOr(a, b)),
  PRelu: binary((x, slope) => tf.add(tf.relu(x), tf.mul(tf.neg(tf.relu(tf.neg(x))), slope))),
  Where: nary(([c, a, b]) => {
    const [x, y] = same(a, b)
    const shape = tf.broadcast_util.assertAndGetBroadcastShape(tf.broadcast_util.assertAndGetBroadcastShape(c.shape, x.shape), y.shape)
    const bc = (t: tf.Tensor): tf.Tensor => (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]) ? t : tf.broadcastTo(t, shape))
    return tf.where(bc(c) as tf.Tensor, bc(x), bc(y))
  }),
}
