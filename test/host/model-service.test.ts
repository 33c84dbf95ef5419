/**
 * The engine host's model and export channels on real models (cpu backend): opening another model
 * (info, layers and model:changed follow it), bad folders answered with the loader's code and message
 * while the old model keeps answering and running, the recent-models list (order, de-duplication,
 * persistence across host instances, a corrupt file read as empty), uploads, input-spec corrections
 * (layer shapes follow the size; a size the model cannot take is refused and the old spec stays), and
 * run:export (exactly the result files, byte-identical; a non-empty destination refused).
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MODEL_DIR } from '../../src/engine/node/load-model.ts'
import { correctionOverrides, createEngineHost, type EngineHost, type EngineHostOptions } from '../../src/host/engine-host.ts'
import { invokeHandler } from '../../src/host/ipc.ts'
import { RECENT_MODELS_FILE, RECENT_MODELS_MAX } from '../../src/host/recent-models.ts'
import type { EventMap, ModelInfo } from '../../src/shared/ipc-contract.ts'
import type { RunSummary } from '../../src/shared/run-types.ts'
import { TINY_SIDECAR, writeModelFolder } from '../fixtures/model-folder.ts'
import { tinyCnnArtifacts } from '../fixtures/tiny-cnn.ts'
import { useBackend } from '../helpers/tf-backend.ts'

let root: string
let tinyDir: string
let fcnDir: string
const LABELS = ['a', 'b', 'c', 'd', 'e']

/** A fully convolutional model with a free input size (valid 3x3 and 5x5 convs, pooling, GAP, dense), seeded. */
async function fcnArtifacts(): Promise<tf.io.ModelArtifacts> {
  let seed = 7
  const init = (): ReturnType<typeof tf.initializers.glorotNormal> => tf.initializers.glorotNormal({ seed: seed++ })
  const input = tf.input({ shape: [null, null, 3], name: 'image' })
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: init(), name: 'conv1' }).apply(input) as tf.SymbolicTensor
  const p1 = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(c1) as tf.SymbolicTensor
  const c2 = tf.layers.conv2d({ filters: 6, kernelSize: 5, activation: 'relu', kernelInitializer: init(), name: 'conv2' }).apply(p1) as tf.SymbolicTensor
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(c2) as tf.SymbolicTensor
  const logits = tf.layers.dense({ units: 3, kernelInitializer: init(), name: 'logits' }).apply(gap) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: logits })
  let saved: tf.io.ModelArtifacts | null = null
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
  }))
  model.dispose()
  return saved!
}

/** A host on `modelDir` with its data folder under `dataDir`, recording every event. */
function makeHost(modelDir: string, dataDir: string, extra: Partial<EngineHostOptions> = {}) {
  const events: { channel: keyof EventMap; payload: unknown }[] = []
  const waiters: { channel: keyof EventMap; resolve: (p: unknown) => void }[] = []
  const host = createEngineHost({
    modelDir,
    backend: 'cpu',
    historyDir: path.join(dataDir, 'runs'),
    emit: (channel, payload) => {
      events.push({ channel, payload })
      for (const w of waiters.filter((x) => x.channel === channel)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(payload)
      }
    },
    ...extra,
  })
  const next = <K extends keyof EventMap>(channel: K): Promise<EventMap[K]> =>
    new Promise((resolve) => waiters.push({ channel, resolve: resolve as (p: unknown) => void }))
  return { host, events, next }
}

/** Run `max_iter` iterations on the tiny model's logits and wait for the end. */
async function runOnce(host: EngineHost, next: <K extends keyof EventMap>(c: K) => Promise<EventMap[K]>, maxIter = 3): Promise<RunSummary> {
  const done = next('run:done')
  await host.handlers['run:start']({ params: { push_layer: 'logits', push_channel: 1, max_iter: maxIter, rand_seed: 0 } as never })
  return done
}

