/**
 * Batched DVT optimization on the embedded default model: N images with different settings in one
 * forward/backward per iteration give what optimizeImage gives for each alone (batch items are
 * independent), finished images drop out, tensors do not leak, abort (all or one image) and bad input behave.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { optimizeImage } from '../../src/engine/optimize.ts'
import { optimizeBatch, type BatchIterationEvent } from '../../src/engine/optimize-batch.ts'
import { PRESETS, type FindParams } from '../../src/engine/params.ts'
import type { ImageSnapshot, OptimizeResult } from '../../src/engine/result.ts'
import { useBackend } from '../helpers/tf-backend.ts'

/**
 * Float tolerance between batched and unbatched runs, relative to the series' / image's largest
 * magnitude. Batched kernels may sum in another order (float32 rounding, ~1e-7 relative per op);
 * over 30 iterations with lr 100 that grows, but stays far below this bound.
 */
const REL_TOL = 1e-3

let loaded: LoadedModel
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
})
afterAll(() => loaded?.model.dispose())

function unitOf(label: string): number {
  return loaded.inputSpec.labels!.indexOf(label)
}

function params(preset: string, over: Partial<FindParams>): FindParams {
  return { ...PRESETS[preset].params, push_layer: 'logits', push_channel: 0, max_iter: 30, ...over } as FindParams
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i])) m = Math.max(m, Math.abs(a[i]))
  return m
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length)
  const scale = Math.max(maxAbs(expected), 1e-6)
  let worst = 0
  for (let i = 0; i < expected.length; i++) {
    // NaN (the lr of a record that was never stepped) must match NaN
    if (Number.isNaN(expected[i])) expect(actual[i], `${what}[${i}]`).toBeNaN()
    else worst = Math.max(worst, Math.abs(actual[i] - expected[i]))
  }
  expect(worst / scale, `${what}: max |diff| / max |value|`).toBeLessThanOrEqual(REL_TOL)
}

function expectSnapshot(actual: ImageSnapshot | null, expected: ImageSnapshot | null, what: string): void {
  if (expected === null) { expect(actual, what).toBeNull(); return }
  expect(actual, what).not.toBeNull()
  expect(actual!.ii, `${what}.ii`).toBe(expected.ii)
  expectClose([actual!.obj], [expected.obj], `${what}.obj`)
  expectClose(actual!.x, expected.x, `${what}.x`)
}

function expectSameRun(batched: OptimizeResult, single: OptimizeResult, what: string): void {
  expect(batched.params, `${what}: params`).toEqual(single.params)
  expect(batched.target, `${what}: target`).toEqual(single.target)
  expect(Buffer.from(batched.x0.buffer).equals(Buffer.from(single.x0.buffer)), `${what}: x0`).toBe(true)
  expect(batched.series.ii, `${what}: ii`).toEqual(single.series.ii)
  expectClose(batched.series.obj, single.series.obj, `${what}: obj series`)
  expectClose(batched.series.norm, single.series.norm, `${what}: norm series`)
  expectClose(batched.series.lr, single.series.lr, `${what}: lr series`)
  expect(batched.series.ismax, `${what}: ismax series`).toEqual(single.series.ismax)
  expectSnapshot(batched.best, single.best, `${what}: best`)
  expectSnapshot(batched.last, single.last, `${what}: last`)
  expectSnapshot(batched.majority, single.majority, `${what}: majority`)
  expect(batched.metaResult, `${what}: metaResult`).toBe(single.metaResult)
  expect(batched.interrupted).toBe(false)
}

