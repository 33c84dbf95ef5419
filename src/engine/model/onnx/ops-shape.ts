/**
 * Shape and data-movement ONNX ops: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split,
 * Slice, Gather, Expand, Tile, Shape, Size, Constant, ConstantOfShape, Range, Pad.
 * Shape arguments (a Reshape's shape, a Slice's bounds...) must be constants, or come from a subgraph
 * that depends only on shapes; the executor folds those before they are read here.
 * Concat, Split, Slice and Pad work on an NHWC value in place (axes mapped); Transpose turns an
 * NCHW<->NHWC permutation into a layout change (no data movement). Gather of a single index on the
 * data path is a slice: tf.gather's gradient (UnsortedSegmentSum) is missing on wasm.
 * Shape: `SHAPE_OPS: Record<opType, OpFactory>`.
 */
import * as tf from '@tensorflow/tfjs'
import { align } from './ops-elementwise.ts'
import {
  attr, attrFloat, attrInt, attrInts, attrString, hostToTensor, ints, logical, logicalShape, need, nodeError, normAxis, physAxis, val,
  type OpFactory, type Val,
} from './layout.ts'
import type { HostTensor } from './proto.ts'

const Reshape: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const want = ctx.opset < 5 ? attrInts(ctx.node, 'shape')! : ints(need(inputs[1], ctx.node, 1).t)
  const allowZero = attrInt(ctx.node, 'allowzero', 0) === 1
  const src = logicalShape(x)
  const shape = want.map((d, i) => (d === 0 && !allowZero ? src[i] : d))
  return [val(tf.reshape(logical(x), shape))]
}

const Flatten: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const s = logicalShape(x)
  const axis = normAxis(attrInt(ctx.node, 'axis', 1), s.length)
  const outer = s.slice(0, axis).reduce((a, b) => a * b, 1)
  return [val(tf.reshape(logical(x), [outer, -1]))]
}

const Transpose: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const rank = x.t.rank
  const perm = attrInts(ctx.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i)
  const is = (p: number[]): boolean => p.every((v, i) => perm[i] === v)
  if (rank === 4) {
    if (x.nhwc && is([0, 2, 3, 1])) return [val(x.t)] // NCHW -> NHWC of an NHWC value: already laid out
    if (!x.nhwc && is([0, 3, 1, 2])) return [val(x.t, true)] // NHWC -> NCHW: keep the data, mark its layout
  }
  if (is(perm.map((_, i) => i))) return [x]
  return [val(tf.transpose(logical(x), perm))]
}

const Squeeze: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const s = logicalShape(x)
  const axes = (ctx.opset >= 13 ? (inputs[1] ? ints(inputs[1].t) : undefined) : attrInts(ctx.node, 'axes'))?.map((a) => normAxis(a, s.length))
  const shape = s.filter((d, i) => (axes ? !axes.includes(i) : d !== 1))
  return [val(tf.reshape(logical(x), shape))]
}

const Unsqueeze: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const s = logicalShape(x)
  const raw = ctx.opset >= 13 ? ints(need(inputs[1], ctx.node, 1).t) : attrInts(ctx.node, 'axes') ?? []
  const rank = s.length + raw.length
  const axes = raw.map((a) => normAxis(a, rank))
  const shape: number[] = []
  let k = 0
  for (let i = 0; i < rank; i++) shape.push(axes.includes(i) ? 1 : s[k++])
  return [val(tf.reshape(logical(x), shape))]
}

const Concat: OpFactory = (ctx) => (inputs) => {
  const vs = inputs.filter((v): v is Val => !!v && v.t.size > 0)
  if (vs.length === 0) return [need(inputs[0], ctx.node, 0)]
  const rank = logicalShape(vs[0]).length
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), rank)
  const { ts, nhwc } = rank === 4 ? align(vs) : { ts: vs.map(logical), nhwc: false }
  const dtype = ts.some((t) => t.dtype === 'float32') ? 'float32' : ts[0].dtype
  const cast = ts.map((t) => (t.dtype === dtype ? t : tf.cast(t, dtype)))
  return [val(tf.concat(cast, nhwc ? physAxis({ t: ts[0], nhwc }, axis) : axis), nhwc)]
}

const Split: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const rank = x.t.rank
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), rank)
  const dim = logicalShape(x)[axis]
  const outs = ctx.node.outputs.length
  let sizes = ctx.opset >= 13 ? (inputs[1] ? ints(inputs[1].t) : undefined) : attrInts(ctx.node, 'split')
  if (!sizes) {
    const n = attrInt(ctx.node, 'num_outputs', outs)
    const each = Math.ceil(dim / n)
    sizes = Array.from({ length: n }, (_, i) => Math.min(each, dim - each * i))
  }
  const parts = tf.split(x.t, sizes, physAxis(x, axis))
  return parts.map((t) => val(t, x.nhwc))
}

