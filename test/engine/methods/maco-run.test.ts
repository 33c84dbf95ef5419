/**
 * The maco method through the general loop on the embedded model: no tensor leak across iterations, the same
 * seed gives the same run, the objective rises, the transparency map is returned (one per image, one
 * accumulation per step) and saved as last_alpha.png; the spectrum is required and bad params are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { optimizeGeneral, resolveGeneralParams } from '../../../src/engine/methods/general.ts'
import { loadNaturalSpectrum } from '../../../src/engine/node/natural-spectrum.ts'
import { saveResults } from '../../../src/engine/node/save-results.ts'
import type { Spectrum } from '../../../src/engine/methods/maco.ts'
import { METHOD_PRESETS } from '../../../src/shared/method-params.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

let loaded: LoadedModel
let spectrum: Spectrum
let dir: string
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  spectrum = await loadNaturalSpectrum()
  dir = await mkdtemp(path.join(tmpdir(), 'deepvis-maco-'))
})
afterAll(async () => {
  loaded?.model.dispose()
  if (dir) await rm(dir, { recursive: true, force: true })
})

const SMALL = { method: 'maco' as const, objective: 'logits:0', lr: 1, crops: 4, box_start: 0.9, box_end: 0.6, canvas_scale: 1.5, transforms: 'none' as const, relu_override_steps: 0 }

describe('maco run', () => {
  it('tf.memory().numTensors is flat across iterations and back to the start after', async () => {
    const counts = new Map<number, number>()
    const before = tf.memory().numTensors
    await optimizeGeneral(loaded.model, loaded.inputSpec, { ...SMALL, max_iter: 12 }, { spectrum, onIteration: (e) => { counts.set(e.ii, tf.memory().numTensors) } })
    expect(counts.get(10)).toBe(counts.get(4))
    expect(tf.memory().numTensors).toBe(before)
  })

  it('the same seed gives the same run, another seed another; the objective rises; the alpha map has one accumulation per step', async () => {
    const a = await optimizeGeneral(loaded.model, loaded.inputSpec, { ...SMALL, max_iter: 15 }, { spectrum })
    const b = await optimizeGeneral(loaded.model, loaded.inputSpec, { ...SMALL, max_iter: 15 }, { spectrum })
    expect(b.series.obj).toEqual(a.series.obj)
    expect(Buffer.from(b.last!.x.buffer).equals(Buffer.from(a.last!.x.buffer))).toBe(true)
    const c = await optimizeGeneral(loaded.model, loaded.inputSpec, { ...SMALL, max_iter: 15, rand_seed: 1 }, { spectrum })
    expect(c.series.obj).not.toEqual(a.series.obj)
    expect(a.best!.obj).toBeGreaterThan(a.series.obj[0])
    expect(a.alpha!.evaluations).toBe(14)
    expect(a.alpha!.data).toHaveLength(64 * 64)
    expect(a.alpha!.data.every((v) => v >= 0 && Number.isFinite(v))).toBe(true)
    expect(Math.max(...a.alpha!.data)).toBeGreaterThan(0)
    const files = await saveResults(a, path.join(dir, 'r_'), { brave: false, skipbig: true })
    const alphaFile = files.find((f) => f.endsWith('last_alpha.png'))!
    const meta = await sharp(await readFile(alphaFile)).metadata()
    expect([meta.width, meta.height]).toEqual([64, 64])
    const info = JSON.parse(await readFile(path.join(dir, 'r_info.json'), 'utf8'))
    expect(info.alpha.evaluations).toBe(14)
  }, 60_000)

  it('other methods get their transparency map too (lucid: one per step)', async () => {
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { objective: 'logits:1', max_iter: 5 })
    expect(r.alpha!.evaluations).toBe(4)
  })

  it('needs the spectrum, and checks its params', async () => {
    await expect(optimizeGeneral(loaded.model, loaded.inputSpec, { ...SMALL, max_iter: 2 })).rejects.toThrow(/natural-image spectrum/)
    expect(() => resolveGeneralParams({ ...SMALL, box_end: 0.01 })).toThrow(/box_end/)
    expect(() => resolveGeneralParams({ ...SMALL, crops: 65 })).toThrow(/crops/)
    expect(() => resolveGeneralParams({ method: 'lucid', crops: 3 })).toThrow(/apply to methods maco/)
    expect(() => resolveGeneralParams({ ...METHOD_PRESETS.maco.params })).not.toThrow()
    expect(() => resolveGeneralParams({ ...METHOD_PRESETS['maco-horama'].params })).not.toThrow()
  })
})
