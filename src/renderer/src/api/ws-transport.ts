/**
 * `VisApi` over a WebSocket, for the headless web mode (src/web/server.ts): each call is sent as
 * `{id, channel, payload}` and settles with the `{id, result}` the server answers; events arrive
 * as `{event, payload}`. Calls made before the socket opens wait for it. No reconnect: when the
 * socket closes, every pending and later call answers `{ok:false, code:'INTERNAL', message:'connection lost'}`.
 * Shape: `createWsVisApi(url) => VisApi & { close() }`
 */
import {
  INVOKE_CHANNELS,
  type EventChannel,
  type EventMap,
  type InvokeChannel,
  type IpcResult,
  type VisApi,
} from '../../../shared/ipc-contract'
import type { StagedUpload, UploadedFile } from '../../../shared/app-types'

/** The part of the browser's WebSocket this module uses (tests pass a fake). */
export interface WebSocketLike {
  readonly readyState: number
  send(data: string): void
  close(): void
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
}

export type WebSocketFactory = (url: string) => WebSocketLike

const CONNECTING = 0
const OPEN = 1

const CONNECTION_LOST: IpcResult<never> = { ok: false, code: 'INTERNAL', message: 'connection lost' }

/** Path prefix of a page served by the web mode: `/s/<token>/` (src/web/server.ts TOKEN_PATH_PREFIX). */
const TOKEN_PATH = /^\/s\/([^/]+)\//

/**
 * The WebSocket URL of the page's server, or null when the page is not served by one (no token).
 * The token is in the page's path (`/s/<token>/`); the older `?token=` form is understood too.
 * @example wsUrlFromLocation(new URL('http://127.0.0.1:5000/s/abc/')) // 'ws://127.0.0.1:5000/s/abc/ws'
 */
export function wsUrlFromLocation(loc: { protocol: string; host: string; search: string; pathname?: string }): string | null {
  if (loc.protocol !== 'http:' && loc.protocol !== 'https:') return null
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:'
  const inPath = TOKEN_PATH.exec(loc.pathname ?? '')
  if (inPath) return `${scheme}//${loc.host}/s/${inPath[1]}/ws`
  const token = new URLSearchParams(loc.search).get('token')
  if (!token) return null
  return `${scheme}//${loc.host}/ws?token=${encodeURIComponent(token)}`
}

/** The upload endpoint beside a page's WebSocket (`ws://h/s/<t>/ws` -> `http://h/s/<t>/upload/`), or null. */
export function uploadBaseFromWsUrl(wsUrl: string): string | null {
  const m = /^(wss?):\/\/([^/]+)(\/s\/[^/]+\/)ws$/.exec(wsUrl)
  return m ? `${m[1] === 'wss' ? 'https' : 'http'}://${m[2]}${m[3]}upload/` : null
}

/** A random upload id (UPLOAD_ID_PATTERN): 24 base64url characters. */
function newUploadId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18))
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_')
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/** How a file is sent (tests pass a fake). */
export type PutFile = (url: string, body: Uint8Array) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>

const defaultPut: PutFile = (u, body) => fetch(u, { method: 'PUT', body: body as BodyInit, headers: { 'Content-Type': 'application/octet-stream' } })

/**
 * Connect to `url` and return the API.
 * @example app.provide(visApiKey, createWsVisApi('ws://127.0.0.1:5000/ws?token=…'))
 */
export function createWsVisApi(
  url: string,
  factory: WebSocketFactory = (u) => new WebSocket(u),
  putFile: PutFile = defaultPut,
): VisApi & { close(): void } {
  const socket = factory(url)
  let nextId = 1
  let closed = false
  const pending = new Map<number, (result: IpcResult<unknown>) => void>()
  const queued: string[] = []
  const listeners = new Map<EventChannel, Set<(payload: never) => void>>()

  socket.addEventListener('open', () => {
    for (const text of queued.splice(0)) socket.send(text)
  })
  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return
    let msg: { id?: unknown; result?: IpcResult<unknown>; event?: unknown; payload?: unknown }
    try {
      msg = JSON.parse(event.data) as typeof msg
    } catch {
      return
    }
    if (typeof msg.id === 'number') {
      const settle = pending.get(msg.id)
      if (settle && msg.result) {
        pending.delete(msg.id)
        settle(msg.result)
      }
    } else if (typeof msg.event === 'string') {
      for (const listener of listeners.get(msg.event as EventChannel) ?? []) {
        try {
          listener(msg.payload as never)
        } catch (e) {
          console.error(`[vis] listener of '${msg.event}' failed:`, e)
        }
      }
    }
  })
  const lost = (): void => {
    if (closed) return
    closed = true
    queued.length = 0
    for (const settle of pending.values()) settle(CONNECTION_LOST)
    pending.clear()
  }
  socket.addEventListener('close', lost)
  socket.addEventListener('error', lost)

  function call(channel: InvokeChannel, payload: unknown): Promise<IpcResult<unknown>> {
    if (closed || (socket.readyState !== CONNECTING && socket.readyState !== OPEN)) return Promise.resolve(CONNECTION_LOST)
    const id = nextId++
    const text = JSON.stringify({ id, channel, payload })
    return new Promise((resolve) => {
      pending.set(id, resolve)
      if (socket.readyState === OPEN) socket.send(text)
      else queued.push(text)
    })
  }

  const api: Record<string, unknown> = {}
  for (const channel of INVOKE_CHANNELS) api[channel] = (payload?: unknown) => call(channel, payload)
  // Model files are streamed to the server with HTTP PUT beside the page (never one huge socket
  // message), then stored and opened by `model:upload {uploadId}`.
  const uploadBase = uploadBaseFromWsUrl(url)
  if (uploadBase) {
    api['model:upload'] = async (payload: UploadedFile[] | StagedUpload): Promise<IpcResult<unknown>> => {
      if (!Array.isArray(payload)) return call('model:upload', payload)
      const uploadId = newUploadId()
      for (const f of payload) {
        let res: { ok: boolean; status: number; text(): Promise<string> }
        try {
          res = await putFile(`${uploadBase}${uploadId}/${encodeURIComponent(f.name)}`, base64ToBytes(f.base64))
        } catch {
          return CONNECTION_LOST
        }
        if (!res.ok) {
          const why = (await res.text().catch(() => '')).trim()
          return { ok: false, code: res.status === 413 ? 'BAD_PARAM' : 'INTERNAL', message: `upload of ${f.name} failed (${res.status}${why ? `: ${why}` : ''})` }
        }
      }
      return call('model:upload', { uploadId })
    }
  }
  api['on'] = <K extends EventChannel>(channel: K, listener: (payload: EventMap[K]) => void): (() => void) => {
    let set = listeners.get(channel)
    if (!set) listeners.set(channel, (set = new Set()))
    const l = listener as (payload: never) => void
    set.add(l)
    return () => {
      set.delete(l)
    }
  }
  api['close'] = () => {
    socket.close()
    lost()
  }
  return api as VisApi & { close(): void }
}
