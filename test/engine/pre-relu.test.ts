/**
 * Pre-activation (pre-ReLU) pseudo-layers `<layer>/pre_relu`, cnnpref's targets: on a fixture
 * LayersModel (activation fused into Conv2D / DepthwiseConv2D, and a separate ReLU layer), on the
 * embedded model (Conv2D with activation 'relu'), on a GraphModel with a _FusedConv2D(BiasAdd, Relu)
 * and on a real GraphModel from ../shared/models (plain Relu nodes).
 * Properties: relu(pre) equals post exactly, pre has negative values where post is 0, the catalog lists
 * the pseudo-layer right after its layer, the gradient of a unit that is dead at x0 is zero post-ReLU and
 * non-zero pre-ReLU, DVT's loop ascends a pre_relu unit, and names that collide are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { createVisModel, type VisModel } from '../../src/engine/model/vis-model.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { optimizeImage } from '../../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../../src/engine/params.ts'
import { tinyCnnArtifacts } from '../fixtures/tiny-cnn.ts'
import { HAVE_SHARED_MODELS, sharedModel } from '../helpers/shared-models.ts'
import { useBackend } from '../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

/** Max |relu-like(pre) - post|, the number of negative pre values, and of those where post is 0. */
function comparePrePost(vm: VisModel, x: tf.Tensor4D, layer: string, act: (t: tf.Tensor) => tf.Tensor = tf.relu) {
  return tf.tidy(() => {
    const pre = vm.forward(x, `${layer}/pre_relu`)
    const post = vm.forward(x, layer)
    const negative = tf.less(pre, 0)
    return {
      shapesEqual: JSON.stringify(pre.shape) === JSON.stringify(post.shape),
      maxDiff: tf.max(tf.abs(tf.sub(act(pre), post))).dataSync()[0],
      negatives: tf.sum(tf.cast(negative, 'int32')).dataSync()[0],
      negativesWherePostZero: tf.sum(tf.cast(tf.logicalAnd(negative, tf.equal(post, 0)), 'int32')).dataSync()[0],
    }
  })
}

/**
 * Input gradients of one unit of `layer` and of `layer/pre_relu`, at the unit where pre is most
 * negative (so the unit is dead post-ReLU): max |grad| of each.
 */
function deadUnitGradients(vm: VisModel, x: tf.Tensor4D, layer: string): { pre: number; post: number; preValue: number } {
  return tf.tidy(() => {
    const pre = vm.forward(x, `${layer}/pre_relu`)
    const flat = pre.reshape([-1])
    const idx = tf.argMin(flat).dataSync()[0]
    const preValue = flat.dataSync()[idx]
    const unit = (name: string) => (inp: tf.Tensor) => vm.forward(inp as tf.Tensor4D, name).reshape([-1]).gather([idx]).sum()
    const gPre = tf.grad(unit(`${layer}/pre_relu`))(x)
    const gPost = tf.grad(unit(layer))(x)
    return { pre: tf.max(tf.abs(gPre)).dataSync()[0], post: tf.max(tf.abs(gPost)).dataSync()[0], preValue }
  })
}

