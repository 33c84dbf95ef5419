/**
 * The preload exposes exactly one key, 'vis', whose methods are exactly the contract's channels,
 * each invoking its own channel with its payload. Electron is mocked.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { INVOKE_CHANNELS } from '../../src/shared/ipc-contract.ts'

const electron = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoke: vi.fn((channel: string, payload: unknown) => Promise.resolve({ ok: true, value: { channel, payload } })),
}))

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, value: unknown) => {
      electron.exposed.set(key, value)
    },
  },
  ipcRenderer: { invoke: electron.invoke },
}))

type ExposedApi = Record<string, (payload?: unknown) => Promise<unknown>>

describe('preload', () => {
  let vis: ExposedApi

  beforeAll(async () => {
    await import('../../src/preload/index.ts')
    vis = electron.exposed.get('vis') as ExposedApi
  })

  it("exposes exactly one key: 'vis'", () => {
    expect([...electron.exposed.keys()]).toEqual(['vis'])
  })

  it('has exactly one method per contract channel, and nothing else', () => {
    expect(Object.keys(vis).sort()).toEqual([...INVOKE_CHANNELS].sort())
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
})
