/**
 * IPC wiring: one handler per contract channel, refused senders, payload validation, and errors
 * turned into codes. A fake ipcMain collects the handlers; no Electron needed.
 */
import { describe, expect, it, vi } from 'vitest'
import { DeepVisError } from '../../src/engine/errors.ts'
import { registerIpc, type IpcHandlers, type IpcMainLike } from '../../src/main/ipc.ts'
import { INVOKE_CHANNELS, type ModelInfo } from '../../src/shared/ipc-contract.ts'

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
}

function sampleHandlers(overrides: Partial<IpcHandlers> = {}): IpcHandlers {
  return {
    'model:info': () => SAMPLE_INFO,
    'model:layers': () => [{ name: 'conv', type: 'Conv2D', shape: [16, 16, 4], units: 4 }],
    ...overrides,
  }
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
    const spy = vi.fn(() => SAMPLE_INFO)
    const ipc = setup({ 'model:info': spy, 'model:layers': () => { spy(); return [] } })
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
