/**
 * Checks that a model is safe to put in place of the loaded one, run before it replaces anything:
 * - `checkArtifacts(artifacts)` (static, before the model is built): float32 weights finite; a
 *   GraphModel's graph acyclic with every input naming a node; sizes a model asks for (paddings, tile
 *   counts, resize targets, Keras padding / upsampling / reshape configs) within the dimension limit,
 *   so that a 20000-pixel ZeroPadding2D is refused before it allocates gigabytes.
 * - `checkModelRuns(model, size, channels)` (after it is built): the input size within the pixel
 *   limit, every layer's output within the activation limit (where shapes are static), and one trial
 *   forward pass of a grey image to the last layer giving finite values. Any failure of tfjs on the way (an unknown op, a
 *   shape that does not fit) becomes BAD_MODEL with its message.
 * Shape: `checkArtifacts(artifacts)`; `await checkModelRuns(model, [h, w], c)`
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'
import type { GraphTopology } from '../model/graph-rewrite.ts'
import type { VisModel } from '../model/vis-model.ts'
import { limits, raiseHint } from './limits.ts'

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8, string: 0 }

/** Graph ops whose second input is a size the op allocates by (paddings, multiples, a shape, a target size). */
const GRAPH_SIZE_INPUT_OPS = new Set(['Pad', 'PadV2', 'MirrorPad', 'Tile', 'Fill', 'BroadcastTo', 'ResizeBilinear', 'ResizeNearestNeighbor'])
/** Keras config keys that are sizes a layer allocates by. */
const KERAS_SIZE_KEYS = new Set(['padding', 'cropping', 'size', 'n', 'kernel_size', 'pool_size', 'strides', 'dilation_rate'])

function dimensionError(where: string, value: number): DeepVisError {
  const lim = limits()
  return new DeepVisError('BAD_MODEL', `${where} asks for a size of ${value}, over the limit of ${lim.dimension} (${raiseHint('dimension')})`)
}

/** Every number inside `v` (nested arrays / objects). */
function numbersIn(v: unknown, out: number[] = []): number[] {
  if (typeof v === 'number') out.push(v)
  else if (Array.isArray(v)) for (const x of v) numbersIn(x, out)
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) numbersIn(x, out)
  return out
}

/** Keras layers' size configs within the dimension limit. */
function checkKerasSizes(topology: unknown, cap: number, depth = 0): void {
  if (depth > 64 || typeof topology !== 'object' || topology === null) return
  if (Array.isArray(topology)) { for (const x of topology) checkKerasSizes(x, cap, depth + 1); return }
  const obj = topology as Record<string, unknown>
  const cls = typeof obj.class_name === 'string' ? obj.class_name : null
  const config = obj.config as Record<string, unknown> | undefined
  if (cls && typeof config === 'object' && config !== null) {
    for (const [key, value] of Object.entries(config)) {
      if (!KERAS_SIZE_KEYS.has(key)) continue
      const big = numbersIn(value).find((n) => Math.abs(n) > cap)
      if (big !== undefined) throw dimensionError(`layer '${String(config.name ?? cls)}' (${cls}, ${key})`, big)
    }
  }
  for (const value of Object.values(obj)) checkKerasSizes(value, cap, depth + 1)
}

/** Names of the layers a Keras inbound-node entry refers to (`[[name, node, tensor, kwargs], ...]` or keras_history objects). */
function inboundNames(node: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 16) return out
  if (Array.isArray(node)) {
    if (typeof node[0] === 'string' && node.length >= 3 && typeof node[1] === 'number') out.push(node[0])
    else for (const x of node) inboundNames(x, out, depth + 1)
  } else if (typeof node === 'object' && node !== null) {
    const history = (node as { keras_history?: unknown }).keras_history
    if (Array.isArray(history) && typeof history[0] === 'string') out.push(history[0])
    else for (const x of Object.values(node)) inboundNames(x, out, depth + 1)
  }
  return out
}

/**
 * A functional Keras topology must name only layers it has and be acyclic: tfjs-layers' deserializer
 * retries unresolved nodes forever otherwise (a hang, not an error).
 */
