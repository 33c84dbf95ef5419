/**
 * The pixel methods of the general loop (dnnbrain, normstep) on the embedded model: the objective ascends,
 * the image stays in the valid pixel range, normstep's largest pixel change is exactly its step, each of
 * dnnbrain's parts (penalty, blur, Fourier smoothing) changes the run, the presets resolve, and bad
 * parameters are rejected with BAD_PARAM naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { optimizeGeneral, resolveGeneralParams } from '../../../src/engine/methods/general.ts'
import { METHOD_PRESETS } from '../../../src/shared/method-params.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

let loaded: LoadedModel
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
})
afterAll(() => { loaded?.model.dispose() })

/** Every pixel of a DVT-space image (x = pixel - mean) inside 0..255, with a rounding tolerance. */
function inPixelRange(x: Float32Array, mean: ArrayLike<number>): boolean {
  const TOL = 1e-3
  return x.every((v, i) => v + mean[i % 3] >= -TOL && v + mean[i % 3] <= 255 + TOL)
}

describe('pixel methods', () => {
  it.each([
    ['normstep', { method: 'normstep' as const, lr: 2, objective: 'conv3:4' }],
    ['cnnpref-gd', { method: 'cnnpref-gd' as const, lr: 4, lr_end: 1, momentum: 0.9, momentum_end: 0.5, decay: 0.01, decay_end: 0.001, blur_radius: 1, blur_radius_end: 0.5, jitter_px: 4, clip_every: 2, clip_small_norm_pct: 5, clip_small_contribution_pct: 5, objective: 'conv3:4' }],
    ['seed004', { method: 'seed004' as const, lr: 0.5, objective: 'conv3:4', decay: 0.01, blur_radius: 1, blur_every: 4, norm_crop_pct: 5, contrib_crop_pct: 5 }],
    ['dnnbrain', { method: 'dnnbrain' as const, lr: 0.02, objective: 'conv3:4', penalty: 'tv' as const, penalty_weight: 1e-4, blur_radius: 0.875, smooth_factor: 0.5 }],
  ])('%s: the objective ascends, the image stays in 0..255 and no tensor leaks', async (_name, p) => {
    const before = tf.memory().numTensors
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { ...p, max_iter: 15 })
    expect(tf.memory().numTensors).toBe(before)
    const obj = r.series.obj
    expect(obj[obj.length - 1]).toBeGreaterThan(obj[0])
    expect(r.best!.obj).toBeGreaterThan(obj[0])
    expect(inPixelRange(r.last!.x, loaded.inputSpec.mean)).toBe(true)
    expect(r.method!.name).toBe(p.method)
  })

  it('cnnpref-gd: the recorded lr follows the linear schedule start + t (end - start) / iter_n', async () => {
    const p = { method: 'cnnpref-gd' as const, lr: 3, lr_end: 1, max_iter: 5, objective: 'logits:1', rand_seed: 2 }
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, p)
    const n = p.max_iter
    for (let t = 0; t < n - 1; t++) expect(r.series.lr[t]).toBeCloseTo(p.lr + (t * (p.lr_end - p.lr)) / n, 10)
    expect(Number.isNaN(r.series.lr[n - 1])).toBe(true) // the last iteration is recorded, not stepped
  })

  it('normstep: the largest pixel change of a step is the step size (in 0..255 units)', async () => {
    const step = 3
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { method: 'normstep', lr: step, objective: 'logits:2', max_iter: 2, init_sd: 0.05 })
    let maxChange = 0
    for (let i = 0; i < r.x0.length; i++) maxChange = Math.max(maxChange, Math.abs(r.last!.x[i] - r.x0[i]))
    // the clip to [0, 1] can only shorten a change, and x0 is mid-grey +- noise well inside the range
    expect(maxChange).toBeCloseTo(step, 2)
  })

  it('dnnbrain: penalty, blur and smoothing each change the trajectory; a blurred run is smoother', async () => {
    const base = { method: 'dnnbrain' as const, lr: 0.05, objective: 'conv2:3', max_iter: 6, init_sd: 0.1 }
    const plain = await optimizeGeneral(loaded.model, loaded.inputSpec, base)
    const variants = await Promise.all([
      { penalty: 'l2' as const, penalty_weight: 0.1 }, { blur_radius: 1 }, { smooth_factor: 0.5 },
    ].map(async (extra) => optimizeGeneral(loaded.model, loaded.inputSpec, { ...base, ...extra })))
    for (const v of variants) expect(v.series.obj.slice(1)).not.toEqual(plain.series.obj.slice(1))
    // total variation of the last image: blur lowers it
    const tv = (x: Float32Array): number => {
      const [h, w] = [loaded.inputSpec.height, loaded.inputSpec.width]
      let s = 0
      for (let y = 0; y < h; y++) for (let xx = 0; xx + 1 < w; xx++) for (let c = 0; c < 3; c++) s += Math.abs(x[(y * w + xx + 1) * 3 + c] - x[(y * w + xx) * 3 + c])
      return s
    }
    expect(tv(variants[1].last!.x)).toBeLessThan(tv(plain.last!.x))
  })

  it('the dnnbrain, normstep, seed004 and cnnpref-gd presets resolve to valid parameters of their method', () => {
    expect(resolveGeneralParams(METHOD_PRESETS.dnnbrain.params).method).toBe('dnnbrain')
    expect(resolveGeneralParams(METHOD_PRESETS.dnnbrain.params).blur_radius).toBe(0.875)
    expect(resolveGeneralParams(METHOD_PRESETS.normstep.params).method).toBe('normstep')
    expect(resolveGeneralParams(METHOD_PRESETS.seed004.params).method).toBe('seed004')
    const cp = resolveGeneralParams(METHOD_PRESETS['cnnpref-gd'].params)
    expect([cp.method, cp.max_iter, cp.blur_radius, cp.blur_radius_end, cp.jitter_px, cp.clip_small_norm_pct]).toEqual(['cnnpref-gd', 200, 2.5, 0.5, 32, 5])
  })

  it.each([
    [{ method: 'dnnbrain', penalty: 'tvv' }, /penalty must be one of none, tv, l1, l2; got 'tvv'/],
    [{ method: 'dnnbrain', penalty_weight: -1 }, /penalty_weight must be >= 0; got -1/],
    [{ method: 'dnnbrain', blur_radius: Number.NaN }, /blur_radius must be >= 0/],
    [{ method: 'normstep', smooth_factor: 0.5 }, /apply to method dnnbrain only \(method is normstep\)/],
    [{ method: 'normstep', diversity: 1, batch_size: 2 }, /diversity applies to method lucid only/],
    [{ method: 'sgd' }, /method must be one of lucid, dnnbrain, normstep, seed004, cnnpref-gd, cnnpref-lbfgs, maco, accentuation; got 'sgd'/],
    [{ method: 'normstep', jitter_px: 4 }, /apply to method cnnpref-gd only \(method is normstep\)/],
    [{ method: 'cnnpref-gd', momentum: 1.5 }, /momentum, momentum_end must be <= 1/],
  ])('rejects %j with BAD_PARAM', (p, re) => {
    expect(() => resolveGeneralParams(p as never)).toThrow(re)
    try { resolveGeneralParams(p as never) } catch (e) { expect((e as { code: string }).code).toBe('BAD_PARAM') }
  })
})
