/**
 * Generator parameterization (cnnpref DGN-GD): a small seeded generator built here (Dense -> Reshape ->
 * Conv2DTranspose x3 -> sigmoid, code D = 8, 72x72 image) drives the embedded classifier (64x64).
 * Properties: gradient ascent on the code raises a logit, the code stays within its bounds (and the
 * bounds bind), the rendered image has the classifier's size and is the centre crop of the generator's,
 * the value ranges map to [0, 1], bad generators / bounds are refused, and nothing leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { generatorParam, loadGenerator, type Generator, type GeneratorParam } from '../../../src/engine/methods/generator-param.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { networkInput, specTensors, type SpecTensors } from '../../../src/engine/optimize.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

const CODE = 8
const PIXEL_SCALE = 255

async function toArtifacts(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null
  await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } } }))
  model.dispose()
  return saved!
}

/** A seeded generator: code [N, 8] -> [N, 9*2^upsamples, same, 3] through `final` activation. */
function generatorModel(upsamples = 3, final: 'sigmoid' | 'tanh' = 'sigmoid'): tf.LayersModel {
  let seed = 7
  const init = () => tf.initializers.glorotNormal({ seed: seed++ })
  const m = tf.sequential()
  m.add(tf.layers.dense({ inputShape: [CODE], units: 9 * 9 * 16, activation: 'relu', kernelInitializer: init(), name: 'fc' }))
  m.add(tf.layers.reshape({ targetShape: [9, 9, 16] }))
  for (let i = 0; i < upsamples; i++) {
    const last = i === upsamples - 1
    m.add(tf.layers.conv2dTranspose({
      filters: last ? 3 : 16, kernelSize: 4, strides: 2, padding: 'same', activation: last ? final : 'relu', kernelInitializer: init(), name: `up${i}`,
    }))
  }
  return m
}

let loaded: LoadedModel
let st: SpecTensors
beforeAll(async () => {
  await useBackend('cpu')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  st = specTensors(loaded.inputSpec)
})
afterAll(() => { loaded?.model.dispose(); if (st) tf.dispose([st.mean, st.scale, st.offset]) })

/** The classifier's logits for RGB [0, 1] images (the embedded model is RGB): x = 255 rgb - mean. */
function logits(rgb: tf.Tensor4D): tf.Tensor2D {
  const x = tf.sub(tf.mul(rgb, PIXEL_SCALE), st.mean) as tf.Tensor4D
  return loaded.model.forward(networkInput(x, st), 'logits') as tf.Tensor2D
}

function unitValue(param: GeneratorParam, unit: number): number {
  return tf.tidy(() => logits(param.render()).slice([0, unit], [-1, 1]).mean().dataSync()[0])
}

/** Adam ascent on the code with projection after each step (cnnpref's loop shape). */
function ascend(param: GeneratorParam, unit: number, steps: number, lr = 0.5): void {
  const opt = tf.train.adam(lr)
  for (let i = 0; i < steps; i++) {
    opt.minimize(() => tf.neg(logits(param.render()).slice([0, unit], [-1, 1]).sum()) as tf.Scalar, false, param.variables)
    param.project()
  }
  opt.dispose()
}