function checkKerasGraph(topology: Record<string, unknown>): void {
  const root = (topology.model_config as Record<string, unknown> | undefined) ?? topology
  const config = root.config as { layers?: unknown; input_layers?: unknown; output_layers?: unknown } | undefined
  if (typeof config !== 'object' || config === null || !Array.isArray(config.layers)) return
  if ((root.class_name as string | undefined) === 'Sequential') return
  const layers = config.layers as { name?: unknown; inbound_nodes?: unknown }[]
  const names = new Set<string>()
  for (const [i, l] of layers.entries()) {
    if (typeof l !== 'object' || l === null || typeof l.name !== 'string') throw new DeepVisError('BAD_MODEL', `layer ${i} of the topology has no name`)
    if (names.has(l.name)) throw new DeepVisError('BAD_MODEL', `two layers are named '${l.name}'`)
    names.add(l.name)
  }
  const deps = new Map<string, string[]>()
  for (const l of layers) {
    const refs = inboundNames(l.inbound_nodes)
    const missing = refs.find((r) => !names.has(r))
    if (missing !== undefined) throw new DeepVisError('BAD_MODEL', `layer '${String(l.name)}' takes its input from '${missing}', which is not a layer of the model`)
    deps.set(l.name as string, refs)
  }
  for (const key of ['input_layers', 'output_layers'] as const) {
    const missing = inboundNames(config[key]).find((r) => !names.has(r))
    if (missing !== undefined) throw new DeepVisError('BAD_MODEL', `${key} names '${missing}', which is not a layer of the model`)
  }
  // Acyclic: repeatedly take the layers whose inputs are all taken.
  const done = new Set<string>()
  let progress = true
  while (progress && done.size < names.size) {
    progress = false
    for (const [n, d] of deps) {
      if (!done.has(n) && d.every((x) => done.has(x) && x !== n)) { done.add(n); progress = true }
    }
  }
  if (done.size < names.size) {
    const stuck = [...names].filter((n) => !done.has(n))
    throw new DeepVisError('BAD_MODEL', `the layers form a cycle through ${stuck.length} layer(s), e.g. '${stuck[0]}': a model must be acyclic`)
  }
}

/** Byte offset of each weight in the concatenated weight data. */
function weightOffsets(specs: readonly tf.io.WeightsManifestEntry[]): Map<string, { spec: tf.io.WeightsManifestEntry; offset: number; count: number }> {
  const out = new Map<string, { spec: tf.io.WeightsManifestEntry; offset: number; count: number }>()
  let offset = 0
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1)
    const dtype = spec.quantization?.dtype ?? spec.dtype
    out.set(spec.name, { spec, offset, count })
    offset += count * (BYTES_PER[dtype] ?? 0)
  }
  return out
}

function checkFiniteWeights(artifacts: tf.io.ModelArtifacts): void {
  const data = artifacts.weightData
  if (!(data instanceof ArrayBuffer)) return
  for (const { spec, offset, count } of weightOffsets(artifacts.weightSpecs ?? []).values()) {
    if (spec.dtype !== 'float32' || spec.quantization || count === 0) continue
    const values = new Float32Array(data, offset, count)
    for (let i = 0; i < count; i++) {
      if (!Number.isFinite(values[i])) {
        throw new DeepVisError('BAD_MODEL', `weight '${spec.name}' holds ${Number.isNaN(values[i]) ? 'NaN' : 'an infinite value'} (at index ${i}): the model's weights must be finite`)
      }
    }
  }
}

/** Node name of a graph input reference: '^ctrl', 'node:1', 'node' -> 'node'. */
function inputNode(ref: string): string {
  const name = ref.startsWith('^') ? ref.slice(1) : ref
  const colon = name.lastIndexOf(':')
  return colon > 0 && /^\d+$/.test(name.slice(colon + 1)) ? name.slice(0, colon) : name
}

