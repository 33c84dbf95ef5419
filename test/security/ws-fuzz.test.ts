/**
 * A bounded WebSocket fuzzer against the real web server (engine in its worker thread, embedded
 * model, cpu backend): raw frames that break the protocol (invalid UTF-8, a header announcing more
 * than the payload limit, reserved opcodes, unmasked frames, truncated headers), then a few hundred
 * seeded messages (unknown channels, wrong types, random JSON of random depth, 3000-deep arrays,
 * many-MiB strings). After every probe a normal client is served (`presets:list`, `model:info`); the
 * server process (this test's) never dies, and every message with an id is answered.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Rng } from '../../src/engine/rng.ts'
import { INVOKE_CHANNELS, type IpcResult } from '../../src/shared/ipc-contract.ts'
import { startWebServer, type WebServer } from '../../src/web/server.ts'

const MODEL_DIR = path.resolve(import.meta.dirname, '../../resources/models/deepvis-shapes')
/** The fuzzer's seed (recorded: a failure names the message it sent). */
const SEED = 20261203
const MESSAGES = 300

let tmp: string
let server: WebServer

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-wsfuzz-'))
  const rendererDir = path.join(tmp, 'renderer')
  mkdirSync(rendererDir, { recursive: true })
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>x</title>')
  server = await startWebServer({ modelDir: MODEL_DIR, backend: 'cpu', historyDir: path.join(tmp, 'data', 'runs'), rendererDir })
}, 120_000)

afterAll(async () => {
  await server?.close()
  rmSync(tmp, { recursive: true, force: true })
})

const wsUrl = (): string => `ws://127.0.0.1:${server.port}/s/${server.token}/ws`

/** Open a client, make one call, close. */
async function callOnce(channel: string, payload?: unknown): Promise<IpcResult<unknown>> {
  const ws = new WebSocket(wsUrl())
  try {
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${channel}`)), 30_000)
      ws.on('message', (d) => {
        const msg = JSON.parse(d.toString()) as { id?: number; result?: IpcResult<unknown> }
        if (msg.id === 1) { clearTimeout(timer); resolve(msg.result!) }
      })
      ws.send(JSON.stringify({ id: 1, channel, payload }))
    })
  } finally {
    ws.terminate()
  }
}

async function expectServing(after: string): Promise<void> {
  expect(await callOnce('presets:list'), after).toMatchObject({ ok: true })
}

/** A masked client frame (RFC 6455) with an optional lying length. */
function frame(opcode: number, payload: Buffer, opts: { fin?: boolean; masked?: boolean; announce?: number } = {}): Buffer {
  const { fin = true, masked = true, announce = payload.length } = opts
  const head: number[] = [(fin ? 0x80 : 0) | opcode]
  const m = masked ? 0x80 : 0
  if (announce < 126) head.push(m | announce)
  else if (announce < 65536) head.push(m | 126, announce >> 8, announce & 255)
  else {
    head.push(m | 127)
    const big = Buffer.alloc(8)
    big.writeBigUInt64BE(BigInt(announce))
    head.push(...big)
  }
  const mask = masked ? randomBytes(4) : Buffer.alloc(0)
  const body = Buffer.from(payload)
  if (masked) for (let i = 0; i < body.length; i++) body[i] ^= mask[i % 4]
  return Buffer.concat([Buffer.from(head), mask, body])
}

/** Upgrade a raw TCP socket, send `bytes`, wait until the server closes it or 3 s pass. */
async function rawProbe(bytes: Buffer): Promise<void> {
  const sock = net.connect(server.port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => { sock.once('connect', () => resolve()); sock.once('error', reject) })
  const key = randomBytes(16).toString('base64')
  sock.write(`GET /s/${server.token}/ws HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  await new Promise<void>((resolve) => {
    let got = ''
    const onData = (d: Buffer): void => {
      got += d.toString('latin1')
      if (got.includes('\r\n\r\n')) { sock.off('data', onData); resolve() }
    }
    sock.on('data', onData)
  })
  sock.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()))
  sock.write(bytes)
  await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))])
  sock.destroy()
}

/** Random JSON of up to `depth` levels. */
function randomJson(rng: Rng, depth: number): unknown {
  const k = rng.int(0, depth > 0 ? 8 : 5)
  switch (k) {
    case 0: return null
    case 1: return rng.random() < 0.5
    case 2: return [0, -1, 1e308, -0, 2 ** 53, 3.5, 1e-320][rng.int(0, 7)]
    case 3: return ['', 'logits', '../..', '/proc/self', '\u0000', '💥'.repeat(rng.int(1, 50)), 'x'.repeat(rng.int(0, 5000))][rng.int(0, 7)]
    case 4: return rng.int(-5, 1000)
    case 5:
    case 6: return Array.from({ length: rng.int(0, 5) }, () => randomJson(rng, depth - 1))
    default: {
      const keys = ['params', 'push_layer', 'push_channel', 'max_iter', 'method', 'files', 'name', 'base64', 'runId', 'folder', 'layer', '__proto__', 'constructor']
      const o: Record<string, unknown> = {}
      for (let i = rng.int(0, 5); i > 0; i--) o[keys[rng.int(0, keys.length)]] = randomJson(rng, depth - 1)
      return o
    }
  }
}

