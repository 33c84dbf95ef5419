/**
 * VisModel over an ONNX graph: every node output that depends on the input is a layer, named by the
 * exporter's module path (`/layer2/layer2.1/relu_1/Relu` -> `layer2.1/relu_1`; the last op directly
 * in a module takes the module's name, `encoder/layers/encoder_layer_1` for its final Add, other ops
 * keep their op name, `encoder/layers/encoder_layer_1/Add`), with a `/pre_relu`
 * pseudo-layer after each ReLU-family node (its input). The input is the network-space NHWC batch
 * of the other formats; 4-D outputs come back NHWC (channels last), [B, D] as it is. Transformer
 * token tensors [B, T, D] (unit = hidden dimension d) come back on their patch grid [B, g, g, D], so
 * a spatial unit is a patch token and a channel objective averages over the patch tokens; the class
 * token is the pseudo-layer `<layer>/cls_token` ([B, D]); a non-square T gives [B, T, 1, D].
 * A graph exported with a fixed batch of 1 (reshapes baked for one image) runs a batch image by
 * image. ONNX tensor and node names are accepted as aliases of the layer names.
 * Shape: `createOnnxVisModel(def, fileName) => VisModel`.
 */
import * as tf from '@tensorflow/tfjs'
import { closest, distance } from 'fastest-levenshtein'
import { DeepVisError } from '../../../shared/errors.ts'
import { safeRfGraph, type LayerInfo, type VisModel } from '../vis-model.ts'
import { compileOnnx } from './executor.ts'
import { logical, logicalShape as logicalShapeOf, physNhwc, val, type Val } from './layout.ts'
import type { NodeDef, OnnxModelDef } from './proto.ts'
import { rfGraphOfOnnx } from './rf-graph-onnx.ts'

export const PRE_RELU_SUFFIX = '/pre_relu'
/** Pseudo-layer of a ViT token tensor's class token. */
export const CLS_SUFFIX = '/cls_token'
const PRE_ACTIVATION_OPS = new Set(['Relu', 'LeakyRelu', 'Elu', 'Selu', 'PRelu'])
/** Ops that move or reshape data rather than compute features: hidden by default in the layer browser. */
export const PLUMBING_OPS = new Set(['Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Constant', 'Reshape', 'Cast', 'Flatten', 'Transpose',
  'Concat', 'Slice', 'Split', 'Expand', 'Identity', 'Dropout', 'ConstantOfShape', 'Range', 'Where', 'Equal', 'Tile', 'Size', 'Pad'])

export interface OnnxLayerInfo extends LayerInfo {
  module: string
  plumbing: boolean
}

export interface OnnxVisModel extends VisModel {
  /** A layer or ONNX tensor as the graph has it (4-D as NHWC; token tensors [B, T, D] as they are). */
  forwardRaw(input: tf.Tensor4D, layerOrTensor: string): tf.Tensor
  /** Module and plumbing flag of each layer. */
  layerMeta(name: string): { module: string; plumbing: boolean; tensor: string } | undefined
}

/** Module path segments of a scoped name, with a parent dropped when its child repeats it (`layer2/layer2.1`). */
function segments(name: string): string[] {
  const segs = name.replace(/^\/+/, '').split('/').filter(Boolean)
  return segs.filter((s, i) => !(i + 1 < segs.length && segs[i + 1].startsWith(`${s}.`)))
}

interface LayerRec {
  name: string
  tensor: string
  op: string
  module: string
  pre: boolean
  /** A [B, T, D] token tensor (shown on the patch grid); `cls`: its class token, [B, D]. */
  tokens?: boolean
  cls?: boolean
  /** The ONNX op type of the node (`op` is the type shown, e.g. 'Add (class token)'). */
  opType: string
}

/** Patch grid of T tokens: T = g*g, or 1 + g*g with a leading class token. */
export function tokenGrid(t: number): { g: number; cls: boolean } | null {
  const g1 = Math.round(Math.sqrt(t - 1))
  if (g1 >= 2 && g1 * g1 === t - 1) return { g: g1, cls: true }
  const g0 = Math.round(Math.sqrt(t))
  if (g0 >= 2 && g0 * g0 === t) return { g: g0, cls: false }
  return null
}

/**
 * The engine's view of a token tensor [B, T, D]: the patch tokens on their grid [B, g, g, D] (the
 * class token left out), or [B, T, 1, D] when T is not a grid; the class token alone as [B, D].
 */
