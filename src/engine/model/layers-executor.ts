/**
 * A plain-op executor for tfjs LayersModels, built once at load time.
 *
 * Why not `model.apply`: tfjs-layers runs Conv2D/Dense with a linear activation through
 * `tf.fused.*`, whose custom gradient always computes the weight gradients too (Conv2DBackpropFilter):
 * 35x slower on cpu and unsupported on wasm (platform-facts.md, "TRAP"). Here each known layer is
 * computed with unfused ops whose weights are constants, so the tape computes only the input gradient,
 * and batch-norm is reduced at load time to a per-channel `x * a + b`.
 * Only the ancestors of the requested layer are computed. Unknown layer types fall back to `layer.apply`.
 * Every layer with a ReLU-family activation (its own or a separate activation layer) also gets the
 * pseudo-layer `<name>/pre_relu` (PRE_ACTIVATION_SUFFIX): the layer computed without its activation.
 * Shape: `compileLayersModel(model) => (input, layerName) => activations`
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'

type Layer = tf.layers.Layer
type Fn = (inputs: tf.Tensor[]) => tf.Tensor

interface LayerNodeLike {
  inboundLayers: Layer[]
  tensorIndices: number[]
}

type Config = Record<string, unknown>

function weight(layer: Layer, suffix: string): tf.Tensor | null {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`) || v.name.endsWith(`/${suffix}`))
  return w ? w.read() : null
}

function requireWeight(layer: Layer, suffix: string): tf.Tensor {
  const w = weight(layer, suffix)
  if (!w) throw new DeepVisError('BAD_MODEL', `layer '${layer.name}' has no '${suffix}' weight`)
  return w
}

function pair(v: unknown, dflt: number): [number, number] {
  if (v === undefined || v === null) return [dflt, dflt]
  if (typeof v === 'number') return [v, v]
  const a = v as number[]
  return [a[0], a.length > 1 ? a[1] : a[0]]
}

function activationFn(name: unknown, layer: Layer): (x: tf.Tensor) => tf.Tensor {
  const act = typeof name === 'string' ? name.toLowerCase() : name == null ? 'linear' : null
  switch (act) {
    case 'linear': return (x) => x
    case 'relu': return (x) => tf.relu(x)
    case 'relu6': return (x) => tf.relu6(x)
    case 'sigmoid': return (x) => tf.sigmoid(x)
    case 'tanh': return (x) => tf.tanh(x)
    case 'softmax': return (x) => tf.softmax(x)
    case 'elu': return (x) => tf.elu(x)
    case 'selu': return (x) => tf.selu(x)
    case 'softplus': return (x) => tf.softplus(x)
    case 'softsign': return (x) => tf.div(x, tf.add(tf.abs(x), 1))
    case 'swish': return (x) => tf.mul(x, tf.sigmoid(x))
    case 'hard_sigmoid': case 'hardsigmoid': return (x) => tf.clipByValue(tf.add(tf.mul(x, 0.2), 0.5), 0, 1)
    default:
      throw new DeepVisError('BAD_MODEL', `layer '${layer.name}': unsupported activation ${JSON.stringify(name)}`)
  }
}

function checkChannelsLast(layer: Layer, cfg: Config): void {
  const fmt = cfg.dataFormat ?? cfg.data_format
  if (fmt !== undefined && fmt !== 'channelsLast' && fmt !== 'channels_last') {
    throw new DeepVisError('BAD_MODEL', `layer '${layer.name}': only channels-last layers are supported, got ${String(fmt)}`)
  }
}

function padding(cfg: Config): 'same' | 'valid' {
  return cfg.padding === 'same' ? 'same' : 'valid'
}

type ConvOp = (x: tf.Tensor4D, kernel: tf.Tensor4D, strides: [number, number], pad: 'same' | 'valid', dilations: [number, number]) => tf.Tensor4D

/**
 * Suffix of the pseudo-layer that outputs a layer's value before its activation (cnnpref's pre-ReLU
 * targets): `conv1/pre_relu` is conv1 without its activation, or, for a separate activation layer,
 * that layer's input. Offered for every layer whose activation is in PRE_ACTIVATION_KINDS.
 */
export const PRE_ACTIVATION_SUFFIX = '/pre_relu'

