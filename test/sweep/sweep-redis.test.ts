/**
 * `deepvis sweep --queue` with `deepvis worker`s over BullMQ on a private redis-server (loopback, random
 * port, password, no persistence), all as real processes:
 * - 2 workers sweep the embedded model's logits (10 units x 2 presets); one is killed (SIGKILL) mid-job:
 *   its job is re-run by the other, the atlas holds each job exactly once, equal to single CLI runs;
 * - a wrong password, a worker whose model hash differs, and a Redis server that goes away mid-sweep each
 *   give a clear message (never the password) and lose no finished result.
 * Skipped, with a message, where the redis-server binary is absent (CI installs Debian's redis-server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, readdirSync, readFileSync, appendFileSync, statSync } from 'node:fs'
import http from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { cli } from '../helpers/cli.ts'
import { jobDir, parseUnits, planJobs, type SweepJob } from '../../src/sweep/plan.ts'
import { DEFAULT_MODEL_DIR } from '../../src/engine/node/load-model.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/deepvis.mjs')
const REDIS = spawnSync('which', ['redis-server']).stdout?.toString().trim() ?? ''
const hasRedis = REDIS !== '' && existsSync(REDIS)
if (!hasRedis) console.warn('[sweep-redis] redis-server not found: skipping the queue tests (CI installs Debian\'s redis-server).')

const PRESETS = ['yosinski-1', 'yosinski-2']
const ITER = '20'
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`
const LOCK_MS = '3000'

interface Proc { child: ChildProcess; out: () => string; done: Promise<number | null> }
function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  child.stdout!.on('data', (d) => { text += d })
  child.stderr!.on('data', (d) => { text += d })
  return { child, out: () => text, done: new Promise((resolve) => child.on('close', (code) => resolve(code))) }
}
async function until(what: string, ok: () => boolean, ms = 120_000): Promise<void> {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })
}

const infos = (atlas: string, job: SweepJob): string[] =>
  existsSync(jobDir(atlas, job)) ? readdirSync(jobDir(atlas, job)).filter((f) => f.endsWith('info.json')).map((f) => path.join(jobDir(atlas, job), f)) : []
function fingerprint(infoFile: string): unknown {
  const info = JSON.parse(readFileSync(infoFile, 'utf8'))
  const dir = path.dirname(infoFile)
  const pngs = Object.fromEntries((info.files as string[]).filter((f) => f.endsWith('.png')).sort().map((f) => [f, readFileSync(path.join(dir, f)).toString('base64')]))
  return { params: info.params, target: info.target, obj: info.series.obj, best: info.best, last: info.last, majority: info.majority, quality: info.quality, pngs }
}

describe.skipIf(!hasRedis)('deepvis sweep --queue / deepvis worker (BullMQ on redis-server)', () => {
  let tmp = ''
  let port = 0
  let redis: ChildProcess | undefined
  const procs: ChildProcess[] = []
  const url = (pw = PASSWORD): string => `redis://:${pw}@127.0.0.1:${port}`
  const startRedis = async (): Promise<void> => {
    redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    await until('redis-server', () => spawnSync('redis-cli', ['-p', String(port), '-a', PASSWORD, '--no-auth-warning', 'ping']).stdout?.toString().includes('PONG'), 10_000)
  }
  const worker = (extra: string[] = []): Proc => {
    const p = start(['worker', '--queue', url(), '--concurrency', '1', '--lock-ms', LOCK_MS, '--give-up', '3', ...extra])
    procs.push(p.child)
    return p
  }
  const sweep = (atlas: string, units: string, extra: string[] = []): Proc => {
    const p = start(['sweep', '--layers', 'logits', '--units', units, '--preset', PRESETS[0], '--preset', PRESETS[1], '--max-iter', ITER, '--backend', 'wasm',
      '--out', atlas, '--queue', url(), ...extra])
    procs.push(p.child)
    return p
  }

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-sweep-redis-'))
    port = await freePort()
    await startRedis()
  }, 30_000)
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
    redis?.kill('SIGKILL')
    await rm(tmp, { recursive: true, force: true })
  })

  it('2 workers, one killed mid-job: every job exactly once, equal to single CLI runs', async () => {
    const atlas = path.join(tmp, 'atlas')
    const jobs = planJobs([{ name: 'logits', units: parseUnits('0-9', 10) }], PRESETS)
    // Worker B takes its model from a URL (a static server of the embedded model's folder).
    const files = http.createServer((req, res) => {
      const file = path.join(DEFAULT_MODEL_DIR, path.basename(decodeURIComponent(req.url ?? '/')))
      if (existsSync(file) && statSync(file).isFile()) res.writeHead(200).end(readFileSync(file))
      else res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve))
    const a = worker()
    const b = worker(['--model', `http://127.0.0.1:${(files.address() as net.AddressInfo).port}/shapes/`])
    await until('worker B downloaded its model', () => /model downloaded from http:\/\/127\.0\.0\.1:\d+\/shapes\/ into /.test(b.out()))
    const downloaded = /model downloaded from \S+ into (\S+)\n/.exec(b.out())![1]
    const s = sweep(atlas, '0-9')
    // Redis holds only results in flight: the coordinator drops each job once its files are written.
    let mostCompleted = 0
    const watch = setInterval(() => {
      const n = Number(spawnSync('redis-cli', ['-p', String(port), '-a', PASSWORD, '--no-auth-warning', 'zcard', 'bull:deepvis-sweep:completed']).stdout?.toString().trim())
      if (Number.isFinite(n)) mostCompleted = Math.max(mostCompleted, n)
    }, 150)
    // Kill worker A while it runs its third job.
    await until('worker A mid-job', () => (a.out().match(/ done in /g) ?? []).length >= 2 && /started[^\n]*\n$/.test(a.out()))
    const victim = /deepvis worker: (\S+) started[^\n]*\n$/.exec(a.out())![1]
    a.child.kill('SIGKILL')
    expect(await s.done, s.out()).toBe(0)
    clearInterval(watch)
    expect(mostCompleted).toBeLessThanOrEqual(3) // of 20 results
    expect(s.out()).toMatch(/20 done, 0 skipped, 0 failed/)
    expect(b.out()).toContain(`${victim} done in`) // re-run by the other worker after the lock expired
    for (const job of jobs) expect(infos(atlas, job), job.id).toHaveLength(1)
    const manifest = JSON.parse(readFileSync(path.join(atlas, 'manifest.json'), 'utf8'))
    expect(Object.keys(manifest.results)).toHaveLength(20)
    for (const job of jobs) {
      const prefix = path.join(tmp, 'single', `${job.unit}-${job.preset}`) + path.sep
      const r = await cli('optimize', '--backend', 'wasm', '--push-layer', job.layer, '--push-channel', String(job.unit), '--preset', job.preset,
        '--max-iter', ITER, '--skipbig', '--output-prefix', prefix)
      expect(r.code, r.err).toBe(0)
      const single = readdirSync(prefix).find((f) => f.endsWith('info.json'))!
      expect(fingerprint(infos(atlas, job)[0]), job.id).toEqual(fingerprint(path.join(prefix, single)))
    }
    expect(s.out() + a.out() + b.out()).not.toContain(PASSWORD)
    b.child.kill('SIGTERM')
    await b.done
    files.close()
    expect(existsSync(downloaded)).toBe(false) // its downloaded model went with it
  }, 240_000)

  it('a wrong password: one clear line, exit 2, nothing written, the password never printed', async () => {
    const atlas = path.join(tmp, 'wrongpw')
    const s = start(['sweep', '--layers', 'logits', '--units', '0', '--preset', 'yosinski-1', '--out', atlas, '--queue', url('not-the-password')])
    expect(await s.done).toBe(2)
    expect(s.out()).toMatch(/cannot use the queue at redis:\/\/127\.0\.0\.1:\d+: wrong or missing password/)
    expect(s.out()).not.toContain('not-the-password')
    expect(existsSync(atlas)).toBe(false)
    const w = start(['worker', '--queue', url('not-the-password')])
    expect(await w.done).toBe(2)
    expect(w.out()).toMatch(/wrong or missing password/)
    expect(w.out()).not.toContain('not-the-password')
  }, 60_000)

  it('a worker whose model hash differs stops with a clear message; a right worker finishes the sweep', async () => {
    const other = path.join(tmp, 'other-model')
    cpSync(DEFAULT_MODEL_DIR, other, { recursive: true })
    appendFileSync(path.join(other, 'labels.txt'), 'extra label\n')
    const atlas = path.join(tmp, 'hash')
    const bad = worker(['--model', other])
    const s = sweep(atlas, '0')
    expect(await bad.done).toBe(2)
    expect(bad.out()).toMatch(/model hash differs: this worker's model \(.*other-model\) is [0-9a-f]{12}, the sweep's is [0-9a-f]{12}/)
    const good = worker()
    expect(await s.done, s.out()).toBe(0)
    expect(s.out()).toMatch(/2 done, 0 skipped, 0 failed/)
    good.child.kill('SIGTERM')
    await good.done
  }, 120_000)

  it('Redis going away mid-sweep: clear messages, finished results kept; the same sweep later completes', async () => {
    const atlas = path.join(tmp, 'lost')
    const jobs = planJobs([{ name: 'logits', units: parseUnits('0-9', 10) }], PRESETS)
    const w = worker()
    const s = sweep(atlas, '0-9', ['--give-up', '2'])
    await until('3 results', () => jobs.filter((j) => infos(atlas, j).length).length >= 3)
    redis!.kill('SIGKILL')
    expect(await s.done).toBe(1)
    expect(s.out()).toMatch(/lost the Redis server at redis:\/\/127\.0\.0\.1:\d+ \(unreachable for 2 s\); \d+ results written to .* are kept; run the same command again/)
    expect(await w.done).toBe(1)
    expect(w.out()).toMatch(/lost the Redis server at redis:\/\/127\.0\.0\.1:\d+/)
    const kept = jobs.filter((j) => infos(atlas, j).length)
    expect(kept.length).toBeGreaterThanOrEqual(3)
    const manifest = JSON.parse(readFileSync(path.join(atlas, 'manifest.json'), 'utf8'))
    expect(Object.keys(manifest.results).sort()).toEqual(kept.map((j) => j.id).sort())
    expect(s.out() + w.out()).not.toContain(PASSWORD)
    // A new (empty) server: the sweep skips what it has and finishes.
    await startRedis()
    const w2 = worker()
    const again = sweep(atlas, '0-9')
    expect(await again.done, again.out()).toBe(0)
    expect(again.out()).toMatch(new RegExp(`20 jobs, ${kept.length} already in the atlas`))
    for (const job of jobs) expect(infos(atlas, job), job.id).toHaveLength(1)
    w2.child.kill('SIGTERM')
    await w2.done
  }, 180_000)
})
