/**
 * The history folder may hold the user's own things (`--history ~/Documents` by mistake): the web
 * server keeps every unrelated file and folder byte for byte across a start, a finished run, a run
 * killed with kill -9 mid-way, and the next start (which sweeps only its own staging folder).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { IpcResult } from '../../src/shared/ipc-contract.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const URL_LINE = /(http:\/\/127\.0\.0\.1:\d+\/s\/[\w-]+\/)/

let tmp: string
let renderer: string
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-histkill-'))
  renderer = path.join(tmp, 'renderer')
  mkdirSync(renderer)
  writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>x</title>')
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

/** Every file under `dir` (relative path -> sha256), skipping the paths `skip` accepts. */
function snapshot(dir: string, skip: (rel: string) => boolean): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name)
      const rel = path.relative(dir, full)
      if (skip(rel)) continue
      if (statSync(full).isDirectory()) { out.set(rel + '/', 'dir'); walk(full) }
      else out.set(rel, createHash('sha256').update(readFileSync(full)).digest('hex'))
    }
  }
  walk(dir)
  return out
}

function startServer(history: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/web/main.ts', '--backend', 'cpu', '--history', history, '--renderer', renderer], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL in time: ${out}`)), 120_000)
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = URL_LINE.exec(out)
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }) }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', () => reject(new Error(`server exited: ${out}`)))
  })
}

async function client(url: string): Promise<{ call(channel: string, payload?: unknown): Promise<IpcResult<unknown>>; events: { event: string; payload: { runId?: string; status?: string } }[]; ws: WebSocket }> {
  const u = new URL(url)
  const ws = new WebSocket(`ws://${u.host}${u.pathname}ws`)
  await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject) })
  const pending = new Map<number, (r: IpcResult<unknown>) => void>()
  const events: { event: string; payload: { runId?: string; status?: string } }[] = []
  ws.on('message', (d) => {
    const msg = JSON.parse(d.toString()) as { id?: number; result?: IpcResult<unknown>; event?: string; payload?: { runId?: string } }
    if (msg.event) events.push({ event: msg.event, payload: msg.payload ?? {} })
    else if (typeof msg.id === 'number') { pending.get(msg.id)?.(msg.result!); pending.delete(msg.id) }
  })
  let id = 0
  return {
    ws,
    events,
    call: (channel, payload) => new Promise((resolve) => { const i = ++id; pending.set(i, resolve); ws.send(JSON.stringify({ id: i, channel, payload })) }),
  }
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('a --history folder with unrelated content', () => {
  it('keeps it byte for byte after start, a run, kill -9 mid-run and the next start', async () => {
    const history = path.join(tmp, 'Documents')
    mkdirSync(path.join(history, 'src', 'deep'), { recursive: true })
    mkdirSync(path.join(history, '20260101-000000-logits-0001-cafe'))
    writeFileSync(path.join(history, 'thesis.tex'), '\\documentclass{article}\n')
    writeFileSync(path.join(history, 'src', 'main.py'), 'print(1)\n')
    writeFileSync(path.join(history, 'src', 'deep', 'data.bin'), Buffer.alloc(4096, 7))
    writeFileSync(path.join(history, '20260101-000000-logits-0001-cafe', 'notes.txt'), 'looks like a run id, is not one\n')
    const ours = (rel: string): boolean => rel === '.partial' || rel.startsWith('.partial/') || /^\d{8}-\d{6}-/.test(rel) && !rel.startsWith('20260101-000000-logits-0001-cafe')
    const before = snapshot(history, ours)

    let s = await startServer(history)
    try {
      let c = await client(s.url)
      const done = await c.call('run:start', { params: { push_layer: 'logits', push_channel: 1, max_iter: 3 } })
      expect(done.ok).toBe(true)
      const doneId = (done as { value: { runId: string } }).value.runId
      await until(() => c.events.some((e) => e.event === 'run:done' && e.payload.runId === doneId), 120_000, 'the first run')
      const long = await c.call('run:start', { params: { push_layer: 'logits', push_channel: 2, max_iter: 100000 } })
      const longId = (long as { value: { runId: string } }).value.runId
      await until(() => c.events.some((e) => e.event === 'run:progress' && e.payload.runId === longId), 120_000, 'the long run')
      c.ws.terminate()
      s.child.kill('SIGKILL')
      await new Promise((r) => s.child.once('exit', r))
      expect(snapshot(history, ours)).toEqual(before)

      s = await startServer(history)
      c = await client(s.url)
      const list = await c.call('runs:list')
      expect((list as { value: { runId: string }[] }).value.map((r) => r.runId)).toEqual([doneId])
      expect(readdirSync(path.join(history, '.partial'))).toEqual([])
      expect(snapshot(history, ours)).toEqual(before)
      c.ws.terminate()
    } finally {
      s.child.kill('SIGKILL')
    }
  }, 400_000)
})