beforeAll(async () => {
  await useBackend('cpu')
  root = await mkdtemp(path.join(tmpdir(), 'deepvis-models-'))
  tinyDir = await writeModelFolder(path.join(root, 'tiny'), await tinyCnnArtifacts(1), TINY_SIDECAR)
  await writeFile(path.join(tinyDir, 'labels.txt'), LABELS.join('\n') + '\n')
  fcnDir = await writeModelFolder(path.join(root, 'fcn'), await fcnArtifacts(), {
    format: 'deepvis-input-spec@1', name: 'free-size fcn', size: [16, 16], mean: [100, 110, 120],
  })
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

describe('model:open', () => {
  it('swaps in a second model: info, layers and model:changed follow it; the recent list gets it', async () => {
    const data = path.join(root, 'open-ok')
    const { host, events } = makeHost(tinyDir, data)
    await host.start()
    const before = await host.handlers['model:info'](undefined)
    expect(before.name).toBe('tiny test cnn')
    const info = await host.handlers['model:open'](DEFAULT_MODEL_DIR)
    expect(info).toMatchObject({ name: 'DeepVis shapes (embedded default model)', path: DEFAULT_MODEL_DIR, inputSpecCorrected: false })
    expect(info.defaultUnit).toEqual({ layer: 'logits', channel: 0 })
    expect(await host.handlers['model:info'](undefined)).toEqual(info)
    expect(events.filter((e) => e.channel === 'model:changed').map((e) => e.payload)).toEqual([info])
    const layers = (await host.handlers['model:layers'](undefined)).map((l) => l.name)
    expect(layers).toContain('conv1')
    expect(layers).not.toContain('conv_b')
    expect((await host.handlers['model:recent'](undefined)).map((r) => r.path)).toEqual([DEFAULT_MODEL_DIR])
    host.dispose()
  })

  it('accepts the model.json path itself and disposes the model it replaces', async () => {
    const { host } = makeHost(tinyDir, path.join(root, 'open-json'))
    await host.start()
    await host.handlers['model:open'](fcnDir)
    await new Promise((resolve) => setTimeout(resolve, 0))
    const withOne = tf.memory().numTensors
    const info = await host.handlers['model:open'](path.join(fcnDir, 'model.json'))
    expect(info.path).toBe(fcnDir)
    await new Promise((resolve) => setTimeout(resolve, 0))
    // The same model loaded again: the replaced copy's tensors are gone.
    expect(tf.memory().numTensors).toBe(withOne)
    host.dispose()
  })

  it('answers a bad folder with the loader code and message; the old model still answers and runs', async () => {
    const bad = path.join(root, 'bad')
    await mkdir(path.join(bad, 'json'), { recursive: true })
    await writeFile(path.join(bad, 'json', 'model.json'), '{ not json')
    await writeModelFolder(path.join(bad, 'shard'), await tinyCnnArtifacts(2))
    await rm(path.join(bad, 'shard', 'weights.bin'))
    const { host, events, next } = makeHost(tinyDir, path.join(root, 'open-bad'))
    await host.start()
    const before = await host.handlers['model:info'](undefined)

    await expect(host.handlers['model:open'](path.join(bad, 'nowhere'))).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining('does not exist') })
    await expect(host.handlers['model:open'](path.join(bad, 'json'))).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining('not valid JSON') })
    await expect(host.handlers['model:open'](path.join(bad, 'shard'))).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining('missing weight file weights.bin') })

    expect(await host.handlers['model:info'](undefined)).toEqual(before)
    expect(events.some((e) => e.channel === 'model:changed')).toBe(false)
    expect(await host.handlers['model:recent'](undefined)).toEqual([])
    const summary = await runOnce(host, next)
    expect(summary).toMatchObject({ status: 'done', modelName: 'tiny test cnn', iterations: 3 })
    host.dispose()
  })

  it('refuses to swap while a run is queued or running, and works once it ended', async () => {
    const { host, next } = makeHost(tinyDir, path.join(root, 'open-busy'))
    await host.start()
    const done = next('run:done')
    const { runId } = await host.handlers['run:start']({ params: { push_layer: 'logits', push_channel: 0, max_iter: 100000 } as never })
    await expect(host.handlers['model:open'](fcnDir)).rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('run is queued or running') })
    await expect(host.handlers['model:setInputSpec']({ channelOrder: 'BGR' })).rejects.toMatchObject({ code: 'BAD_PARAM' })
    await host.handlers['run:stop'](runId)
    await done
    await expect(host.handlers['model:open'](fcnDir)).resolves.toMatchObject({ name: 'free-size fcn' })
    host.dispose()
  })

  it('opens a model after a failed start (no default model)', async () => {
    const { host } = makeHost(path.join(root, 'missing-default'), path.join(root, 'open-after-fail'))
    const log = console.error
    console.error = () => undefined
    await host.start()
    console.error = log
    await expect(host.handlers['model:info'](undefined)).rejects.toMatchObject({ code: 'BAD_MODEL' })
    await expect(host.handlers['model:open'](tinyDir)).resolves.toMatchObject({ name: 'tiny test cnn' })
    await expect(host.handlers['model:layers'](undefined)).resolves.toContainEqual(expect.objectContaining({ name: 'conv_b' }))
    host.dispose()
  })

  it('model:pick has no dialog here: BAD_PARAM telling what to do instead', async () => {
    const { host } = makeHost(tinyDir, path.join(root, 'pick'))
    expect(() => host.handlers['model:pick'](undefined)).toThrow(expect.objectContaining({ code: 'BAD_PARAM', message: expect.stringContaining('upload') }))
    host.dispose()
  })
})

