/**
 * `deepvis sweep`: every unit of the chosen layers with every chosen preset, one job per
 * (layer, unit, preset), each an ordinary `deepvis optimize` run, into a browsable atlas folder.
 * Runs on this machine's local pool of engine threads (src/sweep/pool.ts) by default.
 * Resumable and idempotent: jobs whose result is in the atlas are skipped, half-written ones redone.
 * Shape: `registerSweepCommands(program, io, run)` adds the subcommands to the CLI.
 */
import { Command, Option } from 'commander'
import os from 'node:os'
import path from 'node:path'
import { DeepVisError } from '../shared/errors.ts'
import { BACKEND_CHOICES, initBackend } from '../engine/node/index.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../engine/node/index.ts'
import { modelKeyForIndex, readTopKIndex, type TopKIndexFile } from '../engine/node/index.ts'
import { writeTops } from '../sweep/atlas-tops.ts'
import { writeAtlas, type AtlasLayer } from '../sweep/atlas.ts'
import { modelHash } from '../sweep/model-hash.ts'
import { jobArgv, parseUnits, planJobs, type SweepRunOptions } from '../sweep/plan.ts'
import { LocalPool } from '../sweep/pool.ts'
import { runSweep, type JobExecutor, type SweepSummary } from '../sweep/run-sweep.ts'
import { writeFile } from 'node:fs/promises'
import {
  BACKOFF_MS, checkRedis, DEFAULT_QUEUE_NAME, DEFAULT_REDIS_GRACE_MS, JOB_ATTEMPTS, parseRedisUrl, queueJobId, startHealthWatch, sweepKey,
  type QueueJobData, type QueueJobResult,
} from '../sweep/queue.ts'
import { allPresetNames, checkPreset } from './general-command.ts'
import type { CliIo } from './main.ts'
import { parseInteger } from './parse-values.ts'

const collect = (v: string, prev: string[] = []): string[] => [...prev, v]

/** Everything the sweep's coordinator knows before running a job. */
export interface SweepPlan {
  atlas: string
  modelPath: string
  model: { name: string; path: string; hash: string }
  layers: AtlasLayer[]
  presets: string[]
  jobs: ReturnType<typeof planJobs>
  run: SweepRunOptions
  /** The top-k index given with --index (its folder and contents), or null. */
  index: { dir: string; file: TopKIndexFile } | null
}

/**
 * The --index of a sweep: a top-k index of the same model and input spec (its key says so), holding at
 * least one of the swept layers. A mismatch is refused before anything runs.
 */
async function indexFor(dir: string, loaded: LoadedModel, layers: AtlasLayer[]): Promise<{ dir: string; file: TopKIndexFile }> {
  const file = await readTopKIndex(dir)
  if (file.model.key !== await modelKeyForIndex(loaded.modelJsonPath, loaded.inputSpec)) {
    throw new DeepVisError('BAD_PARAM', `--index ${dir} was built for another model or input spec (${file.model.name}); build one for this model with deepvis index --model …`)
  }
  const held = layers.filter((l) => file.layers.some((x) => x.name === l.name))
  if (held.length === 0) {
    throw new DeepVisError('BAD_PARAM', `--index ${dir} holds none of the swept layers (it has ${file.layers.map((l) => l.name).join(', ')}); index them with deepvis index --layers …`)
  }
  return { dir: path.resolve(dir), file }
}

/**
 * The backend for reading a model's layer shapes (the coordinator, a queue worker's start-up check):
 * wasm, whose forward pass (the load's trial pass, shape inference) takes ~2.5 s on GoogLeNet where the
 * pure-JS cpu backend takes ~19 s; cpu where wasm cannot start.
 */
export async function shapeBackend(): Promise<void> {
  try {
    await initBackend('wasm')
  } catch {
    await initBackend('cpu')
  }
}

/** Check the flags, load the model once for its layers, and plan the jobs. */
export async function planSweep(opts: Record<string, unknown>): Promise<SweepPlan> {
  const presets = (opts.preset as string[] | undefined) ?? []
  if (presets.length === 0) throw new DeepVisError('BAD_PARAM', `give at least one --preset (${allPresetNames().join(', ')})`)
  for (const p of presets) checkPreset(p)
  const layerNames = String(opts.layers).split(',').map((s) => s.trim()).filter(Boolean)
  if (layerNames.length === 0) throw new DeepVisError('BAD_PARAM', '--layers: give one or more layer names separated by commas')
  const modelPath = (opts.model as string | undefined) ?? DEFAULT_MODEL_DIR
  await shapeBackend() // the coordinator only reads layer shapes
  const loaded = await loadModelFolder(modelPath)
  const layers: AtlasLayer[] = []
  try {
    const size: [number, number] = [loaded.inputSpec.height, loaded.inputSpec.width]
    for (const name of layerNames) {
      const info = await loaded.model.layerInfo(name, size)
      const labels = loaded.inputSpec.labels && loaded.inputSpec.labels.length === info.units ? loaded.inputSpec.labels : undefined
      layers.push({ name, type: info.type, shape: info.shape, units: parseUnits(String(opts.units), info.units), ...(labels ? { labels } : {}) })
    }
  } finally {
    loaded.model.dispose()
  }
  const atlas = path.resolve(String(opts.out))
  const index = opts.index ? await indexFor(String(opts.index), loaded, layers) : null
  return {
    atlas, modelPath, index,
    model: { name: loaded.name, path: loaded.modelJsonPath, hash: await modelHash(modelPath) },
    layers, presets,
    jobs: planJobs(layers, presets),
    run: { model: opts.model as string | undefined, backend: opts.backend as string, maxIter: opts.maxIter as number | undefined, randSeed: opts.randSeed as number | undefined },
  }
}