describe('pre_relu pseudo-layers on a fixture LayersModel', () => {
  let vm: VisModel
  let x: tf.Tensor4D
  beforeAll(async () => {
    vm = await createVisModel(await tinyCnnArtifacts(1))
    x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D
  })
  afterAll(() => { vm?.dispose(); x?.dispose() })

  it('offers a pre_relu for every ReLU-family layer (fused or separate), right after it, and none for linear / tanh / softmax', async () => {
    const cat = await vm.catalog([16, 16])
    const names = cat.map((l) => l.name)
    for (const layer of ['relu_a', 'dw_b', 'conv_b']) expect(names.indexOf(`${layer}/pre_relu`)).toBe(names.indexOf(layer) + 1)
    for (const layer of ['conv_a', 'conv_d', 'logits', 'prob', 'pool_max']) expect(names).not.toContain(`${layer}/pre_relu`)
    const pre = cat.find((l) => l.name === 'conv_b/pre_relu')!
    const post = cat.find((l) => l.name === 'conv_b')!
    expect(pre.type).toBe('Conv2D (pre-activation)')
    expect(pre.shape).toEqual(post.shape)
    expect(await vm.layerInfo('dw_b/pre_relu', [16, 16])).toEqual(cat.find((l) => l.name === 'dw_b/pre_relu'))
    expect(vm.layerNames).toEqual(names)
  })

  it('relu(pre) equals post exactly, and pre is negative where post is 0', () => {
    for (const [layer, act] of [['conv_b', tf.relu], ['relu_a', tf.relu], ['dw_b', tf.relu6]] as const) {
      const r = comparePrePost(vm, x, layer, act)
      expect(r.shapesEqual, layer).toBe(true)
      expect(r.maxDiff, layer).toBe(0)
      expect(r.negatives, layer).toBeGreaterThan(0)
      expect(r.negativesWherePostZero, layer).toBe(r.negatives)
    }
  })

  it('a separate ReLU layer\'s pre_relu is its input layer\'s output', () => {
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(vm.forward(x, 'relu_a/pre_relu'), vm.forward(x, 'bn_a')))).dataSync()[0])
    expect(d).toBe(0)
  })

  it('a fused conv\'s pre_relu equals a manual conv + bias with the same weights', async () => {
    const model = await tf.loadLayersModel(tf.io.fromMemory(await tinyCnnArtifacts(1)))
    const layer = model.getLayer('conv_b')
    const [kernel, bias] = layer.getWeights()
    const d = tf.tidy(() => {
      const input = vm.forward(x, 'pad_b') as tf.Tensor4D
      const manual = tf.add(tf.conv2d(input, kernel as tf.Tensor4D, 1, 'valid'), bias)
      return tf.max(tf.abs(tf.sub(manual, vm.forward(x, 'conv_b/pre_relu')))).dataSync()[0]
    })
    model.dispose()
    expect(d).toBeLessThan(1e-5)
  })

  it('differs where it should: a unit dead at x0 has a zero input gradient post-ReLU, a non-zero one pre-ReLU', () => {
    const g = deadUnitGradients(vm, x, 'conv_b')
    expect(g.preValue).toBeLessThan(0)
    expect(g.post).toBe(0)
    expect(g.pre).toBeGreaterThan(0)
  })

  it('SeparableConv2D (fused relu) and a LeakyReLU layer: post matches tfjs-layers, pre relates by the activation', async () => {
    const init = (seed: number) => tf.initializers.glorotNormal({ seed })
    const input = tf.input({ shape: [10, 10, 3], name: 'image' })
    const sep = tf.layers.separableConv2d({ filters: 5, kernelSize: 3, activation: 'relu', depthwiseInitializer: init(1), pointwiseInitializer: init(2), biasInitializer: tf.initializers.constant({ value: -0.1 }), name: 'sep' }).apply(input) as tf.SymbolicTensor
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 1, kernelInitializer: init(3), name: 'lin' }).apply(sep) as tf.SymbolicTensor
    const leaky = tf.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }).apply(conv) as tf.SymbolicTensor
    const model = tf.model({ inputs: input, outputs: [sep, leaky] })
    let saved: tf.io.ModelArtifacts | null = null
    await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } } }))
    const small = await createVisModel(saved!)
    const xs = tf.randomNormal([1, 10, 10, 3], 0, 1, 'float32', 9) as tf.Tensor4D
    const [wantSep, wantLeaky] = model.predict(xs) as tf.Tensor[]
    const d = tf.tidy(() => [
      tf.max(tf.abs(tf.sub(small.forward(xs, 'sep'), wantSep))).dataSync()[0],
      tf.max(tf.abs(tf.sub(small.forward(xs, 'leaky'), wantLeaky))).dataSync()[0],
      tf.max(tf.abs(tf.sub(small.forward(xs, 'leaky/pre_relu'), small.forward(xs, 'lin')))).dataSync()[0],
    ])
    expect(d[0]).toBeLessThan(1e-5)
    expect(d[1]).toBeLessThan(1e-5)
    expect(d[2]).toBe(0)
    expect(small.notes).toEqual([]) // SeparableConv2D runs as plain ops, not by tfjs-layers
    expect((await small.layerInfo('sep/pre_relu', [10, 10])).type).toBe('SeparableConv2D (pre-activation)')
    const r = comparePrePost(small, xs, 'sep')
    expect(r.maxDiff).toBe(0)
    expect(r.negativesWherePostZero).toBe(r.negatives)
    expect(comparePrePost(small, xs, 'leaky', (t) => tf.leakyRelu(t, 0.2)).maxDiff).toBe(0)
    expect(small.layerNames).not.toContain('lin/pre_relu')
    tf.dispose([xs, wantSep, wantLeaky])
    small.dispose()
    model.dispose()
  })

  it('refuses a model with a real layer named like a pseudo-layer', async () => {
    const input = tf.input({ shape: [8, 8, 3], name: 'image' })
    const c = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu', name: 'c1', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }).apply(input) as tf.SymbolicTensor
    const clash = tf.layers.activation({ activation: 'linear', name: 'c1/pre_relu' }).apply(c) as tf.SymbolicTensor
    const model = tf.model({ inputs: input, outputs: clash })
    let saved: tf.io.ModelArtifacts | null = null
    await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } } }))
    model.dispose()
    await expect(createVisModel(saved!)).rejects.toThrow(/'c1\/pre_relu' collides with the pre-activation pseudo-layer of 'c1'/)
  })
})

