/**
 * The coordinator loop of a sweep, whatever runs the jobs (the local pool or a queue's workers): skip
 * done jobs, run the rest with at most `concurrency` in flight, move each result from its staging
 * folder into the atlas only when complete (a rename: a killed run leaves no half result behind, and
 * the same job finishing twice keeps one), and report progress with throughput, ETA and failures.
 * Shape: `await runSweep({ atlas, jobs, concurrency, execute, io, signal }) => SweepSummary`.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import cliProgress from 'cli-progress'
import { isDone, jobDir, type SweepJob } from './plan.ts'

/** Runs one job, writing its result files into `stagingDir` (which exists). */
export type JobExecutor = (job: SweepJob, stagingDir: string) => Promise<{ ok: true } | { ok: false; error: string }>

export interface SweepIo {
  stderr: (text: string) => void
  isTTY: boolean
}

export interface SweepSummary {
  planned: number
  skipped: number
  done: number
  failed: { id: string; error: string }[]
  seconds: number
  /** Jobs finished per minute over this run (0 when nothing ran). */
  perMinute: number
  interrupted: boolean
}

/** Marker in a staging folder's name: `<job dir>.staging-<random>`. */
export const STAGING_MARK = '.staging-'

/** Remove staging folders a killed run left beside the jobs' folders. */
export async function sweepStaging(atlas: string, jobs: SweepJob[]): Promise<number> {
  const parents = new Set(jobs.map((j) => path.dirname(jobDir(atlas, j))))
  let removed = 0
  for (const dir of parents) {
    if (!existsSync(dir)) continue
    for (const name of await readdir(dir)) {
      if (name.includes(STAGING_MARK)) {
        await rm(path.join(dir, name), { recursive: true, force: true })
        removed++
      }
    }
  }
  return removed
}

const clock = (s: number): string => {
  if (!Number.isFinite(s)) return '-'
  const t = Math.round(s)
  return `${Math.floor(t / 60)}:${String(t % 60).padStart(2, '0')}`
}

/** Move a finished staging folder into place; false when the job was already there (kept as is). */
export async function commitJob(atlas: string, job: SweepJob, staging: string): Promise<boolean> {
  const dir = jobDir(atlas, job)
  if (isDone(atlas, job)) {
    await rm(staging, { recursive: true, force: true })
    return false
  }
  await rm(dir, { recursive: true, force: true }) // a folder without info.json: not a result
  await rename(staging, dir)
  return true
}

export async function runSweep(opts: {
  atlas: string
  jobs: SweepJob[]
  concurrency: number
  execute: JobExecutor
  io: SweepIo
  signal?: AbortSignal
}): Promise<SweepSummary> {
  const { atlas, jobs, io } = opts
  await sweepStaging(atlas, jobs)
  const todo = jobs.filter((j) => !isDone(atlas, j))
  const summary: SweepSummary = { planned: jobs.length, skipped: jobs.length - todo.length, done: 0, failed: [], seconds: 0, perMinute: 0, interrupted: false }
  io.stderr(`deepvis sweep: ${jobs.length} jobs, ${summary.skipped} already in the atlas, ${todo.length} to run\n`)
  const started = performance.now()
  // On a terminal: one bar (failures are listed at the end); otherwise one line per finished job.
  const bar = io.isTTY && todo.length > 0
    ? new cliProgress.SingleBar({
      format: 'sweep |{bar}| {value}/{total} jobs | {rate} units/min | eta {eta_clock} | {failed} failed',
      stream: process.stderr, hideCursor: true, clearOnComplete: false,
    }, cliProgress.Presets.shades_classic)
    : null
  bar?.start(todo.length, 0, { rate: '-', eta_clock: '-', failed: 0 })
  const progress = (job: SweepJob, status: string): void => {
    const finished = summary.done + summary.failed.length
    const secs = (performance.now() - started) / 1000
    const rate = finished / secs
    const eta = (todo.length - finished) / rate
    if (bar) {
      bar.update(finished, { rate: (rate * 60).toFixed(1), eta_clock: clock(eta), failed: summary.failed.length })
      return
    }
    io.stderr(`[${finished}/${todo.length}] ${job.layer}:${job.unit} ${job.preset} ${status} | ${(rate * 60).toFixed(1)} units/min | eta ${clock(eta)} | ${summary.failed.length} failed\n`)
  }
  let next = 0
  const runner = async (): Promise<void> => {
    while (next < todo.length && !opts.signal?.aborted) {
      const job = todo[next++]
      const dir = jobDir(atlas, job)
      const staging = `${dir}${STAGING_MARK}${process.pid}-${randomBytes(4).toString('hex')}`
      await mkdir(staging, { recursive: true })
      const t0 = performance.now()
      let outcome: Awaited<ReturnType<JobExecutor>>
      try {
        outcome = await opts.execute(job, staging)
      } catch (err) {
        outcome = { ok: false, error: err instanceof Error ? err.message.split('\n')[0] : String(err) }
      }
      if (!outcome.ok && opts.signal?.aborted) {
        // Stopped (Ctrl-C, or the queue's server lost): not the job's failure.
        await rm(staging, { recursive: true, force: true })
        break
      }
      if (outcome.ok) {
        await commitJob(atlas, job, staging)
        summary.done++
        progress(job, `ok ${((performance.now() - t0) / 1000).toFixed(1)}s`)
      } else {
        await rm(staging, { recursive: true, force: true })
        summary.failed.push({ id: job.id, error: outcome.error })
        progress(job, `FAILED: ${outcome.error}`)
      }
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, Math.max(1, todo.length)) }, runner))
  } finally {
    bar?.stop()
  }
  summary.seconds = (performance.now() - started) / 1000
  summary.perMinute = summary.done > 0 ? (summary.done / summary.seconds) * 60 : 0
  summary.interrupted = Boolean(opts.signal?.aborted)
  return summary
}
