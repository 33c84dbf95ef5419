/**
 * Receptive fields from the layer graph:
 * - stacks of known convs / pools: the computed box equals the analytic one
 *   (jump = Π s, extent = 1 + Σ (K_l - 1) Π_{m<l} s_m, start = -Σ p_l Π_{m<l} s_m);
 * - a LayersModel built in code with all-positive weights and no non-linearity: the gradient of a unit
 *   is non-zero exactly on its (clipped) box, for every unit tried;
 * - the sizes the computation carries agree with the model's own output shapes (embedded, GoogLeNet);
 * - GoogLeNet's inception_4c: the box contains the support of the unit's gradient on a real input.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { clipBox, receptiveField, receptiveFields, unitBox, type RfGraph, type RfOp } from '../../../src/engine/inspect/receptive-field.ts'
import { createVisModel, type VisModel } from '../../../src/engine/model/vis-model.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder } from '../../../src/engine/node/load-model.ts'
import { HAVE_SHARED_MODELS, sharedModel } from '../../helpers/shared-models.ts'
import { useBackend } from '../../helpers/tf-backend.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { drawStimulus } from '../../../src/engine/stimuli.ts'
import { layerActivations } from '../../../src/engine/inspect/activations.ts'
import { networkFromPixels, pixelTensor } from '../../../src/engine/inspect/network-input.ts'

beforeAll(async () => { await useBackend('wasm') })

/** A chain graph input -> ops[0] -> ops[1] -> ... */
function chain(ops: RfOp[]): RfGraph {
  return { nodes: [{ name: 'in', inputs: [], op: { kind: 'input' } }, ...ops.map((op, i) => ({ name: `l${i}`, inputs: [i === 0 ? 'in' : `l${i - 1}`], op }))] }
}
const win = (k: number, s: number, padding: 'valid' | 'same' | [number, number, number, number] = 'valid', d = 1): RfOp =>
  ({ kind: 'window', kernel: [k, k], stride: [s, s], dilation: [d, d], padding })

/** The closed form for a chain of (K_l effective kernel, s_l, p_l padding before). */
function analytic(layers: { k: number; s: number; p: number }[]): { jump: number; extent: number; start: number } {
  let jump = 1, extent = 1, start = 0
  for (const { k, s, p } of layers) { extent += (k - 1) * jump; start -= p * jump; jump *= s }
  return { jump, extent, start }
}

describe('receptive fields by the layer graph (analytic stacks)', () => {
  it('conv3 s1 -> conv3 s2 -> maxpool2 s2, valid: unit (i, j) sees [4i, 4i+7) x [4j, 4j+7)', () => {
    const rf = receptiveField(chain([win(3, 1), win(3, 2), win(2, 2)]), 'l2', [32, 32])
    expect(rf.kind).toBe('local')
    if (rf.kind !== 'local') return
    expect(rf.y).toEqual({ size: 7, jump: 4, start: 0, extent: 7 })
    expect(unitBox(rf, 3, 5, [32, 32])).toEqual({ top: 12, left: 20, bottom: 19, right: 27 })
  })

  it('padding (explicit, SAME odd and even totals) and dilation match the closed form', () => {
    // 7x7 s2 explicit pad 3 (GoogLeNet conv1) -> maxpool 3 s2 SAME on 112 (total 1 -> 0 before) ->
    // conv 3 s1 SAME (total 2 -> 1 before) -> conv 3 dilation 2 SAME (K 5, total 4 -> 2 before) -> conv 4 s2 SAME on 56 (total 2 -> 1 before).
    const g = chain([{ kind: 'pad', pads: [3, 3, 3, 3] }, win(7, 2), win(3, 2, 'same'), win(3, 1, 'same'), win(3, 1, 'same', 2), win(4, 2, 'same')])
    const rf = receptiveField(g, 'l5', [224, 224])
    const want = analytic([{ k: 1, s: 1, p: 3 }, { k: 7, s: 2, p: 0 }, { k: 3, s: 2, p: 0 }, { k: 3, s: 1, p: 1 }, { k: 5, s: 1, p: 2 }, { k: 4, s: 2, p: 1 }])
    expect(rf.kind === 'local' && rf.x).toEqual({ size: 28, ...want })
    expect(want).toEqual({ jump: 8, extent: 7 + 2 * 2 + 4 * 2 + 4 * 4 + 3 * 4, start: -3 - 4 - 2 * 4 - 1 * 4 })
  })

  it('branches merge by union (inception-style), a global op makes everything after it global, an unknown op gives no box', () => {
    const g: RfGraph = {
      nodes: [
        { name: 'in', inputs: [], op: { kind: 'input' } },
        { name: 'a', inputs: ['in'], op: win(1, 1) },
        { name: 'b', inputs: ['in'], op: win(5, 1, 'same') },
        { name: 'cat', inputs: ['a', 'b'], op: { kind: 'pointwise' } },
        { name: 'gap', inputs: ['cat'], op: { kind: 'global' } },
        { name: 'fc', inputs: ['gap'], op: { kind: 'pointwise' } },
        { name: 'odd', inputs: ['cat'], op: { kind: 'unknown', op: 'Warp' } },
        { name: 's2', inputs: ['in'], op: win(2, 2) },
        { name: 'bad', inputs: ['a', 's2'], op: { kind: 'pointwise' } },
      ],
      aliases: { 'cat/pre_relu': 'cat' },
    }
    const all = receptiveFields(g, [16, 16])
    expect(all.get('cat')).toEqual({ kind: 'local', y: { size: 16, jump: 1, start: -2, extent: 5 }, x: { size: 16, jump: 1, start: -2, extent: 5 } })
    expect(all.get('cat/pre_relu')).toEqual(all.get('cat'))
    expect(all.get('fc')).toEqual({ kind: 'global' })
    expect(unitBox(all.get('fc')!, 0, 0, [16, 16])).toEqual({ top: 0, left: 0, bottom: 16, right: 16 })
    expect(all.get('odd')?.kind).toBe('unknown')
    expect(unitBox(all.get('odd')!, 0, 0, [16, 16])).toBeNull()
    expect(all.get('bad')?.kind).toBe('unknown')
    expect(clipBox({ top: -2, left: 14, bottom: 3, right: 19 }, [16, 16])).toEqual({ top: 0, left: 14, bottom: 3, right: 16 })
  })
})

