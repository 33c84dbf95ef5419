/**
 * The sweep's planning and coordinator loop without an engine: unit lists, job folders, a failing job
 * listed with its error (progress line, summary, manifest) while the others are kept, a re-run trying
 * only the failed job, a duplicate result kept once, and stale staging folders swept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { isDone, jobDir, layerSegment, parseUnits, planJobs, type SweepJob } from '../../src/sweep/plan.ts'
import { commitJob, runSweep, STAGING_MARK, type JobExecutor } from '../../src/sweep/run-sweep.ts'
import { writeAtlas } from '../../src/sweep/atlas.ts'

let tmp = ''
beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-runsweep-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

/** A fake result: what saveResults writes, enough for the atlas. */
function fakeResult(dir: string, job: SweepJob): void {
  const stem = `${layerSegment(job.layer)}_${String(job.unit).padStart(4, '0')}_0_`
  writeFileSync(path.join(dir, `${stem}best_X.png`), 'png')
  writeFileSync(path.join(dir, `${stem}info.json`), JSON.stringify({
    files: [`${stem}best_X.png`, `${stem}info.json`], best: { ii: 3, obj: job.unit }, last: { ii: 4, obj: 0 }, majority: null,
    meta_result: 'Metaresult: majority failure', quality: { activation: job.unit, rank: 1, of: 4, spectrum_slope: 0 }, series: { ii: [0, 1, 2, 3, 4] }, total_ms: 5,
    target: { label: null },
  }))
}

describe('plan', () => {
  it('parses unit lists and refuses bad ones', () => {
    expect(parseUnits('all', 3)).toEqual([0, 1, 2])
    expect(parseUnits('5,0-2,1', 10)).toEqual([0, 1, 2, 5])
    expect(() => parseUnits('3-1', 10)).toThrow(/range 3-1 is empty/)
    expect(() => parseUnits('0-10', 10)).toThrow(/unit 10 is out of range; the layer has 10 units/)
    expect(() => parseUnits('a', 10)).toThrow(/--units: 'a'/)
  })
  it('one job per (layer, unit, preset), each in its own folder', () => {
    const jobs = planJobs([{ name: 'conv1/pre_relu', units: [0, 1] }, { name: 'logits', units: [2] }], ['p', 'q'])
    expect(jobs.map((j) => j.id)).toEqual(['conv1/pre_relu:0:p', 'conv1/pre_relu:0:q', 'conv1/pre_relu:1:p', 'conv1/pre_relu:1:q', 'logits:2:p', 'logits:2:q'])
    expect(new Set(jobs.map((j) => jobDir('/a', j))).size).toBe(6)
    expect(jobDir('/a', jobs[0])).toBe(path.join('/a', 'units', 'conv1~pre_relu', '0', 'p'))
  })
})

describe('runSweep', () => {
  it('lists a failed job with its error, keeps the others, and a re-run tries only the failed one', async () => {
    const atlas = path.join(tmp, 'a')
    const jobs = planJobs([{ name: 'logits', units: [0, 1, 2, 3] }], ['p'])
    let log = ''
    const ran: string[] = []
    const failing = 'logits:2:p'
    const execute = (fail: boolean): JobExecutor => async (job, staging) => {
      ran.push(job.id)
      if (fail && job.id === failing) return { ok: false, error: 'unit went away' }
      fakeResult(staging, job)
      return { ok: true }
    }
    // A staging folder a killed run left behind.
    mkdirSync(`${jobDir(atlas, jobs[0])}${STAGING_MARK}999-dead`, { recursive: true })
    const s1 = await runSweep({ atlas, jobs, concurrency: 2, execute: execute(true), io: { stderr: (t) => { log += t }, isTTY: false } })
    expect(s1).toMatchObject({ planned: 4, skipped: 0, done: 3, failed: [{ id: failing, error: 'unit went away' }], interrupted: false })
    expect(log).toMatch(/logits:2 p FAILED: unit went away \| .* units\/min \| eta .* \| 1 failed/)
    expect(readdirSync(path.dirname(jobDir(atlas, jobs[0]))).filter((n) => n.includes(STAGING_MARK))).toEqual([])
    expect(jobs.map((j) => isDone(atlas, j))).toEqual([true, true, false, true])
    const manifest = await writeAtlas(atlas, { model: { name: 'm', path: 'm', hash: 'h' }, layers: [{ name: 'logits', type: 'Dense', shape: [4], units: [0, 1, 2, 3] }], presets: ['p'], jobs, failed: s1.failed })
    expect(Object.keys(manifest.results).sort()).toEqual(['logits:0:p', 'logits:1:p', 'logits:3:p'])
    expect(manifest.failed).toEqual([{ id: failing, error: 'unit went away' }])
    expect(manifest.results['logits:3:p']).toMatchObject({ best: { obj: 3 }, iterations: 5, images: { best_X: 'units/logits/3/p/logits_0003_0_best_X.png' } })
    expect(readFileSync(path.join(atlas, 'manifest.js'), 'utf8')).toMatch(/^window\.DEEPVIS_ATLAS = \{/)

    ran.length = 0
    const s2 = await runSweep({ atlas, jobs, concurrency: 2, execute: execute(false), io: { stderr: () => {}, isTTY: false } })
    expect(ran).toEqual([failing])
    expect(s2).toMatchObject({ skipped: 3, done: 1, failed: [] })
  })

  it('the same job finishing twice keeps one result', async () => {
    const atlas = path.join(tmp, 'b')
    const [job] = planJobs([{ name: 'logits', units: [1] }], ['p'])
    for (const k of [1, 2]) {
      const staging = `${jobDir(atlas, job)}${STAGING_MARK}${k}`
      mkdirSync(staging, { recursive: true })
      fakeResult(staging, job)
      expect(await commitJob(atlas, job, staging)).toBe(k === 1)
      expect(existsSync(staging)).toBe(false)
    }
    expect(readdirSync(jobDir(atlas, job)).filter((f) => f.endsWith('info.json'))).toHaveLength(1)
  })

  it('stops taking jobs when its signal aborts', async () => {
    const atlas = path.join(tmp, 'c')
    const jobs = planJobs([{ name: 'logits', units: [0, 1, 2, 3, 4, 5] }], ['p'])
    const ctl = new AbortController()
    let n = 0
    const s = await runSweep({
      atlas, jobs, concurrency: 1, signal: ctl.signal, io: { stderr: () => {}, isTTY: false },
      execute: async (job, staging) => {
        fakeResult(staging, job)
        if (++n === 2) ctl.abort()
        return { ok: true }
      },
    })
    expect(s).toMatchObject({ done: 2, interrupted: true, failed: [] })
    expect(jobs.filter((j) => isDone(atlas, j))).toHaveLength(2)
  })
})