/** The top images of the swept units when the sweep has an --index (written into the atlas). */
async function topsOf(plan: SweepPlan): Promise<Awaited<ReturnType<typeof writeTops>> | undefined> {
  return plan.index ? writeTops(plan.atlas, plan.index.file, plan.index.dir, plan.layers) : undefined
}

/** The closing lines of a sweep, and its exit code (1 when a job failed, 130 when interrupted). */
export function report(summary: SweepSummary, atlas: string, io: CliIo): number {
  const lines = [`deepvis sweep: ${summary.done} done, ${summary.skipped} skipped, ${summary.failed.length} failed in ${summary.seconds.toFixed(1)} s (${summary.perMinute.toFixed(1)} units/min)`]
  for (const f of summary.failed) lines.push(`  failed ${f.id}: ${f.error}`)
  lines.push(`atlas: ${path.join(atlas, 'index.html')}`)
  io.stdout(lines.join('\n') + '\n')
  if (summary.interrupted) return 130
  return summary.failed.length ? 1 : 0
}

/** The last meaningful line a failed CLI run printed. */
export function errorLine(err: string, code: number): string {
  const lines = err.split('\n').map((l) => l.trim()).filter((l) => l && !/^(Warning|at |deepvis: [^:]* on )/.test(l))
  return (lines[lines.length - 1] ?? `exit code ${code}`).replace(/^deepvis: (error: )?/, '')
}

async function runLocalSweep(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  const plan = await planSweep(opts)
  const workers = (opts.workers as number | undefined) ?? os.availableParallelism()
  const size = Math.min(workers, Math.max(1, plan.jobs.length))
  // Started on the first job to run (a sweep with nothing left to do loads no engine).
  let pool: LocalPool | null = null
  const execute: JobExecutor = async (job, staging) => {
    pool ??= new LocalPool(size)
    const r = await pool.run(jobArgv(job, plan.run, staging))
    return r.code === 0 ? { ok: true } : { ok: false, error: errorLine(r.err, r.code) }
  }
  let summary: SweepSummary
  try {
    io.stderr(`deepvis sweep: ${plan.model.name}, ${plan.layers.map((l) => `${l.name} (${l.units.length} units)`).join(', ')} x ${plan.presets.join(', ')}; ${size} local worker${size === 1 ? '' : 's'}\n`)
    summary = await runSweep({ atlas: plan.atlas, jobs: plan.jobs, concurrency: size, execute, io, signal: io.signal })
  } finally {
    await (pool as LocalPool | null)?.close()
  }
  await writeAtlas(plan.atlas, { model: plan.model, layers: plan.layers, presets: plan.presets, jobs: plan.jobs, failed: summary.failed, tops: await topsOf(plan) })
  return report(summary, plan.atlas, io)
}