function tokenView(t: tf.Tensor, cls: boolean): tf.Tensor {
  const [b, n, d] = t.shape
  if (cls) return tf.reshape(tf.slice(t, [0, 0, 0], [b, 1, d]), [b, d])
  const grid = tokenGrid(n)
  if (!grid) return tf.reshape(t, [b, n, 1, d])
  const first = grid.cls ? 1 : 0
  return tf.reshape(tf.slice(t, [0, first, 0], [b, n - first, d]), [b, grid.g, grid.g, d])
}

function nameLayers(dataNodes: NodeDef[]): LayerRec[] {
  const parsed = dataNodes.map((n) => {
    const scoped = n.name && !/^[A-Za-z]+_\d+$/.test(n.name) ? n.name : n.outputs[0]
    const segs = segments(scoped)
    const last = segs[segs.length - 1] ?? n.opType
    const isOpSeg = new RegExp(`^${n.opType}(_\\d+)?$`).test(last)
    const module = isOpSeg ? segs.slice(0, -1).join('/') : segs.join('/')
    return { n, segs, module, isOpSeg }
  })
  // The last op directly in a module (not in a submodule) is named by the module: its output.
  const lastOfModule = new Map<string, NodeDef>()
  for (const p of parsed) if (p.module && p.isOpSeg) lastOfModule.set(p.module, p.n)
  const used = new Set<string>()
  const unique = (s: string): string => {
    let name = s
    for (let k = 2; used.has(name) || name.endsWith(PRE_RELU_SUFFIX); k++) name = `${s}#${k}`
    used.add(name)
    return name
  }
  const out: LayerRec[] = []
  for (const p of parsed) {
    const base = p.module && p.isOpSeg && lastOfModule.get(p.module) === p.n ? p.module : p.segs.join('/') || p.n.opType
    const outs = p.n.outputs.filter(Boolean)
    outs.forEach((tensor, k) => {
      const name = unique(k === 0 ? base : `${base}:${k}`)
      out.push({ name, tensor, op: p.n.opType, opType: p.n.opType, module: p.module, pre: false })
      if (k === 0 && PRE_ACTIVATION_OPS.has(p.n.opType) && p.n.inputs[0]) {
        out.push({ name: name + PRE_RELU_SUFFIX, tensor: p.n.inputs[0], op: `${p.n.opType} (pre-activation)`, opType: p.n.opType, module: p.module, pre: true })
      }
    })
  }
  return out
}

function unitsOf(shape: number[]): number {
  return shape.length ? shape[shape.length - 1] : 1
}

