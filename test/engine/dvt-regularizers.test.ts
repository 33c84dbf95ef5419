/**
 * DVT's composable regularizers, and the one added through them: jitter_px (a view regularizer). Checked:
 * its gradient is the gradient at the rolled image rolled back (a linear objective's oracle, index by index);
 * jitter_px 0 leaves the run as it was (no draw, no series, nothing new in info.json or info.txt); jitter_px > 0
 * records shifts that are the seeded MT19937 draws (re-drawn here), the same seed gives the same run, another
 * seed other shifts; no tensor leaks across iterations; the batched loop takes the same shifts and gradients;
 * the CLI flag, the IPC schema and the engine take it from its table row.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { optimizeImage } from '../../src/engine/optimize.ts'
import { optimizeBatch } from '../../src/engine/optimize-batch.ts'
import { DEFAULT_PARAMS, PRESETS, resolveParams, type FindParams } from '../../src/engine/params.ts'
import { DVT_REGULARIZERS, VIEW_STREAM, ViewChain } from '../../src/engine/dvt-regularizers.ts'
import { Rng } from '../../src/engine/rng.ts'
import { drawJitter } from '../../src/engine/methods/cnnpref.ts'
import { findParamsSchema } from '../../src/shared/ipc-schemas.ts'
import { useBackend } from '../helpers/tf-backend.ts'
import { cli } from '../helpers/cli.ts'

let loaded: LoadedModel
beforeAll(async () => {
  await useBackend('cpu')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
})
afterAll(() => loaded?.model.dispose())

function params(over: Partial<FindParams>): FindParams {
  return resolveParams({ ...PRESETS['yosinski-3'].params, push_layer: 'logits', push_channel: 3, max_iter: 8, ...over } as FindParams)
}

describe('DVT regularizers', () => {
  it('lists the step regularizers in DVT order and jitter as a view', () => {
    expect(DVT_REGULARIZERS.map((r) => `${r.phase}:${r.key}`)).toEqual([
      'step:decay', 'step:blur_radius', 'step:small_val_percentile', 'step:small_norm_percentile',
      'step:px_benefit_percentile', 'step:px_abs_benefit_percentile', 'view:jitter_px',
    ])
  })

  it('jitter: the gradient is the gradient at the rolled image rolled back (linear objective, index by index)', () => {
    const [h, w, c] = [5, 7, 2]
    const chain = new ViewChain(params({ jitter_px: 3, rand_seed: 11 }))
    chain.draw()
    const series: Record<string, number[]> = {}
    chain.record(series)
    const dy = series.jitter_dy[0]
    const dx = series.jitter_dx[0]
    expect(Math.abs(dy) + Math.abs(dx)).toBeGreaterThan(0)
    const wv = Float32Array.from({ length: h * w * c }, (_, i) => Math.sin(i + 1))
    const x = tf.tensor4d(Float32Array.from({ length: h * w * c }, (_, i) => i), [1, h, w, c])
    const weights = tf.tensor4d(wv, [1, h, w, c])
    // the loop differentiates at the view v = view(x): d/dv sum(w * v) = w; mapped back by unview ...
    const got = chain.unview(weights).dataSync()
    // ... which is the chain rule's gradient through the view
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(chain.view(xx as tf.Tensor4D), weights)))(x)
    expect(Array.from(g.dataSync())).toEqual(Array.from(got))
    // view[y][x] = x[y - dy][x - dx] (circular), so d/dx[y][x] of sum(w * view) = w[y + dy][x + dx].
    const mod = (a: number, n: number): number => ((a % n) + n) % n
    for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (let k = 0; k < c; k++) {
      expect(got[(y * w + xx) * c + k]).toBeCloseTo(wv[(mod(y + dy, h) * w + mod(xx + dx, w)) * c + k], 6)
    }
    // and the view itself is the circular shift
    const v = chain.view(x).dataSync()
    expect(v[(mod(dy, h) * w + mod(dx, w)) * c]).toBe(0)
    tf.dispose([x, weights, g])
  })

  it('jitter_px 0 is the run as before: no draw, no jitter series, no jitter_px in info.json / info.txt', async () => {
    const p = params({})
    expect(p.jitter_px).toBe(0)
    const a = await optimizeImage(loaded.model, loaded.inputSpec, p)
    const { jitter_px: _, ...withoutField } = p
    const b = await optimizeImage(loaded.model, loaded.inputSpec, withoutField as FindParams)
    expect(a.series.obj).toEqual(b.series.obj)
    expect(Object.keys(a.series)).not.toContain('jitter_dy')
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jitter-'))
    try {
      const r = await cli('optimize', '--backend', 'cpu', '--preset', 'yosinski-3', '--max-iter', '3', '--skipbig', '--output-prefix', path.join(dir, 'j0'))
      expect(r.code, r.err).toBe(0)
      const files = (await import('node:fs')).readdirSync(dir)
      const info = JSON.parse(await readFile(path.join(dir, files.find((f) => f.endsWith('info.json'))!), 'utf8'))
      expect(Object.keys(info.params)).not.toContain('jitter_px')
      expect(Object.keys(info.series)).not.toContain('jitter_dy')
      expect(await readFile(path.join(dir, files.find((f) => f.endsWith('info.txt'))!), 'utf8')).not.toContain('jitter')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('jitter_px > 0 records the seeded shifts (MT19937 seeded rand_seed ^ VIEW_STREAM), reproducibly, and changes the run', async () => {
    const J = 4
    const p = params({ jitter_px: J, rand_seed: 5 })
    const a = await optimizeImage(loaded.model, loaded.inputSpec, p)
    const rng = new Rng((5 ^ VIEW_STREAM) >>> 0)
    const expected = a.series.ii.map(() => drawJitter(rng, J))
    expect(a.series.jitter_dy).toEqual(expected.map((d) => d.oy))
    expect(a.series.jitter_dx).toEqual(expected.map((d) => d.ox))
    for (const v of [...a.series.jitter_dy as number[], ...a.series.jitter_dx as number[]]) expect(Math.abs(v)).toBeLessThanOrEqual(J)
    expect(new Set(a.series.jitter_dx as number[]).size).toBeGreaterThan(1)
    const again = await optimizeImage(loaded.model, loaded.inputSpec, p)
    expect(again.series.obj).toEqual(a.series.obj)
    expect(Buffer.from(again.last!.x.buffer).equals(Buffer.from(a.last!.x.buffer))).toBe(true)
    const other = await optimizeImage(loaded.model, loaded.inputSpec, { ...p, rand_seed: 6 })
    expect(other.series.jitter_dx).not.toEqual(a.series.jitter_dx)
    const plain = await optimizeImage(loaded.model, loaded.inputSpec, { ...p, jitter_px: 0 })
    expect(plain.series.obj.slice(1)).not.toEqual(a.series.obj.slice(1))
    // x0 is drawn from its own stream: jitter does not move it
    expect(Buffer.from(plain.x0.buffer).equals(Buffer.from(a.x0.buffer))).toBe(true)
  })

  it('no tensor leaks across jittered iterations', async () => {
    const counts = new Map<number, number>()
    const before = tf.memory().numTensors
    await optimizeImage(loaded.model, loaded.inputSpec, params({ jitter_px: 3, max_iter: 16, px_abs_benefit_percentile: 50 }), {
      onIteration: (e) => { counts.set(e.ii, tf.memory().numTensors) },
    })
    expect(counts.get(12)).toBe(counts.get(4))
    expect(tf.memory().numTensors).toBe(before)
  })

  it('the batched loop takes the same shifts and gives the same run as the single-image loop', async () => {
    const list = [params({ jitter_px: 3, rand_seed: 1 }), params({ rand_seed: 2, push_channel: 1 })]
    const batched = await optimizeBatch(loaded.model, loaded.inputSpec, list)
    const single = await optimizeImage(loaded.model, loaded.inputSpec, list[0])
    expect(batched[0].series.jitter_dy).toEqual(single.series.jitter_dy)
    expect(batched[0].series.jitter_dx).toEqual(single.series.jitter_dx)
    batched[0].series.obj.forEach((v, i) => expect(v).toBeCloseTo(single.series.obj[i], 3))
    expect(Object.keys(batched[1].series)).not.toContain('jitter_dy')
  })

  it('is a CLI flag, an IPC field and an engine check from its one table row', async () => {
    expect(DEFAULT_PARAMS.jitter_px).toBe(0)
    expect(() => params({ jitter_px: 65 })).toThrow(/jitter_px must be an integer in 0\.\.64 pixels; got 65/)
    expect(findParamsSchema.safeParse({ push_layer: 'logits', push_channel: 0, jitter_px: 2 }).success).toBe(true)
    expect(findParamsSchema.safeParse({ push_layer: 'logits', push_channel: 0, jitter_px: -1 }).success).toBe(false)
    const bad = await cli('optimize', '--jitter-px', '2.5')
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--jitter-px/)
    const general = await cli('optimize', '--method', 'lucid', '--jitter-px', '2')
    expect(general.code).toBe(2)
    expect(general.err).toMatch(/--jitter-px is a DVT flag/)
  })
})
