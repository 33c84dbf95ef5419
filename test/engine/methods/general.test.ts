/**
 * The general (lucid) loop on the embedded model: DVT's result format (saved by saveResults with the
 * same files), no tensor leak across iterations, determinism for a seed, DVT pixel space (mean-subtracted,
 * within 0..255), majority semantics for single units, and parameter validation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { optimizeGeneral, optimizeGeneralBatch, resolveGeneralParams } from '../../../src/engine/methods/general.ts'
import { dvtParamsOf, resultPrefix, saveResults, DEFAULT_OUTPUT_TEMPLATE } from '../../../src/engine/node/save-results.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

let loaded: LoadedModel
let dir: string
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  dir = await mkdtemp(path.join(tmpdir(), 'deepvis-general-'))
})
afterAll(async () => {
  loaded?.model.dispose()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('general loop', () => {
  it('tf.memory().numTensors is flat across iterations and back to the start after', async () => {
    const counts = new Map<number, number>()
    const before = tf.memory().numTensors
    await optimizeGeneral(loaded.model, loaded.inputSpec, { objective: 'logits:6', max_iter: 25, relu_override_steps: 5 }, {
      onIteration: (e) => { counts.set(e.ii, tf.memory().numTensors) },
    })
    expect(counts.get(20)).toBe(counts.get(8))
    expect(tf.memory().numTensors).toBe(before)
  })

  it('the same seed gives the same images; another seed other ones', async () => {
    const p = { objective: 'logits:5', max_iter: 6 }
    const a = await optimizeGeneral(loaded.model, loaded.inputSpec, p)
    const b = await optimizeGeneral(loaded.model, loaded.inputSpec, p)
    expect(b.series.obj).toEqual(a.series.obj)
    expect(Buffer.from(b.last!.x.buffer).equals(Buffer.from(a.last!.x.buffer))).toBe(true)
    const c = await optimizeGeneral(loaded.model, loaded.inputSpec, { ...p, rand_seed: 3 })
    expect(c.series.obj).not.toEqual(a.series.obj)
  })

  it("writes DVT's files through saveResults: images in DVT pixel space, majority for a class unit, method in info.json", async () => {
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { objective: 'logits:7', max_iter: 30 })
    const mean = loaded.inputSpec.mean
    // x = 255 * sigmoid(...) - mean: inside the pixel range, not clipped
    expect(r.best!.x.every((v, i) => v + mean[i % 3] >= 0 && v + mean[i % 3] <= 255)).toBe(true)
    expect(r.series.obj[r.series.obj.length - 1]).toBeGreaterThan(r.series.obj[0])
    expect(r.majority).not.toBeNull()
    expect(r.metaResult).toBe('Metaresult: majority success')
    expect(r.series.ismax[r.majority!.ii]).toBe(true)
    expect(r.series.idxmax[r.majority!.ii]).toEqual([7, 0, 0])
    expect(r.target.label).toBe('red blob')
    const prefix = resultPrefix(dir + '/', DEFAULT_OUTPUT_TEMPLATE, dvtParamsOf(r))
    const files = await saveResults(r, prefix, { brave: false, skipbig: true })
    expect(files.map((f) => path.basename(f))).toEqual([
      'logits_0007_0_best_X.png', 'logits_0007_0_best_Xpm.png', 'logits_0007_0_last_X.png', 'logits_0007_0_last_Xpm.png',
      'logits_0007_0_majority_X.png', 'logits_0007_0_majority_Xpm.png', 'logits_0007_0_last_alpha.png', 'logits_0007_0_info.txt', 'logits_0007_0_info.json',
    ])
    const info = JSON.parse(await readFile(prefix + 'info.json', 'utf8'))
    expect(info.method).toMatchObject({ name: 'lucid', objective: 'logits:7', params: { param: 'fft', decorrelate: true, transforms: 'standard', lr: 0.05 } })
    expect(info.series.obj).toHaveLength(30)
    expect((await readdir(dir)).length).toBe(files.length)
  })

  it('a composite objective never claims majority (ismax false)', async () => {
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { objective: 'logits:0 + logits:1', max_iter: 8, transforms: 'none', param: 'pixel' })
    expect(r.series.ismax.every((v) => v === false)).toBe(true)
    expect(r.majority).toBeNull()
  })

  it('a batch gives one result per image, each from its own initial image', async () => {
    const rs = await optimizeGeneralBatch(loaded.model, loaded.inputSpec, { objective: 'conv3:1', max_iter: 4, batch_size: 2 })
    expect(rs).toHaveLength(2)
    expect(rs[0].x0[0]).not.toBe(rs[1].x0[0])
    expect(rs.map((r) => r.series.ii)).toEqual([[0, 1, 2, 3], [0, 1, 2, 3]])
  })

  it("maps the [0, 1] RGB image to the model's channel order: a BGR spec stores the same image with channels swapped", async () => {
    const p = { objective: 'logits:1', max_iter: 1 }
    const rgb = await optimizeGeneral(loaded.model, loaded.inputSpec, p)
    const bgr = await optimizeGeneral(loaded.model, { ...loaded.inputSpec, channelOrder: 'BGR' }, p)
    const n = rgb.x0.length / 3
    for (let i = 0; i < n; i += 97) {
      expect(bgr.x0[i * 3]).toBeCloseTo(rgb.x0[i * 3 + 2], 4)
      expect(bgr.x0[i * 3 + 2]).toBeCloseTo(rgb.x0[i * 3], 4)
    }
    // not a no-op: the channels of the decorrelated image differ
    expect(rgb.x0.some((v, i) => i % 3 === 0 && Math.abs(v - rgb.x0[i + 2]) > 1e-3)).toBe(true)
  })

  it('rejects bad parameters with BAD_PARAM naming the field', () => {
    expect(() => resolveGeneralParams({ param: 'wavelet' as 'fft' })).toThrow(/param must be one of fft, pixel, generator; got 'wavelet'/)
    expect(() => resolveGeneralParams({ lr: -1 })).toThrow(/lr must be a positive number/)
    expect(() => resolveGeneralParams({ diversity: 1 })).toThrow(/diversity 1 needs batch_size >= 2/)
    expect(() => resolveGeneralParams({ transforms: 'some' as 'none' })).toThrow(/transforms must be/)
  })
})
