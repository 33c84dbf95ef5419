/**
 * Load-time rewrite of a GraphModel topology: split fused nodes (`_FusedConv2D`,
 * `FusedDepthwiseConv2dNative`, `_FusedMatMul`) into their plain parts.
 *
 * tfjs runs fused nodes through `tf.fused.*`, whose custom gradient computes the weight gradients as
 * well (the "fused-convolution trap" of platform-facts.md): slow on cpu, missing kernels on wasm.
 * The plain chain Conv2D -> BiasAdd -> activation computes exactly the same values, and its input
 * gradient needs only Conv2DBackpropInput. The last node of each chain keeps the original name, so
 * every consumer, output and layer name is unchanged.
 * Shape: `unfuseGraph(topology) => {topology, rewritten}` (pure; the input is not modified)
 */

export interface GraphNode {
  name: string
  op: string
  input?: string[]
  attr?: Record<string, unknown>
  device?: string
}

export interface GraphTopology {
  node: GraphNode[]
  [key: string]: unknown
}

const FUSED_TO_PLAIN: Record<string, string> = {
  _FusedConv2D: 'Conv2D',
  FusedDepthwiseConv2dNative: 'DepthwiseConv2dNative',
  _FusedMatMul: 'MatMul',
}

/** Attributes that belong to the fused op only and must not be copied to the plain op. */
const FUSED_ONLY_ATTRS = new Set(['fused_ops', 'num_args', 'epsilon', 'leakyrelu_alpha'])

const ACTIVATIONS = new Set(['Relu', 'Relu6', 'Elu', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Prelu'])

function decodeFusedOps(attr: Record<string, unknown> | undefined): string[] {
  const list = (attr?.fused_ops as { list?: { s?: string[] } } | undefined)?.list?.s ?? []
  return list.map((s) => atob(s))
}

/** Split a fused node into plain nodes, or return null if its fused ops are not understood. */
function splitNode(node: GraphNode): GraphNode[] | null {
  const plainOp = FUSED_TO_PLAIN[node.op]
  const fused = decodeFusedOps(node.attr)
  const inputs = node.input ?? []
  const [a, b, ...extra] = inputs
  const data = extra.filter((s) => !s.startsWith('^'))
  const control = inputs.filter((s) => s.startsWith('^'))
  const plainAttr: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(node.attr ?? {})) if (!FUSED_ONLY_ATTRS.has(k)) plainAttr[k] = v
  const typeAttr = node.attr?.T !== undefined ? { T: node.attr.T } : {}

  const chain: GraphNode[] = [{ name: `${node.name}/__plain`, op: plainOp, input: [a, b, ...control], attr: plainAttr, device: node.device }]
  let dataIdx = 0
  for (const part of fused) {
    const prev = chain[chain.length - 1].name
    if (part === 'BiasAdd') {
      const bias = data[dataIdx++]
      if (bias === undefined) return null
      chain.push({ name: `${node.name}/__bias`, op: 'BiasAdd', input: [prev, bias], attr: { ...typeAttr } })
    } else if (ACTIVATIONS.has(part)) {
      const actInputs = [prev]
      const actAttr: Record<string, unknown> = { ...typeAttr }
      if (part === 'Prelu') {
        const alpha = data[dataIdx++]
        if (alpha === undefined) return null
        actInputs.push(alpha)
      }
      if (part === 'LeakyRelu' && node.attr?.leakyrelu_alpha !== undefined) actAttr.alpha = node.attr.leakyrelu_alpha
      chain.push({ name: `${node.name}/__act`, op: part, input: actInputs, attr: actAttr })
    } else {
      return null // e.g. FusedBatchNorm inside a fused conv: leave the node as it is
    }
  }
  chain[chain.length - 1] = { ...chain[chain.length - 1], name: node.name }
  return chain
}

/** Return a copy of `topology` with every understood fused node split into plain nodes. */
export function unfuseGraph(topology: GraphTopology): { topology: GraphTopology; rewritten: string[] } {
  const rewritten: string[] = []
  const nodes: GraphNode[] = []
  for (const node of topology.node) {
    const parts = node.op in FUSED_TO_PLAIN ? splitNode(node) : null
    if (parts) {
      nodes.push(...parts)
      rewritten.push(node.name)
    } else nodes.push(node)
  }
  return { topology: { ...topology, node: nodes }, rewritten }
}
