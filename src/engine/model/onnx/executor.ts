/**
 * A differentiable executor of an ONNX graph built from tfjs ops.
 *
 * At load: every op is checked against the supported set (one line naming the op and node
 * otherwise); initializers become constant tensors; nodes whose inputs are all constants are folded
 * once; each node is compiled (constant weights re-laid out once). Nodes that depend on the input
 * only through its shape (Shape -> Gather -> Concat -> Reshape...) are folded once per input shape,
 * on their first use, and cached. Only the ancestors of the requested tensors are computed.
 * Shape: `compileOnnx(def) => OnnxGraph`; `graph.run({inputName: Val}, tensorNames) => Val[]`.
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../../shared/errors.ts'
import { hostToTensor, nodeError, val, type OpCtx, type OpFactory, type OpImpl, type Val } from './layout.ts'
import { ELEMENTWISE_OPS } from './ops-elementwise.ts'
import { MATH_OPS } from './ops-math.ts'
import { NN_OPS } from './ops-nn.ts'
import { RESIZE_OPS } from './ops-resize.ts'
import { SHAPE_OPS } from './ops-shape.ts'
import type { NodeDef, OnnxModelDef } from './proto.ts'

export const OPS: Record<string, OpFactory> = { ...ELEMENTWISE_OPS, ...NN_OPS, ...SHAPE_OPS, ...RESIZE_OPS, ...MATH_OPS }

/** Supported op types, sorted (for messages and docs). */
export const SUPPORTED_OPS: string[] = Object.keys(OPS).sort()

/** Ops whose output depends only on their input's shape, not its values. */
const SHAPE_READERS = new Set(['Shape', 'Size'])

export type NodeKind = 'const' | 'shape' | 'data'

export interface OnnxGraph {
  def: OnnxModelDef
  /** Kind of each node: folded at load, folded per input shape, or computed per call. */
  kind: Map<NodeDef, NodeKind>
  /** Tensor name -> the node that produces it. */
  producer: Map<string, NodeDef>
  /** Compute the tensors `names` from the graph inputs `feeds` (by input name). */
  run(feeds: Record<string, Val>, names: string[]): Val[]
  dispose(): void
}

function unsupported(def: OnnxModelDef, fileName: string): DeepVisError | null {
  const bad = def.nodes.filter((n) => (n.domain !== '' && n.domain !== 'ai.onnx') || !(n.opType in OPS))
  if (!bad.length) return null
  const n = bad[0]
  const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType
  const others = [...new Set(bad.slice(1).map((b) => b.opType))].filter((o) => o !== n.opType)
  return new DeepVisError('BAD_MODEL',
    `${fileName}: unsupported ONNX op '${op}' (node '${n.name}')${others.length ? `; also unsupported: ${others.join(', ')}` : ''}. ` +
    `Supported ops: ${SUPPORTED_OPS.join(', ')}. Please report it with the exporter and opset used.`)
}

