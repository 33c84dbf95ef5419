/**
 * Values flowing through the ONNX executor, and their memory layout.
 *
 * An ONNX image graph is NCHW; tfjs convolutions and pools are fast in NHWC. Each 4-D value records
 * whether its tf tensor holds the logical NCHW tensor as NHWC (`nhwc`). Convolutions, pools and
 * normalizations take and give NHWC; element-wise ops keep whatever layout their operands share;
 * any other op asks for the logical tensor (`logical`), which transposes only when needed (and
 * reshapes instead where H = W = 1 or C = 1, where both orders hold the same data order).
 * Shape: `Val {t, nhwc}`; `logical(v)`, `physNhwc(v)`, `logicalShape(v)`, `physAxis(v, axis)`.
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../../shared/errors.ts'
import type { AttrValue, HostTensor, NodeDef } from './proto.ts'

export interface Val {
  t: tf.Tensor
  /** A 4-D value stored as NHWC (its logical ONNX shape is NCHW). */
  nhwc: boolean
}

/** Physical axis of logical NCHW axis i, for a value stored as NHWC. */
const L2P = [0, 3, 1, 2]

export function val(t: tf.Tensor, nhwc = false): Val {
  return { t, nhwc: nhwc && t.rank === 4 }
}

export function logicalShape(v: Val): number[] {
  if (!v.nhwc) return v.t.shape
  const [n, h, w, c] = v.t.shape
  return [n, c, h, w]
}

/** The logical (ONNX-layout) tensor. */
export function logical(v: Val): tf.Tensor {
  if (!v.nhwc) return v.t
  const [n, h, w, c] = v.t.shape
  if ((h === 1 && w === 1) || c === 1) return tf.reshape(v.t, [n, c, h, w])
  return tf.transpose(v.t, [0, 3, 1, 2])
}

/** A 4-D value as NHWC; a lower-rank value is first broadcast-aligned to rank 4 (leading 1s). */
export function physNhwc(v: Val): tf.Tensor {
  if (v.nhwc) return v.t
  let t = v.t
  if (t.rank > 4) throw new DeepVisError('BAD_MODEL', `cannot combine a rank-${t.rank} tensor with an image tensor`)
  if (t.rank < 4) t = tf.reshape(t, [...new Array(4 - t.rank).fill(1), ...t.shape])
  const [n, c, h, w] = t.shape
  if ((h === 1 && w === 1) || c === 1) return tf.reshape(t, [n, h, w, c])
  return tf.transpose(t, [0, 2, 3, 1])
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis
}

/** Physical axis of logical axis `axis` (already normalized) of `v`. */
export function physAxis(v: Val, axis: number): number {
  return v.nhwc ? L2P[axis] : axis
}

/** Integer values of a (small, constant) tensor, read once per tensor. */
const intCache = new WeakMap<tf.Tensor, number[]>()
export function ints(t: tf.Tensor): number[] {
  let hit = intCache.get(t)
  if (!hit) {
    hit = Array.from(t.dataSync() as ArrayLike<number>, (x) => Math.trunc(Number(x)))
    intCache.set(t, hit)
  }
  return hit
}

export function floats(t: tf.Tensor): number[] {
  return Array.from(t.dataSync() as ArrayLike<number>)
}

export function hostToTensor(h: HostTensor): tf.Tensor {
  return tf.tensor(h.data, h.shape, h.dtype)
}

/** Context given to an op: the node, the opset, and helpers to read attributes. */
export interface OpCtx {
  node: NodeDef
  opset: number
  /** Whether input i is a constant known at load time (an initializer or a folded subgraph). */
  isConst(i: number): boolean
}

export type OpImpl = ((inputs: (Val | undefined)[], ctx: OpCtx) => Val[]) & {
  /** Constant inputs the op re-laid out at load and never reads again (their tensors can be freed). */
  released?: number[]
}

/** Mark constant inputs an op no longer reads (see OpImpl.released). */
export function releasing(impl: OpImpl, indices: number[]): OpImpl {
  impl.released = indices
  return impl
}

/** Per-node preparation at load: may transform constant inputs once (e.g. conv weights) and return the run function. */
export type OpFactory = (ctx: OpCtx, consts: (tf.Tensor | undefined)[], keep: (t: tf.Tensor) => tf.Tensor) => OpImpl

export function attrInt(node: NodeDef, name: string, dflt: number): number {
  const v = node.attrs[name]
  return typeof v === 'number' ? v : dflt
}
export function attrFloat(node: NodeDef, name: string, dflt: number): number {
  const v = node.attrs[name]
  return typeof v === 'number' ? v : dflt
}
export function attrInts(node: NodeDef, name: string): number[] | undefined {
  const v = node.attrs[name]
  return Array.isArray(v) ? (v as number[]) : undefined
}
export function attrString(node: NodeDef, name: string, dflt: string): string {
  const v = node.attrs[name]
  return typeof v === 'string' ? v : dflt
}
export function attr(node: NodeDef, name: string): AttrValue | undefined {
  return node.attrs[name]
}

/** A one-line error about a node: op, node name, what is wrong. */
export function nodeError(node: NodeDef, what: string): DeepVisError {
  return new DeepVisError('BAD_MODEL', `${node.opType} node '${node.name}': ${what}`)
}

export function need(v: Val | undefined, node: NodeDef, i: number): Val {
  if (!v) throw nodeError(node, `input ${i} is missing`)
  return v
}

/** Plain op: the logical input tensors in, one logical output. */
export function simple(fn: (xs: tf.Tensor[], ctx: OpCtx) => tf.Tensor): OpFactory {
  return () => (inputs, ctx) => [val(fn(inputs.map((v) => (v ? logical(v) : (undefined as unknown as tf.Tensor))), ctx))]
}
