/**
 * Headless web mode end to end: the server on port 0 with the real embedded model (cpu backend),
 * a temp history folder and a tiny renderer folder (no build needed). HTTP: the token guard (token in
 * the path, no cookie), the Host allowlist, CSP, content types and path traversal. WebSocket (a real `ws`
 * client): model:info, BAD_PAYLOAD for bad payloads and unknown channels, a 5-iteration run
 * streaming run:progress and run:done, then runs:list showing it. The engine runs in a worker_thread
 * (TensorFlow.js never loads in this thread; `engine: 'in-process'` still works), and messages far
 * larger than a RunSpec (a model upload) are accepted and answered.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { execFile } from 'node:child_process'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { MAX_MESSAGE_BYTES, resolveStaticPath, startWebServer, type WebServer } from '../../src/web/server.ts'
import type { IpcResult } from '../../src/shared/ipc-contract.ts'

const MODEL_DIR = path.resolve(import.meta.dirname, '../../resources/models/deepvis-shapes')
const META_CSP = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; connect-src 'self'; script-src 'self'">`

/** GET with a raw path (fetch would normalize '..' away). */
function get(port: number, rawPath: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET', headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end()
  })
}

interface Client {
  call(channel: string, payload?: unknown): Promise<IpcResult<unknown>>
  events: { event: string; payload: unknown }[]
  waitFor(pred: (e: { event: string; payload: unknown }) => boolean, ms?: number): Promise<{ event: string; payload: unknown }>
  ws: WebSocket
}

async function connect(url: string): Promise<Client> {
  const ws = new WebSocket(url)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  let nextId = 1
  const pending = new Map<unknown, (r: IpcResult<unknown>) => void>()
  const events: { event: string; payload: unknown }[] = []
  const waiters: (() => void)[] = []
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id?: unknown; result?: IpcResult<unknown>; event?: string; payload?: unknown }
    if (msg.event !== undefined) {
      events.push({ event: msg.event, payload: msg.payload })
      for (const w of waiters.splice(0)) w()
    } else {
      pending.get(msg.id)?.(msg.result as IpcResult<unknown>)
      pending.delete(msg.id)
    }
  })
  return {
    ws,
    events,
    call(channel, payload) {
      const id = nextId++
      return new Promise((resolve) => {
        pending.set(id, resolve)
        ws.send(JSON.stringify({ id, channel, payload }))
      })
    },
    async waitFor(pred, ms = 60_000) {
      const deadline = Date.now() + ms
      for (;;) {
        const hit = events.find(pred)
        if (hit) return hit
        if (Date.now() > deadline) throw new Error('event not seen in time')
        await new Promise<void>((resolve) => {
          waiters.push(resolve)
          setTimeout(resolve, 200)
        })
      }
    },
  }
}

