/**
 * The general loop's additions, on the embedded model (64x64 RGB, mean 127.5) with a generator built here:
 * - cnnpref-lbfgs: bounded L-BFGS on the pixels stays in DVT's valid range [-mean, 255 - mean], raises the
 *   objective, records the start and every accepted iterate (best/last/majority), starts black when asked;
 * - feature-mask objective mask(layer, name): the value is Σ w·a computed by hand, and the loop ascends it;
 * - max(layer:c): the spatial max of the channel computed by hand; dnnbrain ascends it;
 * - per-image objectives in one batch: each image's obj is its own objective;
 * - recorded schedules (cnnpref-gd momentum / decay / blur sigma) and dnnbrain's penalty per iteration;
 * - param 'generator' with lucid (Adam), cnnpref-gd (DGN-GD) and cnnpref-lbfgs: the unit rises, the code stays
 *   within its bounds; no tensor leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { optimizeGeneral, optimizeGeneralBatch, resolveGeneralParams } from '../../../src/engine/methods/general.ts'
import { parseObjective, type MaskWeights } from '../../../src/engine/methods/objectives.ts'
import { networkInput, specTensors } from '../../../src/engine/optimize.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { METHOD_PRESETS } from '../../../src/shared/method-params.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

const CODE = 8

let loaded: LoadedModel
let mean: number
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  mean = Array.from(loaded.inputSpec.mean as ArrayLike<number>)[0]
})
afterAll(() => { loaded?.model.dispose() })

/** Activations of `layer` for a DVT-space image x [1, H, W, 3]. */
function actsOf(x: Float32Array, layer: string): { data: Float32Array; shape: number[] } {
  const st = specTensors(loaded.inputSpec)
  const a = tf.tidy(() => loaded.model.forward(networkInput(tf.tensor4d(x, [1, 64, 64, 3]), st), layer))
  const out = { data: a.dataSync() as Float32Array, shape: a.shape.slice(1) }
  tf.dispose([a, st.mean, st.scale, st.offset])
  return out
}

/** A seeded generator: code [N, 8] -> [N, 72, 72, 3] (sigmoid), as model artifacts. */
async function generatorArtifacts(): Promise<tf.io.ModelArtifacts> {
  let seed = 7
  const init = () => tf.initializers.glorotNormal({ seed: seed++ })
  const m = tf.sequential()
  m.add(tf.layers.dense({ inputShape: [CODE], units: 9 * 9 * 16, activation: 'relu', kernelInitializer: init(), name: 'fc' }))
  m.add(tf.layers.reshape({ targetShape: [9, 9, 16] }))
  for (let i = 0; i < 3; i++) {
    const last = i === 2
    m.add(tf.layers.conv2dTranspose({ filters: last ? 3 : 16, kernelSize: 4, strides: 2, padding: 'same', activation: last ? 'sigmoid' : 'relu', kernelInitializer: init(), name: `up${i}` }))
  }
  let saved: tf.io.ModelArtifacts | null = null
  await m.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } } }))
  m.dispose()
  return saved!
}

