/**
 * The renderer's WebSocket VisApi with a fake socket: request ids and replies, calls queued until
 * the socket opens, events to listeners (and unsubscribe), 'connection lost' for pending and later
 * calls once the socket closes, and the URL built from the page location.
 */
import { describe, expect, it } from 'vitest'
import { createWsVisApi, uploadBaseFromWsUrl, wsUrlFromLocation, type PutFile, type WebSocketLike } from '../../src/renderer/src/api/ws-transport'

class FakeSocket implements WebSocketLike {
  readyState = 0
  sent: { id: number; channel: string; payload: unknown }[] = []
  private readonly handlers = new Map<string, ((e: { data: unknown }) => void)[]>()
  constructor(readonly url: string) {}
  send(data: string): void {
    this.sent.push(JSON.parse(data) as { id: number; channel: string; payload: unknown })
  }
  close(): void {
    this.readyState = 3
    this.fire('close')
  }
  addEventListener(type: string, listener: (e: { data: unknown }) => void): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), listener])
  }
  fire(type: string, data?: unknown): void {
    for (const h of this.handlers.get(type) ?? []) h({ data })
  }
  open(): void {
    this.readyState = 1
    this.fire('open')
  }
  reply(msg: unknown): void {
    this.fire('message', JSON.stringify(msg))
  }
}

function setup(): { api: ReturnType<typeof createWsVisApi>; socket: FakeSocket } {
  let socket: FakeSocket | null = null
  const api = createWsVisApi('ws://h/ws?token=t', (u) => (socket = new FakeSocket(u)))
  return { api, socket: socket! }
}

describe('createWsVisApi', () => {
  it('queues calls until open, then matches replies by id', async () => {
    const { api, socket } = setup()
    expect(socket.url).toBe('ws://h/ws?token=t')
    const info = api['model:info']()
    const list = api['runs:get']('abc')
    expect(socket.sent).toEqual([])
    socket.open()
    expect(socket.sent.map((m) => m.channel)).toEqual(['model:info', 'runs:get'])
    expect(socket.sent[1]!.payload).toBe('abc')
    expect(socket.sent[0]!.id).not.toBe(socket.sent[1]!.id)
    socket.reply({ id: socket.sent[1]!.id, result: { ok: false, code: 'NOT_FOUND', message: 'no run' } })
    socket.reply({ id: socket.sent[0]!.id, result: { ok: true, value: { name: 'm' } } })
    await expect(info).resolves.toEqual({ ok: true, value: { name: 'm' } })
    await expect(list).resolves.toMatchObject({ ok: false, code: 'NOT_FOUND' })
  })

  it('delivers events to listeners until they unsubscribe', () => {
    const { api, socket } = setup()
    socket.open()
    const seen: unknown[] = []
    const off = api.on('run:progress', (p) => seen.push(p.ii))
    socket.reply({ event: 'run:progress', payload: { runId: 'r', ii: 1 } })
    socket.reply({ event: 'run:done', payload: { runId: 'r' } })
    socket.fire('message', 'not json')
    off()
    socket.reply({ event: 'run:progress', payload: { runId: 'r', ii: 2 } })
    expect(seen).toEqual([1])
  })

  it("answers pending and later calls with 'connection lost' once the socket closes", async () => {
    const { api, socket } = setup()
    socket.open()
    const pending = api['runs:list']()
    socket.close()
    const lost = { ok: false, code: 'INTERNAL', message: 'connection lost' }
    await expect(pending).resolves.toEqual(lost)
    await expect(api['presets:list']()).resolves.toEqual(lost)
  })
})