/** Build the VisModel of a parsed ONNX model; throws DeepVisError naming what is not supported. */
export function createOnnxVisModel(def: OnnxModelDef, fileName = 'model.onnx'): OnnxVisModel {
  if (def.inputs.length !== 1) {
    throw new DeepVisError('BAD_MODEL', `${fileName}: models with ${def.inputs.length} inputs (${def.inputs.map((i) => i.name).join(', ')}) are not supported (one image input expected)`)
  }
  const input = def.inputs[0]
  if (input.elemType !== 1 && input.elemType !== 0) {
    throw new DeepVisError('BAD_MODEL', `${fileName}: the input '${input.name}' has ONNX element type ${input.elemType}; a float32 image input is expected`)
  }
  const shape = input.shape ?? [null, 3, null, null]
  if (shape.length !== 4) {
    throw new DeepVisError('BAD_MODEL', `${fileName}: expected an image input [batch, channels, height, width]; '${input.name}' has shape [${shape.map((d) => d ?? '?').join(', ')}]`)
  }
  // NCHW (PyTorch) unless the last dimension is the 3 channels and the second is not (NHWC exports).
  const channelsLast = shape[3] === 3 && shape[1] !== 3
  const [hDim, wDim, cDim] = channelsLast ? [shape[1], shape[2], shape[3]] : [shape[2], shape[3], shape[1]]
  const batchOfOne = shape[0] === 1
  const graph = compileOnnx(def, fileName)
  const dataNodes = def.nodes.filter((n) => graph.kind.get(n) === 'data')
  const dim = (d: number | null): number | null => (d && d > 0 ? d : null)
  const channels = dim(cDim) ?? 3
  const layers = nameLayers(dataNodes)
  // Token tensors ([1, T, D] for one image), found with one forward pass at the model's size.
  const probeSize: [number, number] = [dim(hDim) ?? 224, dim(wDim) ?? 224]
  const probeShapes = new Map<string, number[]>()
  try {
    tf.tidy(() => {
      const tensors = [...new Set(layers.map((l) => l.tensor))]
      const x = tf.zeros([1, probeSize[0], probeSize[1], channels])
      const outs = graph.run({ [input.name]: channelsLast ? val(x) : val(x, true) }, tensors)
      tensors.forEach((t, i) => probeShapes.set(t, logicalShapeOf(outs[i])))
    })
  } catch (e) {
    graph.dispose()
    throw e
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i]
    const s = probeShapes.get(l.tensor)!
    if (s.length !== 3 || s[0] !== 1) continue
    l.tokens = true
    if (tokenGrid(s[1])?.cls && !l.pre) layers.splice(i + 1, 0, { ...l, name: `${l.name}${CLS_SUFFIX}`, op: `${l.op} (class token)`, cls: true })
  }
  const byName = new Map(layers.map((l) => [l.name, l]))
  const alias = new Map<string, string>()
  for (const l of layers) if (!l.pre && !alias.has(l.tensor)) alias.set(l.tensor, l.name)
  for (const n of dataNodes) { const l = n.outputs[0] && alias.get(n.outputs[0]); if (l && !byName.has(n.name)) alias.set(n.name, l) }
  const names = layers.map((l) => l.name)

  const resolve = (name: string): LayerRec => {
    const rec = byName.get(name) ?? byName.get(alias.get(name) ?? '')
    if (rec) return rec
    const near = [...names].sort((a, b) => distance(name, a) - distance(name, b)).slice(0, 5)
    throw new DeepVisError('BAD_LAYER',
      `no layer named '${name}' in this model; did you mean '${closest(name, names)}'? closest: ${near.join(', ')} (run 'deepvis layers' for all ${names.length})`)
  }
  /** The user's view of a value: 4-D as NHWC, others as ONNX has them. */
  const toUser = (v: Val): tf.Tensor => (v.t.rank === 4 ? physNhwc(v) : logical(v))
  const runOne = (x: tf.Tensor, tensors: string[]): tf.Tensor[] => {
    const fed = channelsLast ? val(x) : val(x, true)
    return graph.run({ [input.name]: fed }, tensors).map(toUser)
  }
  const runRaw = (x: tf.Tensor, tensors: string[]): tf.Tensor[] => {
    if (!batchOfOne || x.shape[0] === 1) return runOne(x, tensors)
    const parts = tf.split(x, x.shape[0], 0).map((xi) => runOne(xi, tensors))
    return tensors.map((_, k) => tf.concat(parts.map((p) => p[k]), 0))
  }
  const run = (x: tf.Tensor, recs: LayerRec[]): tf.Tensor[] => {
    const outs = runRaw(x, recs.map((r) => r.tensor))
    return outs.map((t, i) => (recs[i].tokens && t.rank === 3 ? tokenView(t, !!recs[i].cls) : t))
  }

  const catalogCache = new Map<string, Promise<OnnxLayerInfo[]>>()
  const catalog = (size: [number, number]): Promise<OnnxLayerInfo[]> => {
    const key = size.join('x')
    let hit = catalogCache.get(key)
    if (!hit) {
      hit = (async () => {
        const shapes = tf.tidy(() => run(tf.zeros([1, size[0], size[1], channels]), layers).map((t) => t.shape.slice(1)))
        return layers.map((l, i) => {
          const s = shapes[i]
          return { name: l.name, type: l.op, shape: s, units: unitsOf(s), module: l.module, plumbing: PLUMBING_OPS.has(l.opType) }
        })
      })()
      hit.catch(() => catalogCache.delete(key))
      catalogCache.set(key, hit)
    }
    return hit
  }

  return {
    format: 'onnx',
    inputShape: [dim(hDim), dim(wDim), channels],
    layerNames: names,
    notes: [`ONNX opset ${def.opset}${def.producer ? `, exported by ${def.producer}` : ''}; ${dataNodes.length} nodes computed, ${def.nodes.length - dataNodes.length} folded at load or per input size`],
    rfGraph: channelsLast ? undefined : safeRfGraph(() => rfGraphOfOnnx(def, dataNodes, input.name, layers)),
    catalog,
    async layerInfo(name, size) {
      const rec = resolve(name)
      return (await catalog(size)).find((l) => l.name === rec.name)!
    },
    forward(x, layer) {
      return run(x, [resolve(layer)])[0]
    },
    forwardMany(x, names) {
      return run(x, names.map(resolve))
    },
    forwardRaw(x, layerOrTensor) {
      const rec = byName.get(layerOrTensor) ?? byName.get(alias.get(layerOrTensor) ?? '')
      return runRaw(x, [rec ? rec.tensor : layerOrTensor])[0]
    },
    layerMeta(name) {
      const rec = byName.get(name) ?? byName.get(alias.get(name) ?? '')
      return rec ? { module: rec.module, plumbing: PLUMBING_OPS.has(rec.opType), tensor: rec.tensor } : undefined
    },
    dispose() { graph.dispose() },
  }
}
