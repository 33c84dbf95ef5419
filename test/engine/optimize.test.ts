/**
 * The DVT loop on the embedded default model (resources/models/deepvis-shapes), whose classes have
 * known preferred stimuli: ascent and descent, determinism, no tensor leak, and the oracle (the image
 * synthesized for an oriented-grating class is dominated by that orientation).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { makeX0, optimizeImage } from '../../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../../src/engine/params.ts'
import { dominantOrientationDeg, orientedPowerFraction } from '../helpers/orientation.ts'
import type { VisModel } from '../../src/engine/model/vis-model.ts'
import { useBackend } from '../helpers/tf-backend.ts'

let loaded: LoadedModel
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
})
afterAll(() => loaded?.model.dispose())

function unitOf(label: string): number {
  const i = loaded.inputSpec.labels!.indexOf(label)
  expect(i, `label '${label}' in labels.txt`).toBeGreaterThanOrEqual(0)
  return i
}

function params(over: Partial<FindParams>): FindParams {
  return { ...PRESETS['yosinski-3'].params, push_layer: 'logits', push_channel: 0, max_iter: 40, ...over } as FindParams
}

/** Angular distance between orientations in degrees, modulo 180. */
function angleDiff(a: number, b: number): number {
  const d = Math.abs(a - b) % 180
  return Math.min(d, 180 - d)
}

describe('DVT loop on the embedded model', () => {
  it('the objective rises under ascent', async () => {
    const r = await optimizeImage(loaded.model, loaded.inputSpec, params({ push_channel: unitOf('grating vertical') }))
    const obj = r.series.obj
    expect(r.best!.obj).toBeGreaterThan(obj[0] + 5)
    expect(obj[obj.length - 1]).toBeGreaterThan(obj[0])
    expect(r.majority).not.toBeNull()
    expect(r.metaResult).toBe('Metaresult: majority success')
  })

  it('the objective falls under descent (push_dir -1), and best is the lowest', async () => {
    const r = await optimizeImage(loaded.model, loaded.inputSpec, params({ push_channel: unitOf('checkerboard'), push_dir: -1 }))
    const obj = r.series.obj
    expect(obj[obj.length - 1]).toBeLessThan(obj[0] - 2)
    expect(r.best!.obj).toBe(Math.min(...obj))
  })

  it('the same seed gives identical output; another seed gives another x0 and image', async () => {
    const p = params({ push_channel: unitOf('red blob'), max_iter: 12, small_norm_percentile: 20 })
    const a = await optimizeImage(loaded.model, loaded.inputSpec, p)
    const b = await optimizeImage(loaded.model, loaded.inputSpec, p)
    expect(b.series.obj).toEqual(a.series.obj)
    expect(Buffer.from(b.best!.x.buffer).equals(Buffer.from(a.best!.x.buffer))).toBe(true)
    const c = await optimizeImage(loaded.model, loaded.inputSpec, { ...p, rand_seed: 1 })
    expect(c.x0[0]).not.toBe(a.x0[0])
    expect(c.series.obj).not.toEqual(a.series.obj)
  })

  it('tf.memory().numTensors is the same after iteration 10 and iteration 50, and back to the start after', async () => {
    const counts = new Map<number, number>()
    const before = tf.memory().numTensors
    await optimizeImage(loaded.model, loaded.inputSpec, params({ push_channel: unitOf('dot lattice'), max_iter: 60, px_abs_benefit_percentile: 50 }), {
      onIteration: (e) => { counts.set(e.ii, tf.memory().numTensors) },
    })
    expect(counts.get(50)).toBe(counts.get(10))
    expect(tf.memory().numTensors).toBe(before)
  })

  it('x0 follows DVT: mean_plus_rand is N(0, 10^2) noise, randu spans the pixel range, mean is 0', () => {
    const spec = loaded.inputSpec
    const noise = makeX0(spec, 'mean_plus_rand', 0)
    const std = Math.sqrt(noise.reduce((a, v) => a + v * v, 0) / noise.length)
    expect(std).toBeGreaterThan(9.5)
    expect(std).toBeLessThan(10.5)
    const u = makeX0(spec, 'randu', 3)
    const pixels = Array.from(u, (v, i) => v + spec.mean[i % 3])
    expect(Math.min(...pixels)).toBeGreaterThanOrEqual(0)
    expect(Math.max(...pixels)).toBeLessThan(255)
    expect(Math.max(...pixels) - Math.min(...pixels)).toBeGreaterThan(250)
    expect(makeX0(spec, 'mean', 0).every((v) => v === 0)).toBe(true)
  })

  it('stops after the current iteration when aborted and marks the result interrupted', async () => {
    const controller = new AbortController()
    const r = await optimizeImage(loaded.model, loaded.inputSpec, params({ max_iter: 100 }), {
      signal: controller.signal,
      onIteration: (e) => { if (e.ii === 4) controller.abort() },
    })
    expect(r.interrupted).toBe(true)
    expect(r.series.ii).toEqual([0, 1, 2, 3, 4])
  })

  it("stops with 'grad 0 failure' when the gradient is exactly zero (after recording that iteration)", async () => {
    const flat: VisModel = {
      ...loaded.model,
      forward: (x) => tf.mul(tf.sum(x), 0).reshape([1, 1]),
      layerInfo: async (name) => ({ name, type: 'Const', shape: [1], units: 1 }),
    }
    const r = await optimizeImage(flat, loaded.inputSpec, params({ push_layer: 'flat', push_channel: 0, max_iter: 10 }))
    expect(r.metaResult).toBe('Metaresult: grad 0 failure')
    expect(r.series.ii).toEqual([0])
    expect(r.best!.ii).toBe(0)
  })
})

describe('oracle: the synthesized image shows the class stimulus', () => {
  it.each([
    ['grating vertical', 90],
    ['grating horizontal', 0],
    ['grating 45', 45],
    ['grating 135', 135],
  ])('%s: dominant orientation of the best image is %i degrees', async (label, deg) => {
    const r = await optimizeImage(loaded.model, loaded.inputSpec, params({ push_channel: unitOf(label), max_iter: 150 }))
    const { height: h, width: w } = loaded.inputSpec
    const x = r.best!.x
    const found = dominantOrientationDeg(x, h, w)
    expect(angleDiff(found, deg)).toBeLessThanOrEqual(15)
    // and more power near that orientation than near the orthogonal one
    expect(orientedPowerFraction(x, h, w, deg)).toBeGreaterThan(2 * orientedPowerFraction(x, h, w, (deg + 90) % 180))
  })

  it.each([['red blob', 0], ['green blob', 1], ['blue blob', 2]])('%s: channel %i dominates the synthesized colour', async (label, ch) => {
    const r = await optimizeImage(loaded.model, loaded.inputSpec, params({ push_channel: unitOf(label), max_iter: 150 }))
    const sums = [0, 0, 0]
    r.best!.x.forEach((v, i) => { sums[i % 3] += v })
    const others = sums.filter((_, i) => i !== ch)
    expect(sums[ch]).toBeGreaterThan(Math.max(...others))
  })
})
