/**
 * Headless web mode: the built renderer served over HTTP, talking to the same engine host as the
 * Electron app over a WebSocket (for remote GPU servers and end-to-end tests).
 * - Every HTTP request and the WebSocket upgrade need the random access token, carried in the path:
 *   the page is `/s/<token>/`, so its own relative assets (`./assets/…`) and its WebSocket
 *   (`/s/<token>/ws`) carry it too, and no cookie is ever set (cookies ignore ports: a cookie would be
 *   sent to every other server on 127.0.0.1). `/?token=<token>` redirects to the page; `/ws?token=`
 *   is accepted for the WebSocket. Anything else gets 403.
 * - Only requests whose Host header names this server (127.0.0.1, localhost, [::1] or the configured
 *   host, with this port) are served (DNS rebinding); a WebSocket's Origin, when sent, must be exactly
 *   `http://<that host>` (scheme and port included).
 * - A socket error (a frame with invalid UTF-8, one over the size limit, a reset) closes that one
 *   connection and is logged; it never reaches the process. Payloads are checked for depth and size
 *   before schema validation (src/host/ipc.ts).
 * - Static files only from `rendererDir`, no directory traversal; '/' serves index.html.
 * - WebSocket messages: `{id, channel, payload}` → `{id, result: IpcResult}`; engine events are
 *   pushed to every connected page as `{event, payload}`. Payloads go through the same schema
 *   validation and error wrapping as Electron IPC (`invokeHandler` of src/host/ipc.ts).
 * - The same strict CSP as the Electron renderer, with `connect-src` opened to this server's
 *   WebSocket only. Binds to 127.0.0.1 unless told otherwise.
 * - The engine runs in a worker_thread (src/host/worker-engine-host.ts, started from source under
 *   tsx) so that a long iteration never stalls the HTTP and WebSocket traffic; `engine: 'in-process'`
 *   keeps it on this thread (for comparison, see scripts/lag-bench.ts). `model:pick` and `run:export`
 *   without a folder answer as the engine host does (BAD_PARAM: a browser has no native dialog here).
 * Shape: `startWebServer(options) => Promise<{url, port, token, close()}>`
 * Length (~410 lines): the HTTP routes, the streamed uploads and the WebSocket share the token, host and
 * origin checks and the server's lifetime; the pure request guards are in request-guards.ts.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebSocket, WebSocketServer } from 'ws'
import type { BackendChoice } from '../engine/node/tf-free.ts'
import type { EngineHost } from '../host/engine-host.ts'
import { invokeHandler } from '../host/ipc.ts'
import { createSourceEngineWorker } from '../host/source-engine-worker.ts'
import { createWorkerEngineHost } from '../host/worker-engine-host.ts'
import { MAX_UPLOAD_BYTES, UPLOAD_ID_PATTERN, UPLOAD_NAME_PATTERN } from '../shared/ipc-limits.ts'
import { incomingDir, INCOMING_PREFIX } from '../host/upload-paths.ts'
import { INVOKE_CHANNELS, type EventChannel, type EventMap, type InvokeChannel, type IpcResult } from '../shared/ipc-contract.ts'
import { hostName, isAllowedHost, resolveStaticPath, sameToken, splitTokenPath, TOKEN_PATH_PREFIX, webContentSecurityPolicy } from './request-guards.ts'

export { isAllowedHost, resolveStaticPath, splitTokenPath, TOKEN_PATH_PREFIX, webContentSecurityPolicy }

/** The repository root (this file is src/web/server.ts). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** The built renderer (`electron-vite build`). */
export const DEFAULT_RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
/** The embedded default model. */
export const DEFAULT_MODEL_DIR = path.join(ROOT, 'resources', 'models', 'deepvis-shapes')
/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws'
/**
 * Largest WebSocket message accepted. Model files do not travel over the socket in web mode (they
 * are streamed with HTTP PUT, `UPLOAD_PATH`), so messages are calls: a RunSpec is a few KiB. A larger
 * message closes its connection (1009) and nothing else.
 */