describe('model:recent', () => {
  it('lists newest first, de-duplicated, at most the maximum, and survives a new host', async () => {
    const data = path.join(root, 'recent')
    const { host } = makeHost(tinyDir, data)
    await host.start()
    await host.handlers['model:open'](fcnDir)
    await host.handlers['model:open'](DEFAULT_MODEL_DIR)
    await host.handlers['model:open'](fcnDir + path.sep)
    const list = await host.handlers['model:recent'](undefined)
    expect(list.map((r) => path.resolve(r.path))).toEqual([fcnDir, DEFAULT_MODEL_DIR])
    expect(list.map((r) => r.name)).toEqual(['free-size fcn', 'DeepVis shapes (embedded default model)'])
    expect(Date.parse(list[0].openedAt)).toBeGreaterThanOrEqual(Date.parse(list[1].openedAt))
    host.dispose()

    // A second host on the same data folder reads the same list; the embedded default it started on is not added.
    const second = makeHost(DEFAULT_MODEL_DIR, data).host
    await second.start()
    expect(await second.handlers['model:recent'](undefined)).toEqual(list)
    second.dispose()
  })

  it('keeps only the newest entries', async () => {
    const data = path.join(root, 'recent-max')
    const { host } = makeHost(tinyDir, data)
    const folders: string[] = []
    for (let i = 0; i <= RECENT_MODELS_MAX; i++) {
      const f = path.join(root, 'many', `m${i}`)
      await mkdir(path.dirname(f), { recursive: true })
      await writeModelFolder(f, await tinyCnnArtifacts(1))
      folders.push(f)
      await host.handlers['model:open'](f)
    }
    const list = await host.handlers['model:recent'](undefined)
    expect(list.map((r) => r.path)).toEqual(folders.slice(1).reverse())
    host.dispose()
  })

  it('reads a corrupt or malformed file as an empty list and rewrites it on the next opening', async () => {
    const data = path.join(root, 'recent-corrupt')
    await mkdir(data, { recursive: true })
    const file = path.join(data, RECENT_MODELS_FILE)
    const { host } = makeHost(tinyDir, data)
    for (const text of ['{ broken', '[1, 2]', JSON.stringify({ models: [{ path: 7 }, null] })]) {
      await writeFile(file, text)
      await expect(host.handlers['model:recent'](undefined)).resolves.toEqual([])
    }
    await host.handlers['model:open'](fcnDir)
    expect((await host.handlers['model:recent'](undefined)).map((r) => r.path)).toEqual([fcnDir])
    expect(JSON.parse(await readFile(file, 'utf8')).models).toHaveLength(1)
    host.dispose()
  })
})

