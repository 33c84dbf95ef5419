/**
 * The preload exposes exactly one key, 'vis', whose methods are exactly the contract's channels,
 * each invoking its own channel with its payload. Electron is mocked.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { EVENT_CHANNELS, INVOKE_CHANNELS } from '../../src/shared/ipc-contract.ts'

type IpcListener = (event: unknown, ...args: unknown[]) => void

const electron = vi.hoisted(() => {
  const listeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>()
  return {
    exposed: new Map<string, unknown>(),
    invoke: vi.fn((channel: string, payload: unknown) => Promise.resolve({ ok: true, value: { channel, payload } })),
    listeners,
    /** What main's `webContents.send(channel, payload)` does on the renderer side. */
    emit(channel: string, payload: unknown): void {
      for (const l of listeners.get(channel) ?? []) l({ sender: 'the-ipc-renderer' }, payload)
    },
  }
})

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, value: unknown) => {
      electron.exposed.set(key, value)
    },
  },
  ipcRenderer: {
    invoke: electron.invoke,
    on: (channel: string, listener: IpcListener) => {
      if (!electron.listeners.has(channel)) electron.listeners.set(channel, new Set())
      electron.listeners.get(channel)?.add(listener)
    },
    removeListener: (channel: string, listener: IpcListener) => {
      electron.listeners.get(channel)?.delete(listener)
    },
  },
}))

type ExposedApi = Record<string, (payload?: unknown) => Promise<unknown>> & {
  on: (channel: unknown, listener: unknown) => () => void
}

describe('preload', () => {
  let vis: ExposedApi

  beforeAll(async () => {
    await import('../../src/preload/index.ts')
    vis = electron.exposed.get('vis') as ExposedApi
  })

  it("exposes exactly one key: 'vis'", () => {
    expect([...electron.exposed.keys()]).toEqual(['vis'])
  })

  it('has exactly one method per contract channel plus on, and nothing else', () => {
    expect(Object.keys(vis).sort()).toEqual([...INVOKE_CHANNELS, 'on'].sort())
    for (const channel of INVOKE_CHANNELS) expect(typeof vis[channel]).toBe('function')
  })

  it('is frozen, so the page cannot add or replace methods', () => {
    expect(Object.isFrozen(vis)).toBe(true)
  })

  it.each(INVOKE_CHANNELS)('%s invokes its own channel and returns the result', async (channel) => {
    electron.invoke.mockClear()
    const res = await vis[channel]()
    expect(electron.invoke).toHaveBeenCalledTimes(1)
    expect(electron.invoke).toHaveBeenCalledWith(channel, undefined)
    expect(res).toEqual({ ok: true, value: { channel, payload: undefined } })
  })

  it('passes the payload through unchanged', async () => {
    electron.invoke.mockClear()
    const payload = { layer: 'conv', unit: 3 }
    await vis[INVOKE_CHANNELS[0]](payload)
    expect(electron.invoke).toHaveBeenCalledWith(INVOKE_CHANNELS[0], payload)
  })

  it.each(EVENT_CHANNELS)('on(%s) delivers the payload only, without the Electron event', (channel) => {
    const got: unknown[][] = []
    const off = vis.on(channel, (...args: unknown[]) => { got.push(args) })
    electron.emit(channel, { runId: 'r1', ii: 3 })
    expect(got).toEqual([[{ runId: 'r1', ii: 3 }]])
    off()
  })

  it('on returns an unsubscribe that removes exactly its own listener', () => {
    const a: unknown[] = []
    const b: unknown[] = []
    const offA = vis.on('run:progress', (p: unknown) => a.push(p))
    const offB = vis.on('run:progress', (p: unknown) => b.push(p))
    electron.emit('run:progress', 1)
    offA()
    electron.emit('run:progress', 2)
    expect(a).toEqual([1])
    expect(b).toEqual([1, 2])
    offB()
    expect(electron.listeners.get('run:progress')?.size ?? 0).toBe(0)
  })

  it('on does not hear other channels', () => {
    const got: unknown[] = []
    const off = vis.on('run:done', (p: unknown) => got.push(p))
    electron.emit('run:progress', 1)
    expect(got).toEqual([])
    off()
  })

  it.each(['model:info', 'ELECTRON_BROWSER_REQUIRE', 'run:progress ', '', 42, null])('on refuses %j, which is no event channel', (channel) => {
    expect(() => vis.on(channel, () => undefined)).toThrow(TypeError)
    expect(electron.listeners.has(String(channel))).toBe(false)
  })

  it('on refuses a listener that is not a function', () => {
    expect(() => vis.on('run:done', 'alert(1)')).toThrow(TypeError)
  })
})