/** Keras activations (lower case) after which a `/pre_relu` pseudo-layer is offered: the ReLU family. */
const PRE_ACTIVATION_KINDS = new Set(['relu', 'relu6', 'elu', 'selu', 'leakyrelu', 'leaky_relu'])

/** Keras layer classes whose own activation the executor can leave out (buildLayerFn's `linear`). */
const LINEAR_SPLIT_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense'])

/** Keras layer classes that are nothing but an activation of their single input. */
const ACTIVATION_LAYERS = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU'])

/** Conv2D / DepthwiseConv2D / SeparableConv2D: plain convolution, then bias, then the activation (none when `linear`). */
function convLayerFn(layer: Layer, cfg: Config, kernelName: string, conv: ConvOp, linear = false): Fn {
  checkChannelsLast(layer, cfg)
  const kernel = requireWeight(layer, kernelName) as tf.Tensor4D
  const bias = cfg.useBias === false ? null : weight(layer, 'bias')
  const strides = pair(cfg.strides, 1)
  const dil = pair(cfg.dilationRate, 1)
  const act = activationFn(linear ? 'linear' : cfg.activation, layer)
  const pad = padding(cfg)
  return ([x]) => {
    let y: tf.Tensor = conv(x as tf.Tensor4D, kernel, strides, pad, dil)
    if (bias) y = tf.add(y, bias)
    return act(y)
  }
}

function activationName(cfg: Config): string {
  return typeof cfg.activation === 'string' ? cfg.activation.toLowerCase() : 'linear'
}

/**
 * The plain-op function of `layer` before its activation, or null when the layer has no ReLU-family
 * activation (then no `/pre_relu` pseudo-layer is offered). A separate activation layer's value
 * before its activation is its input.
 */
function buildPreActivationFn(layer: Layer, keep: (t: tf.Tensor) => tf.Tensor): Fn | null {
  const cls = layer.getClassName()
  const cfg = layer.getConfig() as Config
  if (cls === 'ReLU' || cls === 'LeakyReLU' || cls === 'ELU') return ([x]) => x
  if (!PRE_ACTIVATION_KINDS.has(activationName(cfg))) return null
  if (ACTIVATION_LAYERS.has(cls)) return ([x]) => x
  if (LINEAR_SPLIT_LAYERS.has(cls)) return buildLayerFn(layer, keep, true)
  return null // a layer computed by tfjs-layers: no plain-op split of its activation
}

/**
 * Build the plain-op function of one layer, or null to fall back to `layer.apply`.
 * `linear`: leave out the layer's own activation (LINEAR_SPLIT_LAYERS), for `/pre_relu`.
 */
