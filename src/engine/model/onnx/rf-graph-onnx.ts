/**
 * The receptive-field geometry (inspect/receptive-field.ts) of an ONNX graph with an NCHW image input
 * (PyTorch exports): one RfNode per computed tensor, layers as aliases of their tensors. Conv and the
 * pools take kernel_shape / strides / pads / dilations / auto_pad / ceil_mode; Pad its begin pads on
 * H and W; channel-wise and element-wise ops keep the field; global pools, Flatten, Gemm, MatMul,
 * Reshape and reductions make it global; anything else (Transpose, Slice, Resize...) is unknown. A
 * channels-last (tf2onnx) graph gets no graph: its transposes leave the axes unknown.
 * Shape: `rfGraphOfOnnx(def, dataNodes, inputName, layers) => RfGraph`.
 */
import type { RfGraph, RfNode, RfOp } from '../../inspect/receptive-field.ts'
import type { AttrValue, HostTensor, NodeDef, OnnxModelDef } from './proto.ts'

const POINTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign', 'Gelu', 'Erf',
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Max', 'Min', 'Sum', 'Mean', 'BatchNormalization', 'InstanceNormalization',
  'LRN', 'Concat', 'Dropout', 'Identity', 'Cast', 'Softmax', 'LogSoftmax',
])
const GLOBAL = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'Flatten', 'Gemm', 'MatMul', 'Reshape', 'ReduceMean', 'ReduceMax', 'ReduceSum', 'ReduceL2', 'Squeeze'])
const WINDOW = new Set(['Conv', 'MaxPool', 'AveragePool'])

const nums = (v: AttrValue | undefined): number[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? v as number[] : null)

function windowOp(n: NodeDef, init: Map<string, HostTensor>): RfOp {
  const a = n.attrs
  const kernel = nums(a.kernel_shape) ?? (n.opType === 'Conv' ? init.get(n.inputs[1])?.shape.slice(2) ?? null : null)
  if (!kernel || kernel.length !== 2) return { kind: 'unknown', op: n.opType }
  const stride = (nums(a.strides) ?? [1, 1]) as [number, number]
  const dilation = (nums(a.dilations) ?? [1, 1]) as [number, number]
  const auto = typeof a.auto_pad === 'string' ? a.auto_pad : 'NOTSET'
  // ONNX pads: [top, left, bottom, right] -> ours [top, bottom, left, right].
  const p = nums(a.pads) ?? [0, 0, 0, 0]
  const padding = auto === 'SAME_UPPER' ? 'same' as const : auto === 'VALID' ? 'valid' as const
    : auto === 'SAME_LOWER' ? null : [p[0], p[2], p[1], p[3]] as [number, number, number, number]
  if (!padding) return { kind: 'unknown', op: `${n.opType} (SAME_LOWER)` }
  return { kind: 'window', kernel: [kernel[0], kernel[1]], stride, dilation, padding, ceil: a.ceil_mode === 1 }
}

/** The values of a constant tensor: an initializer or a Constant node's value. */
function constant(name: string, def: OnnxModelDef): number[] | null {
  const t = def.initializers.get(name) ?? (def.nodes.find((n) => n.opType === 'Constant' && n.outputs[0] === name)?.attrs.value as HostTensor | undefined)
  return t && 'data' in t ? Array.from(t.data as ArrayLike<number>) : null
}

export function rfGraphOfOnnx(def: OnnxModelDef, dataNodes: readonly NodeDef[], inputName: string, layers: readonly { name: string; tensor: string; tokens?: boolean }[]): RfGraph {
  const data = new Set<string>([inputName, ...dataNodes.flatMap((n) => n.outputs.filter(Boolean))])
  const nodes: RfNode[] = [{ name: inputName, inputs: [], op: { kind: 'input' } }]
  for (const n of dataNodes) {
    const ins = n.inputs.filter((t) => data.has(t))
    let op: RfOp
    if (WINDOW.has(n.opType)) op = windowOp(n, def.initializers)
    else if (n.opType === 'Pad') {
      const pads = nums(n.attrs.pads) ?? (n.inputs[1] ? constant(n.inputs[1], def) : null)
      // NCHW pads: [n_b, c_b, h_b, w_b, n_e, c_e, h_e, w_e].
      op = pads && pads.length === 8 ? { kind: 'pad', pads: [pads[2], pads[6], pads[3], pads[7]] } : { kind: 'unknown', op: 'Pad' }
    } else if (POINTWISE.has(n.opType)) op = { kind: 'pointwise' }
    else if (GLOBAL.has(n.opType)) op = { kind: 'global' }
    else op = { kind: 'unknown', op: n.opType }
    const first = n.outputs[0]
    if (first) nodes.push({ name: first, inputs: op.kind === 'window' || op.kind === 'pad' ? ins.slice(0, 1) : ins, op })
  }
  const aliases: Record<string, string> = {}
  for (const l of layers) if (!l.tokens) aliases[l.name] = l.tensor
  return { nodes, aliases }
}