export const MAX_MESSAGE_BYTES = 16 * 2 ** 20
/** Path (after the page's `/s/<token>`) of streamed uploads: `/upload/<uploadId>/<file name>`. */
export const UPLOAD_PATH = '/upload/'
/** Chunk size of a streamed upload's writes. */
const UPLOAD_CHUNK_BYTES = 1 << 20

/**
 * Longest wait in close() for the engine's start (backend and model load) to settle before the
 * engine is disposed; the start loads native addons, which must not be cut off (see `starting`).
 */
const CLOSE_START_WAIT_MS = 20_000

/** Where the engine runs: a worker_thread (default) or this thread. */
export type EngineMode = 'worker' | 'in-process'

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

export interface WebServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number
  /** Interface to bind; default 127.0.0.1 (local only). */
  host?: string
  /** Folder of the model to load. Default: the embedded deepvis-shapes model. */
  modelDir?: string
  /** Backend to start. Default 'auto'. */
  backend?: BackendChoice
  /** Folder of the run history. */
  historyDir: string
  /** Folder of the built renderer (holds index.html). Default out/renderer. */
  rendererDir?: string
  /** Access token; default 24 random bytes (base64url). */
  token?: string
  /** Where the engine runs. Default 'worker' (off the event loop). */
  engine?: EngineMode
}

export interface WebServer {
  /** The page URL, token included: open this. */
  url: string
  port: number
  token: string
  /** Stop serving, drop the connections and dispose the engine (once its start has settled, 20 s at most). */
  close(): Promise<void>
}

function failure(code: 'BAD_PAYLOAD' | 'FORBIDDEN', message: string): IpcResult<never> {
  return { ok: false, code, message }
}

/**
 * Start the engine and the server.
 * @example const s = await startWebServer({ historyDir }); console.log(s.url); … await s.close()
 */