function buildLayerFn(layer: Layer, keep: (t: tf.Tensor) => tf.Tensor, linear = false): Fn | null {
  const cls = layer.getClassName()
  const cfg = layer.getConfig() as Config
  switch (cls) {
    case 'InputLayer':
      return ([x]) => x
    case 'Conv2D':
      return convLayerFn(layer, cfg, 'kernel', (x, k, strides, pad, dil) => tf.conv2d(x, k, strides, pad, 'NHWC', dil), linear)
    case 'DepthwiseConv2D':
      return convLayerFn(layer, cfg, 'depthwise_kernel', (x, k, strides, pad, dil) => tf.depthwiseConv2d(x, k, strides, pad, 'NHWC', dil), linear)
    case 'SeparableConv2D': {
      const pointwise = requireWeight(layer, 'pointwise_kernel') as tf.Tensor4D
      return convLayerFn(layer, cfg, 'depthwise_kernel', (x, k, strides, pad, dil) => tf.separableConv2d(x, k, pointwise, strides, pad, dil, 'NHWC'), linear)
    }
    case 'Dense': {
      const kernel = requireWeight(layer, 'kernel') as tf.Tensor2D
      const bias = cfg.useBias === false ? null : weight(layer, 'bias')
      const act = activationFn(linear ? 'linear' : cfg.activation, layer)
      return ([x]) => {
        if (x.rank !== 2) {
          if (linear) throw new DeepVisError('BAD_LAYER', `layer '${layer.name}': no pre-activation value for a Dense layer on rank-${x.rank} input`)
          return layer.apply(x) as tf.Tensor
        }
        let y: tf.Tensor = tf.matMul(x as tf.Tensor2D, kernel)
        if (bias) y = tf.add(y, bias)
        return act(y)
      }
    }
    case 'BatchNormalization': {
      const axis = (cfg.axis as number | undefined) ?? -1
      if (axis !== -1 && axis !== 3) return null
      const eps = (cfg.epsilon as number | undefined) ?? 1e-3
      const mean = requireWeight(layer, 'moving_mean')
      const variance = requireWeight(layer, 'moving_variance')
      const gamma = cfg.scale === false ? null : weight(layer, 'gamma')
      const beta = cfg.center === false ? null : weight(layer, 'beta')
      // y = (x - mean) / sqrt(var + eps) * gamma + beta  ==  x * a + b, computed once.
      const a = keep(tf.tidy(() => {
        const inv = tf.rsqrt(tf.add(variance, eps))
        return gamma ? tf.mul(inv, gamma) : inv
      }))
      const b = keep(tf.tidy(() => {
        const shift = tf.neg(tf.mul(mean, a))
        return beta ? tf.add(shift, beta) : shift
      }))
      return ([x]) => tf.add(tf.mul(x, a), b)
    }
    case 'Activation': {
      const act = activationFn(cfg.activation, layer)
      return ([x]) => act(x)
    }
    case 'ReLU': {
      const maxValue = cfg.maxValue as number | null | undefined
      if (maxValue == null) return ([x]) => tf.relu(x)
      if (maxValue === 6) return ([x]) => tf.relu6(x)
      return ([x]) => tf.clipByValue(x, 0, maxValue)
    }
    case 'LeakyReLU': {
      const alpha = (cfg.alpha as number | undefined) ?? 0.3
      return ([x]) => tf.leakyRelu(x, alpha)
    }
    case 'ELU': {
      const alpha = (cfg.alpha as number | undefined) ?? 1
      return alpha === 1 ? ([x]) => tf.elu(x) : null
    }
    case 'Softmax':
      return ([x]) => tf.softmax(x)
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      checkChannelsLast(layer, cfg)
      const size = pair(cfg.poolSize, 2)
      const strides = pair(cfg.strides ?? cfg.poolSize, 2)
      const pad = padding(cfg)
      return cls === 'MaxPooling2D'
        ? ([x]) => tf.maxPool(x as tf.Tensor4D, size, strides, pad)
        : ([x]) => tf.avgPool(x as tf.Tensor4D, size, strides, pad)
    }
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D': {
      checkChannelsLast(layer, cfg)
      const keepDims = cfg.keepdims === true || cfg.keepDims === true
      return cls === 'GlobalAveragePooling2D'
        ? ([x]) => tf.mean(x, [1, 2], keepDims)
        : ([x]) => tf.max(x, [1, 2], keepDims)
    }
    case 'Concatenate': {
      const axis = (cfg.axis as number | undefined) ?? -1
      return (xs) => tf.concat(xs, axis)
    }
    case 'Add':
      return (xs) => xs.reduce((a, b) => tf.add(a, b))
    case 'Multiply':
      return (xs) => xs.reduce((a, b) => tf.mul(a, b))
    case 'Average':
      return (xs) => tf.div(xs.reduce((a, b) => tf.add(a, b)), xs.length)
    case 'Maximum':
      return (xs) => xs.reduce((a, b) => tf.maximum(a, b))
    case 'Flatten':
      return ([x]) => tf.reshape(x, [x.shape[0], -1])
    case 'Reshape': {
      const target = cfg.targetShape as number[]
      return ([x]) => tf.reshape(x, [x.shape[0], ...target])
    }
    case 'ZeroPadding2D': {
      const p = cfg.padding as number | [number, number] | [[number, number], [number, number]]
      const [[t, b], [l, r]] = typeof p === 'number'
        ? [[p, p], [p, p]]
        : Array.isArray(p[0]) ? (p as [[number, number], [number, number]]) : [[p[0] as number, p[0] as number], [p[1] as number, p[1] as number]]
      return ([x]) => tf.pad(x, [[0, 0], [t, b], [l, r], [0, 0]])
    }
    case 'Dropout':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
    case 'ActivityRegularization':
      return ([x]) => x // identity at inference
    default:
      return null
  }
}

