/**
 * IPC wiring: one handler per contract channel, refused senders, payload validation, and errors
 * turned into codes. A fake ipcMain collects the handlers; no Electron needed.
 */
import { describe, expect, it, vi } from 'vitest'
import { DeepVisError } from '../../src/shared/errors.ts'
import { registerIpc, type IpcHandlers, type IpcMainLike } from '../../src/host/ipc.ts'
import { DEFAULT_PARAMS } from '../../src/engine/params.ts'
import { INVOKE_CHANNELS, type ModelInfo } from '../../src/shared/ipc-contract.ts'
import type { RunSpec } from '../../src/shared/run-types.ts'

interface FakeEvent {
  trusted: boolean
}

type Listener = (event: FakeEvent, ...args: unknown[]) => Promise<unknown>

/** Records every `handle` call, refusing a second handler for a channel as Electron does. */
function fakeIpcMain(): IpcMainLike<FakeEvent> & { handlers: Map<string, Listener>; calls: string[] } {
  const handlers = new Map<string, Listener>()
  const calls: string[] = []
  return {
    handlers,
    calls,
    handle(channel, listener) {
      calls.push(channel)
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`)
      handlers.set(channel, listener)
    },
    removeHandler(channel) {
      handlers.delete(channel)
    },
  }
}

const SAMPLE_INFO: ModelInfo = {
  name: 'tiny',
  format: 'layers-model',
  backend: 'cpu',
  backendDetail: '@tensorflow/tfjs-backend-cpu',
  inputSpec: { height: 16, width: 16, channelOrder: 'RGB', mean: [127.5, 127.5, 127.5], source: 'default' },
  labelsCount: 0,
  path: '/models/tiny',
  defaultUnit: null,
  inputSpecCorrected: false,
}

function sampleHandlers(overrides: Partial<IpcHandlers> = {}): IpcHandlers {
  return {
    'model:info': () => SAMPLE_INFO,
    'model:layers': () => [{ name: 'conv', type: 'Conv2D', shape: [16, 16, 4], units: 4 }],
    'presets:list': () => [{ name: 'p', description: 'a preset', params: { decay: 0.1 } }],
    'run:start': () => ({ runId: 'run-1' }),
    'run:stop': () => undefined,
    'runs:list': () => [],
    'runs:get': (runId) => { throw new DeepVisError('BAD_PARAM', `no stored run '${runId}'`) },
    'runs:delete': () => undefined,
    'app:info': () => ({ mode: 'electron', version: '0.0.0', canPickFolders: true, dataDir: '/data' }),
    'model:open': () => SAMPLE_INFO,
    'model:pick': () => null,
    'model:upload': () => SAMPLE_INFO,
    'model:recent': () => [],
    'model:setInputSpec': () => SAMPLE_INFO,
    'run:export': () => ({ folder: '/out', files: [] }),
    'units:render': () => ({ jobId: 'job-1', total: 0, cached: 0 }),
    'units:cancel': () => undefined,
    'units:thumbs': () => [],
    'atlas:open': () => { throw new DeepVisError('BAD_PARAM', 'no atlas') },
    'atlas:pick': () => null,
    'atlas:thumbs': () => ({ layer: 'conv', total: 0, offset: 0, cells: [] }),
    'atlas:unit': () => { throw new DeepVisError('BAD_UNIT', 'no unit') },
    'live:activations': () => ({ layer: 'conv', shape: [4], min: [0, 0, 0, 0], max: [1, 2, 3, 4], mean: [1, 2, 3, 4], argmax: [0, 0, 0, 0, 0, 0, 0, 0], values: [1, 2, 3, 4], ms: 1 }),
    'live:gradients': () => ({ views: [], ms: 1 }),
    'live:folder': (folder) => ({ folder, images: [], total: 0 }),
    'live:image': () => ({ name: 'a.png', width: 16, height: 16, rgb: '', png: '' }),
    'index:build': () => ({ jobId: 'job-2', total: 0, cached: false }),
    'index:cancel': () => undefined,
    'index:top': () => ({ entries: [], images: 0, failed: 0, inputSize: [16, 16] }),
    ...overrides,
  }
}

/** Every handler replaced by `spy` (for checks that no handler runs). */
function spyHandlers(spy: () => void): IpcHandlers {
  const h = sampleHandlers()
  const wrap = <K extends keyof IpcHandlers>(k: K): IpcHandlers[K] => ((p: never) => { spy(); return (h[k] as (p: never) => unknown)(p) }) as IpcHandlers[K]
  return Object.fromEntries(INVOKE_CHANNELS.map((k) => [k, wrap(k)])) as unknown as IpcHandlers
}

function setup(overrides: Partial<IpcHandlers> = {}): ReturnType<typeof fakeIpcMain> {
  const ipc = fakeIpcMain()
  registerIpc(ipc, sampleHandlers(overrides), (event) => event.trusted)
  return ipc
}

async function call(ipc: ReturnType<typeof fakeIpcMain>, channel: string, trusted: boolean, ...args: unknown[]): Promise<unknown> {
  const listener = ipc.handlers.get(channel)
  if (!listener) throw new Error(`no handler for ${channel}`)
  return listener({ trusted }, ...args)
}

describe('registerIpc', () => {
  it('registers exactly one handler per contract channel', () => {
    const ipc = setup()
    expect([...ipc.calls].sort()).toEqual([...INVOKE_CHANNELS].sort())
    expect(new Set(ipc.calls).size).toBe(ipc.calls.length)
  })

  it('removes every handler on unregister', () => {
    const ipc = fakeIpcMain()
    const unregister = registerIpc(ipc, sampleHandlers(), () => true)
    unregister()
    expect(ipc.handlers.size).toBe(0)
  })

  it('answers a trusted call with {ok: true, value}', async () => {
    const ipc = setup()
    await expect(call(ipc, 'model:info', true, undefined)).resolves.toEqual({ ok: true, value: SAMPLE_INFO })
    await expect(call(ipc, 'model:layers', true)).resolves.toMatchObject({ ok: true, value: [{ name: 'conv', units: 4 }] })
  })

  it.each(INVOKE_CHANNELS)('refuses an untrusted sender on %s without running the handler', async (channel) => {
    const spy = vi.fn()
    const ipc = setup(spyHandlers(spy))
    await expect(call(ipc, channel, false, undefined)).resolves.toMatchObject({ ok: false, code: 'FORBIDDEN' })
    expect(spy).not.toHaveBeenCalled()
  })

  it('answers BAD_PAYLOAD for a payload that does not match the schema', async () => {
    const spy = vi.fn(() => SAMPLE_INFO)
    const ipc = setup({ 'model:info': spy })
    const res = await call(ipc, 'model:info', true, { path: '/etc/passwd' })
    expect(res).toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
    expect((res as { message: string }).message).toContain('model:info')
    expect(spy).not.toHaveBeenCalled()
  })

  it('answers BAD_PAYLOAD for extra arguments', async () => {
    const ipc = setup()
    await expect(call(ipc, 'model:layers', true, undefined, 'extra')).resolves.toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
  })

  it("turns a DeepVisError into its code and message", async () => {
    const ipc = setup({ 'model:info': () => { throw new DeepVisError('BAD_MODEL', 'no model.json in /x') } })
    await expect(call(ipc, 'model:info', true)).resolves.toEqual({ ok: false, code: 'BAD_MODEL', message: 'no model.json in /x' })
  })

  it('turns an async DeepVisError into its code too', async () => {
    const ipc = setup({ 'model:layers': async () => { throw new DeepVisError('BACKEND', 'no backend') } })
    await expect(call(ipc, 'model:layers', true)).resolves.toEqual({ ok: false, code: 'BACKEND', message: 'no backend' })
  })

  it('turns any other error into INTERNAL, keeping its message', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const ipc = setup({ 'model:info': () => { throw new TypeError('boom') } })
    const res = await call(ipc, 'model:info', true)
    expect(res).toMatchObject({ ok: false, code: 'INTERNAL' })
    expect((res as { message: string }).message).toContain('boom')
    expect(log).toHaveBeenCalled()
    log.mockRestore()
  })

  it('never rejects, even for a thrown non-Error', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const ipc = setup({ 'model:layers': () => { throw 'a string' } })
    await expect(call(ipc, 'model:layers', true)).resolves.toMatchObject({ ok: false, code: 'INTERNAL', message: expect.stringContaining('a string') })
    log.mockRestore()
  })
})

describe('run channels', () => {
  const spec = { params: { push_layer: 'logits', push_channel: 2, max_iter: 12 }, previewEvery: 4 }

  it('run:start hands the handler a spec with every FindParams field filled with defaults', async () => {
    const start = vi.fn((_spec: RunSpec) => ({ runId: 'r1' }))
    const ipc = setup({ 'run:start': start })
    await expect(call(ipc, 'run:start', true, spec)).resolves.toEqual({ ok: true, value: { runId: 'r1' } })
    const got = start.mock.calls[0][0]
    expect(got.params).toEqual({ ...DEFAULT_PARAMS, push_layer: 'logits', push_channel: 2, max_iter: 12 })
    expect(got.previewEvery).toBe(4)
  })

  it.each([
    ['no params', {}],
    ['an unknown spec key', { ...spec, evil: 1 }],
    ['an unknown params key', { params: { ...spec.params, output_prefix: '/etc/' } }],
    ['a negative channel', { params: { ...spec.params, push_channel: -1 } }],
    ['decay above 1', { params: { ...spec.params, decay: 1.5 } }],
    ['a percentile above 100', { params: { ...spec.params, small_norm_percentile: 101 } }],
    ['push_dir 0', { params: { ...spec.params, push_dir: 0 } }],
    ['max_iter 0', { params: { ...spec.params, max_iter: 0 } }],
    ['a fractional max_iter', { params: { ...spec.params, max_iter: 2.5 } }],
    ['a seed beyond uint32', { params: { ...spec.params, rand_seed: 2 ** 32 } }],
    ['an unknown lr policy', { params: { ...spec.params, lr_policy: 'cosine' } }],
    ['lr_params missing a key of the policy', { params: { ...spec.params, lr_policy: 'progress', lr_params: { max_lr: 1 } } }],
    ['lr_params with an unused key', { params: { ...spec.params, lr_params: { lr: 1, max_lr: 2 } } }],
    ['a non-positive lr', { params: { ...spec.params, lr_params: { lr: 0 } } }],
    ['previewEvery 0', { ...spec, previewEvery: 0 }],
    ['a compare group with a slash', { ...spec, compareGroup: 'a/b' }],
  ])('run:start refuses %s with BAD_PAYLOAD', async (_what, payload) => {
    const start = vi.fn(() => ({ runId: 'r1' }))
    const ipc = setup({ 'run:start': start })
    await expect(call(ipc, 'run:start', true, payload)).resolves.toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
    expect(start).not.toHaveBeenCalled()
  })

  it.each(['run:stop', 'runs:get', 'runs:delete'] as const)('%s refuses run ids that could leave the history folder', async (channel) => {
    const spy = vi.fn()
    const ipc = setup(spyHandlers(spy))
    for (const bad of ['../x', '..', 'a/b', 'a\\b', '', 'x'.repeat(65), 'a.b', 42, undefined]) {
      await expect(call(ipc, channel, true, bad)).resolves.toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
    }
    expect(spy).not.toHaveBeenCalled()
    await expect(call(ipc, channel, true, '20261123-142233-logits-0002-ab12')).resolves.toMatchObject({ ok: channel !== 'runs:get' })
    expect(spy).toHaveBeenCalledTimes(1)
  })

  it('runs:get turns a missing run into its code', async () => {
    const ipc = setup()
    await expect(call(ipc, 'runs:get', true, 'nope')).resolves.toEqual({ ok: false, code: 'BAD_PARAM', message: "no stored run 'nope'" })
  })

  it.each(['presets:list', 'runs:list'] as const)('%s takes no payload', async (channel) => {
    const ipc = setup()
    await expect(call(ipc, channel, true, { x: 1 })).resolves.toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
    await expect(call(ipc, channel, true)).resolves.toMatchObject({ ok: true })
  })
})
