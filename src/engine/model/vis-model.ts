/**
 * VisModel: one interface over tfjs LayersModels and GraphModels for visualization.
 * It answers two questions: which layers exist (the catalog) and what a layer outputs for an input,
 * computing only the target's ancestors, with gradients that need only input-gradient kernels.
 * Pure tfjs: artifacts come from the host (fs loader in Node, fetch in a browser).
 * Shape: `await createVisModel(artifacts, {inputSize}) => VisModel`
 */
import * as tf from '@tensorflow/tfjs'
import { closest, distance } from 'fastest-levenshtein'
import { DeepVisError } from '../../shared/errors.ts'
import { compileLayersModel, PRE_ACTIVATION_SUFFIX } from './layers-executor.ts'

export { PRE_ACTIVATION_SUFFIX }
import { unfuseGraph, type GraphTopology } from './graph-rewrite.ts'
import type { RfGraph } from '../inspect/receptive-field.ts'
import { rfGraphOfGraphModel, rfGraphOfLayersModel } from './rf-graph.ts'
import { weightReader } from './weight-reader.ts'

export interface LayerInfo {
  name: string
  /**
   * Keras class name (LayersModel) or TensorFlow op (GraphModel); for a `<layer>/pre_relu`
   * pseudo-layer, the layer's type followed by ' (pre-activation)'.
   */
  type: string
  /** Output shape without the batch dimension, e.g. [56, 56, 64] or [1000]. */
  shape: number[]
  /** Number of channels (last dimension). */
  units: number
  /** ONNX models: the module the layer belongs to (`layer2.1`; '' at the top), for grouping. */
  module?: string
  /** ONNX models: a plumbing op (reshape, transpose, gather...), hidden by default in layer lists. */
  plumbing?: boolean
}

export type ModelFormat = 'layers-model' | 'graph-model' | 'onnx'

export interface VisModel {
  readonly format: ModelFormat
  /** Model input shape without batch, [H, W, C]; null entries for free dimensions. */
  readonly inputShape: [number | null, number | null, number | null]
  /**
   * Every layer (graph node), in topological order, with output shapes for the given input size.
   * Every layer whose output is a ReLU-family activation (its own, fused, or a separate activation
   * layer / node) is followed by the pseudo-layer `<layer>/pre_relu`: its value before the activation
   * (cnnpref's pre-ReLU targets). forward() and layerInfo() accept these names like any other.
   */
  catalog(inputSize: [number, number]): Promise<LayerInfo[]>
  /** Info about one layer; throws BAD_LAYER naming the closest existing names. */
  layerInfo(name: string, inputSize: [number, number]): Promise<LayerInfo>
  /** Activations of `layer` for the network-space batch `input` ([N, H, W, C]). */
  forward(input: tf.Tensor4D, layer: string): tf.Tensor
  /** Activations of several layers from one pass (absent: one forward() per layer). */
  forwardMany?(input: tf.Tensor4D, layers: readonly string[]): tf.Tensor[]
  /** Names of the layers a user can target. */
  readonly layerNames: string[]
  /** Notes about the load (fused nodes rewritten, layers computed by fallback). */
  readonly notes: string[]
  /** The layer graph's geometry, for receptive fields (inspect/receptive-field.ts); absent: not known. */
  readonly rfGraph?: RfGraph
  dispose(): void
}

/** The layer graph for receptive fields, or undefined when it cannot be read (never fails a load). */
export function safeRfGraph(build: () => RfGraph): RfGraph | undefined {
  try {
    return build()
  } catch {
    return undefined
  }
}

/** Longest part of a tfjs error quoted in a BAD_MODEL message. */
const MAX_CAUSE_CHARS = 200

/** Graph ops that are not "layers": weights, plumbing. */
const GRAPH_SKIP_OPS = new Set(['Const', 'NoOp', 'Placeholder'])

/** Graph activation ops after which a `/pre_relu` pseudo-layer is offered: the ReLU family. */
const GRAPH_PRE_ACTIVATION_OPS = new Set(['Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Prelu'])

/** Type shown for a pseudo-layer. */
function preActivationType(type: string): string {
  return `${type} (pre-activation)`
}

function collision(preName: string, layer: string): DeepVisError {
  return new DeepVisError('BAD_MODEL', `layer name '${preName}' collides with the pre-activation pseudo-layer of '${layer}'; rename the layer`)
}

function badLayer(name: string, names: string[]): DeepVisError {
  const near = [...names].sort((a, b) => distance(name, a) - distance(name, b)).slice(0, 5)
  const best = names.length ? closest(name, names) : ''
  return new DeepVisError('BAD_LAYER',
    `no layer named '${name}' in this model; did you mean '${best}'? closest: ${near.join(', ')} (run 'deepvis layers' for all ${names.length})`)
}

