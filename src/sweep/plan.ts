/**
 * Planning a whole-model sweep: one job per (layer, unit, preset), each written by the CLI's own
 * `deepvis optimize` into its own folder of the atlas, so a job is done exactly when its info.json
 * exists (saveResults writes info.json last). Re-running a sweep skips done jobs and clears the
 * folders of jobs a killed run left half-written.
 * Shapes: `parseUnits(text, count) => number[]`; `planJobs(opts) => SweepJob[]`;
 *   `jobDir(atlas, job) => string`; `isDone(atlas, job) => boolean`; `jobArgv(job, opts) => string[]`.
 */
import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { DeepVisError } from '../shared/errors.ts'

/** One unit of one layer rendered with one preset. */
export interface SweepJob {
  /** Stable identity `layer:unit:preset` (also the queue's job id). */
  id: string
  layer: string
  unit: number
  preset: string
}

/** What every job of a sweep shares (the flags passed through to `deepvis optimize`). */
export interface SweepRunOptions {
  /** Model path as given (the local pool and each worker resolve it themselves). */
  model?: string
  backend: string
  maxIter?: number
  randSeed?: number
}

/** Folder of the atlas holding the units. */
export const UNITS_DIR = 'units'

/** A layer name as one path segment ('conv1/pre_relu' -> 'conv1~pre_relu'; names are [A-Za-z0-9_./-]). */
export function layerSegment(layer: string): string {
  return layer.replace(/[^A-Za-z0-9_.-]/g, '~')
}

/** `all`, `0-99`, `0,3,7`, `0-3,8` -> sorted unique unit indexes below `count`. */
export function parseUnits(text: string, count: number): number[] {
  if (text.trim() === 'all') return Array.from({ length: count }, (_, i) => i)
  const out = new Set<number>()
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    if (!m) throw new DeepVisError('BAD_PARAM', `--units: '${part.trim()}' is not a unit, a range a-b or 'all' (e.g. 0-99 or 0,3,7)`)
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo) throw new DeepVisError('BAD_PARAM', `--units: range ${lo}-${hi} is empty`)
    if (hi >= count) throw new DeepVisError('BAD_PARAM', `--units: unit ${hi} is out of range; the layer has ${count} units (0-${count - 1})`)
    for (let u = lo; u <= hi; u++) out.add(u)
  }
  return [...out].sort((a, b) => a - b)
}

/** Every (layer, unit, preset) of the sweep, layer-major then unit then preset. */
export function planJobs(layers: { name: string; units: number[] }[], presets: string[]): SweepJob[] {
  const jobs: SweepJob[] = []
  for (const l of layers) {
    for (const unit of l.units) {
      for (const preset of presets) jobs.push({ id: `${l.name}:${unit}:${preset}`, layer: l.name, unit, preset })
    }
  }
  return jobs
}

/** The folder of a job inside the atlas: units/<layer>/<unit>/<preset>/. */
export function jobDir(atlas: string, job: Pick<SweepJob, 'layer' | 'unit' | 'preset'>): string {
  return path.join(atlas, UNITS_DIR, layerSegment(job.layer), String(job.unit), job.preset)
}

/** A job is done when its folder holds a result's info.json (written last by saveResults). */
export function isDone(atlas: string, job: SweepJob): boolean {
  const dir = jobDir(atlas, job)
  if (!existsSync(dir)) return false
  return readdirSync(dir).some((f) => f.endsWith('info.json') && !f.startsWith('.'))
}

/** The `deepvis optimize` command line of a job, writing into `outDir` (with a trailing separator). */
export function jobArgv(job: SweepJob, opts: SweepRunOptions, outDir: string): string[] {
  const argv = ['optimize', '--backend', opts.backend, '--push-layer', job.layer, '--push-channel', String(job.unit), '--preset', job.preset]
  if (opts.model !== undefined) argv.push('--model', opts.model)
  if (opts.maxIter !== undefined) argv.push('--max-iter', String(opts.maxIter))
  if (opts.randSeed !== undefined) argv.push('--rand-seed', String(opts.randSeed))
  argv.push('--skipbig', '--output-prefix', outDir.endsWith(path.sep) ? outDir : outDir + path.sep)
  return argv
}
