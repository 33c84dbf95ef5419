/**
 * Receptive fields computed from the layer graph (not measured): each node's output index i along an
 * axis sees the input pixels [start + i * jump, start + i * jump + extent), composed through the graph
 * from the input (start 0, jump 1, extent 1):
 * - a window op (convolution, pooling) with kernel k, dilation d (effective kernel K = (k-1)d + 1),
 *   stride s and a padding of p pixels before the first row/column:
 *     start' = start - p * jump,  jump' = jump * s,  extent' = extent + (K - 1) * jump
 *   where p is 0 for VALID, explicit pads as given, and for SAME (TensorFlow, Keras, tfjs) the
 *   smaller half of max((ceil(n/s) - 1) s + K - n, 0) for an input of n pixels, so the box depends on
 *   the input size (sizes are computed along, and must agree with the model's own shapes);
 * - an explicit pad of p before: start' = start - p * jump;
 * - a point-wise op (activation, bias, batch-norm, LRN, channel concat, add) keeps its input's field;
 *   with several inputs (an inception block, a residual add) it is the union: the same jump, the
 *   smallest start, the furthest end (inputs must have the same stride and size);
 * - a global op (global pooling, flatten, dense on a vector, reshape) sees the whole image, and so does
 *   everything after it; an op whose geometry is not known gives 'unknown' (no box is claimed).
 * This is the theoretical field: every input pixel a unit can depend on for some weights; the gradient
 * of a unit is zero outside it (test/engine/inspect/receptive-field.test.ts checks both).
 * Shape: `receptiveFields(graph, [H, W]) => Map<node, LayerRf>`; `unitBox(rf, y, x, [H, W]) => RfBox`.
 */

/** The geometry of one node's op. Pads are [top, bottom, left, right] in pixels of the node's input. */
export type RfOp =
  | { kind: 'input' }
  | {
    kind: 'window'; kernel: [number, number]; stride: [number, number]; dilation: [number, number]; padding: 'same' | 'valid' | [number, number, number, number]
    /** Output size rounded up (ONNX / PyTorch ceil_mode pools); the field's geometry is the same. */
    ceil?: boolean
  }
  | { kind: 'pad'; pads: [number, number, number, number] }
  | { kind: 'pointwise' }
  | { kind: 'global' }
  | { kind: 'unknown'; op: string }

export interface RfNode {
  name: string
  /** Names of the nodes whose outputs feed this one (data inputs only: no weights or constants). */
  inputs: string[]
  op: RfOp
}

/** A model's layer graph, as far as receptive fields go. */
export interface RfGraph {
  nodes: RfNode[]
  /** Layer names that are views of a node (a `/pre_relu` pseudo-layer -> the node computing it). */
  aliases?: Record<string, string>
}

/** The field along one axis: output index i sees input pixels [start + i*jump, start + i*jump + extent). */
export interface AxisRf {
  /** Output size of the node along this axis (pixels of its map). */
  size: number
  jump: number
  start: number
  extent: number
}

export type LayerRf =
  | { kind: 'local'; y: AxisRf; x: AxisRf }
  | { kind: 'global' }
  | { kind: 'unknown'; reason: string }

/** A box of input pixels: rows [top, bottom), columns [left, right). */
export interface RfBox {
  top: number
  left: number
  bottom: number
  right: number
}

function windowAxis(a: AxisRf, k: number, s: number, d: number, padding: 'same' | 'valid' | [number, number], ceil = false): AxisRf | null {
  const keff = (k - 1) * d + 1
  let before: number
  let size: number
  if (padding === 'same') {
    size = Math.ceil(a.size / s)
    before = Math.floor(Math.max((size - 1) * s + keff - a.size, 0) / 2)
  } else {
    const [b, e] = padding === 'valid' ? [0, 0] : padding
    before = b
    size = (ceil ? Math.ceil : Math.floor)((a.size + b + e - keff) / s) + 1
    // PyTorch's ceil mode drops a last window that would start in the end padding.
    if (ceil && (size - 1) * s >= a.size + b) size--
  }
  if (!(size >= 1)) return null
  return { size, jump: a.jump * s, start: a.start - before * a.jump, extent: a.extent + (keff - 1) * a.jump }
}

function unionAxis(axes: AxisRf[]): AxisRf | null {
  const [first] = axes
  if (axes.some((a) => a.jump !== first.jump || a.size !== first.size)) return null
  const start = Math.min(...axes.map((a) => a.start))
  const end = Math.max(...axes.map((a) => a.start + a.extent))
  return { size: first.size, jump: first.jump, start, extent: end - start }
}