describe('pre_relu on the embedded model', () => {
  let loaded: LoadedModel
  beforeAll(async () => { loaded = await loadModelFolder(DEFAULT_MODEL_DIR) })
  afterAll(() => loaded?.model.dispose())

  it('every conv layer (fused relu) has a pre_relu with relu(pre) === post', async () => {
    const cat = await loaded.model.catalog([loaded.inputSpec.height, loaded.inputSpec.width])
    const convs = cat.filter((l) => l.type === 'Conv2D').map((l) => l.name)
    expect(convs.length).toBeGreaterThan(0)
    const x = tf.randomNormal([1, loaded.inputSpec.height, loaded.inputSpec.width, 3], 0, 60, 'float32', 2) as tf.Tensor4D
    for (const conv of convs) {
      expect(cat.map((l) => l.name)).toContain(`${conv}/pre_relu`)
      const r = comparePrePost(loaded.model, x, conv)
      expect(r.maxDiff, conv).toBe(0)
      expect(r.negatives, conv).toBeGreaterThan(0)
      expect(r.negativesWherePostZero, conv).toBe(r.negatives)
    }
    const g = deadUnitGradients(loaded.model, x, 'conv2')
    expect(g.post).toBe(0)
    expect(g.pre).toBeGreaterThan(0)
    x.dispose()
  })

  it('DVT optimizeImage ascends a pre_relu unit', async () => {
    const layer = 'conv2/pre_relu'
    const p = { ...PRESETS['yosinski-3'].params, push_layer: layer, push_channel: 0, max_iter: 20 } as FindParams
    const r = await optimizeImage(loaded.model, loaded.inputSpec, p)
    expect(r.target.layer).toBe(layer)
    expect(r.target.layerType).toBe('Conv2D (pre-activation)')
    const obj = r.series.obj
    expect(r.best!.obj).toBeGreaterThan(obj[0])
    expect(obj[obj.length - 1]).toBeGreaterThan(obj[0])
  }, 120_000)
})

const dims = (...d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) })