const Slice: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const s = logicalShape(x)
  const old = ctx.opset < 10
  const starts = old ? attrInts(ctx.node, 'starts')! : ints(need(inputs[1], ctx.node, 1).t)
  const ends = old ? attrInts(ctx.node, 'ends')! : ints(need(inputs[2], ctx.node, 2).t)
  const axes = (old ? attrInts(ctx.node, 'axes') : inputs[3] ? ints(inputs[3].t) : undefined) ?? starts.map((_, i) => i)
  const steps = (!old && inputs[4] ? ints(inputs[4].t) : undefined) ?? starts.map(() => 1)
  const begin = s.map(() => 0)
  const end = [...s]
  const stride = s.map(() => 1)
  axes.forEach((a0, i) => {
    const a = normAxis(a0, s.length)
    const d = s[a]
    const step = steps[i]
    if (step === 0) throw nodeError(ctx.node, 'a step of 0 is not allowed')
    const clampS = (v: number): number => {
      const w = v < 0 ? v + d : v
      return step > 0 ? Math.min(Math.max(w, 0), d) : Math.min(Math.max(w, -1), d - 1)
    }
    begin[a] = clampS(starts[i])
    end[a] = clampS(ends[i])
    stride[a] = step
  })
  const pa = (i: number): number => physAxis(x, i)
  const pb = s.map(() => 0), pe = s.map(() => 0), ps = s.map(() => 1)
  s.forEach((_, i) => { pb[pa(i)] = begin[i]; pe[pa(i)] = end[i]; ps[pa(i)] = stride[i] })
  if (ps.every((v) => v === 1)) {
    const size = pe.map((e, i) => Math.max(0, e - pb[i]))
    return [val(tf.slice(x.t, pb, size), x.nhwc)]
  }
  // Negative or non-unit steps: stridedSlice with explicit -1 ends for "past the front".
  const endMask = pe.reduce((m, e, i) => (ps[i] < 0 && e < 0 ? m | (1 << i) : m), 0)
  return [val(tf.stridedSlice(x.t, pb, pe, ps, 0, endMask), x.nhwc)]
}

const Gather: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const idxV = need(inputs[1], ctx.node, 1)
  const data = logical(x)
  const axis = normAxis(attrInt(ctx.node, 'axis', 0), data.rank)
  const dim = data.shape[axis]
  const idx = ints(idxV.t).map((i) => (i < 0 ? i + dim : i))
  if (idx.some((i) => i < 0 || i >= dim)) throw nodeError(ctx.node, `index out of range [0, ${dim})`)
  const outShape = [...data.shape.slice(0, axis), ...idxV.t.shape, ...data.shape.slice(axis + 1)]
  if (ctx.isConst(0) || idx.length > 64) return [val(tf.reshape(tf.gather(data, tf.tensor1d(idx, 'int32'), axis), outShape))]
  // On the data path: slices (their gradient is a pad) instead of tf.gather.
  const size = data.shape.map((d, i) => (i === axis ? 1 : d))
  const pieces = idx.map((i) => tf.slice(data, data.shape.map((_, k) => (k === axis ? i : 0)), size))
  return [val(tf.reshape(pieces.length === 1 ? pieces[0] : tf.concat(pieces, axis), outShape))]
}

function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length)
  const pa = [...new Array(n - a.length).fill(1), ...a]
  const pb = [...new Array(n - b.length).fill(1), ...b]
  return pa.map((d, i) => (d === 1 ? pb[i] : d))
}

const Expand: OpFactory = (ctx) => (inputs) => {
  const x = logical(need(inputs[0], ctx.node, 0))
  const shape = broadcastShape(x.shape, ints(need(inputs[1], ctx.node, 1).t))
  if (shape.length === x.rank && shape.every((d, i) => d === x.shape[i])) return [val(x)]
  return [val(tf.broadcastTo(x, shape))]
}

const Tile: OpFactory = (ctx) => (inputs) => {
  const x = logical(need(inputs[0], ctx.node, 0))
  return [val(tf.tile(x, ints(need(inputs[1], ctx.node, 1).t)))]
}

const Shape: OpFactory = (ctx) => (inputs) => {
  const s = logicalShape(need(inputs[0], ctx.node, 0))
  const r = s.length
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r)
  const start = clamp(attrInt(ctx.node, 'start', 0))
  const end = clamp(attrInt(ctx.node, 'end', r))
  return [val(tf.tensor1d(s.slice(start, Math.max(start, end)), 'int32'))]
}

