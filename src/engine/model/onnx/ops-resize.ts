/**
 * ONNX Resize (opsets 10-18) and Upsample as separable interpolation matrices: for each resized
 * axis, a [out, in] matrix of weights built on the host from ONNX's formulas (coordinate
 * transformation modes, nearest rounding modes, linear, cubic with cubic_coeff_a / exclude_outside),
 * applied with a matMul. Every mode then has the same tfjs op and a plain matMul gradient.
 * Shape: `RESIZE_OPS: Record<opType, OpFactory>`.
 */
import * as tf from '@tensorflow/tfjs'
import { attrFloat, attrInt, attrString, floats, ints, logical, logicalShape, need, nodeError, val, type OpCtx, type OpFactory } from './layout.ts'

function sourceCoord(ctm: string, x: number, scale: number, lenIn: number, lenOut: number): number {
  switch (ctm) {
    case 'half_pixel': return (x + 0.5) / scale - 0.5
    case 'pytorch_half_pixel': return lenOut > 1 ? (x + 0.5) / scale - 0.5 : 0
    case 'align_corners': return lenOut === 1 ? 0 : (x * (lenIn - 1)) / (lenIn * scale - 1) // ONNX: the unrounded output length
    case 'asymmetric': return x / scale
    case 'tf_half_pixel_for_nn': return (x + 0.5) / scale
    default: throw new Error(`coordinate_transformation_mode '${ctm}' is not supported`)
  }
}

function nearestIndex(mode: string, x: number): number {
  switch (mode) {
    case 'round_prefer_floor': return Number.isInteger(x - 0.5) ? Math.floor(x) : Math.round(x)
    case 'round_prefer_ceil': return Number.isInteger(x - 0.5) ? Math.ceil(x) : Math.round(x)
    case 'floor': return Math.floor(x)
    case 'ceil': return Math.ceil(x)
    default: throw new Error(`nearest_mode '${mode}' is not supported`)
  }
}

function cubicCoeffs(t: number, a: number): number[] {
  const w = (d: number): number => {
    const x = Math.abs(d)
    if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1
    if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return 0
  }
  return [w(t + 1), w(t), w(1 - t), w(2 - t)]
}

interface Mode { mode: string; ctm: string; nearest: string; cubicA: number; excludeOutside: boolean }

/** The [lenOut, lenIn] interpolation matrix of one axis. */
export function resizeMatrix(m: Mode, lenIn: number, lenOut: number, scale: number): Float32Array {
  const out = new Float32Array(lenOut * lenIn)
  const clampI = (i: number): number => Math.min(Math.max(i, 0), lenIn - 1)
  for (let o = 0; o < lenOut; o++) {
    const x = sourceCoord(m.ctm, o, scale, lenIn, lenOut)
    const row = o * lenIn
    if (m.mode === 'nearest') out[row + clampI(nearestIndex(m.nearest, x))] = 1
    else if (m.mode === 'linear') {
      const xc = Math.min(Math.max(x, 0), lenIn - 1)
      const i0 = Math.floor(xc)
      const i1 = Math.min(i0 + 1, lenIn - 1)
      const f = xc - i0
      out[row + i0] += 1 - f
      out[row + i1] += f
    } else if (m.mode === 'cubic') {
      const i0 = Math.floor(x)
      const c = cubicCoeffs(x - i0, m.cubicA)
      const idx = [i0 - 1, i0, i0 + 1, i0 + 2]
      if (m.excludeOutside) {
        const inside = idx.map((i) => (i >= 0 && i < lenIn ? 1 : 0))
        const s = c.reduce((acc, w, k) => acc + w * inside[k], 0)
        idx.forEach((i, k) => { if (inside[k]) out[row + i] += c[k] / s })
      } else idx.forEach((i, k) => { out[row + clampI(i)] += c[k] })
    } else throw new Error(`mode '${m.mode}' is not supported (nearest, linear, cubic are)`)
  }
  return out
}