describe('model:upload streams the files with HTTP PUT beside the page, then sends only the upload id', () => {
  function uploadSetup(status = 201) {
    let socket: FakeSocket | null = null
    const puts: { url: string; body: number[] }[] = []
    const put: PutFile = async (url, body) => {
      puts.push({ url, body: [...body] })
      return { ok: status < 300, status, text: async () => (status === 413 ? 'the upload is larger than 768 MiB' : '') }
    }
    const api = createWsVisApi('ws://127.0.0.1:5000/s/tok_1/ws', (u) => (socket = new FakeSocket(u)), put)
    return { api, socket: socket!, puts }
  }

  it('PUTs each file with its exact bytes under one upload id, then model:upload {uploadId}', async () => {
    const { api, socket, puts } = uploadSetup()
    socket.open()
    const files = [{ name: 'model.json', base64: btoa('{"a":1}') }, { name: 'weights.bin', base64: btoa(String.fromCharCode(0, 255, 7)) }]
    const result = api['model:upload'](files)
    for (let i = 0; i < 20 && socket.sent.length === 0; i++) await new Promise((r) => setTimeout(r, 0))
    expect(puts.map((p) => p.url.replace(/upload\/[\w-]+\//, 'upload/ID/'))).toEqual([
      'http://127.0.0.1:5000/s/tok_1/upload/ID/model.json', 'http://127.0.0.1:5000/s/tok_1/upload/ID/weights.bin',
    ])
    expect(puts[1].body).toEqual([0, 255, 7])
    const id = /upload\/([\w-]+)\//.exec(puts[0].url)![1]
    expect(id).toMatch(/^[A-Za-z0-9_-]{16,64}$/)
    expect(puts[1].url).toContain(`/upload/${id}/`)
    expect(socket.sent).toHaveLength(1)
    expect(socket.sent[0]).toMatchObject({ channel: 'model:upload', payload: { uploadId: id } })
    socket.reply({ id: socket.sent[0].id, result: { ok: true, value: { name: 'uploaded model' } } })
    await expect(result).resolves.toEqual({ ok: true, value: { name: 'uploaded model' } })
  })

  it('answers a refused PUT (413) with its reason and sends nothing over the socket', async () => {
    const { api, socket } = uploadSetup(413)
    socket.open()
    await expect(api['model:upload']([{ name: 'model.json', base64: btoa('x') }])).resolves.toMatchObject({
      ok: false, code: 'BAD_PARAM', message: expect.stringContaining('768 MiB'),
    })
    expect(socket.sent).toEqual([])
  })

  it('finds the upload endpoint only beside a /s/<token>/ws socket', () => {
    expect(uploadBaseFromWsUrl('ws://h:1/s/abc/ws')).toBe('http://h:1/s/abc/upload/')
    expect(uploadBaseFromWsUrl('wss://h/s/abc/ws')).toBe('https://h/s/abc/upload/')
    expect(uploadBaseFromWsUrl('ws://h/ws?token=abc')).toBeNull()
  })
})

describe('wsUrlFromLocation', () => {
  it('builds the WebSocket URL from the page location and its token', () => {
    expect(wsUrlFromLocation({ protocol: 'http:', host: '127.0.0.1:5000', search: '?token=a+b%2F' })).toBe('ws://127.0.0.1:5000/ws?token=a%20b%2F')
    expect(wsUrlFromLocation({ protocol: 'https:', host: 'x', search: '?token=t' })).toBe('wss://x/ws?token=t')
    expect(wsUrlFromLocation({ protocol: 'http:', host: 'x', search: '' })).toBeNull()
    // The token in the page's path (the web server's URLs): the WebSocket beside the page.
    expect(wsUrlFromLocation({ protocol: 'http:', host: '127.0.0.1:5000', search: '', pathname: '/s/abc_-9/' })).toBe('ws://127.0.0.1:5000/s/abc_-9/ws')
    expect(wsUrlFromLocation({ protocol: 'http:', host: 'x', search: '', pathname: '/s/abc/index.html' })).toBe('ws://x/s/abc/ws')
    expect(wsUrlFromLocation({ protocol: 'http:', host: 'x', search: '', pathname: '/s//' })).toBeNull()
    expect(wsUrlFromLocation({ protocol: 'file:', host: '', search: '?token=t' })).toBeNull()
  })
})
