/**
 * The top-k index on the embedded model, with a labelled folder from the stimulus generator as the
 * oracle: the top-9 images of every grating and blob class unit (prob) are images of that unit's own
 * class, and the logits' best images are their own class.
 * Also: conv units get their receptive-field box at the maximum; a stopped build resumes to exactly the
 * uninterrupted result; a complete index is found again; another key in the same folder is refused; a
 * broken image is skipped and listed; an empty folder is refused; tensors are not leaked.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { buildTopKIndex, modelKeyForIndex, readTopKIndex, topEntries, type BuildIndexOptions } from '../../../src/engine/node/topk-index.ts'
import { writeStimulusFolder } from '../../../src/engine/node/stimulus-folder.ts'
import { STIMULUS_CLASSES } from '../../../src/engine/stimuli.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

let loaded: LoadedModel
let tmp: string
let images: string
let base: BuildIndexOptions
const PER_CLASS = 16
/** Classes whose preferred stimulus the network is known to have learnt well enough (README: gratings and blobs). */
const ORACLE_UNITS = [0, 1, 2, 3, 7, 8, 9]

beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-index-'))
  images = path.join(tmp, 'stimuli')
  await writeStimulusFolder(images, { perClass: PER_CLASS, seed: 1234 })
  base = {
    model: loaded.model, inputSpec: loaded.inputSpec, modelName: loaded.name, modelPath: loaded.modelJsonPath,
    modelKey: await modelKeyForIndex(loaded.modelJsonPath, loaded.inputSpec),
    imagesDir: images, layers: ['prob', 'logits', 'conv3'], outDir: path.join(tmp, 'idx'), batchSize: 16,
  }
})
afterAll(async () => {
  loaded?.model.dispose()
  if (tmp) await rm(tmp, { recursive: true, force: true })
})

describe('top-k index on the embedded model', () => {
  it('top-9 of every grating and blob class unit (prob) are all of its own class; logits mostly; conv units carry their receptive-field box', async () => {
    const idx = await buildTopKIndex(base)
    expect(idx.complete).toBe(true)
    expect(idx.images).toHaveLength(PER_CLASS * STIMULUS_CLASSES.length)
    expect(idx.failed).toEqual([])
    const own = (layer: string, u: number): number => topEntries(idx, layer, u, 9).filter((t) => t.image.split('/')[0] === STIMULUS_CLASSES[u].id).length
    for (const u of ORACLE_UNITS) {
      const top = topEntries(idx, 'prob', u, 9)
      expect(top).toHaveLength(9)
      expect(top.map((t) => t.image.split('/')[0]), STIMULUS_CLASSES[u].label).toEqual(new Array(9).fill(STIMULUS_CLASSES[u].id))
      expect(top.every((t) => t.box === null)).toBe(true)
      // Best first.
      for (let i = 1; i < 9; i++) expect(top[i].score).toBeLessThanOrEqual(top[i - 1].score)
    }
    // Raw logits are not calibrated across images: a high-contrast 45° grating raises the horizontal
    // logit (274) above a low-contrast horizontal grating's (160) while its own logit is higher still
    // (565), so the logit's top-9 may hold a few neighbouring classes; its best images are its own.
    const counts = ORACLE_UNITS.map((u) => own('logits', u))
    console.log(`logits top-9 own-class counts (units ${ORACLE_UNITS.join(', ')}): ${counts.join(', ')}`)
    for (const [i, u] of ORACLE_UNITS.entries()) {
      expect(topEntries(idx, 'logits', u, 1)[0].image.split('/')[0]).toBe(STIMULUS_CLASSES[u].id)
      expect(counts[i]).toBeGreaterThanOrEqual(6)
    }
    const conv = topEntries(idx, 'conv3', 4, 9)
    for (const t of conv) {
      // conv3: jump 4, extent 18, start -7 (test/engine/inspect/receptive-field.test.ts).
      expect(t.box).toEqual({ top: -7 + 4 * t.y, left: -7 + 4 * t.x, bottom: 11 + 4 * t.y, right: 11 + 4 * t.x })
      expect(t.clipped!.top).toBeGreaterThanOrEqual(0)
      expect(t.clipped!.bottom).toBeLessThanOrEqual(64)
    }
    expect(await readTopKIndex(base.outDir)).toEqual(idx)
  })

  it('a stopped build resumes to exactly the uninterrupted index; a complete one is found again without work', async () => {
    const out = path.join(tmp, 'resume')
    const stop = new AbortController()
    const partial = await buildTopKIndex({ ...base, outDir: out, signal: stop.signal, onProgress: () => stop.abort() })
    expect(partial.complete).toBe(false)
    expect(partial.done).toBe(16)
    const calls: number[] = []
    const resumed = await buildTopKIndex({ ...base, outDir: out, onProgress: (p) => { calls.push(p.done) } })
    expect(calls[0]).toBe(32) // continued after the 16 done
    const full = await readTopKIndex(base.outDir)
    expect(resumed.layers.map((l) => l.topk)).toEqual(full.layers.map((l) => l.topk))
    let again = 0
    await buildTopKIndex({ ...base, outDir: out, onProgress: () => again++ })
    expect(again).toBe(0)
  })

  it('refuses an output folder holding another index, skips a broken image, refuses an empty folder; no tensor leak', async () => {
    await expect(buildTopKIndex({ ...base, layers: ['logits'] })).rejects.toThrow(/holds an index of another model/)
    const mixed = path.join(tmp, 'mixed')
    await mkdir(mixed)
    await writeFile(path.join(mixed, 'broken.png'), 'this is not a png')
    await writeStimulusFolder(path.join(mixed, 'ok'), { perClass: 1, seed: 3 })
    const before = tf.memory().numTensors
    const idx = await buildTopKIndex({ ...base, imagesDir: mixed, layers: ['logits'], outDir: path.join(tmp, 'mixed-idx'), batchSize: 4 })
    expect(tf.memory().numTensors).toBe(before)
    expect(idx.failed).toEqual([{ image: 'broken.png', error: expect.stringMatching(/broken\.png is not an image/) }])
    expect(idx.complete).toBe(true)
    expect(topEntries(idx, 'logits', 0, 1)[0].image).toBe('ok/grating_vertical/grating_vertical_0000.png')
    const empty = path.join(tmp, 'empty')
    await mkdir(empty)
    await expect(buildTopKIndex({ ...base, imagesDir: empty, outDir: path.join(tmp, 'e') })).rejects.toThrow(/no images/)
    expect(() => topEntries(idx, 'conv9', 0)).toThrow(/no layer 'conv9'; it has: logits/)
    expect(() => topEntries(idx, 'logits', 10)).toThrow(/unit 10 is out of range/)
  })
})