/** Compile a parsed ONNX model. Throws DeepVisError for unsupported ops or a bad graph. */
export function compileOnnx(def: OnnxModelDef, fileName = 'model.onnx'): OnnxGraph {
  const bad = unsupported(def, fileName)
  if (bad) throw bad
  const inputNames = new Set(def.inputs.map((i) => i.name))
  const owned: tf.Tensor[] = []
  const keep = <T extends tf.Tensor>(t: T): T => { owned.push(t); return tf.keep(t) }
  const consts = new Map<string, tf.Tensor>()
  for (const [name, h] of def.initializers) consts.set(name, keep(hostToTensor(h)))

  const producer = new Map<string, NodeDef>()
  for (const n of def.nodes) for (const o of n.outputs) if (o) producer.set(o, n)
  const kind = new Map<NodeDef, NodeKind>()
  /** Constants freed after load: every op that reads them re-laid them out (OpImpl.released). */
  const released = new Set<string>()
  const kindOf = (name: string): NodeKind => {
    if (!name || consts.has(name) || released.has(name)) return 'const'
    if (inputNames.has(name)) return 'data'
    const p = producer.get(name)
    if (!p) throw new DeepVisError('BAD_MODEL', `${fileName}: tensor '${name}' is used but neither produced by a node, nor an initializer, nor the graph input`)
    return kind.get(p) ?? 'data'
  }
  const impls = new Map<NodeDef, OpImpl>()
  const ctxOf = (node: NodeDef): OpCtx => ({ node, opset: def.opset, isConst: (i) => kindOf(node.inputs[i] ?? '') !== 'data' })
  const safe = (node: NodeDef, f: () => Val[]): Val[] => {
    try { return f() } catch (e) {
      if (e instanceof DeepVisError) throw e
      throw nodeError(node, (e as Error).message.split('\n')[0])
    }
  }

  // Nodes are in topological order (an ONNX requirement).
  try {
    for (const node of def.nodes) {
      const inKinds = node.inputs.map(kindOf)
      const k: NodeKind = SHAPE_READERS.has(node.opType) ? (inKinds[0] === 'data' || inKinds[0] === 'shape' ? 'shape' : 'const')
        : inKinds.includes('data') ? 'data' : inKinds.includes('shape') ? 'shape' : 'const'
      kind.set(node, k)
      const ctx = ctxOf(node)
      let impl: OpImpl = () => []
      safe(node, () => { impl = OPS[node.opType](ctx, node.inputs.map((n) => consts.get(n)), keep); return [] })
      impls.set(node, impl)
      if (k === 'const') {
        const outs = tf.tidy(() => safe(node, () => impl(node.inputs.map((n) => (n ? val(consts.get(n)!) : undefined)), ctx)).map((v) => v.nhwc ? tf.transpose(v.t, [0, 3, 1, 2]) : v.t))
        node.outputs.forEach((o, i) => { if (o && outs[i]) consts.set(o, keep(outs[i])) })
        tf.dispose(outs.slice(node.outputs.length))
      }
    }
  } catch (e) {
    tf.dispose(owned)
    throw e
  }
  // Free the constants that no op reads any more (conv weights kept only in their NHWC layout...).
  const graphOutputs = new Set(def.outputs.map((o) => o.name))
  const stillRead = new Set<string>()
  for (const node of def.nodes) {
    const done = new Set(impls.get(node)?.released ?? [])
    node.inputs.forEach((name, i) => { if (name && !done.has(i)) stillRead.add(name) })
  }
  for (const [name, t] of consts) {
    if (stillRead.has(name) || graphOutputs.has(name)) continue
    t.dispose()
    consts.delete(name)
    released.add(name)
  }

  /** Per input shape: the values of the 'shape' nodes, kept. */
  const shapeCache = new Map<string, Map<string, Val>>()

  function run(feeds: Record<string, Val>, names: string[]): Val[] {
    const key = def.inputs.map((i) => feeds[i.name]?.t.shape.join('x')).join(';')
    let cache = shapeCache.get(key)
    if (!cache) { cache = new Map(); shapeCache.set(key, cache) }
    const memo = new Map<string, Val>()
    const get = (name: string): Val | undefined => {
      if (!name) return undefined
      const c = consts.get(name)
      if (c) return val(c)
      if (released.has(name)) return undefined
      if (inputNames.has(name)) {
        const f = feeds[name]
        if (!f) throw new DeepVisError('BAD_MODEL', `no value given for graph input '${name}'`)
        return f
      }
      const hit = memo.get(name) ?? cache!.get(name)
      if (hit) return hit
      const node = producer.get(name)!
      const k = kind.get(node)!
      const ins = node.inputs.map(get)
      const outs = safe(node, () => impls.get(node)!(ins, ctxOf(node)))
      node.outputs.forEach((o, i) => {
        if (!o || !outs[i]) return
        if (k === 'shape') cache!.set(o, { t: keep(outs[i].t), nhwc: outs[i].nhwc })
        else memo.set(o, outs[i])
      })
      const out = (k === 'shape' ? cache!.get(name) : memo.get(name))
      if (!out) throw nodeError(node, `produced no value for output '${name}'`)
      return out
    }
    return names.map((n) => {
      const v = get(n)
      if (!v) throw new DeepVisError('BAD_LAYER', `no tensor named '${n}' in the ONNX graph`)
      return v
    })
  }

  return {
    def,
    kind,
    producer,
    run,
    dispose() {
      tf.dispose(owned)
      owned.length = 0
      shapeCache.clear()
    },
  }
}
