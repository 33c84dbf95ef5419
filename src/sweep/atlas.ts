/**
 * The atlas of a sweep: `manifest.json` (every layer, unit and preset with its images, objective values
 * and quality readouts, read back from each job's info.json), the same data as `manifest.js` (so that
 * index.html opened from disk needs no fetch, which file:// pages may not do), and the static site
 * (src/sweep/site/: index.html, atlas.js, atlas.css). Rebuilt from the files on disk after every run,
 * so it always matches what ATLAS_DIR holds.
 * Shape: `await writeAtlas(atlas, { model, layers, presets, jobs, failed }) => Manifest`.
 */
import { existsSync } from 'node:fs'
import { copyFile, readFile, readdir } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../engine/node/tf-free.ts'
import type { AtlasTop } from './atlas-tops.ts'
import { jobDir, type SweepJob } from './plan.ts'

export const ATLAS_FORMAT = 'deepvis-atlas@1'
export const MANIFEST_JSON = 'manifest.json'
export const MANIFEST_JS = 'manifest.js'
/** The files of the static site, copied into the atlas. */
export const SITE_FILES = ['index.html', 'atlas.js', 'atlas.css'] as const
const SITE_DIR = new URL('./site/', import.meta.url)

export interface AtlasLayer { name: string; type: string; shape: number[]; units: number[]; labels?: string[] }

/** One finished job as the site reads it; image paths relative to the atlas. */
export interface AtlasEntry {
  layer: string
  unit: number
  preset: string
  label: string | null
  images: Record<string, string>
  best: { ii: number; obj: number } | null
  last: { ii: number; obj: number } | null
  majority: { ii: number; obj: number } | null
  meta_result: string
  quality: Record<string, unknown> | null
  iterations: number
  method: string
  total_ms: number
}

export interface Manifest {
  format: string
  updated: string
  model: { name: string; path: string; hash: string }
  presets: string[]
  layers: AtlasLayer[]
  /** Keyed by job id `layer:unit:preset`. */
  results: Record<string, AtlasEntry>
  failed: { id: string; error: string }[]
  planned: number
  /** A unit's top images from a top-k index (`--index`), keyed `layer:unit`; absent without one. */
  tops?: Record<string, AtlasTop>
}

/** Read a finished job's info.json into an entry (null when the job has no complete result). */
export async function readEntry(atlas: string, job: SweepJob): Promise<AtlasEntry | null> {
  const dir = jobDir(atlas, job)
  if (!existsSync(dir)) return null
  const infoName = (await readdir(dir)).find((f) => f.endsWith('info.json') && !f.startsWith('.'))
  if (!infoName) return null
  const info = JSON.parse(await readFile(path.join(dir, infoName), 'utf8')) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  const rel = path.relative(atlas, dir).split(path.sep).join('/')
  const images: Record<string, string> = {}
  for (const f of info.files as string[]) {
    const m = /(best|last|majority)_(X|Xpm)\.png$/.exec(f)
    if (m) images[`${m[1]}_${m[2]}`] = `${rel}/${f}`
  }
  return {
    layer: job.layer, unit: job.unit, preset: job.preset,
    label: info.target?.label ?? null,
    images,
    best: info.best ?? null, last: info.last ?? null, majority: info.majority ?? null,
    meta_result: info.meta_result ?? '',
    quality: info.quality ?? null,
    iterations: Array.isArray(info.series?.ii) ? info.series.ii.length : 0,
    method: info.method?.name ?? info.extra?.method ?? 'dvt',
    total_ms: info.total_ms ?? 0,
  }
}

/** Write manifest.json, manifest.js and the site files into the atlas. */
export async function writeAtlas(atlas: string, meta: {
  model: Manifest['model']; layers: AtlasLayer[]; presets: string[]; jobs: SweepJob[]; failed: Manifest['failed']; tops?: Record<string, AtlasTop>
}): Promise<Manifest> {
  const results: Record<string, AtlasEntry> = {}
  // Keep what an earlier sweep with other layers/presets put in the same atlas.
  const old = existsSync(path.join(atlas, MANIFEST_JSON)) ? JSON.parse(await readFile(path.join(atlas, MANIFEST_JSON), 'utf8')) as Manifest : null
  const layers = new Map<string, AtlasLayer>()
  const presets = new Set<string>()
  const tops: Record<string, AtlasTop> = {}
  if (old?.format === ATLAS_FORMAT && old.model.hash === meta.model.hash) {
    for (const [id, t] of Object.entries(old.tops ?? {})) if (existsSync(path.join(atlas, t.montage))) tops[id] = t
    for (const l of old.layers) layers.set(l.name, l)
    for (const p of old.presets) presets.add(p)
    for (const [id, e] of Object.entries(old.results)) if (existsSync(path.join(atlas, Object.values(e.images)[0] ?? ''))) results[id] = e
  }
  for (const l of meta.layers) {
    const prev = layers.get(l.name)
    layers.set(l.name, prev ? { ...l, units: [...new Set([...prev.units, ...l.units])].sort((a, b) => a - b) } : l)
  }
  for (const p of meta.presets) presets.add(p)
  for (const job of meta.jobs) {
    const e = await readEntry(atlas, job)
    if (e) results[job.id] = e
  }
  const manifest: Manifest = {
    format: ATLAS_FORMAT, updated: new Date().toISOString(), model: meta.model,
    presets: [...presets], layers: [...layers.values()], results, failed: meta.failed,
    planned: meta.jobs.length,
    ...(Object.keys({ ...tops, ...meta.tops }).length ? { tops: { ...tops, ...meta.tops } } : {}),
  }
  const json = JSON.stringify(manifest, null, 1)
  await writeFileAtomic(path.join(atlas, MANIFEST_JSON), Buffer.from(json + '\n'))
  await writeFileAtomic(path.join(atlas, MANIFEST_JS), Buffer.from(`window.DEEPVIS_ATLAS = ${json};\n`))
  for (const f of SITE_FILES) await copyFile(new URL(f, SITE_DIR), path.join(atlas, f))
  return manifest
}