/** A linear LayersModel with positive weights: pad, conv 5 valid, conv 3 s2 same, avgpool 3 s2 same, conv 3 same (tfjs has no gradient for dilated convs). */
async function positiveStack(): Promise<VisModel> {
  const ones = tf.initializers.constant({ value: 0.01 })
  const input = tf.input({ shape: [40, 40, 3], name: 'image' })
  let x = tf.layers.zeroPadding2d({ padding: [[2, 1], [0, 3]], name: 'pad' }).apply(input) as tf.SymbolicTensor
  x = tf.layers.conv2d({ filters: 2, kernelSize: 5, kernelInitializer: ones, useBias: false, name: 'c1' }).apply(x) as tf.SymbolicTensor
  x = tf.layers.conv2d({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: ones, useBias: false, name: 'c2' }).apply(x) as tf.SymbolicTensor
  x = tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'p' }).apply(x) as tf.SymbolicTensor
  x = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', kernelInitializer: ones, useBias: false, name: 'c3' }).apply(x) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: x })
  let saved: tf.io.ModelArtifacts | null = null
  await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } } }))
  model.dispose()
  return createVisModel(saved!)
}

/** Rows/columns where the gradient of unit (y, x, c) of `layer` is non-zero: its bounding box and count. */
function gradientSupport(model: VisModel, layer: string, size: [number, number], unit: [number, number, number], input?: tf.Tensor4D): { box: { top: number; left: number; bottom: number; right: number } | null; count: number } {
  const g = tf.tidy(() => {
    const x0 = input ?? tf.ones([1, size[0], size[1], 3])
    return tf.grad((x: tf.Tensor) => tf.slice(model.forward(x as tf.Tensor4D, layer), [0, ...unit], [1, 1, 1, 1]).sum())(x0)
  })
  const v = g.dataSync()
  g.dispose()
  let top = Infinity, left = Infinity, bottom = -Infinity, right = -Infinity, count = 0
  for (let y = 0; y < size[0]; y++) {
    for (let x = 0; x < size[1]; x++) {
      const any = [0, 1, 2].some((k) => v[(y * size[1] + x) * 3 + k] !== 0)
      if (!any) continue
      count++
      top = Math.min(top, y); left = Math.min(left, x); bottom = Math.max(bottom, y + 1); right = Math.max(right, x + 1)
    }
  }
  return { box: count ? { top, left, bottom, right } : null, count }
}