describe('model:upload', () => {
  const filesOf = async (dir: string, names: string[]) => Promise.all(names.map(async (name) => ({
    name, base64: (await readFile(path.join(dir, name))).toString('base64'),
  })))

  it('stores the files under uploads/<hash>/ and opens them; layers answer from the upload', async () => {
    const data = path.join(root, 'upload')
    const { host, events } = makeHost(DEFAULT_MODEL_DIR, data)
    await host.start()
    const files = await filesOf(tinyDir, ['model.json', 'weights.bin', 'deepvis.json', 'labels.txt'])
    const info = await host.handlers['model:upload'](files)
    expect(info.name).toBe('tiny test cnn')
    expect(path.dirname(info.path)).toBe(path.join(data, 'uploads'))
    expect(await readFile(path.join(info.path, 'weights.bin'))).toEqual(await readFile(path.join(tinyDir, 'weights.bin')))
    const layers = await host.handlers['model:layers'](undefined)
    expect(layers.find((l) => l.name === 'logits')?.labels).toEqual(LABELS)
    expect(events.filter((e) => e.channel === 'model:changed')).toHaveLength(1)
    expect((await host.handlers['model:recent'](undefined))[0]).toMatchObject({ path: info.path, name: 'tiny test cnn' })
    // The same files again: the same folder, nothing new on disk.
    expect((await host.handlers['model:upload'](files)).path).toBe(info.path)
    expect((await readdir(path.join(data, 'uploads'))).filter((n) => !n.startsWith('.'))).toHaveLength(1)
    host.dispose()
  })

  it('names an upload without a sidecar after its hash', async () => {
    const { host } = makeHost(tinyDir, path.join(root, 'upload-noname'))
    const info = await host.handlers['model:upload'](await filesOf(tinyDir, ['model.json', 'weights.bin']))
    expect(info.name).toBe(`uploaded model ${path.basename(info.path).slice(0, 8)}`)
    host.dispose()
  })

  it('answers a missing model.json or shard with BAD_MODEL naming it; the old model stays, no folder is left', async () => {
    const data = path.join(root, 'upload-bad')
    const { host } = makeHost(tinyDir, data)
    await host.start()
    const before = await host.handlers['model:info'](undefined)
    await expect(host.handlers['model:upload'](await filesOf(tinyDir, ['weights.bin', 'deepvis.json'])))
      .rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining('no model.json') })
    await expect(host.handlers['model:upload'](await filesOf(tinyDir, ['model.json', 'deepvis.json'])))
      .rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringContaining('missing weight file weights.bin') })
    expect(await host.handlers['model:info'](undefined)).toEqual(before)
    expect(await readdir(path.join(data, 'uploads'))).toEqual([])
    host.dispose()
  })

  it('answers the same bad upload sent twice at once with BAD_MODEL both times (they share one folder)', async () => {
    // Regression (CI, seeded WebSocket fuzz, timing-dependent): the first upload's failure removed the
    // shared folder between the second one's failed rename onto it and its check that it exists, and
    // the second answered INTERNAL. Uploads are now one model change each, run one after the other.
    const data = path.join(root, 'upload-twice')
    const { host } = makeHost(tinyDir, data)
    await host.start()
    const junk = [{ name: 'model.json', base64: 'A'.repeat(2 ** 20) }]
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => host.handlers['model:upload'](junk)))
    for (const o of outcomes) {
      expect(o.status).toBe('rejected')
      expect((o as PromiseRejectedResult).reason).toMatchObject({ code: 'BAD_MODEL' })
    }
    expect((await readdir(path.join(data, 'uploads'))).filter((n) => !n.startsWith('.'))).toEqual([])
    host.dispose()
  })
})

