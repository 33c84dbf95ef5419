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
import { DeepVisError } from '../engine/errors.ts'
import { BACKEND_CHOICES, initBackend } from '../engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder } from '../engine/node/load-model.ts'
import { writeAtlas, type AtlasLayer } from '../sweep/atlas.ts'
import { modelHash } from '../sweep/model-hash.ts'
import { jobArgv, parseUnits, planJobs, type SweepRunOptions } from '../sweep/plan.ts'
import { LocalPool } from '../sweep/pool.ts'
import { runSweep, type JobExecutor, type SweepSummary } from '../sweep/run-sweep.ts'
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
}

/** Check the flags, load the model once for its layers, and plan the jobs. */
export async function planSweep(opts: Record<string, unknown>): Promise<SweepPlan> {
  const presets = (opts.preset as string[] | undefined) ?? []
  if (presets.length === 0) throw new DeepVisError('BAD_PARAM', `give at least one --preset (${allPresetNames().join(', ')})`)
  for (const p of presets) checkPreset(p)
  const layerNames = String(opts.layers).split(',').map((s) => s.trim()).filter(Boolean)
  if (layerNames.length === 0) throw new DeepVisError('BAD_PARAM', '--layers: give one or more layer names separated by commas')
  const modelPath = (opts.model as string | undefined) ?? DEFAULT_MODEL_DIR
  await initBackend('cpu') // the coordinator only reads layer shapes
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
  return {
    atlas, modelPath,
    model: { name: loaded.name, path: loaded.modelJsonPath, hash: await modelHash(modelPath) },
    layers, presets,
    jobs: planJobs(layers, presets),
    run: { model: opts.model as string | undefined, backend: opts.backend as string, maxIter: opts.maxIter as number | undefined, randSeed: opts.randSeed as number | undefined },
  }
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
  const pool = new LocalPool(Math.min(workers, Math.max(1, plan.jobs.length)))
  const execute: JobExecutor = async (job, staging) => {
    const r = await pool.run(jobArgv(job, plan.run, staging))
    return r.code === 0 ? { ok: true } : { ok: false, error: errorLine(r.err, r.code) }
  }
  let summary: SweepSummary
  try {
    io.stderr(`deepvis sweep: ${plan.model.name}, ${plan.layers.map((l) => `${l.name} (${l.units.length} units)`).join(', ')} x ${plan.presets.join(', ')}; ${pool.size} local workers\n`)
    summary = await runSweep({ atlas: plan.atlas, jobs: plan.jobs, concurrency: pool.size, execute, io, signal: io.signal })
  } finally {
    await pool.close()
  }
  await writeAtlas(plan.atlas, { model: plan.model, layers: plan.layers, presets: plan.presets, jobs: plan.jobs, failed: summary.failed })
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
    .option('--model <path>', 'TensorFlow.js model folder or model.json (default: the embedded deepvis-shapes model)')
    .requiredOption('--layers <names>', 'layers to sweep, separated by commas (see `deepvis layers`)')
    .option('--units <list>', 'units of each layer: all, a range 0-99, a list 0,3,7 or a mix', 'all')
    .option('--preset <name>', 'preset to render every unit with; repeat for several', collect)
    .requiredOption('--out <dir>', 'atlas folder (created; re-running skips what it holds)')
    .addOption(new Option('--backend <name>', 'tfjs backend of the engine workers').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--workers <n>', `local engine workers (default: one per core, ${os.availableParallelism()} here)`, positive('--workers'))
    .option('--max-iter <n>', 'iterations of every job (default: the preset\'s)', int('--max-iter'))
    .option('--rand-seed <n>', 'seed of every job (default: the preset\'s)', int('--rand-seed'))
}

/** Add `sweep` to the CLI. */
export function registerSweepCommands(program: Command, io: CliIo, run: (p: Promise<number>) => void): void {
  const sweep = addSweepOptions(program.command('sweep').description(
    'render every unit of the chosen layers with every chosen preset into a browsable atlas (index.html); resumable'))
  sweep.action(() => run(runLocalSweep(sweep, io)))
}

