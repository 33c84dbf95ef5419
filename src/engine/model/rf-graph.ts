/**
 * The receptive-field geometry of a model's layer graph (inspect/receptive-field.ts computes the
 * fields from it), read from what the loader already has: a LayersModel's layers and their configs,
 * or a GraphModel's (unfused) nodes with the shapes of their weights.
 * Ops are sorted into window ops (conv, depthwise / separable conv, max / average pool), explicit pads,
 * point-wise ops, global ops and the rest (unknown: no box is claimed for them or anything after them).
 * Shape: `rfGraphOfLayersModel(model, preActivationOf) => RfGraph`,
 *        `rfGraphOfGraphModel(nodes, weightShape, constValues, preActivationNode) => RfGraph`.
 */
import type * as tf from '@tensorflow/tfjs'
import type { RfGraph, RfNode, RfOp } from '../inspect/receptive-field.ts'
import type { GraphNode } from './graph-rewrite.ts'

type Config = Record<string, unknown>

function pair(v: unknown, dflt: number): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt]
  if (typeof v === 'number') return [v, v]
  const a = v as number[]
  return [a[0], a.length > 1 ? a[1] : a[0]]
}

/** Keras layers that act on each position (or only on channels) of their input. */
const KERAS_POINTWISE = new Set([
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'Softmax', 'BatchNormalization', 'LayerNormalization',
  'Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization',
  'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Subtract', 'Concatenate', 'Dense',
])
/** Keras layers whose output depends on the whole input map. */
const KERAS_GLOBAL = new Set(['GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten', 'Reshape'])

function kerasOp(layer: tf.layers.Layer): RfOp {
  const cls = layer.getClassName()
  const cfg = layer.getConfig() as Config
  const padding = cfg.padding === 'same' ? 'same' : 'valid'
  switch (cls) {
    case 'Conv2D': case 'DepthwiseConv2D': case 'SeparableConv2D':
      return { kind: 'window', kernel: pair(cfg.kernelSize, 1), stride: pair(cfg.strides, 1), dilation: pair(cfg.dilationRate, 1), padding }
    case 'MaxPooling2D': case 'AveragePooling2D': {
      const size = pair(cfg.poolSize, 2)
      return { kind: 'window', kernel: size, stride: pair(cfg.strides ?? cfg.poolSize, 2), dilation: [1, 1], padding }
    }
    case 'ZeroPadding2D': {
      const p = cfg.padding as number | [number, number] | [[number, number], [number, number]]
      const [[t, b], [l, r]] = typeof p === 'number' ? [[p, p], [p, p]]
        : Array.isArray(p[0]) ? (p as [[number, number], [number, number]]) : [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]]
      return { kind: 'pad', pads: [t, b, l, r] }
    }
    default:
      if (KERAS_POINTWISE.has(cls)) return { kind: 'pointwise' }
      if (KERAS_GLOBAL.has(cls)) return { kind: 'global' }
      return { kind: 'unknown', op: cls }
  }
}

/** The graph of a LayersModel; `/pre_relu` pseudo-layers are aliases of their layer. */
export function rfGraphOfLayersModel(model: tf.LayersModel, preActivationOf: ReadonlyMap<string, string>): RfGraph {
  const input = model.inputs[0].sourceLayer.name
  const nodes: RfNode[] = [{ name: input, inputs: [], op: { kind: 'input' } }]
  for (const layer of model.layers) {
    if (layer.name === input) continue
    const inbound = (layer.inboundNodes[0] as unknown as { inboundLayers: tf.layers.Layer[] } | undefined)?.inboundLayers ?? []
    nodes.push({ name: layer.name, inputs: inbound.map((l) => l.name), op: kerasOp(layer) })
  }
  return { nodes, aliases: Object.fromEntries(preActivationOf) }
}