describe('model:setInputSpec', () => {
  it('changes the input size, and with it the layer shapes of a fully convolutional model; null restores', async () => {
    const { host, events } = makeHost(fcnDir, path.join(root, 'spec'))
    await host.start()
    const conv2 = async () => (await host.handlers['model:layers'](undefined)).find((l) => l.name === 'conv2')!.shape
    // 16 -> conv 14 -> pool 7 -> conv 3.
    expect(await conv2()).toEqual([3, 3, 6])
    const info = await host.handlers['model:setInputSpec']({ height: 24, width: 32, channelOrder: 'BGR', mean: [90] })
    expect(info.inputSpec).toEqual({ height: 24, width: 32, channelOrder: 'BGR', mean: [90, 90, 90], source: 'deepvis.json + user correction' })
    expect(info.inputSpecCorrected).toBe(true)
    // 24x32 -> 22x30 -> 11x15 -> 7x11.
    expect(await conv2()).toEqual([7, 11, 6])
    expect(events.filter((e) => e.channel === 'model:changed').map((e) => (e.payload as ModelInfo).inputSpecCorrected)).toEqual([true])

    // One side only keeps the model's own other side (not the previous correction's).
    expect((await host.handlers['model:setInputSpec']({ width: 20 })).inputSpec).toMatchObject({ height: 16, width: 20, channelOrder: 'RGB', mean: [100, 110, 120] })
    const restored = await host.handlers['model:setInputSpec'](null)
    expect(restored.inputSpec).toEqual({ height: 16, width: 16, channelOrder: 'RGB', mean: [100, 110, 120], source: 'deepvis.json' })
    expect(restored.inputSpecCorrected).toBe(false)
    expect(await conv2()).toEqual([3, 3, 6])
    host.dispose()
  })

  it('gives the embedded model a larger input: its convolutional layers grow, the classes stay', async () => {
    const { host } = makeHost(DEFAULT_MODEL_DIR, path.join(root, 'spec-embedded'))
    await host.start()
    const shapes = async () => Object.fromEntries((await host.handlers['model:layers'](undefined)).map((l) => [l.name, l.shape]))
    expect((await shapes())['conv1']).toEqual([64, 64, 16])
    const info = await host.handlers['model:setInputSpec']({ height: 96, width: 96 })
    expect(info.inputSpec).toMatchObject({ height: 96, width: 96, source: 'deepvis.json + user correction' })
    const grown = await shapes()
    expect(grown['conv1']).toEqual([96, 96, 16])
    expect(grown['logits']).toEqual([10])
    await host.handlers['model:setInputSpec'](null)
    expect((await shapes())['conv1']).toEqual([64, 64, 16])
    host.dispose()
  })

  it('refuses a size the model cannot take and keeps the previous spec', async () => {
    // Flatten then dense: only the trained size fits.
    const input = tf.input({ shape: [12, 12, 3] })
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, kernelInitializer: tf.initializers.glorotNormal({ seed: 3 }), name: 'conv' }).apply(input) as tf.SymbolicTensor
    const flat = tf.layers.flatten({ name: 'flat' }).apply(conv) as tf.SymbolicTensor
    const dense = tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }), name: 'dense' }).apply(flat) as tf.SymbolicTensor
    const m = tf.model({ inputs: input, outputs: dense })
    let saved: tf.io.ModelArtifacts | null = null
    await m.save(tf.io.withSaveHandler(async (a) => { saved = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } } }))
    m.dispose()
    const flatDir = await writeModelFolder(path.join(root, 'flat'), saved!)
    const { host } = makeHost(flatDir, path.join(root, 'spec-bad'))
    await host.start()
    const before = await host.handlers['model:info'](undefined)
    await expect(host.handlers['model:setInputSpec']({ height: 24, width: 24 }))
      .rejects.toMatchObject({ code: 'BAD_INPUT_SPEC', message: expect.stringContaining('cannot take a 24x24 input') })
    expect(await host.handlers['model:info'](undefined)).toEqual(before)
    expect((await host.handlers['model:layers'](undefined)).find((l) => l.name === 'conv')?.shape).toEqual([10, 10, 2])
    // Its own size with another channel order (what the editor sends) is fine.
    await expect(host.handlers['model:setInputSpec']({ height: 12, width: 12, channelOrder: 'BGR' }))
      .resolves.toMatchObject({ inputSpec: { height: 12, width: 12, channelOrder: 'BGR' }, inputSpecCorrected: true })
    host.dispose()

    // Too small for the fully convolutional model's kernels: refused before any run sees it.
    const fcn = makeHost(fcnDir, path.join(root, 'spec-bad-fcn'))
    await fcn.host.start()
    const fcnBefore = await fcn.host.handlers['model:info'](undefined)
    await expect(fcn.host.handlers['model:setInputSpec']({ height: 8, width: 8 }))
      .rejects.toMatchObject({ code: 'BAD_INPUT_SPEC', message: expect.stringContaining('8x8') })
    expect(await fcn.host.handlers['model:info'](undefined)).toEqual(fcnBefore)
    fcn.host.dispose()
  })

  it('turns a correction into the loader overrides', () => {
    expect(correctionOverrides({ height: 40 }, [16, 20], 3)).toEqual({ size: [40, 20], freeSize: true })
    expect(correctionOverrides({ height: 16, width: 20, channelOrder: 'BGR' }, [16, 20], 3)).toEqual({ size: [16, 20], channelOrder: 'BGR' })
    expect(correctionOverrides({ mean: [5] }, [16, 20], 3)).toEqual({ mean: [5, 5, 5] })
    expect(correctionOverrides({}, [16, 20], 3)).toEqual({})
  })
})