/** The receptive field of every node of `graph` for an input of `inputSize` = [H, W]. */
export function receptiveFields(graph: RfGraph, inputSize: [number, number]): Map<string, LayerRf> {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]))
  const memo = new Map<string, LayerRf>()
  const visiting = new Set<string>()
  const unknown = (reason: string): LayerRf => ({ kind: 'unknown', reason })

  const of = (name: string): LayerRf => {
    const hit = memo.get(name)
    if (hit) return hit
    const node = byName.get(name)
    if (!node) return unknown(`node '${name}' is not in the graph`)
    if (visiting.has(name)) return unknown(`the graph has a cycle through '${name}'`)
    visiting.add(name)
    const rf = compute(node)
    visiting.delete(name)
    memo.set(name, rf)
    return rf
  }

  const compute = (node: RfNode): LayerRf => {
    const { op } = node
    if (op.kind === 'input') {
      return { kind: 'local', y: { size: inputSize[0], jump: 1, start: 0, extent: 1 }, x: { size: inputSize[1], jump: 1, start: 0, extent: 1 } }
    }
    if (node.inputs.length === 0) return unknown(`'${node.name}' has no input`)
    const ins = node.inputs.map(of)
    if (ins.some((r) => r.kind === 'global')) return { kind: 'global' }
    const bad = ins.find((r) => r.kind === 'unknown')
    if (bad) return bad
    const locals = ins as Extract<LayerRf, { kind: 'local' }>[]
    switch (op.kind) {
      case 'global':
        return { kind: 'global' }
      case 'unknown':
        return unknown(`op ${op.op} of '${node.name}' has no known geometry`)
      case 'pointwise': {
        if (locals.length === 1) return locals[0]
        const y = unionAxis(locals.map((r) => r.y))
        const x = unionAxis(locals.map((r) => r.x))
        return y && x ? { kind: 'local', y, x } : unknown(`the inputs of '${node.name}' differ in stride or size`)
      }
      case 'pad': {
        if (locals.length !== 1) return unknown(`pad '${node.name}' has ${locals.length} inputs`)
        const [t, b, l, r] = op.pads
        const { y, x } = locals[0]
        return {
          kind: 'local',
          y: { ...y, size: y.size + t + b, start: y.start - t * y.jump },
          x: { ...x, size: x.size + l + r, start: x.start - l * x.jump },
        }
      }
      case 'window': {
        if (locals.length !== 1) return unknown(`'${node.name}' has ${locals.length} inputs`)
        const p = op.padding
        const py = Array.isArray(p) ? [p[0], p[1]] as [number, number] : p
        const px = Array.isArray(p) ? [p[2], p[3]] as [number, number] : p
        const y = windowAxis(locals[0].y, op.kernel[0], op.stride[0], op.dilation[0], py, op.ceil)
        const x = windowAxis(locals[0].x, op.kernel[1], op.stride[1], op.dilation[1], px, op.ceil)
        return y && x ? { kind: 'local', y, x } : unknown(`'${node.name}' has an empty output at this input size`)
      }
    }
  }

  for (const n of graph.nodes) of(n.name)
  for (const [alias, target] of Object.entries(graph.aliases ?? {})) memo.set(alias, of(target))
  return memo
}

/** The receptive field of one layer (a node or an alias); 'unknown' for a name the graph lacks. */
export function receptiveField(graph: RfGraph, layer: string, inputSize: [number, number]): LayerRf {
  return receptiveFields(graph, inputSize).get(layer) ?? { kind: 'unknown', reason: `no layer '${layer}' in the graph` }
}

/** The input box of unit (y, x) of a layer with field `rf`, unclipped (it may hang over the border). */
export function unitBox(rf: LayerRf, y: number, x: number, inputSize: [number, number]): RfBox | null {
  if (rf.kind === 'unknown') return null
  if (rf.kind === 'global') return { top: 0, left: 0, bottom: inputSize[0], right: inputSize[1] }
  const top = rf.y.start + y * rf.y.jump
  const left = rf.x.start + x * rf.x.jump
  return { top, left, bottom: top + rf.y.extent, right: left + rf.x.extent }
}

/** `box` cut to the image [0, H) x [0, W). */
export function clipBox(box: RfBox, inputSize: [number, number]): RfBox {
  return {
    top: Math.max(0, box.top), left: Math.max(0, box.left),
    bottom: Math.min(inputSize[0], box.bottom), right: Math.min(inputSize[1], box.right),
  }
}
