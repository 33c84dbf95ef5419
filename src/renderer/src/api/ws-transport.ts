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

/**
 * Connect to `url` and return the API.
 * @example app.provide(visApiKey, createWsVisApi('ws://127.0.0.1:5000/ws?token=…'))
 */
export function createWsVisApi(
  url: string,
  factory: WebSocketFactory = (u) => new WebSocket(u),
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