describe('cnnpref-lbfgs', () => {
  it('stays within [-mean, 255 - mean], raises the objective, and records the start and every accepted iterate', async () => {
    const before = tf.memory().numTensors
    const seen: number[] = []
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { ...METHOD_PRESETS['cnnpref-lbfgs'].params, objective: 'logits:2', max_iter: 12 }, {
      onIteration: (e) => { seen.push(e.ii) },
    })
    expect(tf.memory().numTensors).toBe(before)
    // black start: every pixel at 0, i.e. -mean in DVT space
    expect(Math.max(...Array.from(r.x0, (v) => Math.abs(v + mean)))).toBeLessThan(1e-4)
    for (const snap of [r.best!, r.last!]) {
      expect(Math.min(...snap.x)).toBeGreaterThanOrEqual(-mean - 1e-3)
      expect(Math.max(...snap.x)).toBeLessThanOrEqual(255 - mean + 1e-3)
    }
    expect(r.series.ii).toEqual(seen)
    expect(r.series.ii).toEqual(Array.from({ length: r.series.ii.length }, (_, i) => i))
    expect(r.series.ii.length).toBeGreaterThan(2)
    expect(r.series.ii.length).toBeLessThanOrEqual(12)
    // accepted iterates never go down (Armijo decrease of -obj)
    for (let i = 1; i < r.series.obj.length; i++) expect(r.series.obj[i]).toBeGreaterThanOrEqual(r.series.obj[i - 1] - 1e-4)
    expect(r.best!.obj).toBeGreaterThan(r.series.obj[0] + 1)
    const lb = r.method!.lbfgs!
    expect(lb.evaluations).toBeGreaterThanOrEqual(lb.iterations + 1)
    expect(lb.iterations).toBe(r.series.ii.length - 1)
    // the recorded obj is the objective of the saved image
    expect(actsOf(r.best!.x, 'logits').data[2]).toBeCloseTo(r.best!.obj, 2)
  })

  it('the preset resolves to cnnpref-lbfgs from black with maxiter 500', () => {
    const p = resolveGeneralParams(METHOD_PRESETS['cnnpref-lbfgs'].params)
    expect([p.method, p.max_iter, p.init_image, p.init_sd]).toEqual(['cnnpref-lbfgs', 500, 'black', 0])
  })
})

describe('objectives: feature mask and channel max', () => {
  it('mask(layer, name) equals Σ w·a computed by hand, for a full H x W x C mask and a per-channel one', async () => {
    const rng = new Rng(4)
    const full: MaskWeights = { shape: [16, 16, 32], data: rng.fill(16 * 16 * 32, (r) => (r.random() < 0.05 ? r.normal(0, 1) : 0)) }
    const perChannel: MaskWeights = { shape: [32], data: rng.fill(32, (r) => r.normal(0, 1)) }
    const x = rng.fill(64 * 64 * 3, (r) => r.normal(0, 30))
    const { data: a } = actsOf(x, 'conv3')
    let byHand = 0
    for (let i = 0; i < a.length; i++) byHand += full.data[i] * a[i]
    const means = new Float64Array(32)
    for (let i = 0; i < a.length; i++) means[i % 32] += a[i] / 256
    const byHandChannels = means.reduce((s, m, c) => s + m * perChannel.data[c], 0)
    const st = specTensors(loaded.inputSpec)
    const values = tf.tidy(() => {
      const act = loaded.model.forward(networkInput(tf.tensor4d(x, [1, 64, 64, 3]), st), 'conv3')
      const masks = { 'full.npy': full, 'c.npy': perChannel }
      return [parseObjective("mask(conv3, 'full.npy')", { masks }), parseObjective('mask(conv3, c.npy)', { masks })].map((o) => o.value(() => act).dataSync()[0])
    })
    tf.dispose([st.mean, st.scale, st.offset])
    expect(values[0]).toBeCloseTo(byHand, 2)
    expect(values[1]).toBeCloseTo(byHandChannels, 3)
  })

  it('a mask objective is ascended by the loop; a mask of the wrong shape is refused naming both shapes', async () => {
    const w = new Float32Array(16 * 16 * 32)
    w[(8 * 16 + 8) * 32 + 5] = 10 // one unit, feature_weight 10
    const masks = { m: { shape: [16, 16, 32], data: w } }
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { method: 'normstep', lr: 4, objective: 'mask(conv3, m)', max_iter: 8 }, { masks })
    expect(r.best!.obj).toBeGreaterThan(r.series.obj[0])
    expect(r.series.ismax.every((v) => !v)).toBe(true)
    await expect(optimizeGeneral(loaded.model, loaded.inputSpec, { objective: 'mask(conv3, m)', max_iter: 2 }, { masks: { m: { shape: [8, 8, 32], data: new Float32Array(8 * 8 * 32) } } }))
      .rejects.toThrow(/shape \[8, 8, 32\].*\[16, 16, 32\]/)
    expect(() => parseObjective('mask(conv3, nope.npy)')).toThrow(/no weights were given for mask "nope.npy"/)
  })

  it('max(layer:c) is the largest activation of the channel; dnnbrain ascends it', async () => {
    const x = new Rng(2).fill(64 * 64 * 3, (r) => r.normal(0, 30))
    const { data: a } = actsOf(x, 'conv2')
    let mx = -Infinity
    for (let i = 7; i < a.length; i += 32) mx = Math.max(mx, a[i])
    const st = specTensors(loaded.inputSpec)
    const v = tf.tidy(() => {
      const act = loaded.model.forward(networkInput(tf.tensor4d(x, [1, 64, 64, 3]), st), 'conv2')
      return parseObjective('max(conv2:7)').value(() => act).dataSync()[0]
    })
    tf.dispose([st.mean, st.scale, st.offset])
    expect(v).toBeCloseTo(mx, 4)
    expect(parseObjective('max(conv2, 7)').description).toBe('max(conv2:7)')
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { method: 'dnnbrain', lr: 0.05, objective: 'max(conv2:7)', max_iter: 8 })
    expect(r.best!.obj).toBeGreaterThan(r.series.obj[0])
  })
})