describe('run:export', () => {
  it('copies exactly the result files with identical bytes, and refuses a non-empty destination', async () => {
    const data = path.join(root, 'export')
    const { host, next } = makeHost(tinyDir, data)
    await host.start()
    const summary = await runOnce(host, next, 4)
    const src = (await host.handlers['runs:get'](summary.runId)).folder
    const dest = path.join(root, 'exports')
    // Only the run's own folder is created: a missing parent is refused and not created.
    await expect(host.handlers['run:export']({ runId: summary.runId, folder: path.join(dest, 'a', 'b') }))
      .rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('does not exist') })
    expect(existsSync(path.join(dest, 'a'))).toBe(false)
    // Kernel and device trees are refused at once (recursive mkdir used to loop in /proc/self).
    for (const special of ['/proc/self', '/sys', '/dev', '/dev/shm']) {
      await expect(host.handlers['run:export']({ runId: summary.runId, folder: special }))
        .rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('/proc, /sys, /dev') })
    }
    await mkdir(dest)
    const result = await host.handlers['run:export']({ runId: summary.runId, folder: dest })
    expect(result.folder).toBe(path.join(dest, summary.runId))
    const slots = ['best', 'last', 'majority'].filter((s) => summary[s as 'best'] !== null)
    const expected = [...slots.flatMap((s) => [`${s}_X.png`, `${s}_Xpm.png`]), 'info.json', 'info.txt']
    expect([...result.files].sort()).toEqual([...expected].sort())
    expect((await readdir(result.folder)).sort()).toEqual([...expected].sort())
    for (const name of expected) {
      expect(await readFile(path.join(result.folder, name))).toEqual(await readFile(path.join(src, name)))
    }
    // Neither run.json nor the .npy arrays travel.
    expect(existsSync(path.join(src, 'best.npy'))).toBe(true)
    expect(existsSync(path.join(result.folder, 'best.npy'))).toBe(false)

    await expect(host.handlers['run:export']({ runId: summary.runId, folder: dest }))
      .rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('not empty') })
    await expect(host.handlers['run:export']({ runId: summary.runId, folder: null }))
      .rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('choose a folder') })
    await expect(host.handlers['run:export']({ runId: summary.runId, folder: 'relative/dir' }))
      .rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('absolute') })
    await expect(host.handlers['run:export']({ runId: 'nope', folder: dest }))
      .rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining("no stored run 'nope'") })
    // An existing but empty destination is fine.
    await rm(result.folder, { recursive: true })
    await mkdir(result.folder)
    await expect(host.handlers['run:export']({ runId: summary.runId, folder: dest })).resolves.toEqual(result)
    host.dispose()
  })
})

describe('app:info', () => {
  it('answers the host options, with the package version and the data folder by default', async () => {
    const pkg = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }
    const { host } = makeHost(tinyDir, path.join(root, 'info'))
    await expect(host.handlers['app:info'](undefined)).resolves.toEqual({
      mode: 'web', version: pkg.version, canPickFolders: false, dataDir: path.join(root, 'info'),
    })
    host.dispose()
    const electron = createEngineHost({ modelDir: tinyDir, dataDir: '/data', app: { mode: 'electron', version: '9.9.9', canPickFolders: true } })
    await expect(electron.handlers['app:info'](undefined)).resolves.toEqual({ mode: 'electron', version: '9.9.9', canPickFolders: true, dataDir: '/data' })
    electron.dispose()
  })
})

describe('through the IPC wrapper', () => {
  it('answers the new channels as results with codes, never as thrown errors', async () => {
    const { host } = makeHost(tinyDir, path.join(root, 'ipc'))
    await host.start()
    const call = (channel: Parameters<typeof invokeHandler>[0], payload?: unknown) => invokeHandler(channel, host.handlers, payload === undefined ? [] : [payload])
    await expect(call('model:pick')).resolves.toMatchObject({ ok: false, code: 'BAD_PARAM' })
    await expect(call('model:open', path.join(root, 'nowhere'))).resolves.toMatchObject({ ok: false, code: 'BAD_MODEL' })
    await expect(call('model:upload', [{ name: '../model.json', base64: 'e30=' }])).resolves.toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
    await expect(call('model:setInputSpec', { height: 4 })).resolves.toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
    await expect(call('run:export', { runId: 'r1', folder: null })).resolves.toMatchObject({ ok: false, code: 'BAD_PARAM' })
    await expect(call('model:setInputSpec', { channelOrder: 'BGR' })).resolves.toMatchObject({ ok: true, value: { inputSpecCorrected: true, inputSpec: { channelOrder: 'BGR' } } })
    await expect(call('model:recent')).resolves.toEqual({ ok: true, value: [] })
    host.dispose()
  })
})
