/**
 * `deepvis sweep` on this machine's pool: the embedded model's logits (10 units x 2 presets, 20
 * iterations each) gives 20 results equal to 20 single `deepvis optimize` runs (same seed: the same
 * objective series and the same PNG bytes); a second run does nothing; a sweep killed (SIGKILL) half
 * way and run again completes with each job exactly once and the same results.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { cli } from '../helpers/cli.ts'
import { jobDir, parseUnits, planJobs, type SweepJob } from '../../src/sweep/plan.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const BIN = path.join(ROOT, 'bin/deepvis.mjs')
const PRESETS = ['yosinski-1', 'yosinski-2']
const ITER = '20'
const JOBS: SweepJob[] = planJobs([{ name: 'logits', units: parseUnits('0-9', 10) }], PRESETS)
const sweepArgs = (out: string): string[] => ['sweep', '--layers', 'logits', '--units', '0-9', '--preset', PRESETS[0], '--preset', PRESETS[1],
  '--max-iter', ITER, '--backend', 'wasm', '--workers', '2', '--out', out]

let tmp = ''
beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-sweep-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

function start(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => { out += d })
  child.stderr!.on('data', (d) => { err += d })
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('close', (code) => resolve({ code, out, err })))
  return { child, done }
}

/** The info.json files of a job's folder. */
const infos = (atlas: string, job: SweepJob): string[] =>
  existsSync(jobDir(atlas, job)) ? readdirSync(jobDir(atlas, job)).filter((f) => f.endsWith('info.json')).map((f) => path.join(jobDir(atlas, job), f)) : []

/** What must be equal between two runs of the same job (timings aside). */
function fingerprint(infoFile: string): unknown {
  const info = JSON.parse(readFileSync(infoFile, 'utf8'))
  const dir = path.dirname(infoFile)
  const pngs = Object.fromEntries((info.files as string[]).filter((f) => f.endsWith('.png')).sort().map((f) => [f, readFileSync(path.join(dir, f)).toString('base64')]))
  return { params: info.params, target: info.target, obj: info.series.obj, norm: info.series.norm, best: info.best, last: info.last, majority: info.majority, quality: info.quality, pngs }
}

function countDone(atlas: string): number {
  return JOBS.filter((j) => infos(atlas, j).length > 0).length
}

describe('deepvis sweep (local pool)', () => {
  let atlas = ''

  it('renders 20 jobs equal to 20 single CLI runs', async () => {
    atlas = path.join(tmp, 'atlas')
    const r = await start(sweepArgs(atlas)).done
    expect(r.err).toMatch(/20 jobs, 0 already in the atlas, 20 to run/)
    expect(r.err).toMatch(/\[20\/20\] .* units\/min \| eta 0:00 \| 0 failed/)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/20 done, 0 skipped, 0 failed/)
    for (const job of JOBS) expect(infos(atlas, job)).toHaveLength(1)
    const manifest = JSON.parse(readFileSync(path.join(atlas, 'manifest.json'), 'utf8'))
    expect(Object.keys(manifest.results).sort()).toEqual(JOBS.map((j) => j.id).sort())
    expect(manifest.model.hash).toMatch(/^[0-9a-f]{64}$/)
    for (const f of ['index.html', 'atlas.js', 'atlas.css', 'manifest.js']) expect(existsSync(path.join(atlas, f))).toBe(true)

    // The same jobs as single CLI runs (in this process): identical results.
    for (const job of JOBS) {
      const prefix = path.join(tmp, 'single', `${job.unit}-${job.preset}`) + path.sep
      const s = await cli('optimize', '--backend', 'wasm', '--push-layer', job.layer, '--push-channel', String(job.unit), '--preset', job.preset,
        '--max-iter', ITER, '--skipbig', '--output-prefix', prefix)
      expect(s.code, s.err).toBe(0)
      const single = readdirSync(prefix).find((f) => f.endsWith('info.json'))!
      expect(fingerprint(infos(atlas, job)[0]), job.id).toEqual(fingerprint(path.join(prefix, single)))
    }
  }, 240_000)

  it('a second run of the same sweep does nothing', async () => {
    const before = JOBS.map((j) => statSync(infos(atlas, j)[0]).mtimeMs)
    const r = await start(sweepArgs(atlas)).done
    expect(r.code).toBe(0)
    expect(r.err).toMatch(/20 jobs, 20 already in the atlas, 0 to run/)
    expect(r.out).toMatch(/0 done, 20 skipped, 0 failed/)
    expect(JOBS.map((j) => statSync(infos(atlas, j)[0]).mtimeMs)).toEqual(before)
  }, 60_000)

  it('killed half way (SIGKILL) and run again: every job exactly once, same results', async () => {
    const killed = path.join(tmp, 'killed')
    const run = start(sweepArgs(killed))
    // Wait for a few finished jobs, then kill the coordinator and its engine threads at once.
    const deadline = Date.now() + 120_000
    while (countDone(killed) < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    run.child.kill('SIGKILL')
    await run.done
    const part = countDone(killed)
    expect(part).toBeGreaterThanOrEqual(6)
    expect(part).toBeLessThan(JOBS.length)
    const r = await start(sweepArgs(killed)).done
    expect(r.code, r.err).toBe(0)
    expect(r.err).toMatch(new RegExp(`20 jobs, ${part} already in the atlas, ${20 - part} to run`))
    for (const job of JOBS) {
      expect(infos(killed, job), job.id).toHaveLength(1)
      expect(fingerprint(infos(killed, job)[0]), job.id).toEqual(fingerprint(infos(atlas, job)[0]))
      // No staging folder or temporary file left beside or inside the job.
      const parent = path.dirname(jobDir(killed, job))
      expect(readdirSync(parent).filter((n) => n.includes('.staging-'))).toEqual([])
      expect(readdirSync(jobDir(killed, job)).filter((n) => n.startsWith('.'))).toEqual([])
    }
  }, 240_000)

  it('bad input: one clear line, exit 2, nothing written', async () => {
    const out = path.join(tmp, 'bad')
    for (const [args, msg] of [
      [['--layers', 'logitz', '--preset', 'yosinski-1'], /logitz/],
      [['--layers', 'logits', '--units', '0-10', '--preset', 'yosinski-1'], /unit 10 is out of range; the layer has 10 units/],
      [['--layers', 'logits', '--units', 'x', '--preset', 'yosinski-1'], /--units: 'x'/],
      [['--layers', 'logits', '--preset', 'nope'], /unknown preset 'nope'/],
      [['--layers', 'logits'], /at least one --preset/],
    ] as const) {
      const r = await cli('sweep', '--out', out, '--backend', 'wasm', ...args)
      expect(r.code, r.err).toBe(2)
      expect(r.err).toMatch(msg)
      expect(r.err.trim().split('\n')).toHaveLength(1)
      expect(existsSync(out)).toBe(false)
    }
  })
})
