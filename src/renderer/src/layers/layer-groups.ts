/**
 * The layer list as a researcher reads it: graph nodes grouped by block (the name before the first
 * '/', e.g. `inception_4c`), each node with a role:
 * - 'main': the block's output (`<block>/output`), else its last non-plumbing node: what is shown by
 *   default, one row per block (conv1/relu_7x7, inception_4c/output, loss3/classifier, prob);
 * - 'inner': the block's other units a researcher targets (its branch ReLUs, pools), one click away;
 * - 'plumbing': nodes that only compute the others: Pad, Reshape, LRN, dropout, the Conv2D / MatMul
 *   node under a BiasAdd of the same name, a linear node whose ReLU follows it (its values are that
 *   ReLU's `/pre_relu`), and the `/pre_relu` views themselves; shown with "all graph nodes".
 * Shape: `classifyLayers(layers) => LayerRow[]` (input order), `groupLayers(layers) => LayerGroup[]`
 */
import type { LayerInfo } from '../../../shared/ipc-contract'

export type LayerRole = 'main' | 'inner' | 'plumbing'

export interface LayerRow {
  layer: LayerInfo
  /** Block name: the layer name before its first '/'. */
  group: string
  role: LayerRole
}

export interface LayerGroup {
  name: string
  /** The block's main row (null when every node of the block is plumbing). */
  main: LayerRow | null
  /** Its other targetable rows, in graph order. */
  inner: LayerRow[]
  /** Its plumbing rows, in graph order. */
  plumbing: LayerRow[]
}

/** Node types that only move or normalize data (never a unit one would visualize). */
const PLUMBING_TYPES = new Set([
  'pad', 'mirrorpad', 'reshape', 'identity', 'squeeze', 'expanddims', 'flatten', 'dropout', 'inputlayer', 'zeropadding2d',
  'lrn', 'cast', 'shape', 'stridedslice', 'transpose', 'pack', 'unpack', 'const', 'placeholder', 'spacetodepth', 'depthtospace',
])
/** Types whose output is linear (a ReLU may follow). */
const LINEAR_TYPES = new Set(['biasadd', 'conv2d', 'matmul', 'add', 'addv2', 'depthwiseconv2dnative', 'fusedbatchnorm', 'fusedbatchnormv3'])
const RELU_TYPES = /^(relu|relu6|elu|selu|leakyrelu|prelu|activation)$/i

/** The block a layer belongs to (an ONNX layer's is its top module, e.g. `layer2` of `layer2.1/relu`). */
export function groupOf(name: string): string {
  const i = name.indexOf('/')
  return i < 0 ? name : name.slice(0, i)
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function isPlumbing(layers: readonly LayerInfo[], index: number, names: ReadonlySet<string>): boolean {
  const l = layers[index]
  // ONNX models say which nodes are plumbing (shape arithmetic, reshapes, gathers...).
  if (l.plumbing === true) return true
  const type = l.type.toLowerCase()
  if (l.name.endsWith('/pre_relu') || type.includes('pre-activation')) return true
  if (PLUMBING_TYPES.has(type)) return true
  const slash = l.name.lastIndexOf('/')
  // `conv1/7x7_s2/conv` under the BiasAdd `conv1/7x7_s2`: the same unit before its bias.
  if (slash > 0 && names.has(l.name.slice(0, slash)) && /^(conv|matmul|flatten|pad|bn|batchnorm)$/.test(l.name.slice(slash + 1))) return true
  const next = layers[index + 1]
  if (LINEAR_TYPES.has(type) && next && RELU_TYPES.test(next.type) && sameShape(next.shape, l.shape) && groupOf(next.name) === groupOf(l.name)) return true
  return false
}

/** Every layer with its block and role, in the input (graph) order. */
export function classifyLayers(layers: readonly LayerInfo[]): LayerRow[] {
  const names = new Set(layers.map((l) => l.name))
  const rows: LayerRow[] = layers.map((layer, i) => ({ layer, group: groupOf(layer.name), role: isPlumbing(layers, i, names) ? 'plumbing' : 'inner' }))
  const byGroup = new Map<string, LayerRow[]>()
  for (const r of rows) {
    if (!byGroup.has(r.group)) byGroup.set(r.group, [])
    byGroup.get(r.group)!.push(r)
  }
  for (const [group, members] of byGroup) {
    const candidates = members.filter((r) => r.role !== 'plumbing')
    const main = candidates.find((r) => r.layer.name === `${group}/output`) ?? candidates[candidates.length - 1]
    if (main) main.role = 'main'
  }
  return rows
}

/** The blocks in graph order (a block's position is that of its first node). */
export function groupLayers(layers: readonly LayerInfo[]): LayerGroup[] {
  const groups = new Map<string, LayerGroup>()
  for (const r of classifyLayers(layers)) {
    let g = groups.get(r.group)
    if (!g) {
      g = { name: r.group, main: null, inner: [], plumbing: [] }
      groups.set(r.group, g)
    }
    if (r.role === 'main') g.main = r
    else if (r.role === 'inner') g.inner.push(r)
    else g.plumbing.push(r)
  }
  return [...groups.values()]
}
