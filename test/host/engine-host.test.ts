/**
 * The engine host in the main process, on a real tiny model written to a temporary folder
 * (cpu backend): model:info and model:layers answers, labels on the class layers only, and a
 * missing model reported as BAD_MODEL through every model channel instead of a hang or a crash.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { PRESETS } from '../../src/engine/params.ts'
import { attachLabels, createEngineHost, presetInfos } from '../../src/host/engine-host.ts'
import { METHOD_PRESETS } from '../../src/shared/method-params.ts'
import { registerIpc, type IpcMainLike } from '../../src/host/ipc.ts'
import { tinyCnnArtifacts } from '../fixtures/tiny-cnn.ts'

const LABELS = ['circle', 'square', 'triangle', 'star', 'ring']
let dir: string

async function writeModelFolder(folder: string): Promise<void> {
  const a = await tinyCnnArtifacts(1)
  const weights = new Uint8Array(a.weightData as ArrayBuffer)
  await writeFile(path.join(folder, 'model.json'), JSON.stringify({
    format: 'layers-model',
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
  }))
  await writeFile(path.join(folder, 'weights.bin'), weights)
  await writeFile(path.join(folder, 'deepvis.json'), JSON.stringify({
    format: 'deepvis-input-spec@1', name: 'Tiny CNN', channelOrder: 'RGB', mean: [120, 115, 100], labels: 'labels.txt',
  }))
  await writeFile(path.join(folder, 'labels.txt'), LABELS.join('\n') + '\n')
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'deepvis-host-'))
  await writeModelFolder(dir)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('createEngineHost', () => {
  it('answers model:info from the loaded model', async () => {
    const host = createEngineHost({ modelDir: dir, backend: 'cpu' })
    await host.start()
    const info = await host.handlers['model:info'](undefined)
    expect(info).toEqual({
      name: 'Tiny CNN',
      format: 'layers-model',
      backend: 'cpu',
      backendDetail: '@tensorflow/tfjs-backend-cpu',
      inputSpec: { height: 16, width: 16, channelOrder: 'RGB', mean: [120, 115, 100], source: 'deepvis.json' },
      labelsCount: 5,
      path: dir,
      defaultUnit: null,
      inputSpecCorrected: false,
    })
    host.dispose()
  })

  it('answers model:layers with labels only on layers with one unit per label', async () => {
    const host = createEngineHost({ modelDir: dir, backend: 'cpu' })
    const layers = await host.handlers['model:layers'](undefined)
    const conv = layers.find((l) => l.name === 'conv_b')
    expect(conv).toMatchObject({ type: 'Conv2D', units: 12 })
    expect(conv?.labels).toBeUndefined()
    const labelled = layers.filter((l) => l.labels).map((l) => l.name)
    expect(labelled).toEqual(['logits', 'prob'])
    expect(layers.find((l) => l.name === 'prob')?.labels).toEqual(LABELS)
    host.dispose()
  })

  it('frees the model tensors on dispose', async () => {
    const host = createEngineHost({ modelDir: dir, backend: 'cpu' })
    await host.start()
    await tf.ready()
    const before = tf.memory().numTensors
    host.dispose()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(tf.memory().numTensors).toBeLessThan(before)
    await expect(host.handlers['model:info'](undefined)).rejects.toMatchObject({ code: 'BAD_MODEL' })
  })

  it('reports a missing model as BAD_MODEL, with the hint, through IPC', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const host = createEngineHost({ modelDir: path.join(dir, 'nope'), backend: 'cpu', missingModelHint: 'Train it first.' })
    await host.start()
    const handlers = new Map<string, (event: null, ...args: unknown[]) => Promise<unknown>>()
    const ipc: IpcMainLike<null> = { handle: (c, l) => { handlers.set(c, l) }, removeHandler: (c) => { handlers.delete(c) } }
    registerIpc(ipc, host.handlers, () => true)
    for (const channel of ['model:info', 'model:layers']) {
      const res = await handlers.get(channel)?.(null, undefined)
      expect(res).toMatchObject({ ok: false, code: 'BAD_MODEL', message: expect.stringContaining('Train it first.') })
    }
    log.mockRestore()
  })

  it('tries again after a failed start, so Retry picks up a model created meanwhile', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const later = path.join(dir, 'later')
    const host = createEngineHost({ modelDir: later, backend: 'cpu' })
    await host.start()
    await expect(host.handlers['model:info'](undefined)).rejects.toMatchObject({ code: 'BAD_MODEL' })
    await mkdir(later)
    await writeModelFolder(later)
    await expect(host.handlers['model:info'](undefined)).resolves.toMatchObject({ name: 'Tiny CNN', labelsCount: 5 })
    host.dispose()
    log.mockRestore()
  })
})

describe('attachLabels', () => {
  it('ignores an empty or missing label list', () => {
    const layers = [{ name: 'a', type: 'Dense', shape: [0], units: 0 }]
    expect(attachLabels(layers, [])[0].labels).toBeUndefined()
    expect(attachLabels(layers, null)[0].labels).toBeUndefined()
  })
})

describe('presets and run channels', () => {
  it('presets:list lists every preset as a copy', () => {
    const host = createEngineHost({ modelDir: dir, backend: 'cpu' })
    const presets = host.handlers['presets:list'](undefined) as ReturnType<typeof presetInfos>
    // DVT's presets first, then the general methods' (lucid, dnnbrain, cnnpref-*, normstep, seed004).
    expect(presets.map((p) => p.name)).toEqual([...Object.keys(PRESETS), ...Object.keys(METHOD_PRESETS)])
    expect(presets[2]).toMatchObject({ name: 'yosinski-3', description: PRESETS['yosinski-3'].description, params: PRESETS['yosinski-3'].params })
    expect(presets.find((p) => p.name === 'lucid')).toMatchObject({ family: 'lucid', method: { method: 'lucid' } })
    // MACO and accentuation are their own family in the preset picker, not "Lucid".
    for (const name of ['maco', 'maco-horama', 'accentuation']) {
      expect(presets.find((p) => p.name === name), name).toMatchObject({ family: 'maco', source: expect.stringMatching(/Fel et al\. 2023|Hamblin et al\. 2024/) })
    }
    presets[2].params.lr_params!['lr'] = -1
    expect(PRESETS['yosinski-3'].params.lr_params).toEqual({ lr: 100 })
    host.dispose()
  })

  it('answers INTERNAL on the run channels without a history folder', async () => {
    const host = createEngineHost({ modelDir: dir, backend: 'cpu' })
    const handlers = new Map<string, (event: null, ...args: unknown[]) => Promise<unknown>>()
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    registerIpc({ handle: (c, l) => { handlers.set(c, l) }, removeHandler: () => undefined }, host.handlers, () => true)
    await expect(handlers.get('runs:list')?.(null)).resolves.toMatchObject({ ok: false, code: 'INTERNAL' })
    log.mockRestore()
    host.dispose()
  })

  it('runs through IPC: run:start, events to emit, runs:list / runs:get / runs:delete, BAD_LAYER as a code', async () => {
    const historyDir = path.join(dir, 'history')
    const events: [string, unknown][] = []
    const host = createEngineHost({ modelDir: dir, backend: 'cpu', historyDir, emit: (c, p) => { events.push([c, p]) } })
    await host.start()
    expect(existsSync(historyDir)).toBe(true)
    const handlers = new Map<string, (event: null, ...args: unknown[]) => Promise<unknown>>()
    registerIpc({ handle: (c, l) => { handlers.set(c, l) }, removeHandler: () => undefined }, host.handlers, () => true)
    const call = (c: string, p?: unknown): Promise<unknown> => handlers.get(c)!(null, p)

    await expect(call('run:start', { params: { push_layer: 'nope', push_channel: 0 } })).resolves.toMatchObject({ ok: false, code: 'BAD_LAYER' })
    const started = await call('run:start', { params: { push_layer: 'logits', push_channel: 3, max_iter: 5 }, previewEvery: 2 }) as { ok: true; value: { runId: string } }
    expect(started.ok).toBe(true)
    const { runId } = started.value
    const done = await new Promise<unknown>((resolve) => {
      const poll = (): void => {
        const d = events.find(([c]) => c === 'run:done')
        if (d) resolve(d[1])
        else setTimeout(poll, 10)
      }
      poll()
    })
    expect(done).toMatchObject({ runId, status: 'done', layer: 'logits', label: 'star', iterations: 5, modelName: 'Tiny CNN', backend: 'cpu' })
    expect(events.filter(([c]) => c === 'run:progress')).toHaveLength(5)
    await expect(call('runs:list')).resolves.toMatchObject({ ok: true, value: [{ runId }] })
    await expect(call('runs:get', runId)).resolves.toMatchObject({ ok: true, value: { runId, series: { obj: expect.any(Array) } } })
    await expect(call('run:stop', runId)).resolves.toEqual({ ok: true, value: undefined })
    await expect(call('runs:delete', runId)).resolves.toEqual({ ok: true, value: undefined })
    await expect(call('runs:list')).resolves.toEqual({ ok: true, value: [] })
    await expect(call('runs:get', '../history')).resolves.toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
    host.dispose()
  })
})