export interface CompiledLayersModel {
  /** Activations of `layerName` for the batch `input` (network space). */
  run(input: tf.Tensor, layerName: string): tf.Tensor
  /** Activations of several layers from one pass (shared ancestors computed once). */
  runMany(input: tf.Tensor, layerNames: readonly string[]): tf.Tensor[]
  /** Names of the layers in topological order, each `/pre_relu` pseudo-layer right after its layer. */
  layerNames: string[]
  /** Pseudo-layer name (`conv1/pre_relu`) -> the real layer it belongs to (`conv1`). */
  preActivationOf: Map<string, string>
  /** Layers computed by `layer.apply` because no plain-op version exists (for the record). */
  fallbackLayers: string[]
  dispose(): void
}

/** Compile `model` into a plain-op executor. Throws BAD_MODEL for shared layers or multi-input models. */
export function compileLayersModel(model: tf.LayersModel): CompiledLayersModel {
  if (model.inputs.length !== 1) {
    throw new DeepVisError('BAD_MODEL', `models with ${model.inputs.length} inputs are not supported (one image input expected)`)
  }
  const owned: tf.Tensor[] = []
  const keep = (t: tf.Tensor): tf.Tensor => { owned.push(t); return t }
  const fns = new Map<string, Fn>()
  const parents = new Map<string, string[]>()
  const fallbackLayers: string[] = []
  // The layer that produced the model input (an InputLayer; for a Sequential model it is not in model.layers).
  const inputLayerName = model.inputs[0].sourceLayer.name
  const layerNames: string[] = []
  const preActivationOf = new Map<string, string>()
  const realNames = new Set(model.layers.map((l) => l.name))

  for (const layer of model.layers) {
    const nodes = layer.inboundNodes as unknown as LayerNodeLike[]
    if (nodes.length > 1) {
      throw new DeepVisError('BAD_MODEL', `layer '${layer.name}' is shared (called ${nodes.length} times); shared layers are not supported`)
    }
    const node = nodes[0]
    if (node && node.tensorIndices.some((i) => i !== 0)) {
      throw new DeepVisError('BAD_MODEL', `layer '${layer.name}' consumes a non-first output of a multi-output layer; not supported`)
    }
    parents.set(layer.name, node ? node.inboundLayers.map((l) => l.name) : [])
    const fn = buildLayerFn(layer, keep)
    if (fn) fns.set(layer.name, fn)
    else {
      fallbackLayers.push(layer.name)
      fns.set(layer.name, (xs) => layer.apply(xs.length === 1 ? xs[0] : xs) as tf.Tensor)
    }
    layerNames.push(layer.name)
    const pre = buildPreActivationFn(layer, keep)
    if (pre) {
      const preName = layer.name + PRE_ACTIVATION_SUFFIX
      if (realNames.has(preName)) {
        throw new DeepVisError('BAD_MODEL', `layer name '${preName}' collides with the pre-activation pseudo-layer of '${layer.name}'; rename the layer`)
      }
      fns.set(preName, pre)
      parents.set(preName, parents.get(layer.name)!)
      preActivationOf.set(preName, layer.name)
      layerNames.push(preName)
    }
  }

  function run(input: tf.Tensor, layerName: string): tf.Tensor {
    return runMany(input, [layerName])[0]
  }

  /** Several layers from one pass: shared ancestors are computed once. */
  function runMany(input: tf.Tensor, layerNames: readonly string[]): tf.Tensor[] {
    for (const n of layerNames) if (!fns.has(n)) throw new DeepVisError('BAD_LAYER', `no layer named '${n}'`)
    const memo = new Map<string, tf.Tensor>()
    const evaluate = (name: string): tf.Tensor => {
      const hit = memo.get(name)
      if (hit) return hit
      let out: tf.Tensor
      if (name === inputLayerName) out = input
      else {
        const ins = (parents.get(name) ?? []).map(evaluate)
        out = fns.get(name)!(ins)
      }
      memo.set(name, out)
      return out
    }
    return layerNames.map(evaluate)
  }

  return {
    run,
    runMany,
    layerNames,
    preActivationOf,
    fallbackLayers,
    dispose: () => { for (const t of owned) t.dispose(); owned.length = 0 },
  }
}