function checkGraph(artifacts: tf.io.ModelArtifacts, cap: number): void {
  const topo = artifacts.modelTopology as GraphTopology
  const nodes = topo.node
  if (!nodes.every((n) => typeof n === 'object' && n !== null && typeof n.name === 'string' && typeof n.op === 'string')) {
    throw new DeepVisError('BAD_MODEL', 'every graph node needs a name and an op')
  }
  const byName = new Map(nodes.map((n) => [n.name, n]))
  // Kahn's algorithm: a node is ready once all its inputs are.
  const pending = new Map<string, number>()
  const users = new Map<string, string[]>()
  for (const n of nodes) {
    const inputs = (n.input ?? []).map(inputNode)
    for (const i of inputs) {
      if (!byName.has(i)) throw new DeepVisError('BAD_MODEL', `graph node '${n.name}' (${n.op}) reads '${i}', which is not a node of the graph`)
      if (!users.has(i)) users.set(i, [])
      users.get(i)!.push(n.name)
    }
    pending.set(n.name, inputs.length)
  }
  const ready = [...pending].filter(([, k]) => k === 0).map(([n]) => n)
  let done = 0
  while (ready.length) {
    const n = ready.pop()!
    done++
    for (const u of users.get(n) ?? []) {
      const k = pending.get(u)! - 1
      pending.set(u, k)
      if (k === 0) ready.push(u)
    }
  }
  if (done !== nodes.length) {
    const stuck = [...pending].filter(([, k]) => k > 0).map(([n]) => n)
    throw new DeepVisError('BAD_MODEL', `the graph has a cycle through ${stuck.length} node(s), e.g. '${stuck[0]}': a model graph must be acyclic`)
  }
  const weights = weightOffsets(artifacts.weightSpecs ?? [])
  const data = artifacts.weightData
  for (const n of nodes) {
    if (!GRAPH_SIZE_INPUT_OPS.has(n.op) || !n.input || n.input.length < 2) continue
    const w = weights.get(inputNode(n.input[1]))
    if (!w || !(data instanceof ArrayBuffer) || w.spec.dtype !== 'int32' || w.spec.quantization) continue
    const values = new Int32Array(data, w.offset, w.count)
    for (const v of values) if (Math.abs(v) > cap) throw dimensionError(`graph node '${n.name}' (${n.op})`, v)
  }
}

/** Static checks on a model's artifacts; see the module header. */
export function checkArtifacts(artifacts: tf.io.ModelArtifacts): void {
  const lim = limits()
  checkFiniteWeights(artifacts)
  const topo = artifacts.modelTopology as Record<string, unknown>
  if (Array.isArray(topo.node)) checkGraph(artifacts, lim.dimension)
  else {
    checkKerasGraph(topo)
    checkKerasSizes(topo, lim.dimension)
  }
}

function asModelError(e: unknown, what: string): DeepVisError {
  if (e instanceof DeepVisError) return e
  return new DeepVisError('BAD_MODEL', `${what}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`)
}

/** Checks of a built model at its input size; see the module header. */
export async function checkModelRuns(model: VisModel, size: [number, number], channels: number): Promise<void> {
  const lim = limits()
  if (size[0] * size[1] > lim.inputPixels) {
    throw new DeepVisError('BAD_INPUT_SPEC', `input size ${size[0]}x${size[1]} is over the limit of ${lim.inputPixels} pixels (${raiseHint('inputPixels')})`)
  }
  // A fixed-size LayersModel knows every layer's shape without computing anything: check them before
  // the trial pass allocates. Elsewhere shapes come only from running the graph, so the static checks of
  // checkArtifacts (sizes a graph asks for, the input) guard the trial pass, and it alone runs.
  const staticShapes = model.format === 'layers-model' && model.inputShape[0] !== null && model.inputShape[1] !== null
  let layers: Awaited<ReturnType<VisModel['catalog']>> = []
  try {
    if (staticShapes) layers = await model.catalog(size)
  } catch (e) {
    throw asModelError(e, `the model cannot run on a ${size[0]}x${size[1]} input`)
  }
  for (const l of layers) {
    const n = l.shape.reduce((a, b) => a * Math.max(b, 0), 1)
    if (n > lim.activationElements) {
      throw new DeepVisError('BAD_MODEL',
        `layer '${l.name}' would output ${l.shape.join('x')} = ${n} values per image, over the limit of ${lim.activationElements} (${raiseHint('activationElements')})`)
    }
  }
  const last = [...model.layerNames].reverse().find((n) => !n.endsWith('/pre_relu'))
  if (!last) throw new DeepVisError('BAD_MODEL', 'the model has no layers')
  let finite: boolean
  try {
    // Read back asynchronously: webgpu has no synchronous read in Node.
    const allFinite = tf.tidy(() => {
      const y = model.forward(tf.zeros([1, size[0], size[1], channels]) as tf.Tensor4D, last)
      return y.size === 0 ? tf.scalar(true, 'bool') : tf.all(tf.isFinite(y.cast('float32')))
    })
    try {
      finite = (await allFinite.data())[0] === 1
    } finally {
      allFinite.dispose()
    }
  } catch (e) {
    throw asModelError(e, `a trial forward pass to '${last}' failed`)
  }
  if (!finite) throw new DeepVisError('BAD_MODEL', `a trial forward pass of a grey image gives non-finite values at '${last}'`)
}