export async function startWebServer({
  port = 0,
  host = '127.0.0.1',
  modelDir = DEFAULT_MODEL_DIR,
  backend = 'auto',
  historyDir,
  rendererDir = DEFAULT_RENDERER_DIR,
  token = randomBytes(24).toString('base64url'),
  engine: engineMode = 'worker',
}: WebServerOptions): Promise<WebServer> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES })

  function broadcast<K extends EventChannel>(event: K, payload: EventMap[K]): void {
    const text = JSON.stringify({ event, payload })
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(text)
  }

  const engineOptions = {
    modelDir,
    backend,
    historyDir,
    missingModelHint: "Create it with 'npm run train-default-model'.",
    app: { mode: 'web' as const, canPickFolders: false },
    emit: broadcast,
  }
  // Loaded only when used: in worker mode this thread never loads TensorFlow.js.
  const engine: EngineHost = engineMode === 'in-process'
    ? (await import('../host/engine-host.ts')).createEngineHost(engineOptions)
    : createWorkerEngineHost({ ...engineOptions, createWorker: createSourceEngineWorker })
  // Awaited (bounded) by close(): a worker terminated while it loads a native addon (Dawn's
  // dawn.node, tfjs-node) aborts the whole process (napi_register_module under a terminating env).
  const starting: Promise<void> = engine.start().catch(() => undefined)

  // Known once listening (port 0 picks one).
  let hostPort = ''
  let actualPort = 0

  async function serveStatic(req: http.IncomingMessage, res: http.ServerResponse, rest: string): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n')
      return
    }
    const file = resolveStaticPath(rendererDir, rest)
    if (file === null) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('forbidden\n')
      return
    }
    let body: Buffer
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file')
      body = await readFile(file)
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    const ext = path.extname(file).toLowerCase()
    // The Host was checked: the page's WebSocket goes to the same host:port it was loaded from.
    const wsOrigin = `ws://${req.headers.host ?? hostPort}`
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': CONTENT_TYPES[ext] ?? 'application/octet-stream',
      'Content-Security-Policy': webContentSecurityPolicy(wsOrigin),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cache-Control': 'no-store',
    }
    if (ext === '.html') {
      // The <meta> CSP of index.html is enforced too: open its connect-src to the WebSocket as well.
      body = Buffer.from(body.toString('utf8').replace("connect-src 'self'", `connect-src 'self' ${wsOrigin}`))
    }
    headers['Content-Length'] = body.length
    res.writeHead(200, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  /** Where streamed uploads land: the engine's uploads folder (engine-host UPLOADS_SUBDIR), `.incoming-<id>/`. */
  const uploadsDir = path.join(path.dirname(historyDir), 'uploads')
  // Incoming uploads a previous server left (killed mid-upload): ours by their prefix, nothing else.
  for (const name of await readdir(uploadsDir).catch(() => [] as string[])) {
    if (name.startsWith(INCOMING_PREFIX)) await rm(path.join(uploadsDir, name), { recursive: true, force: true }).catch(() => undefined)
  }
  /** Bytes received so far per upload id (the cap is per upload, over all its files). */
  const uploadBytes = new Map<string, number>()

  /**
   * `PUT <page>/upload/<uploadId>/<name>`: stream the body into `<uploads>/.incoming-<uploadId>/<name>`
   * in chunks (never held in memory whole), refusing names that are not plain, a file that exists
   * already, and an upload over MAX_UPLOAD_BYTES (413; the partial file removed). The page then
   * sends `model:upload` with `{uploadId}` over the WebSocket.
   */
  async function receiveUpload(req: http.IncomingMessage, res: http.ServerResponse, rest: string): Promise<void> {
    const plain = (code: number, text: string): void => {
      if (!res.headersSent) res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(text + '\n')
      req.resume()
    }
    if (req.method !== 'PUT') { res.setHeader('Allow', 'PUT'); plain(405, 'uploads are PUT'); return }
    const [uploadId, name, ...more] = rest.split('/')
    if (more.length || !uploadId || !name || !UPLOAD_ID_PATTERN.test(uploadId) || !UPLOAD_NAME_PATTERN.test(name)) {
      plain(400, 'upload paths are upload/<id>/<plain file name>')
      return
    }
    const declared = Number(req.headers['content-length'] ?? NaN)
    const sofar = uploadBytes.get(uploadId) ?? 0
    if (Number.isFinite(declared) && sofar + declared > MAX_UPLOAD_BYTES) {
      plain(413, `the upload is larger than ${MAX_UPLOAD_BYTES / 2 ** 20} MiB`)
      return
    }
    const dir = incomingDir(uploadsDir, uploadId)
    await mkdir(dir, { recursive: true })
    const file = path.join(dir, name)
    let received = 0
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        received += chunk.length
        if (sofar + received > MAX_UPLOAD_BYTES) done(new Error(`the upload is larger than ${MAX_UPLOAD_BYTES / 2 ** 20} MiB`))
        else done(null, chunk)
      },
    })
    try {
      // 'wx': never write through an existing file (or a FIFO, a link someone placed there).
      await pipeline(req, counter, createWriteStream(file, { flags: 'wx', highWaterMark: UPLOAD_CHUNK_BYTES }))
    } catch (e) {
      await rm(file, { force: true }).catch(() => undefined)
      const tooBig = received + sofar > MAX_UPLOAD_BYTES
      plain(tooBig ? 413 : 400, tooBig ? `the upload is larger than ${MAX_UPLOAD_BYTES / 2 ** 20} MiB` : `upload of ${name} failed: ${(e as NodeJS.ErrnoException).code ?? 'error'}`)
      return
    }
    uploadBytes.set(uploadId, sofar + received)
    res.writeHead(201, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ name, bytes: received }))
  }

  const forbidden = (res: http.ServerResponse, why: string): void => {
    res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`forbidden: ${why}\n`)
  }

  const server = http.createServer((req, res) => {
    if (!isAllowedHost(req.headers.host, host, actualPort)) {
      forbidden(res, 'unknown Host (open the URL the server printed)')
      return
    }
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      forbidden(res, 'malformed URL')
      return
    }
    const split = splitTokenPath(url.pathname)
    if (!split) {
      // The old form of the URL: redirect to the page's path (no cookie).
      if (url.pathname === '/' && sameToken(url.searchParams.get('token'), token)) {
        res.writeHead(303, { Location: `${TOKEN_PATH_PREFIX}${encodeURIComponent(token)}/`, 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store' }).end()
        return
      }
      forbidden(res, 'open the URL with its token')
      return
    }
    if (!sameToken(split.token, token)) {
      forbidden(res, 'open the URL with its token')
      return
    }
    if (split.rest === '') {
      res.writeHead(308, { Location: `${TOKEN_PATH_PREFIX}${encodeURIComponent(token)}/`, 'Cache-Control': 'no-store' }).end()
      return
    }
    if (split.rest.startsWith(UPLOAD_PATH)) {
      receiveUpload(req, res, split.rest.slice(UPLOAD_PATH.length)).catch((e: unknown) => {
        console.error('[web] upload failed:', e)
        if (!res.headersSent) res.writeHead(500).end()
        else res.destroy()
      })
      return
    }
    serveStatic(req, res, split.rest).catch((e: unknown) => {
      console.error('[web] request failed:', e)
      if (!res.headersSent) res.writeHead(500).end()
      else res.destroy()
    })
  })

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy())
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const allowedHost = isAllowedHost(req.headers.host, host, actualPort)
    const origin = req.headers.origin
    // Scheme, host and port: exactly the page's own origin.
    const sameOrigin = origin === undefined || origin === `http://${req.headers.host}`
    const split = splitTokenPath(url.pathname)
    const given = split && split.rest === WS_PATH ? split.token : url.pathname === WS_PATH ? url.searchParams.get('token') : null
    if (!allowedHost || !sameOrigin || !sameToken(given, token)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  wss.on('error', (e) => console.error('[web] WebSocket server error:', e.message))
  wss.on('connection', (ws) => {
    // Invalid UTF-8, a frame over maxPayload, a reset: ws closes this connection (1007 / 1009) and
    // reports here; without a listener the 'error' event would end the process.
    ws.on('error', (e: Error & { code?: string }) => {
      console.error(`[web] connection closed: ${e.code ?? 'error'}: ${e.message}`)
      ws.terminate()
    })
    ws.on('message', (data, isBinary) => {
      let text: string | null = null
      try {
        if (!isBinary) text = data.toString()
      } catch {
        // Too large to become a string: answered as a malformed message.
      }
      void answer(ws, text)
    })
  })

  async function answer(ws: WebSocket, text: string | null): Promise<void> {
    let id: unknown = null
    let result: IpcResult<unknown>
    let msg: unknown = undefined
    try {
      msg = text === null ? undefined : JSON.parse(text)
    } catch {
      // answered below as BAD_PAYLOAD
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
      result = failure('BAD_PAYLOAD', 'messages are JSON objects {id, channel, payload}')
    } else {
      const m = msg as { id?: unknown; channel?: unknown; payload?: unknown }
      id = typeof m.id === 'number' || typeof m.id === 'string' ? m.id : null
      if (id === null) result = failure('BAD_PAYLOAD', 'a message needs an id (number or string)')
      else if (typeof m.channel !== 'string' || !(INVOKE_CHANNELS as readonly string[]).includes(m.channel)) {
        result = failure('BAD_PAYLOAD', `unknown channel '${String(m.channel)}'`)
      } else {
        result = await invokeHandler(m.channel as InvokeChannel, engine.handlers, [m.payload])
      }
    }
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id, result }))
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  actualPort = (server.address() as AddressInfo).port
  hostPort = `${hostName(host)}:${actualPort}`

  let closing: Promise<void> | null = null
  return {
    url: `http://${hostPort}${TOKEN_PATH_PREFIX}${encodeURIComponent(token)}/`,
    port: actualPort,
    token,
    close() {
      closing ??= (async () => {
        for (const client of wss.clients) client.terminate()
        await new Promise<void>((resolve) => wss.close(() => resolve()))
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        let waited: NodeJS.Timeout | undefined
        await Promise.race([starting, new Promise<void>((resolve) => { waited = setTimeout(resolve, CLOSE_START_WAIT_MS) })])
        clearTimeout(waited)
        engine.dispose()
      })()
      return closing
    },
  }
}