describe('receptive fields of a real LayersModel', () => {
  it('positive linear stack: the gradient is non-zero exactly on the clipped box of every unit tried', async () => {
    const model = await positiveStack()
    try {
      const size: [number, number] = [40, 40]
      const fields = receptiveFields(model.rfGraph!, size)
      const catalog = await model.catalog(size)
      for (const l of catalog) {
        const rf = fields.get(l.name)!
        expect(rf.kind, l.name).toBe('local')
        if (rf.kind === 'local' && l.shape.length === 3) expect([rf.y.size, rf.x.size], l.name).toEqual(l.shape.slice(0, 2))
      }
      const rf = fields.get('c3')!
      const [h, w] = catalog.find((l) => l.name === 'c3')!.shape
      for (const [y, x] of [[0, 0], [Math.floor(h / 2), Math.floor(w / 2)], [h - 1, w - 1], [1, w - 2]]) {
        const box = clipBox(unitBox(rf, y, x, size)!, size)
        const support = gradientSupport(model, 'c3', size, [y, x, 1])
        expect(support.box, `unit (${y}, ${x})`).toEqual(box)
        expect(support.count).toBe((box.bottom - box.top) * (box.right - box.left))
      }
    } finally {
      model.dispose()
    }
  })

  it('the embedded model: every local layer\'s size agrees with its output shape; conv3 sees 18x18 with jump 4', async () => {
    const loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
    try {
      const size: [number, number] = [64, 64]
      const fields = receptiveFields(loaded.model.rfGraph!, size)
      for (const l of await loaded.model.catalog(size)) {
        const rf = fields.get(l.name)!
        if (l.shape.length === 3) {
          expect(rf.kind, l.name).toBe('local')
          if (rf.kind === 'local') expect([rf.y.size, rf.x.size], l.name).toEqual(l.shape.slice(0, 2))
        } else expect(rf.kind, l.name).toBe('global')
      }
      // conv 3 (same) -> pool 2 -> conv 3 -> pool 2 -> conv 3: extent 1 + 2 + 1 + 2*2 + 2 + 4*2 = 18, jump 4, start -1 - 2 - 4 = -7.
      expect(fields.get('conv3')).toMatchObject({ kind: 'local', y: { jump: 4, extent: 18, start: -7 } })
      expect(fields.get('conv3/pre_relu')).toEqual(fields.get('conv3'))
    } finally {
      loaded.model.dispose()
    }
  })
})

describe.skipIf(!HAVE_SHARED_MODELS)('GoogLeNet (graph model, ../shared/models)', () => {
  it('sizes agree with every spatial layer; inception_4c/output\'s box contains the gradient\'s support', async () => {
    const loaded = await loadModelFolder(sharedModel('googlenet_bvlc'))
    try {
      const size: [number, number] = [224, 224]
      const fields = receptiveFields(loaded.model.rfGraph!, size)
      let local = 0
      for (const l of await loaded.model.catalog(size)) {
        const rf = fields.get(l.name)
        expect(rf, l.name).toBeDefined()
        if (l.shape.length === 3) {
          expect(rf!.kind, l.name).toBe('local')
          if (rf!.kind === 'local') { expect([rf!.y.size, rf!.x.size], l.name).toEqual(l.shape.slice(0, 2)); local++ }
        }
      }
      expect(local).toBeGreaterThan(100)
      const rf = fields.get('inception_4c/output')!
      expect(rf).toMatchObject({ kind: 'local', y: { jump: 16, size: 14 } })
      // A stimulus image (gratings and a blob drive many units); units near the corner, so that the box
      // is a real part of the image, and one in the middle; at each position the channel that fires most.
      const spec = loaded.inputSpec
      const pixels = drawStimulus(2, new Rng(5), 224)
      const input = tf.tidy(() => networkFromPixels(pixelTensor([{ data: pixels, width: 224, height: 224 }], spec), spec))
      const acts = await layerActivations(loaded.model, spec, { data: pixels, width: 224, height: 224 }, 'inception_4c/output')
      const channels = acts.shape[2]
      for (const [y, x] of [[1, 2], [0, 0], [13, 12], [7, 7]]) {
        let c = 0
        for (let k = 1; k < channels; k++) if (acts.values[(y * 14 + x) * channels + k] > acts.values[(y * 14 + x) * channels + c]) c = k
        const box = clipBox(unitBox(rf, y, x, size)!, size)
        const support = gradientSupport(loaded.model, 'inception_4c/output', size, [y, x, c], input)
        expect(support.count, `unit (${y}, ${x}, ${c}) has a gradient`).toBeGreaterThan(0)
        const s = support.box!
        expect(s.top).toBeGreaterThanOrEqual(box.top)
        expect(s.left).toBeGreaterThanOrEqual(box.left)
        expect(s.bottom).toBeLessThanOrEqual(box.bottom)
        expect(s.right).toBeLessThanOrEqual(box.right)
        if (y !== 7) expect(box.bottom - box.top).toBeLessThan(224)
        console.log(`inception_4c/output (${y}, ${x}, ${c}): box rows ${box.top}-${box.bottom} cols ${box.left}-${box.right}; gradient support rows ${s.top}-${s.bottom} cols ${s.left}-${s.right} (${support.count} px)`)
      }
      input.dispose()
    } finally {
      loaded.model.dispose()
    }
  })
})