describe('batch, schedules and penalties', () => {
  it('each image of a batch may have its own objective: image i records objective i of its own image', async () => {
    const rs = await optimizeGeneralBatch(loaded.model, loaded.inputSpec, { method: 'normstep', lr: 3, max_iter: 5, batch_size: 3 }, {
      objectives: ['logits:0', 'logits:4', 'conv3/pre_relu:2'],
    })
    expect(rs.map((r) => r.target.layer + ':' + r.target.channel)).toEqual(['logits:0', 'logits:4', 'conv3/pre_relu:2'])
    expect(actsOf(rs[1].last!.x, 'logits').data[4]).toBeCloseTo(rs[1].last!.obj, 3)
    const c3 = actsOf(rs[2].last!.x, 'conv3/pre_relu').data
    let m = 0
    for (let i = 2; i < c3.length; i += 32) m += c3[i] / 256
    expect(m).toBeCloseTo(rs[2].last!.obj, 3)
    for (const r of rs) expect(r.best!.obj).toBeGreaterThan(r.series.obj[0])
  })

  it('cnnpref-gd records its scheduled momentum, decay and blur sigma per iteration; dnnbrain its penalty', async () => {
    const p = { method: 'cnnpref-gd' as const, lr: 2, lr_end: 0, momentum: 0.9, momentum_end: 0.5, decay: 0.1, decay_end: 0.02, blur_radius: 2, blur_radius_end: 0.5, max_iter: 5, objective: 'logits:1' }
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, p)
    const lin = (a: number, b: number) => Array.from({ length: 5 }, (_, t) => a + (t * (b - a)) / 5)
    for (const [k, [a, b]] of Object.entries({ momentum: [0.9, 0.5], decay: [0.1, 0.02], blur_sigma: [2, 0.5] })) {
      const got = r.series[k as 'momentum']!
      expect(got).toHaveLength(5)
      got.forEach((v, i) => expect(v).toBeCloseTo(lin(a, b)[i], 10))
    }
    const d = await optimizeGeneral(loaded.model, loaded.inputSpec, { method: 'dnnbrain', penalty: 'l1', penalty_weight: 0.001, lr: 0.05, max_iter: 4, objective: 'logits:1' })
    expect(d.series.penalty).toHaveLength(4)
    // l1 of the [0, 1] image: Σ|rgb| = Σ (x + mean) / 255 for an RGB spec
    const l1 = Array.from(d.last!.x).reduce((s, v) => s + (v + mean) / 255, 0)
    expect(d.series.penalty!.at(-1)!).toBeCloseTo(0.001 * l1, 2)
  })
})