const Size: OpFactory = (ctx) => (inputs) => [val(tf.scalar(need(inputs[0], ctx.node, 0).t.size, 'int32'))]

const Constant: OpFactory = (ctx) => () => {
  const n = ctx.node
  const v = attr(n, 'value')
  if (v && typeof v === 'object' && !Array.isArray(v)) return [val(hostToTensor(v as HostTensor))]
  if (attr(n, 'value_float') !== undefined) return [val(tf.scalar(attrFloat(n, 'value_float', 0)))]
  if (attr(n, 'value_int') !== undefined) return [val(tf.scalar(attrInt(n, 'value_int', 0), 'int32'))]
  const fl = attr(n, 'value_floats')
  if (Array.isArray(fl)) return [val(tf.tensor1d(fl as number[]))]
  const il = attrInts(n, 'value_ints')
  if (il) return [val(tf.tensor1d(il, 'int32'))]
  throw nodeError(n, 'constant without a supported value attribute (value, value_float(s), value_int(s))')
}

const ConstantOfShape: OpFactory = (ctx) => (inputs) => {
  const shape = ints(need(inputs[0], ctx.node, 0).t)
  const v = attr(ctx.node, 'value') as HostTensor | undefined
  const fill = v ? v.data[0] : 0
  return [val(tf.fill(shape, fill, v ? v.dtype : 'float32'))]
}

const Range: OpFactory = (ctx) => (inputs) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => need(inputs[i], ctx.node, i).t)
  const dtype = start.dtype === 'int32' ? 'int32' : 'float32'
  const [a, b, d] = [start, limit, delta].map((t) => t.dataSync()[0] as number)
  const n = Math.max(Math.ceil((b - a) / d), 0)
  return [val(tf.tensor1d(Array.from({ length: n }, (_, i) => a + i * d), dtype))]
}

const Pad: OpFactory = (ctx) => (inputs) => {
  const x = need(inputs[0], ctx.node, 0)
  const rank = x.t.rank
  const mode = attrString(ctx.node, 'mode', 'constant')
  const pads = ctx.opset < 11 ? attrInts(ctx.node, 'pads') ?? attrInts(ctx.node, 'paddings')! : ints(need(inputs[1], ctx.node, 1).t)
  const value = ctx.opset < 11 ? attrFloat(ctx.node, 'value', 0) : inputs[2] && inputs[2].t.size ? (inputs[2].t.dataSync()[0] as number) : 0
  const axes = ctx.opset >= 18 && inputs[3] ? ints(inputs[3].t).map((a) => normAxis(a, rank)) : Array.from({ length: rank }, (_, i) => i)
  const k = axes.length
  const logicalPads: [number, number][] = Array.from({ length: rank }, () => [0, 0])
  axes.forEach((a, i) => { logicalPads[a] = [pads[i], pads[i + k]] })
  if (logicalPads.some(([a, b]) => a < 0 || b < 0)) throw nodeError(ctx.node, 'negative pads are not supported')
  const phys: [number, number][] = Array.from({ length: rank }, () => [0, 0])
  logicalPads.forEach((p, i) => { phys[physAxis(x, i)] = p })
  if (mode === 'constant') return [val(tf.pad(x.t, phys, value), x.nhwc)]
  if (mode === 'reflect') return [val(tf.mirrorPad(x.t, phys, 'reflect'), x.nhwc)]
  if (mode === 'edge') {
    let t = x.t
    phys.forEach(([a, b], ax) => {
      if (!a && !b) return
      const n = t.shape[ax]
      const first = tf.slice(t, t.shape.map(() => 0), t.shape.map((d, i) => (i === ax ? 1 : d)))
      const last = tf.slice(t, t.shape.map((_, i) => (i === ax ? n - 1 : 0)), t.shape.map((d, i) => (i === ax ? 1 : d)))
      const reps = (m: number): number[] => t.shape.map((_, i) => (i === ax ? m : 1))
      t = tf.concat([...(a ? [tf.tile(first, reps(a))] : []), t, ...(b ? [tf.tile(last, reps(b))] : [])], ax)
    })
    return [val(t, x.nhwc)]
  }
  throw nodeError(ctx.node, `pad mode '${mode}' is not supported (constant, reflect, edge are)`)
}

export const SHAPE_OPS: Record<string, OpFactory> = {
  Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Slice, Gather, Expand, Tile, Shape, Size,
  Constant, ConstantOfShape, Range, Pad,
}
