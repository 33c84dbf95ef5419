/**
 * The per-thread model cache of sweep workers (src/cli/model-cache.ts): with it on, consecutive
 * `deepvis optimize` jobs on the same model load it once, give the same results as a fresh load, and
 * hold no tensors beyond the one model between jobs; another input spec, or a model file that changed
 * on disk, loads afresh (and frees the old model).
 */
import { cpSync, readdirSync, readFileSync, utimesSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { acquireModel, enableModelCache, modelLoads } from '../../src/cli/model-cache.ts'
import { DEFAULT_MODEL_DIR } from '../../src/engine/node/load-model.ts'
import { cli } from '../helpers/cli.ts'

let tmp = ''
beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-model-cache-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

const optimize = (model: string, out: string, unit: number) =>
  cli('optimize', '--model', model, '--push-layer', 'logits', '--push-channel', String(unit), '--preset', 'yosinski-3', '--max-iter', '8',
    '--backend', 'cpu', '--output-prefix', path.join(tmp, out) + path.sep)

const series = (out: string): number[] => {
  const dir = path.join(tmp, out)
  const info = readdirSync(dir).find((f) => f.endsWith('info.json'))!
  return JSON.parse(readFileSync(path.join(dir, info), 'utf8')).series.obj
}

describe('model cache of sweep threads', () => {
  it('without the cache each command loads its model and frees it', async () => {
    const before = modelLoads()
    expect((await optimize(DEFAULT_MODEL_DIR, 'plain-a', 1)).code).toBe(0)
    const tensors = tf.memory().numTensors
    expect((await optimize(DEFAULT_MODEL_DIR, 'plain-b', 2)).code).toBe(0)
    expect(modelLoads() - before).toBe(2)
    expect(tf.memory().numTensors).toBe(tensors)
  })

  it('with the cache: one load for many jobs, the same results, no tensors gained between jobs', async () => {
    enableModelCache()
    const before = modelLoads()
    expect((await optimize(DEFAULT_MODEL_DIR, 'cached-a', 1)).code).toBe(0)
    const tensors = tf.memory().numTensors
    expect((await optimize(DEFAULT_MODEL_DIR, 'cached-b', 2)).code).toBe(0)
    expect((await optimize(DEFAULT_MODEL_DIR, 'cached-c', 1)).code).toBe(0)
    expect(modelLoads() - before).toBe(1)
    expect(tf.memory().numTensors).toBe(tensors)
    // Same seed, same unit: identical to the fresh-load runs above.
    expect(series('cached-a')).toEqual(series('plain-a'))
    expect(series('cached-c')).toEqual(series('plain-a'))
    expect(series('cached-b')).toEqual(series('plain-b'))
  })

  it('loads afresh for another input spec or a changed model file, freeing the old model', async () => {
    enableModelCache()
    const copy = path.join(tmp, 'model-copy')
    cpSync(DEFAULT_MODEL_DIR, copy, { recursive: true })
    const a = await acquireModel(copy, {}, 'cpu')
    const tensorsWithOne = tf.memory().numTensors
    expect((await acquireModel(copy, {}, 'cpu')).loaded).toBe(a.loaded)
    const b = await acquireModel(copy, { channelOrder: 'BGR' }, 'cpu')
    expect(b.loaded).not.toBe(a.loaded)
    expect(b.loaded.inputSpec.channelOrder).toBe('BGR')
    expect(tf.memory().numTensors).toBe(tensorsWithOne) // a's weights were freed
    const c = await acquireModel(copy, { channelOrder: 'BGR' }, 'cpu')
    expect(c.loaded).toBe(b.loaded)
    const later = new Date(Date.now() + 60_000)
    utimesSync(path.join(copy, 'model.json'), later, later)
    const d = await acquireModel(copy, { channelOrder: 'BGR' }, 'cpu')
    expect(d.loaded).not.toBe(b.loaded)
    expect(tf.memory().numTensors).toBe(tensorsWithOne)
  })
})
