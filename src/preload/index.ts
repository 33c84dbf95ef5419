/**
 * Preload (sandboxed, context-isolated): builds the `VisApi` from the contract's channel lists, one
 * method per invoke channel that calls `ipcRenderer.invoke(channel, payload)`, plus `on(channel,
 * listener)` for the contract's event channels, and exposes it as `window.vis`. Nothing else crosses
 * the bridge: no `ipcRenderer`, no generic send/invoke, no Electron event objects, so the page can
 * reach only the channels of the contract (Electron's context-isolation guide).
 * Shape: `buildVisApi(invoke, subscribe) => VisApi`; on load, `contextBridge.exposeInMainWorld('vis', api)`
 *
 * Sandboxed preloads run as plain CommonJS and may only require 'electron'; electron-vite bundles
 * the contract in.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { EVENT_CHANNELS, INVOKE_CHANNELS, type EventChannel, type InvokeChannel, type VisApi } from '../shared/ipc-contract'

/** The one thing the API needs from Electron to call main: invoke a channel with a payload. */
export type Invoke = (channel: InvokeChannel, payload: unknown) => Promise<unknown>

/** Listen to an event channel with a payload-only listener; returns the unsubscribe function. */
export type Subscribe = (channel: EventChannel, listener: (payload: unknown) => void) => () => void

/**
 * One method per contract channel, each invoking its own channel with its (single) payload, and
 * `on`, which accepts only the contract's event channels (anything else throws a TypeError, so the
 * page cannot listen to arbitrary IPC). Main validates the payload and always answers an
 * `IpcResult`, never a rejection, so the cast from `unknown` only restates the contract.
 */
export function buildVisApi(invoke: Invoke, subscribe: Subscribe): VisApi {
  const api: Record<string, unknown> = {}
  for (const channel of INVOKE_CHANNELS) {
    api[channel] = (payload?: unknown) => invoke(channel, payload)
  }
  api['on'] = (channel: unknown, listener: unknown): (() => void) => {
    if (!(EVENT_CHANNELS as readonly unknown[]).includes(channel)) {
      throw new TypeError(`vis.on: unknown event channel ${JSON.stringify(channel)}; allowed: ${EVENT_CHANNELS.join(', ')}`)
    }
    if (typeof listener !== 'function') throw new TypeError('vis.on: the listener must be a function')
    return subscribe(channel as EventChannel, (payload) => (listener as (p: unknown) => void)(payload))
  }
  return Object.freeze(api) as unknown as VisApi
}

/** `ipcRenderer.on` with a wrapper that drops the Electron event object (it exposes `sender`). */
export function ipcSubscribe(channel: EventChannel, listener: (payload: unknown) => void): () => void {
  const wrapped = (_event: IpcRendererEvent, payload: unknown): void => listener(payload)
  ipcRenderer.on(channel, wrapped)
  return () => {
    ipcRenderer.removeListener(channel, wrapped)
  }
}

const api = buildVisApi((channel, payload) => ipcRenderer.invoke(channel, payload), ipcSubscribe)
contextBridge.exposeInMainWorld('vis', api)