describe('cnnpref-gd clip_extreme', () => {
  it('clamps the image to its [e/2, 100-e/2] percentiles every clip_every iterations (and is refused for other methods)', async () => {
    const base = { method: 'cnnpref-gd' as const, lr: 2, lr_end: 2, momentum: 0.5, momentum_end: 0.5, max_iter: 4, objective: 'logits:1', blur_radius: 0, blur_radius_end: 0 }
    const clipped = await optimizeGeneral(loaded.model, loaded.inputSpec, { ...base, clip_extreme_pct: 50 })
    const x = Array.from(clipped.last!.x)
    const lo = Math.min(...x)
    const hi = Math.max(...x)
    // 25 % of the values were at or below the 25th percentile and now equal it; the same at the top.
    const atEnds = x.filter((v) => v === lo || v === hi).length
    expect(atEnds / x.length).toBeGreaterThan(0.45)
    const free = await optimizeGeneral(loaded.model, loaded.inputSpec, base)
    const y = Array.from(free.last!.x)
    const ends = y.filter((v) => v === Math.min(...y) || v === Math.max(...y)).length
    expect(ends / y.length).toBeLessThan(0.05)
    expect(() => resolveGeneralParams({ method: 'lucid', clip_extreme_pct: 5 })).toThrow(/cnnpref-gd only/)
  })
})

describe("param 'generator'", () => {
  let artifacts: tf.io.ModelArtifacts
  beforeAll(async () => { artifacts = await generatorArtifacts() })
  const readGenerator = async (): Promise<tf.io.ModelArtifacts> => artifacts

  it.each([
    ['lucid', { method: 'lucid' as const, lr: 0.5, transforms: 'none' as const, relu_override_steps: 0 }],
    ['cnnpref-gd (DGN-GD)', { method: 'cnnpref-gd' as const, lr: 2, lr_end: 0, momentum: 0.9, momentum_end: 0.9, decay: 0.01, decay_end: 0.01 }],
    ['cnnpref-lbfgs', { method: 'cnnpref-lbfgs' as const }],
  ])('%s: a logit rises and the code stays within its bounds', async (_, p) => {
    const before = tf.memory().numTensors
    const bound = 3
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, {
      ...p, param: 'generator', generator: 'in-memory', code_lower: -bound, code_upper: bound, objective: 'logits:7', max_iter: 10,
    }, { readGenerator })
    expect(tf.memory().numTensors).toBe(before)
    expect(r.best!.obj).toBeGreaterThan(r.series.obj[0])
    // every recorded image is within the valid pixel range (the generator's sigmoid image)
    expect(Math.min(...r.best!.x)).toBeGreaterThanOrEqual(-mean - 1e-3)
    expect(Math.max(...r.best!.x)).toBeLessThanOrEqual(255 - mean + 1e-3)
    const code = r.method!.code!
    expect(code).toHaveLength(CODE)
    expect(Math.max(...code.map(Math.abs))).toBeLessThanOrEqual(bound + 1e-6)
    expect(code.some((v) => v !== 0)).toBe(true)
  })

  it('refuses pixel-only operations and methods without a generator, and a host without a reader', async () => {
    expect(() => resolveGeneralParams({ method: 'cnnpref-gd', param: 'generator', generator: 'g', jitter_px: 4 })).toThrow(/jitter, blur and the pixel clips act on pixels/)
    expect(() => resolveGeneralParams({ method: 'dnnbrain', param: 'generator', generator: 'g' })).toThrow(/works with methods lucid, cnnpref-gd and cnnpref-lbfgs/)
    expect(() => resolveGeneralParams({ method: 'lucid', param: 'generator' })).toThrow(/needs the generator's model folder/)
    await expect(optimizeGeneral(loaded.model, loaded.inputSpec, { param: 'generator', generator: 'g', objective: 'logits:1', max_iter: 2 })).rejects.toThrow(/needs a host that reads/)
  })
})