/** TensorFlow ops that act on each position (or only on channels). */
const TF_POINTWISE = new Set([
  'Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Prelu', 'Sigmoid', 'Tanh', 'Softplus', 'Softsign', 'Swish',
  'BiasAdd', 'Add', 'AddV2', 'AddN', 'Sub', 'Mul', 'RealDiv', 'Div', 'Maximum', 'Minimum', 'Neg', 'Abs',
  'Square', 'Sqrt', 'Rsqrt', 'Exp', 'Log', 'Identity', 'Cast', 'LRN', 'FusedBatchNorm', 'FusedBatchNormV3',
  'ConcatV2', 'Concat', 'Softmax', 'ClipByValue',
])
/** TensorFlow ops whose output depends on the whole input map. */
const TF_GLOBAL = new Set(['MatMul', 'Reshape', 'Mean', 'Max', 'Sum', 'Squeeze', 'Flatten'])
const TF_WINDOW = new Set(['Conv2D', 'DepthwiseConv2dNative', 'MaxPool', 'AvgPool'])
const TF_PAD = new Set(['Pad', 'PadV2', 'MirrorPad'])

function ints(attr: unknown): number[] | null {
  const list = (attr as { list?: { i?: (string | number)[] } } | undefined)?.list?.i
  return Array.isArray(list) ? list.map(Number) : null
}

function str(attr: unknown): string | null {
  const s = (attr as { s?: string } | undefined)?.s
  return typeof s === 'string' ? atob(s) : null
}

/** The node name of a graph input reference ('name:1' -> 'name'); null for a control input. */
function inputNode(ref: string): string | null {
  return ref.startsWith('^') ? null : ref.split(':')[0]
}

/**
 * The graph of a (unfused) GraphModel topology.
 * @param weightShape the shape of a weight (Const node) by name, for convolution kernels
 * @param constValues the values of a small Const node (a Pad's paddings), or null when unknown
 * @param aliases layer names that are views of a node (`/pre_relu` pseudo-layers)
 */
export function rfGraphOfGraphModel(
  topology: readonly GraphNode[], weightShape: (name: string) => number[] | null, constValues: (name: string) => number[] | null,
  aliases: Record<string, string>,
): RfGraph {
  const consts = new Set(topology.filter((n) => n.op === 'Const').map((n) => n.name))
  const nodes: RfNode[] = []
  for (const n of topology) {
    if (n.op === 'Const' || n.op === 'NoOp') continue
    const refs = (n.input ?? []).map(inputNode).filter((r): r is string => r !== null)
    const data = refs.filter((r) => !consts.has(r))
    let op: RfOp
    if (n.op === 'Placeholder') op = { kind: 'input' }
    else if (TF_WINDOW.has(n.op)) {
      const attr = n.attr ?? {}
      const conv = n.op === 'Conv2D' || n.op === 'DepthwiseConv2dNative'
      const kshape = conv ? weightShape(refs[1] ?? '') : ints(attr.ksize)?.slice(1, 3) ?? null
      const strides = ints(attr.strides) ?? [1, 1, 1, 1]
      const dil = ints(attr.dilations) ?? [1, 1, 1, 1]
      const pad = str(attr.padding)
      const explicit = ints(attr.explicit_paddings)
      const format = str(attr.data_format) ?? 'NHWC'
      if (!kshape || format !== 'NHWC' || (pad === 'EXPLICIT' && (!explicit || explicit.length !== 8))) op = { kind: 'unknown', op: n.op }
      else {
        op = {
          kind: 'window', kernel: [kshape[0], kshape[1]], stride: [strides[1], strides[2]], dilation: [dil[1], dil[2]],
          padding: pad === 'SAME' ? 'same' : pad === 'EXPLICIT' ? [explicit![2], explicit![3], explicit![4], explicit![5]] : 'valid',
        }
      }
      nodes.push({ name: n.name, inputs: data.slice(0, 1), op })
      continue
    } else if (TF_PAD.has(n.op)) {
      const p = constValues(refs[1] ?? '')
      op = p && p.length === 8 ? { kind: 'pad', pads: [p[2], p[3], p[4], p[5]] } : { kind: 'unknown', op: n.op }
      nodes.push({ name: n.name, inputs: data.slice(0, 1), op })
      continue
    } else if (TF_POINTWISE.has(n.op)) op = { kind: 'pointwise' }
    else if (TF_GLOBAL.has(n.op)) op = { kind: 'global' }
    else op = { kind: 'unknown', op: n.op }
    nodes.push({ name: n.name, inputs: op.kind === 'input' ? [] : data, op })
  }
  return { nodes, aliases }
}