/** Apply `mat` ([lenOut, lenIn]) along `axis` of x. */
function applyAxis(x: tf.Tensor, axis: number, mat: tf.Tensor2D): tf.Tensor {
  const rank = x.rank
  const perm = Array.from({ length: rank }, (_, i) => i)
  perm[axis] = rank - 1
  perm[rank - 1] = axis
  const moved = axis === rank - 1 ? x : tf.transpose(x, perm)
  const lead = moved.shape.slice(0, -1)
  const y = tf.reshape(tf.matMul(tf.reshape(moved, [-1, moved.shape[rank - 1]]) as tf.Tensor2D, mat, false, true), [...lead, mat.shape[0]])
  return axis === rank - 1 ? y : tf.transpose(y, perm)
}

function resize(ctx: OpCtx, xv: Parameters<typeof logical>[0], scalesIn: number[] | null, sizesIn: number[] | null, m: Mode): ReturnType<typeof val> {
  const s = logicalShape(xv)
  const sizes = sizesIn ?? s.map((d, i) => Math.floor(d * scalesIn![i]))
  const scales = scalesIn ?? sizes.map((d, i) => d / s[i])
  if (sizes.length !== s.length) throw nodeError(ctx.node, `scales/sizes have ${sizes.length} entries for a rank-${s.length} input`)
  let x = logical(xv)
  if (x.dtype !== 'float32') x = tf.cast(x, 'float32')
  for (let a = 0; a < s.length; a++) {
    if (sizes[a] === s[a] && scales[a] === 1) continue
    const mat = tf.tensor2d(resizeMatrix(m, s[a], sizes[a], scales[a]), [sizes[a], s[a]])
    x = applyAxis(x, a, mat)
  }
  return val(x)
}

const Resize: OpFactory = (ctx) => (inputs) => {
  const node = ctx.node
  const x = need(inputs[0], node, 0)
  const ctm = attrString(node, 'coordinate_transformation_mode', ctx.opset < 11 ? 'asymmetric' : 'half_pixel')
  if (ctm === 'tf_crop_and_resize') throw nodeError(node, `coordinate_transformation_mode '${ctm}' is not supported`)
  if (attrInt(node, 'antialias', 0) === 1) throw nodeError(node, 'antialias is not supported')
  const m: Mode = {
    mode: attrString(node, 'mode', 'nearest'),
    ctm,
    nearest: attrString(node, 'nearest_mode', ctx.opset < 11 ? 'floor' : 'round_prefer_floor'),
    cubicA: attrFloat(node, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(node, 'exclude_outside', 0) === 1,
  }
  if (ctx.opset < 11) m.nearest = 'floor'
  const scalesV = ctx.opset < 11 ? inputs[1] : inputs[2]
  const sizesV = ctx.opset < 11 ? undefined : inputs[3]
  const sizes = sizesV && sizesV.t.size ? ints(sizesV.t) : null
  const scales = !sizes && scalesV && scalesV.t.size ? floats(scalesV.t) : null
  if (!sizes && !scales) throw nodeError(node, 'needs scales or sizes')
  try { return [resize(ctx, x, scales, sizes, m)] } catch (e) { throw nodeError(node, (e as Error).message) }
}

const Upsample: OpFactory = (ctx) => (inputs) => {
  const node = ctx.node
  const scales = ctx.opset >= 9 ? floats(need(inputs[1], node, 1).t) : (node.attrs.scales as number[])
  const mode = attrString(node, 'mode', 'nearest')
  const m: Mode = { mode: mode === 'bilinear' ? 'linear' : mode, ctm: 'asymmetric', nearest: 'floor', cubicA: -0.75, excludeOutside: false }
  try { return [resize(ctx, need(inputs[0], node, 0), scales, null, m)] } catch (e) { throw nodeError(node, (e as Error).message) }
}

export const RESIZE_OPS: Record<string, OpFactory> = { Resize, Upsample }