describe('web server', () => {
  let tmp: string
  let rendererDir: string
  let server: WebServer

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-web-'))
    rendererDir = path.join(tmp, 'renderer')
    mkdirSync(path.join(rendererDir, 'assets'), { recursive: true })
    writeFileSync(path.join(rendererDir, 'index.html'), `<!doctype html><html><head>${META_CSP}</head><body>hello deepvis</body></html>`)
    writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)\n')
    writeFileSync(path.join(rendererDir, 'assets', 'app.css'), 'body{}\n')
    writeFileSync(path.join(tmp, 'secret.txt'), 'top secret\n')
    server = await startWebServer({ modelDir: MODEL_DIR, backend: 'cpu', historyDir: path.join(tmp, 'history'), rendererDir })
  })

  afterAll(async () => {
    await server?.close()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('binds to 127.0.0.1 and prints a URL with the token in its path', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/s/${server.token}/`)
    expect(server.token.length).toBeGreaterThanOrEqual(32)
  })

  it('refuses requests without the right token (403)', async () => {
    expect((await get(server.port, '/')).status).toBe(403)
    expect((await get(server.port, '/index.html?token=wrong')).status).toBe(403)
    expect((await get(server.port, '/assets/app.js')).status).toBe(403)
    expect((await get(server.port, '/s/wrong/')).status).toBe(403)
    expect((await get(server.port, `/s/${server.token.slice(1)}/assets/app.js`)).status).toBe(403)
    // A cookie is never a credential (and never set).
    expect((await get(server.port, '/', { Cookie: `deepvis_token=${server.token}` })).status).toBe(403)
    expect((await get(server.port, '/assets/app.js', { Cookie: `deepvis_token=${server.token}` })).status).toBe(403)
  })

  it('serves the page under /s/<token>/ with the CSP header and no cookie; /?token= redirects there', async () => {
    const redirect = await get(server.port, `/?token=${server.token}`)
    expect(redirect.status).toBe(303)
    expect(redirect.headers.location).toBe(`/s/${server.token}/`)
    expect(redirect.headers['set-cookie']).toBeUndefined()
    const res = await get(server.port, `/s/${server.token}/`)
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.body).toContain('hello deepvis')
    expect(res.headers['set-cookie']).toBeUndefined()
    const wsOrigin = `ws://127.0.0.1:${server.port}`
    expect(res.headers['content-security-policy']).toContain(`connect-src 'self' ${wsOrigin}`)
    expect(res.headers['content-security-policy']).toContain("default-src 'none'")
    expect(res.headers['content-security-policy']).toContain("script-src 'self'")
    expect(res.body).toContain(`connect-src 'self' ${wsOrigin}`)
    // Opened as localhost: the page's CSP lets it reach the WebSocket on the name it was loaded from.
    const viaLocalhost = await get(server.port, `/s/${server.token}/`, { Host: `localhost:${server.port}` })
    expect(viaLocalhost.status).toBe(200)
    expect(viaLocalhost.headers['content-security-policy']).toContain(`connect-src 'self' ws://localhost:${server.port}`)
    // The page's relative assets carry the token in their path, with their content types.
    const js = await get(server.port, `/s/${server.token}/assets/app.js`)
    expect(js.status).toBe(200)
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8')
    const css = await get(server.port, `/s/${server.token}/assets/app.css`)
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8')
    expect((await get(server.port, `/s/${server.token}/assets/missing.js`)).status).toBe(404)
    expect((await get(server.port, `/s/${server.token}/assets`)).status).toBe(404)
    expect((await get(server.port, `/s/${server.token}`)).status).toBe(308)
  })

  it('serves only requests whose Host names this server (DNS rebinding)', async () => {
    const page = `/s/${server.token}/`
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, '127.0.0.1', `127.0.0.2:${server.port}`]) {
      const res = await get(server.port, page, { Host: host })
      expect(res.status, host).toBe(403)
      expect(res.body).not.toContain('hello deepvis')
    }
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `LOCALHOST:${server.port}`]) {
      expect((await get(server.port, page, { Host: host })).status, host).toBe(200)
    }
  })

  it('refuses path traversal', async () => {
    for (const p of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/%00']) {
      const res = await get(server.port, `/s/${server.token}${p}`)
      expect(res.status, p).not.toBe(200)
      expect(res.body).not.toContain('top secret')
    }
    expect(resolveStaticPath('/srv/r', '/../etc/passwd')).toBeNull()
    expect(resolveStaticPath('/srv/r', '/%2e%2e/etc/passwd')).toBeNull()
    expect(resolveStaticPath('/srv/r', '/')).toBe(path.resolve('/srv/r/index.html'))
  })

  it('refuses a WebSocket without the token, from another origin (scheme and port count) or another Host', async () => {
    const port = server.port
    for (const [url, headers] of [
      [`ws://127.0.0.1:${port}/ws`, {}],
      [`ws://127.0.0.1:${port}/ws?token=bad`, {}],
      [`ws://127.0.0.1:${port}/s/bad/ws`, {}],
      [`ws://127.0.0.1:${port}/s/${server.token}/ws`, { origin: 'http://evil.example' }],
      [`ws://127.0.0.1:${port}/s/${server.token}/ws`, { origin: `https://127.0.0.1:${port}` }],
      [`ws://127.0.0.1:${port}/s/${server.token}/ws`, { origin: `http://127.0.0.1:${port + 1}` }],
      [`ws://127.0.0.1:${port}/s/${server.token}/ws`, { headers: { Host: `evil.example:${port}` } }],
    ] as const) {
      const ws = new WebSocket(url, headers)
      const outcome = await new Promise<string>((resolve) => {
        ws.once('open', () => resolve('open'))
        ws.once('unexpected-response', (_req, res) => resolve(String(res.statusCode)))
        ws.once('error', () => resolve('error'))
      })
      ws.terminate()
      expect(outcome, `${url} ${JSON.stringify(headers)}`).not.toBe('open')
    }
    // The page's own origin is accepted.
    const ok = await connect(`ws://127.0.0.1:${port}/s/${server.token}/ws`)
    expect(await ok.call('presets:list')).toMatchObject({ ok: true })
    ok.ws.close()
  })

  it('answers the contract over a real WebSocket: model:info, BAD_PAYLOAD, a run with events, runs:list', async () => {
    const client = await connect(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`)
    try {
      const info = await client.call('model:info')
      expect(info).toMatchObject({ ok: true, value: { backend: 'cpu', format: 'layers-model' } })

      expect(await client.call('run:start', { params: { push_layer: 'logits' } })).toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
      expect(await client.call('run:start', 'nonsense')).toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
      expect(await client.call('no:such')).toMatchObject({ ok: false, code: 'BAD_PAYLOAD' })
      client.ws.send('not json')
      await expect(client.call('run:start', { params: { push_layer: 'nope', push_channel: 0 } })).resolves.toMatchObject({ ok: false, code: 'BAD_LAYER' })

      const started = await client.call('run:start', { params: { push_layer: 'logits', push_channel: 3, max_iter: 5 }, previewEvery: 2 })
      expect(started.ok).toBe(true)
      const runId = (started as { ok: true; value: { runId: string } }).value.runId
      const done = await client.waitFor((e) => e.event === 'run:done' && (e.payload as { runId: string }).runId === runId)
      expect(done.payload).toMatchObject({ runId, status: 'done', iterations: 5, layer: 'logits' })
      const progress = client.events.filter((e) => e.event === 'run:progress' && (e.payload as { runId: string }).runId === runId)
      expect(progress.length).toBeGreaterThan(0)
      expect(progress.some((e) => typeof (e.payload as { preview?: string }).preview === 'string')).toBe(true)

      const list = await client.call('runs:list')
      expect(list.ok).toBe(true)
      expect((list as { ok: true; value: { runId: string }[] }).value.map((r) => r.runId)).toContain(runId)
    } finally {
      client.ws.close()
    }
  })

  it('runs the engine off this thread: TensorFlow.js is never loaded here', async () => {
    const client = await connect(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`)
    try {
      expect(await client.call('model:info')).toMatchObject({ ok: true })
      // tfjs-core registers its engine on the global object when it is first imported.
      expect((globalThis as { _tfengine?: unknown })._tfengine).toBeUndefined()
    } finally {
      client.ws.close()
    }
  })

  it('a message over the socket limit closes only its own connection; calls of a few MiB are answered', async () => {
    expect(MAX_MESSAGE_BYTES).toBeLessThanOrEqual(64 * 2 ** 20)
    const client = await connect(`ws://127.0.0.1:${server.port}/s/${server.token}/ws`)
    const big = await connect(`ws://127.0.0.1:${server.port}/s/${server.token}/ws`)
    try {
      const junk = Buffer.alloc(3 * 2 ** 20, 7).toString('base64')
      const res = await client.call('model:upload', [{ name: 'model.json', base64: junk }])
      // Not a model, but answered with an error code instead of the connection being dropped.
      expect(res).toMatchObject({ ok: false, code: expect.stringMatching(/^BAD_/) })
      const closed = new Promise<number>((resolve) => big.ws.once('close', (code) => resolve(code)))
      big.ws.send(JSON.stringify({ id: 1, channel: 'presets:list', payload: 'x'.repeat(MAX_MESSAGE_BYTES + 10) }))
      expect(await closed).toBe(1009)
      expect(client.ws.readyState).toBe(WebSocket.OPEN)
      expect(await client.call('presets:list')).toMatchObject({ ok: true })
    } finally {
      client.ws.close()
      big.ws.terminate()
    }
  })

  it('streams an upload to disk with HTTP PUT (bounded memory), then model:upload {uploadId} stores and opens it', async () => {
    const base = `http://127.0.0.1:${server.port}/s/${server.token}/upload`
    const put = (url: string, body: Buffer, headers: Record<string, string> = {}) =>
      fetch(url, { method: 'PUT', body: new Uint8Array(body), headers })
    // Refusals: not a PUT, a name with a folder, a bad id, a declared size over the limit, no token.
    expect((await fetch(`${base}/abcdefghijklmnop1234/model.json`)).status).toBe(405)
    expect((await put(`${base}/abcdefghijklmnop1234/..%2Fx`, Buffer.from('x'))).status).toBe(400)
    expect((await put(`${base}/short/model.json`, Buffer.from('x'))).status).toBe(400)
    expect((await put(`http://127.0.0.1:${server.port}/s/wrong/upload/abcdefghijklmnop1234/model.json`, Buffer.from('x'))).status).toBe(403)
    const tooBig = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: server.port, method: 'PUT', path: `/s/${server.token}/upload/abcdefghijklmnop9999/w.bin`, headers: { 'Content-Length': String(2 ** 40) } }, (res) => resolve(res.statusCode ?? 0))
      req.on('error', reject)
      req.write('x')
    })
    expect(tooBig).toBe(413)

    // 384 MiB streamed: the server's peak memory grows by far less than the file (measured: ~165 MB
    // for 256 MiB and ~172 MB for 640 MiB, garbage chunks awaiting GC; the base64 message it held
    // whole before peaked at 1.33 GB for 200 MiB).
    const UPLOAD_MIB = 384
    const id = 'streamtest0000000001'
    let peak = process.memoryUsage().rss
    const rss0 = peak
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 10)
    // The client in a process of its own (only the server's memory is measured here), writing with
    // back-pressure as a browser's upload does.
    const clientScript = `
      const http = require('node:http'); const chunk = Buffer.alloc(1 << 20, 3); let sent = 0
      const req = http.request({ host: '127.0.0.1', port: ${server.port}, method: 'PUT', path: process.argv[1], headers: { 'Content-Length': String(${UPLOAD_MIB} * 2 ** 20) } },
        (res) => { res.resume(); console.log(res.statusCode) })
      const pump = () => { while (sent < ${UPLOAD_MIB}) { sent++; if (!req.write(chunk)) { req.once('drain', pump); return } } req.end() }
      pump()`
    const status = await new Promise<number>((resolve, reject) => {
      execFile(process.execPath, ['-e', clientScript, `/s/${server.token}/upload/${id}/big.bin`], (err, stdout) => (err ? reject(err) : resolve(Number(stdout.trim()))))
    })
    clearInterval(sampler)
    expect(status).toBe(201)
    expect(peak - rss0, `peak growth over a ${UPLOAD_MIB} MiB upload`).toBeLessThan(UPLOAD_MIB * 2 ** 20 / 2)
    const incoming = path.join(tmp, 'uploads', `.incoming-${id}`)
    expect(statSync(path.join(incoming, 'big.bin')).size).toBe(UPLOAD_MIB * 2 ** 20)
    // The same name twice is refused (never written through).
    expect((await put(`${base}/${id}/big.bin`, Buffer.from('x'))).status).toBe(400)

    // A real model: the embedded one's files, streamed, then opened by id.
    const modelId = 'streamtest0000000002'
    for (const name of ['model.json', 'weights.bin', 'deepvis.json', 'labels.txt']) {
      expect((await put(`${base}/${modelId}/${name}`, readFileSync(path.join(MODEL_DIR, name)))).status).toBe(201)
    }
    const client = await connect(`ws://127.0.0.1:${server.port}/s/${server.token}/ws`)
    try {
      const opened = await client.call('model:upload', { uploadId: modelId })
      expect(opened).toMatchObject({ ok: true, value: { format: 'layers-model' } })
      const folder = (opened as { value: { path: string } }).value.path
      expect(path.dirname(folder)).toBe(path.join(tmp, 'uploads'))
      expect(readFileSync(path.join(folder, 'weights.bin'))).toEqual(readFileSync(path.join(MODEL_DIR, 'weights.bin')))
      expect(existsSync(path.join(tmp, 'uploads', `.incoming-${modelId}`))).toBe(false)
      // An id with no files, and the big non-model upload: coded answers, the model stays.
      expect(await client.call('model:upload', { uploadId: 'nothinguploaded00000' })).toMatchObject({ ok: false, code: 'BAD_PARAM' })
      expect(await client.call('model:upload', { uploadId: id })).toMatchObject({ ok: false, code: expect.stringMatching(/^BAD_/) })
      expect(await client.call('model:info')).toMatchObject({ ok: true, value: { path: folder } })
      expect(await client.call('model:open', MODEL_DIR)).toMatchObject({ ok: true })
    } finally {
      client.ws.close()
    }
  }, 120_000)

  it("can keep the engine on this thread ('in-process')", async () => {
    const s = await startWebServer({ modelDir: MODEL_DIR, backend: 'cpu', historyDir: path.join(tmp, 'history3'), rendererDir, engine: 'in-process' })
    const client = await connect(`ws://127.0.0.1:${s.port}/ws?token=${s.token}`)
    try {
      expect(await client.call('model:info')).toMatchObject({ ok: true, value: { backend: 'cpu' } })
      expect((globalThis as { _tfengine?: unknown })._tfengine).toBeDefined()
    } finally {
      client.ws.close()
      await s.close()
    }
  })

  it('closes cleanly (idempotent)', async () => {
    const s = await startWebServer({ modelDir: MODEL_DIR, backend: 'cpu', historyDir: path.join(tmp, 'history2'), rendererDir })
    const client = await connect(`ws://127.0.0.1:${s.port}/ws?token=${s.token}`)
    const closed = new Promise<void>((resolve) => client.ws.once('close', () => resolve()))
    await Promise.all([s.close(), s.close()])
    await closed
    await expect(get(s.port, `/?token=${s.token}`)).rejects.toThrow()
  })
})