function unitsOf(shape: number[]): number {
  return shape.length ? shape[shape.length - 1] : 1
}

function memoCatalog(build: (size: [number, number]) => Promise<LayerInfo[]>): (size: [number, number]) => Promise<LayerInfo[]> {
  const cache = new Map<string, Promise<LayerInfo[]>>()
  return (size) => {
    const key = size.join('x')
    let hit = cache.get(key)
    if (!hit) { hit = build(size); cache.set(key, hit) }
    return hit
  }
}

async function layersVisModel(artifacts: tf.io.ModelArtifacts): Promise<VisModel> {
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts))
  let compiled: ReturnType<typeof compileLayersModel>
  try { compiled = compileLayersModel(model) } catch (err) { model.dispose(); throw err }
  const inShape = model.inputs[0].shape
  if (inShape.length !== 4) {
    model.dispose()
    throw new DeepVisError('BAD_MODEL', `expected an image input [batch, height, width, channels]; got shape ${JSON.stringify(inShape)}`)
  }
  const names = compiled.layerNames
  const types = new Map(model.layers.map((l) => [l.name, l.getClassName()]))
  for (const [pre, of] of compiled.preActivationOf) types.set(pre, preActivationType(types.get(of)!))
  const catalog = memoCatalog(async (size) => {
    // Static shapes when the model's input size is fixed; otherwise one forward pass at `size`.
    const fixed = inShape[1] !== null && inShape[2] !== null
    if (fixed) {
      const byName = new Map(model.layers.map((l) => [l.name, l]))
      return names.map((n) => {
        // An activation is element-wise: a pseudo-layer has its layer's output shape.
        const l = byName.get(compiled.preActivationOf.get(n) ?? n)!
        const os = (Array.isArray(l.outputShape[0]) ? l.outputShape[0] : l.outputShape) as (number | null)[]
        const shape = os.slice(1).map((d) => d ?? -1)
        return { name: n, type: types.get(n)!, shape, units: unitsOf(shape) }
      })
    }
    return tf.tidy(() => {
      const x = tf.zeros([1, size[0], size[1], inShape[3] ?? 3]) as tf.Tensor4D
      return names.map((n) => {
        const shape = compiled.run(x, n).shape.slice(1)
        return { name: n, type: types.get(n) ?? '?', shape, units: unitsOf(shape) }
      })
    })
  })
  const notes = compiled.fallbackLayers.length
    ? [`computed by tfjs-layers (no plain-op version): ${compiled.fallbackLayers.join(', ')}`] : []
  return {
    format: 'layers-model',
    inputShape: [inShape[1], inShape[2], inShape[3]],
    layerNames: names,
    notes,
    rfGraph: safeRfGraph(() => rfGraphOfLayersModel(model, compiled.preActivationOf)),
    catalog,
    async layerInfo(name, size) {
      if (!types.has(name)) throw badLayer(name, names)
      return (await catalog(size)).find((l) => l.name === name)!
    },
    forward(input, layer) {
      if (!types.has(layer)) throw badLayer(layer, names)
      return compiled.run(input, layer)
    },
    forwardMany(input, layers) {
      for (const l of layers) if (!types.has(l)) throw badLayer(l, names)
      return compiled.runMany(input, layers)
    },
    dispose() { compiled.dispose(); model.dispose() },
  }
}