/** A GraphModel as tfjs-converter writes a conv with a fused bias and relu. */
function fusedGraphArtifacts(): tf.io.ModelArtifacts {
  const w = tf.tidy(() => tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 11).dataSync() as Float32Array)
  const b = Float32Array.from([0.1, -0.2, 0.3, 0.05])
  const nodes = [
    { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims(-1, 8, 8, 3) } } },
    { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(3, 3, 3, 4) } } } },
    { name: 'b', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(4) } } } },
    {
      name: 'conv', op: '_FusedConv2D', input: ['x', 'w', 'b'],
      attr: {
        T: { type: 'DT_FLOAT' }, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: btoa('SAME') },
        data_format: { s: btoa('NHWC') }, dilations: { list: { i: ['1', '1', '1', '1'] } },
        fused_ops: { list: { s: ['BiasAdd', 'Relu'].map((s) => btoa(s)) } }, num_args: { i: '1' }, epsilon: { f: 0 },
      },
    },
  ]
  return {
    format: 'graph-model',
    modelTopology: { node: nodes, library: {}, versions: {} },
    weightSpecs: [{ name: 'w', shape: [3, 3, 3, 4], dtype: 'float32' }, { name: 'b', shape: [4], dtype: 'float32' }],
    weightData: new Float32Array([...w, ...b]).buffer,
  }
}

describe('pre_relu on GraphModels', () => {
  it('a _FusedConv2D(BiasAdd, Relu) gets conv/pre_relu = conv + bias, and relu(pre) === post', async () => {
    const a = fusedGraphArtifacts()
    const vm = await createVisModel(a)
    expect(vm.layerNames).toEqual(['conv', 'conv/pre_relu'])
    const info = await vm.layerInfo('conv/pre_relu', [8, 8])
    expect(info.type).toBe('_FusedConv2D (pre-activation)')
    expect(info.shape).toEqual([8, 8, 4])
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D
    const r = comparePrePost(vm, x, 'conv')
    expect(r.maxDiff).toBe(0)
    expect(r.negatives).toBeGreaterThan(0)
    expect(r.negativesWherePostZero).toBe(r.negatives)
    const d = tf.tidy(() => {
      const w = tf.tensor4d(new Float32Array(a.weightData as ArrayBuffer, 0, 108), [3, 3, 3, 4])
      const b = tf.tensor1d(new Float32Array(a.weightData as ArrayBuffer, 108 * 4, 4))
      return tf.max(tf.abs(tf.sub(tf.add(tf.conv2d(x, w, 1, 'same'), b), vm.forward(x, 'conv/pre_relu')))).dataSync()[0]
    })
    expect(d).toBeLessThan(1e-5)
    const g = deadUnitGradients(vm, x, 'conv')
    expect(g.post).toBe(0)
    expect(g.pre).toBeGreaterThan(0)
    x.dispose()
    vm.dispose()
  })

  it('refuses a graph with a node named like a pseudo-layer', async () => {
    const a = fusedGraphArtifacts()
    const topo = a.modelTopology as { node: object[] }
    topo.node.push({ name: 'conv/pre_relu', op: 'Identity', input: ['conv'], attr: { T: { type: 'DT_FLOAT' } } })
    await expect(createVisModel(a)).rejects.toThrow(/collides with the pre-activation pseudo-layer of 'conv'/)
  })

  it.skipIf(!HAVE_SHARED_MODELS)('squeezenet1_1_graph: every Relu node has a pre_relu with relu(pre) === post', async () => {
    const loaded = await loadModelFolder(sharedModel('squeezenet1_1_graph'))
    try {
      const cat = await loaded.model.catalog([loaded.inputSpec.height, loaded.inputSpec.width])
      const relus = cat.filter((l) => l.type === 'Relu').map((l) => l.name)
      expect(relus.length).toBeGreaterThan(0)
      const names = cat.map((l) => l.name)
      for (const r of relus) expect(names.indexOf(`${r}/pre_relu`)).toBe(names.indexOf(r) + 1)
      const x = tf.randomNormal([1, loaded.inputSpec.height, loaded.inputSpec.width, 3], 0, 60, 'float32', 4) as tf.Tensor4D
      const r = comparePrePost(loaded.model, x, relus[0])
      expect(r.maxDiff).toBe(0)
      expect(r.negatives).toBeGreaterThan(0)
      expect(r.negativesWherePostZero).toBe(r.negatives)
      x.dispose()
    } finally {
      loaded.model.dispose()
    }
  }, 120_000)
})
