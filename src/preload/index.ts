/**
 * Preload (sandboxed, context-isolated): builds the `VisApi` from the contract's channel list,
 * one method per channel that calls `ipcRenderer.invoke(channel, payload)`, and exposes it as
 * `window.vis`. Nothing else crosses the bridge: no `ipcRenderer`, no generic send/invoke, so the
 * page can reach only the channels of the contract (Electron's context-isolation guide).
 * Shape: `buildVisApi(invoke) => VisApi`; on load, `contextBridge.exposeInMainWorld('vis', api)`
 *
 * Sandboxed preloads run as plain CommonJS and may only require 'electron'; electron-vite bundles
 * the contract in.
 */
import { contextBridge, ipcRenderer } from 'electron'
import { INVOKE_CHANNELS, type InvokeChannel, type VisApi } from '../shared/ipc-contract'

/** The one thing the API needs from Electron: invoke a channel with a payload. */
export type Invoke = (channel: InvokeChannel, payload: unknown) => Promise<unknown>

/**
 * One method per contract channel, each invoking its own channel with its (single) payload.
 * Main validates the payload and always answers an `IpcResult`, never a rejection, so the cast
 * from `unknown` only restates the contract.
 */
export function buildVisApi(invoke: Invoke): VisApi {
  const api: Record<string, (payload?: unknown) => Promise<unknown>> = {}
  for (const channel of INVOKE_CHANNELS) {
    api[channel] = (payload?: unknown) => invoke(channel, payload)
  }
  return Object.freeze(api) as unknown as VisApi
}

const api = buildVisApi((channel, payload) => ipcRenderer.invoke(channel, payload))
contextBridge.exposeInMainWorld('vis', api)