describe('generator parameterization', () => {
  let gen: Generator
  beforeAll(async () => { gen = await loadGenerator(await toArtifacts(generatorModel())) })
  afterAll(() => gen?.dispose())

  it('reads the code size and output size from the generator', () => {
    expect(gen.codeSize).toBe(CODE)
    expect(gen.outputSize).toEqual([72, 72])
  })

  it('renders at the classifier size: the centre crop of the generator image', () => {
    const { height: h, width: w } = loaded.inputSpec
    const p = generatorParam({ generator: gen, batch: 2, height: h, width: w }, new Rng(0))
    const d = tf.tidy(() => {
      const img = p.render()
      expect(img.shape).toEqual([2, h, w, 3])
      const full = gen.generate(p.variables[0] as unknown as tf.Tensor2D)
      const centre = full.slice([0, (72 - h) / 2, (72 - w) / 2, 0], [2, h, w, 3])
      return tf.max(tf.abs(tf.sub(img, centre))).dataSync()[0]
    })
    expect(d).toBe(0)
    const r = generatorParam({ generator: gen, batch: 1, height: 96, width: 80 }, new Rng(0))
    expect(tf.tidy(() => r.render().shape)).toEqual([1, 96, 80, 3])
    p.dispose()
    r.dispose()
  })

  it('initial code is relu(N(0,1)) * 10, seeded', () => {
    const a = generatorParam({ generator: gen, batch: 3, height: 64, width: 64 }, new Rng(5))
    const b = generatorParam({ generator: gen, batch: 3, height: 64, width: 64 }, new Rng(5))
    const rng = new Rng(5)
    const want = Float32Array.from({ length: 3 * CODE }, () => Math.max(0, rng.normal(0, 1)) * 10)
    expect(a.code()).toEqual(want)
    expect(b.code()).toEqual(a.code())
    expect(a.code().some((v) => v === 0)).toBe(true)
    a.dispose()
    b.dispose()
  })

  it('gradient ascent on the code raises a unit of the embedded model', () => {
    const unit = 0
    const p = generatorParam({ generator: gen, batch: 1, height: 64, width: 64, lower: -50, upper: 50 }, new Rng(1))
    const before = unitValue(p, unit)
    ascend(p, unit, 25)
    const after = unitValue(p, unit)
    p.dispose()
    expect(after).toBeGreaterThan(before + 0.5)
  }, 60_000)

  it('the code stays within per-dimension bounds, and the bounds bind', () => {
    const lower = Array.from({ length: CODE }, (_, i) => -i)
    const upper = Array.from({ length: CODE }, (_, i) => 1 + i / 2)
    const p = generatorParam({ generator: gen, batch: 2, height: 64, width: 64, lower, upper }, new Rng(2))
    const inBounds = (c: Float32Array) => [...c].every((v, i) => v >= lower[i % CODE] && v <= upper[i % CODE])
    expect(inBounds(p.code())).toBe(true)
    ascend(p, 3, 10, 5)
    const c = p.code()
    p.dispose()
    expect(inBounds(c)).toBe(true)
    expect([...c].some((v, i) => v === lower[i % CODE] || v === upper[i % CODE])).toBe(true)
  }, 60_000)

  it('leaks no tensor over render, steps, projection and dispose', async () => {
    const before = tf.memory().numTensors
    const g = await loadGenerator(await toArtifacts(generatorModel(2)))
    const p = generatorParam({ generator: g, batch: 1, height: 64, width: 64 }, new Rng(3))
    ascend(p, 1, 2)
    tf.tidy(() => { p.render() })
    p.dispose()
    g.dispose()
    expect(tf.memory().numTensors).toBe(before)
  }, 60_000)

  it('maps a [-1, 1] generator (tanh) into [0, 1]', async () => {
    const g = await loadGenerator(await toArtifacts(generatorModel(2, 'tanh')), { range: '-1,1' })
    const raw = await loadGenerator(await toArtifacts(generatorModel(2, 'tanh')), { range: '0,1' })
    const z = tf.tensor2d(Float32Array.from({ length: 2 * CODE }, (_, i) => (i % 5) - 2), [2, CODE])
    const [mapped, clipped] = tf.tidy(() => [g.generate(z).dataSync(), raw.generate(z).dataSync()])
    expect(Math.min(...mapped)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...mapped)).toBeLessThanOrEqual(1)
    // (t + 1) / 2 keeps the negative half that a [0, 1] reading clips to 0
    expect(mapped.filter((v) => v > 0 && v < 0.5).length).toBeGreaterThan(0)
    expect(clipped.filter((v) => v > 0 && v < 0.5).length).toBeLessThan(mapped.filter((v) => v > 0 && v < 0.5).length)
    z.dispose()
    g.dispose()
    raw.dispose()
  })

  it('refuses a non-generator, bad bounds and an impossible crop', async () => {
    const classifier = await loadGenerator(await toArtifacts(tf.sequential({ layers: [tf.layers.dense({ inputShape: [CODE], units: 4 })] })))
      .then(() => null, (e: Error) => e.message)
    expect(classifier).toMatch(/must output an RGB image \[batch, height, width, 3\]/)
    await expect(loadGenerator(await toArtifacts(generatorModel()), { range: '0,2' as never })).rejects.toThrow(/range must be one of/)
    expect(() => generatorParam({ generator: gen, batch: 1, height: 64, width: 64, lower: [0, 1] }, new Rng(0))).toThrow(/lower bound has 2 values; .* 8 dimensions/)
    expect(() => generatorParam({ generator: gen, batch: 1, height: 64, width: 64, lower: 5, upper: 1 }, new Rng(0))).toThrow(/lower 5 > upper 1/)
    expect(() => generatorParam({ generator: gen, batch: 1, height: 96, width: 96, fit: 'crop' }, new Rng(0))).toThrow(/cannot centre-crop/)
  })
})