async function graphVisModel(artifacts: tf.io.ModelArtifacts): Promise<VisModel> {
  const { topology, rewritten } = unfuseGraph(artifacts.modelTopology as GraphTopology)
  const model = await tf.loadGraphModel(tf.io.fromMemory({ ...artifacts, modelTopology: topology }))
  if (model.inputs.length !== 1) {
    model.dispose()
    throw new DeepVisError('BAD_MODEL', `models with ${model.inputs.length} inputs are not supported (one image input expected)`)
  }
  const input = model.inputs[0]
  const inputName = input.name.replace(/:0$/, '')
  const shape = input.shape ?? [-1, -1, -1, 3]
  if (shape.length !== 4) {
    model.dispose()
    throw new DeepVisError('BAD_MODEL', `expected an image input [batch, height, width, channels]; got shape ${JSON.stringify(shape)}`)
  }
  const userNodes = topology.node.filter((n) => !GRAPH_SKIP_OPS.has(n.op) && !n.name.includes('/__'))
  const allNames = new Set(topology.node.map((n) => n.name))
  const names: string[] = []
  const types = new Map<string, string>()
  // Pseudo-layer -> the node that computes it: the activation's input (for a fused conv split by
  // unfuseGraph, its hidden `<name>/__bias` or `<name>/__plain` node).
  const nodeOf = new Map<string, string>()
  const fusedType = new Map(artifacts.modelTopology && Array.isArray((artifacts.modelTopology as GraphTopology).node)
    ? (artifacts.modelTopology as GraphTopology).node.map((n) => [n.name, n.op] as const) : [])
  for (const n of userNodes) {
    names.push(n.name)
    types.set(n.name, n.op)
    const src = n.input?.[0]
    if (!GRAPH_PRE_ACTIVATION_OPS.has(n.op) || !src || src.startsWith('^')) continue
    const [srcNode, port] = src.split(':')
    if (port !== undefined && port !== '0') continue // an activation of a non-first output: not addressable
    const preName = n.name + PRE_ACTIVATION_SUFFIX
    if (allNames.has(preName)) { model.dispose(); throw collision(preName, n.name) }
    names.push(preName)
    // A split fused node keeps its original op name in the type: '_FusedConv2D (pre-activation)'.
    types.set(preName, preActivationType(fusedType.get(n.name) ?? n.op))
    nodeOf.set(preName, srcNode)
  }
  const nodeName = (layer: string): string => nodeOf.get(layer) ?? layer
  const feed = (x: tf.Tensor): Record<string, tf.Tensor> => ({ [inputName]: x })
  const catalog = memoCatalog(async (size) => {
    const x = tf.zeros([1, size[0], size[1], shape[3] > 0 ? shape[3] : 3])
    try {
      const nodes = [...new Set(names.map(nodeName))]
      const outs = model.execute(feed(x), nodes) as tf.Tensor[]
      const infos = names.map((n) => {
        const s = outs[nodes.indexOf(nodeName(n))].shape.slice(1)
        return { name: n, type: types.get(n)!, shape: s, units: unitsOf(s) }
      })
      tf.dispose(outs)
      return infos
    } finally {
      x.dispose()
    }
  })
  const dim = (d: number): number | null => (d > 0 ? d : null)
  const weights = weightReader(artifacts)
  return {
    format: 'graph-model',
    inputShape: [dim(shape[1]), dim(shape[2]), dim(shape[3])],
    layerNames: names,
    notes: rewritten.length ? [`fused nodes split into plain ops: ${rewritten.length}`] : [],
    rfGraph: safeRfGraph(() => rfGraphOfGraphModel(topology.node, weights.shape, weights.values, Object.fromEntries(nodeOf))),
    catalog,
    async layerInfo(name, size) {
      if (!types.has(name)) throw badLayer(name, names)
      // One node's shape needs only its ancestors: no forward pass over the whole graph.
      const outShape = tf.tidy(() => {
        const x = tf.zeros([1, size[0], size[1], shape[3] > 0 ? shape[3] : 3])
        return (model.execute(feed(x), nodeName(name)) as tf.Tensor).shape.slice(1)
      })
      return { name, type: types.get(name)!, shape: outShape, units: unitsOf(outShape) }
    },
    forward(x, layer) {
      if (!types.has(layer)) throw badLayer(layer, names)
      return model.execute(feed(x), nodeName(layer)) as tf.Tensor
    },
    forwardMany(x, layers) {
      for (const l of layers) if (!types.has(l)) throw badLayer(l, names)
      const nodes = [...new Set(layers.map(nodeName))]
      const outs = model.execute(feed(x), nodes) as tf.Tensor | tf.Tensor[]
      const list = Array.isArray(outs) ? outs : [outs]
      // Two names of one node (a layer and its `/pre_relu` alias' node) share one tensor.
      return layers.map((l) => list[nodes.indexOf(nodeName(l))])
    },
    dispose() { model.dispose() },
  }
}

/** Build a VisModel from in-memory artifacts (model.json parsed + weights concatenated). */
export async function createVisModel(artifacts: tf.io.ModelArtifacts): Promise<VisModel> {
  const topo = artifacts.modelTopology as Record<string, unknown> | undefined
  if (!topo || typeof topo !== 'object') throw new DeepVisError('BAD_MODEL', 'model.json has no modelTopology')
  try {
    return Array.isArray((topo as { node?: unknown }).node) ? await graphVisModel(artifacts) : await layersVisModel(artifacts)
  } catch (err) {
    if (err instanceof DeepVisError) throw err
    // tfjs' messages can run to several lines of advice: the first says what is wrong.
    // Cut at the first '{': some quote the topology they could not read.
    const first = String((err as Error).message).split('\n')[0].replace(/\s*[{[].*$/, '').trim().slice(0, MAX_CAUSE_CHARS)
    throw new DeepVisError('BAD_MODEL', `cannot build the model: ${first}`)
  }
}
