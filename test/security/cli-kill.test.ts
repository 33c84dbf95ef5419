/**
 * kill -9 of the CLI at seeded random points of a run (20 times, the same output prefix) leaves
 * nothing behind once the next run has run: no temporary file, and a complete result (info.json
 * listing files that all exist). SIGTERM removes the process's own temporary files before it exits.
 * The sweep removes only our temporary names of processes that are gone.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Rng } from '../../src/engine/rng.ts'
import { sweepStaleTempFiles } from '../../src/engine/node/save-results.ts'

const BIN = path.resolve(import.meta.dirname, '../../bin/deepvis.mjs')
const SEED = 9
const KILLS = 20

let tmp: string
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-kill-'))
})
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true })
})

const args = (prefix: string): string[] => [BIN, 'optimize', '--backend', 'cpu', '--preset', 'yosinski-3', '--max-iter', '5', '--push-layer', 'logits', '--output-prefix', prefix, '--brave']

/** Run the CLI; kill it with `signal` after `afterMs` (null: let it finish). Resolves with its exit code / signal. */
function runCli(prefix: string, afterMs: number | null, signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const t0 = Date.now()
  const child = spawn(process.execPath, args(prefix), { stdio: 'ignore' })
  if (afterMs !== null) setTimeout(() => child.kill(signal), afterMs)
  return new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig, ms: Date.now() - t0 })))
}

const temps = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.includes('.tmp-')) : [])

describe('the CLI killed mid-run', () => {
  it(`kill -9 at ${KILLS} seeded points, then one run: no temporary or partial file (seed ${SEED})`, async () => {
    const dir = path.join(tmp, 'kill9')
    const prefix = path.join(dir, 'opt')
    const full = await runCli(prefix, null)
    expect(full.code).toBe(0)
    const rng = new Rng(SEED)
    let leftBehind = 0
    for (let i = 0; i < KILLS; i++) {
      // Mostly late in the run, where the files are written.
      const at = Math.round(full.ms * rng.uniform(0.5, 1.05))
      await runCli(prefix, at)
      if (temps(dir).length) leftBehind++
    }
    const last = await runCli(prefix, null)
    expect(last.code).toBe(0)
    expect(temps(dir), `${leftBehind} of ${KILLS} kills had left temporary files`).toEqual([])
    const infos = readdirSync(dir).filter((n) => n.endsWith('info.json'))
    expect(infos).toHaveLength(1)
    const info = JSON.parse(readFileSync(path.join(dir, infos[0]), 'utf8')) as { files?: string[] }
    expect(info.files?.length).toBeGreaterThan(5)
    for (const f of info.files ?? []) expect(existsSync(path.join(dir, f)), f).toBe(true)
  }, 600_000)

  it('SIGTERM removes the temporary files of the write in progress before exiting', async () => {
    const dir = path.join(tmp, 'term')
    const prefix = path.join(dir, 'opt')
    const full = await runCli(prefix, null)
    const rng = new Rng(SEED + 1)
    for (let i = 0; i < 3; i++) {
      const r = await runCli(prefix, Math.round(full.ms * rng.uniform(0.6, 1.0)), 'SIGTERM')
      if (r.code !== 0) expect([143, null]).toContain(r.code)
      expect(temps(dir)).toEqual([])
    }
  }, 300_000)

  it('the sweep removes only our temporary names whose process is gone', async () => {
    const dir = path.join(tmp, 'sweep')
    rmSync(dir, { recursive: true, force: true })
    spawnSync('mkdir', ['-p', dir])
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString()
    const mine = String(process.pid)
    const files = {
      deadTemp: `.opt_best_X.png.tmp-${dead}-0123abcd`,
      liveTemp: `.opt_best_X.png.tmp-${mine}-0123abcd`,
      userDot: '.bashrc',
      userLike: `.notes.tmp-${dead}-xyz`,
      result: 'opt_best_X.png',
    }
    for (const f of Object.values(files)) writeFileSync(path.join(dir, f), 'x')
    expect(await sweepStaleTempFiles(dir)).toEqual([files.deadTemp])
    expect(readdirSync(dir).sort()).toEqual([files.liveTemp, files.userDot, files.userLike, files.result].sort())
  })
})