function deepArray(levels: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < levels; i++) v = [v]
  return v
}

describe('WebSocket fuzzing', () => {
  it('survives malformed frames: invalid UTF-8, a lying length over the limit, reserved opcodes, unmasked frames', async () => {
    const probes: [string, Buffer][] = [
      ['invalid UTF-8 text', frame(0x1, Buffer.from([0xff, 0xfe, 0xfd]))],
      ['header announcing 600 MB', frame(0x1, Buffer.alloc(16), { announce: 600 * 2 ** 20 })],
      ['header announcing 2^62 bytes', frame(0x2, Buffer.alloc(0), { announce: 2 ** 62 })],
      ['reserved opcode 0x3', frame(0x3, Buffer.from('hi'))],
      ['unmasked client frame', frame(0x1, Buffer.from('{"id":1}'), { masked: false })],
      ['continuation without start', frame(0x0, Buffer.from('x'))],
      ['truncated header', Buffer.from([0x81])],
      ['fragmented control frame', frame(0x9, Buffer.from('ping'), { fin: false })],
      ['binary junk', frame(0x2, randomBytes(1024))],
      ['close with a bad code', frame(0x8, Buffer.from([0x03, 0xe7]))],
    ]
    for (const [name, bytes] of probes) {
      await rawProbe(bytes)
      await expectServing(name)
    }
  }, 120_000)

  it(`answers ${MESSAGES} seeded hostile messages with coded results and keeps serving (seed ${SEED})`, async () => {
    const rng = new Rng(SEED)
    const ws = new WebSocket(wsUrl())
    await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
    const answers = new Map<number, IpcResult<unknown>>()
    let nullIdAnswers = 0
    ws.on('message', (d) => {
      const msg = JSON.parse(d.toString()) as { id?: unknown; result?: IpcResult<unknown>; event?: string }
      if (msg.event) return
      if (typeof msg.id === 'number') answers.set(msg.id, msg.result!)
      else nullIdAnswers++
    })
    const channels = [...INVOKE_CHANNELS, 'no:such', '', '__proto__', 'constructor'] as string[]
    let withId = 0
    let sentWithoutId = 0
    for (let i = 1; i <= MESSAGES; i++) {
      const kind = rng.int(0, 10)
      let text: string
      if (kind === 0) {
        text = JSON.stringify({ id: i, channel: 'run:start', payload: { params: { push_layer: 'logits', push_channel: 0 }, method: deepArray(3000) } })
        withId++
      } else if (kind === 1) {
        text = ['not json', '[]', 'null', '"x"', '{"channel":"model:info"}', '{"id":{},"channel":"model:info"}'][rng.int(0, 6)]
        sentWithoutId++
      } else if (kind === 2) {
        text = JSON.stringify({ id: i, channel: 'model:upload', payload: [{ name: 'model.json', base64: 'A'.repeat(rng.int(1, 4) * 2 ** 20) }] })
        withId++
      } else {
        const channel = channels[rng.int(0, channels.length)]
        // Never a payload that would really start work on the loaded model: runs are refused by type here.
        const payload = channel === 'run:start' || channel === 'units:render' ? { params: randomJson(rng, 3) } : randomJson(rng, rng.int(0, 40))
        text = JSON.stringify({ id: i, channel, payload })
        withId++
      }
      ws.send(text)
      if (i % 50 === 0) await expectServing(`after message ${i}`)
    }
    const deadline = Date.now() + 120_000
    while (answers.size < withId && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    ws.terminate()
    expect(answers.size).toBe(withId)
    expect(nullIdAnswers).toBe(sentWithoutId)
    for (const [id, res] of answers) {
      if (!res.ok) expect(res.code, `message ${id}`).toMatch(/^(BAD_PAYLOAD|BAD_PARAM|BAD_MODEL|BAD_LAYER|BAD_UNIT|BAD_INPUT_SPEC|FORBIDDEN)$/)
    }
    // The 3000-deep payloads were refused by the depth check, not by a stack overflow.
    await expectServing('the end')
    expect(await callOnce('run:start', { params: { push_layer: 'logits', push_channel: 0 }, method: deepArray(3000) }))
      .toMatchObject({ ok: false, code: 'BAD_PAYLOAD', message: expect.stringContaining('nested deeper') })
    expect(await callOnce('model:info')).toMatchObject({ ok: true, value: { format: 'layers-model' } })
  }, 300_000)
})