describe('optimizeBatch on the embedded model', () => {
  it('three images with different presets, seeds, units, directions and max_iter equal their unbatched runs', async () => {
    const list = [
      params('yosinski-3', { push_channel: unitOf('grating vertical'), rand_seed: 0 }),
      params('yosinski-1', { push_channel: unitOf('checkerboard'), rand_seed: 2, max_iter: 18 }),
      params('yosinski-4', { push_channel: unitOf('red blob'), rand_seed: 1, start_at: 'randu', push_dir: -1, max_iter: 24 }),
    ]
    const batched = await optimizeBatch(loaded.model, loaded.inputSpec, list)
    expect(batched).toHaveLength(3)
    for (const [i, p] of list.entries()) {
      const single = await optimizeImage(loaded.model, loaded.inputSpec, p)
      expectSameRun(batched[i], single, `image ${i}`)
      // images that finished early dropped out: their series stop at their own max_iter
      expect(batched[i].series.ii).toHaveLength(p.max_iter)
    }
    // the three runs really differ (no image got another's gradient)
    expect(batched[0].series.obj).not.toEqual(batched[1].series.obj.slice(0, 30))
    // each image keeps its own direction: the minimized one's best is its lowest, the others' their highest
    expect(batched[2].best!.obj).toBe(Math.min(...batched[2].series.obj))
    expect(batched[0].best!.obj).toBe(Math.max(...batched[0].series.obj))
  })

  it('units in three layers (conv2, conv3, logits) are batched per layer and still match; a dead unit stops alone', async () => {
    const list = [
      params('yosinski-3', { push_layer: 'conv2', push_channel: 8, max_iter: 15 }),
      params('yosinski-2', { push_channel: unitOf('dot lattice'), rand_seed: 3, max_iter: 15 }),
      params('yosinski-3', { push_layer: 'conv3', push_channel: 4, push_spatial: [7, 9], rand_seed: 4, max_iter: 15 }),
      // conv2 channel 0 is dead (ReLU 0) at the centre from this x0: 'grad 0 failure' after iteration 0
      params('yosinski-3', { push_layer: 'conv2', push_channel: 0, max_iter: 15 }),
    ]
    const batched = await optimizeBatch(loaded.model, loaded.inputSpec, list)
    for (const [i, p] of list.entries()) {
      expectSameRun(batched[i], await optimizeImage(loaded.model, loaded.inputSpec, p), `image ${i} (${p.push_layer})`)
    }
    expect(batched[3].metaResult).toBe('Metaresult: grad 0 failure')
    expect(batched[3].series.ii).toEqual([0])
    expect(batched[0].series.ii).toHaveLength(15)
  })

  it('tf.memory().numTensors grows from iteration 10 to 40 only by majority snapshots, and is back to the start after', async () => {
    const counts = new Map<string, number>()
    const before = tf.memory().numTensors
    const list = [
      params('yosinski-3', { max_iter: 50 }),
      params('yosinski-4', { push_channel: 1, max_iter: 50 }),
      params('yosinski-1', { push_channel: 2, max_iter: 50, small_val_percentile: 10, px_benefit_percentile: 10 }),
    ]
    const results = await optimizeBatch(loaded.model, loaded.inputSpec, list, {
      onIteration: (e) => { counts.set(`${e.imageIndex}:${e.ii}`, tf.memory().numTensors) },
    })
    // The recorder keeps one more tensor when an image first reaches majority; nothing else may grow.
    const newMajorities = results.filter((r) => r.majority && r.majority.ii > 10 && r.majority.ii <= 40).length
    for (const i of [0, 1, 2]) expect(counts.get(`${i}:40`), `image ${i}`).toBe(counts.get(`${i}:10`)! + newMajorities)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('the callback sees every image of every iteration, in image order, with its index', async () => {
    const seen: [number, number][] = []
    const list = [params('yosinski-3', { max_iter: 3 }), params('yosinski-3', { push_channel: 4, max_iter: 2 })]
    await optimizeBatch(loaded.model, loaded.inputSpec, list, {
      onIteration: (e: BatchIterationEvent) => { seen.push([e.imageIndex, e.ii]) },
    })
    expect(seen).toEqual([[0, 0], [1, 0], [0, 1], [1, 1], [0, 2]])
  })

  it('abort stops every running image after the current iteration; images already finished are not interrupted', async () => {
    const controller = new AbortController()
    const before = tf.memory().numTensors
    const list = [params('yosinski-3', { max_iter: 100 }), params('yosinski-3', { push_channel: 3, max_iter: 3 }), params('yosinski-1', { push_channel: 6, max_iter: 100 })]
    const r = await optimizeBatch(loaded.model, loaded.inputSpec, list, {
      signal: controller.signal,
      onIteration: (e) => { if (e.imageIndex === 2 && e.ii === 4) controller.abort() },
    })
    expect(r.map((x) => x.interrupted)).toEqual([true, false, true])
    expect(r[0].series.ii).toEqual([0, 1, 2, 3, 4])
    expect(r[1].series.ii).toEqual([0, 1, 2])
    expect(r[2].series.ii).toEqual([0, 1, 2, 3, 4])
    expect(r[0].last!.ii).toBe(4)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('a per-image abort stops only that image; the others run on and still equal their unbatched runs', async () => {
    const stopOne = new AbortController()
    const before = tf.memory().numTensors
    const list = [params('yosinski-3', { max_iter: 12 }), params('yosinski-1', { push_channel: 6, max_iter: 12 }), params('yosinski-3', { push_channel: 3, max_iter: 12 })]
    const r = await optimizeBatch(loaded.model, loaded.inputSpec, list, {
      signals: [undefined, stopOne.signal],
      onIteration: (e) => { if (e.imageIndex === 1 && e.ii === 3) stopOne.abort() },
    })
    expect(r.map((x) => x.interrupted)).toEqual([false, true, false])
    expect(r[1].series.ii).toEqual([0, 1, 2, 3])
    expect(r[1].last!.ii).toBe(3)
    for (const i of [0, 2]) expectSameRun(r[i], await optimizeImage(loaded.model, loaded.inputSpec, list[i]), `image ${i}`)
    expect(tf.memory().numTensors).toBe(before)
  })

  it('onImageDone hands out each result once, when its image finishes, after its last iteration; the same objects are returned', async () => {
    const log: string[] = []
    const handed = new Map<number, OptimizeResult>()
    const list = [params('yosinski-3', { max_iter: 6 }), params('yosinski-3', { push_channel: 3, max_iter: 2 }), params('yosinski-1', { push_channel: 6, max_iter: 4 })]
    const r = await optimizeBatch(loaded.model, loaded.inputSpec, list, {
      onIteration: (e) => { log.push(`it ${e.imageIndex} ${e.ii}`) },
      onImageDone: (i, result) => {
        expect(handed.has(i), `image ${i} handed out once`).toBe(false)
        handed.set(i, result)
        log.push(`done ${i}`)
      },
    })
    for (const [i, p] of list.entries()) {
      expect(handed.get(i)).toBe(r[i])
      // Done right after its last iteration, before any later iteration of the others.
      const at = log.indexOf(`done ${i}`)
      expect(log.slice(at + 1).some((x) => x.startsWith(`it ${i} `))).toBe(false)
      expect(log.slice(0, at)).toContain(`it ${i} ${p.max_iter - 1}`)
      const nextIter = log.slice(at + 1).find((x) => x.startsWith('it '))
      if (nextIter) expect(Number(nextIter.split(' ')[2])).toBe(p.max_iter)
    }
  })

  it('bad input: an empty list and a bad unit are refused before any work, naming the image', async () => {
    const before = tf.memory().numTensors
    await expect(optimizeBatch(loaded.model, loaded.inputSpec, [])).rejects.toThrow(/at least one/)
    const bad = [params('yosinski-3', {}), params('yosinski-3', { push_channel: 99 })]
    await expect(optimizeBatch(loaded.model, loaded.inputSpec, bad)).rejects.toThrow(/image 1: channel 99 is out of range/)
    await expect(optimizeBatch(loaded.model, loaded.inputSpec, [params('yosinski-3', { push_layer: 'nope' })]))
      .rejects.toMatchObject({ code: 'BAD_LAYER' })
    expect(tf.memory().numTensors).toBe(before)
  })
})