/** Reject when `signal` aborts. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v) }, (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e) })
  })
}

/** A result file name as a worker may send it: one plain name, no path. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

async function runQueueSweep(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  const target = parseRedisUrl(String(opts.queue))
  const plan = await planSweep(opts)
  await checkRedis(target)
  const { model: _model, ...run } = plan.run
  void _model
  const key = sweepKey(plan.model.hash, run)
  const name = String(opts.queueName)
  const { Job, Queue, QueueEvents } = await import('bullmq')
  const queue = new Queue<QueueJobData, QueueJobResult>(name, { connection: target.options })
  const events = new QueueEvents(name, { connection: target.options })
  queue.on('error', () => {}) // the health watch reports a lost server, once
  events.on('error', () => {})
  const lost = new AbortController()
  let lostMessage = ''
  const stopHealth = await startHealthWatch(target, (opts.giveUp as number) * 1000, (m) => { lostMessage = m; lost.abort() })
  const signal = io.signal ? AbortSignal.any([io.signal, lost.signal]) : lost.signal
  const added: string[] = []
  const execute: JobExecutor = (job, staging) => raceAbort((async () => {
    const id = queueJobId(key, job)
    const existing = await Job.fromId<QueueJobData, QueueJobResult>(queue, id)
    if (existing && (await existing.isFailed())) await existing.remove() // a re-run tries failed jobs again
    const j = await queue.add(job.id, { sweepKey: key, modelHash: plan.model.hash, job, run }, {
      jobId: id, attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: BACKOFF_MS }, removeOnComplete: false, removeOnFail: false,
    })
    added.push(id)
    let value: QueueJobResult | undefined
    try {
      value = await j.waitUntilFinished(events) as QueueJobResult | undefined
    } catch (err) {
      return { ok: false as const, error: (err as Error).message.split('\n')[0] }
    }
    value ??= (await Job.fromId<QueueJobData, QueueJobResult>(queue, id))?.returnvalue
    if (!value?.files?.some((f) => f.name.endsWith('info.json'))) return { ok: false as const, error: `worker returned no result for ${job.id}` }
    for (const f of value.files) {
      if (!SAFE_NAME.test(f.name)) return { ok: false as const, error: `worker ${value.worker} sent a bad file name` }
      await writeFile(path.join(staging, f.name), Buffer.from(f.base64, 'base64'))
    }
    // The result is on this machine now: drop it from Redis at once, so that Redis holds only the
    // results in flight, not the whole sweep's (GoogLeNet: ~0.7 MB a job). Should this process die
    // before the result is renamed into the atlas, the next run simply redoes that job.
    await j.remove().catch(() => {})
    return { ok: true as const }
  })(), signal)
  let summary: SweepSummary
  try {
    await raceAbort(events.waitUntilReady(), signal)
    io.stderr(`deepvis sweep: ${plan.model.name} (hash ${plan.model.hash.slice(0, 12)}), ${plan.layers.map((l) => `${l.name} (${l.units.length} units)`).join(', ')} x ${plan.presets.join(', ')}; jobs on ${target.display} queue ${name}\n`)
    summary = await runSweep({ atlas: plan.atlas, jobs: plan.jobs, concurrency: Math.max(1, plan.jobs.length), execute, io, signal })
    if (!lost.signal.aborted) {
      // Results are in the atlas now: drop the finished jobs from Redis (failed ones stay listed there).
      for (const id of added) {
        const j = await Job.fromId(queue, id)
        if (j && (await j.isCompleted())) await j.remove()
      }
    }
  } finally {
    stopHealth()
    const quit = Promise.all([queue.close(), events.close()])
    await Promise.race([quit, new Promise((r) => setTimeout(r, 2000))])
    if (lost.signal.aborted) { void queue.disconnect(); void events.disconnect() }
  }
  await writeAtlas(plan.atlas, { model: plan.model, layers: plan.layers, presets: plan.presets, jobs: plan.jobs, failed: summary.failed, tops: await topsOf(plan) })
  if (lostMessage) {
    io.stderr(`deepvis sweep: ${lostMessage}; ${summary.done} results written to ${plan.atlas} are kept; run the same command again to continue\n`)
    report(summary, plan.atlas, io)
    return 1
  }
  return report(summary, plan.atlas, io)
}

export function addSweepOptions(cmd: Command): Command {
  const int = (flag: string) => (v: string): number => parseInteger(flag, v)
  const positive = (flag: string) => (v: string): number => {
    const n = parseInteger(flag, v)
    if (n < 1) throw new DeepVisError('BAD_PARAM', `${flag} must be at least 1; got ${n}`)
    return n
  }
  return cmd
    .option('--model <path>', 'model: a TensorFlow.js folder or model.json, or an .onnx file (default: the embedded deepvis-shapes model)')
    .requiredOption('--layers <names>', 'layers to sweep, separated by commas (see `deepvis layers`)')
    .option('--units <list>', 'units of each layer: all, a range 0-99, a list 0,3,7 or a mix', 'all')
    .option('--preset <name>', 'preset to render every unit with; repeat for several', collect)
    .requiredOption('--out <dir>', 'atlas folder (created; re-running skips what it holds)')
    .addOption(new Option('--backend <name>', 'tfjs backend of the engine workers').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--workers <n>', `local engine workers (default: one per core, ${os.availableParallelism()} here)`, positive('--workers'))
    .option('--max-iter <n>', 'iterations of every job (default: the preset\'s)', positive('--max-iter'))
    .option('--rand-seed <n>', 'seed of every job (default: the preset\'s)', int('--rand-seed'))
    .option('--index <dir>', 'a top-k index of this model (deepvis index --out): each unit\'s top images go into the atlas')
    .option('--queue <url>', 'put the jobs on a BullMQ queue at this Redis server (redis://[:password@]host:port[/db]) for `deepvis worker`s to run')
    .option('--queue-name <name>', 'BullMQ queue name', DEFAULT_QUEUE_NAME)
    .option('--give-up <s>', 'with --queue: stop when Redis has been unreachable this many seconds', positive('--give-up'), DEFAULT_REDIS_GRACE_MS / 1000)
}

/** Add `sweep` to the CLI. */
export function registerSweepCommands(program: Command, io: CliIo, run: (p: Promise<number>) => void): void {
  const sweep = addSweepOptions(program.command('sweep').description(
    'render every unit of the chosen layers with every chosen preset into a browsable atlas (index.html); resumable'))
  sweep.action(() => run(sweep.opts().queue ? runQueueSweep(sweep, io) : runLocalSweep(sweep, io)))
}

