/**
 * The app's Atlas view, host side: open an atlas folder written by `deepvis sweep` (possibly on a
 * cluster, then copied to this machine), and answer its layer summary, pages of a layer's unit grid
 * (thumbnails scaled down) and one unit's page (every preset's best / last / majority with quality
 * readouts). No TensorFlow.js: the main thread answers these itself while the engine computes.
 *
 * An atlas is a folder of files from elsewhere, so it is read as untrusted: manifest.json is a regular
 * file within the JSON size limit and must match the atlas format (checked with zod); every image it
 * names must resolve inside the atlas folder (links out of it refused) and be a regular file within the
 * file size limit; an image that fails is shown as missing, the rest of the page still answers.
 * The parsed manifest is cached per folder and re-read when manifest.json changes (a sweep still
 * running keeps adding results).
 * Shape: `const atlases = createAtlasService(); await atlases.open(dir); await atlases.thumbs(req)`
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { z } from 'zod'
import { DeepVisError } from '../shared/errors.ts'
import { limits, raiseHint } from '../engine/node/tf-free.ts'
import { readJsonFile, readRegularFile, realpathLoose, refuseSpecialRoot, resolveInside } from '../engine/node/tf-free.ts'
import {
  ATLAS_THUMB_PX, MAX_ATLAS_PAGE,
  type AtlasCell, type AtlasInfo, type AtlasSnapshot, type AtlasThumb, type AtlasThumbsPage, type AtlasThumbsRequest,
  type AtlasUnitPage, type AtlasUnitPreset, type AtlasUnitRequest,
} from '../shared/atlas-types.ts'
import { formatMagnitude } from '../shared/format.ts'
import { ATLAS_FORMAT, MANIFEST_JSON } from '../sweep/atlas.ts'
import type { IpcHandlers } from './ipc.ts'
import { expandHome } from './model-files.ts'

const PNG_PREFIX = 'data:image/png;base64,'
/** Largest image an atlas may hold, pixels (a decompression bomb is refused by sharp before decoding). */
const MAX_IMAGE_PIXELS = 4096 * 4096
/** Manifests larger than this many results are refused (a million units x presets). */
const MAX_RESULTS = 1_000_000

const snap = z.object({ ii: z.number(), obj: z.number().nullable() }).nullable()
const name = z.string().max(1000)
/** The parts of manifest.json the view reads (the sweep writes more; extra keys are ignored). */
const manifestSchema = z.object({
  format: z.literal(ATLAS_FORMAT),
  updated: z.string().max(100),
  model: z.object({ name: name, path: z.string().max(4096), hash: z.string().max(200) }),
  presets: z.array(name).max(1000),
  layers: z.array(z.object({
    name,
    type: z.string().max(200),
    shape: z.array(z.number().int().nonnegative()).max(8),
    units: z.array(z.number().int().nonnegative()).max(MAX_RESULTS),
    labels: z.array(z.string().max(2000)).max(MAX_RESULTS).optional(),
  })).max(100_000),
  results: z.record(z.string().max(2200), z.object({
    layer: name,
    unit: z.number().int().nonnegative(),
    preset: name,
    label: z.string().max(2000).nullable(),
    images: z.record(z.string().max(100), z.string().max(4096)),
    best: snap,
    last: snap,
    majority: snap,
    meta_result: z.string().max(2000),
    quality: z.record(z.string().max(200), z.unknown()).nullable(),
    iterations: z.number().int().nonnegative(),
    method: z.string().max(200),
    total_ms: z.number().nonnegative(),
  })),
  failed: z.array(z.object({ id: z.string().max(2200), error: z.string().max(10_000) })).max(MAX_RESULTS),
  planned: z.number().int().nonnegative(),
  tops: z.record(z.string().max(2200), z.object({
    montage: z.string().max(4096),
    indexDir: z.string().max(4096),
    images: z.number().int().nonnegative(),
    entries: z.array(z.object({ rank: z.number().int(), image: z.string().max(4096), score: z.number() })).max(1000),
  })).optional(),
})
type Manifest = z.infer<typeof manifestSchema>
type Entry = Manifest['results'][string]

interface Opened { root: string; mtimeMs: number; size: number; manifest: Manifest; failed: Map<string, string> }

function first(issues: z.ZodIssue[]): string {
  const i = issues[0]
  return i ? `${i.path.join('.') || '(top)'}: ${i.message}` : 'unknown'
}

/** The app's number format ("12.345", "1.200e-5"), 'n/a' for a missing value as on the atlas site. */
function num(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? formatMagnitude(v) : 'n/a'
}

/** The quality readouts of a result as label/value rows, in the site's order. */
export function qualityRows(q: Record<string, unknown> | null): { key: string; value: string }[] {
  if (!q) return []
  const rows: { key: string; value: string }[] = []
  if ('activation' in q) rows.push({ key: 'activation', value: num(q.activation) })
  if (typeof q.rank === 'number') rows.push({ key: 'rank in layer', value: `${q.rank} / ${typeof q.of === 'number' ? q.of : '?'}` })
  if ('spectrum_slope' in q) rows.push({ key: 'spectrum slope', value: num(q.spectrum_slope) })
  const held = q.held_out as { probability?: unknown; rank?: unknown; model?: unknown } | undefined
  if (held && typeof held === 'object') {
    rows.push({ key: 'check model', value: `p ${num(held.probability)}, rank ${typeof held.rank === 'number' ? held.rank : '?'}${typeof held.model === 'string' ? ` (${held.model})` : ''}` })
  }
  return rows
}

export interface AtlasService {
  open(dir: string): Promise<AtlasInfo>
  thumbs(req: AtlasThumbsRequest): Promise<AtlasThumbsPage>
  unit(req: AtlasUnitRequest): Promise<AtlasUnitPage>
}

/** A page of thumbnails stops growing past this many bytes of images (the next page starts there). */
export const ATLAS_PAGE_BYTES = 6 << 20

export function createAtlasService({ pageBytes = ATLAS_PAGE_BYTES }: { pageBytes?: number } = {}): AtlasService {
  const cache = new Map<string, Opened>()

  async function load(dir: string): Promise<Opened> {
    if (typeof dir !== 'string' || dir.trim() === '') throw new DeepVisError('BAD_PARAM', 'give the atlas folder (the --out folder of deepvis sweep)')
    await refuseSpecialRoot(dir, 'atlas folder')
    const root = await realpathLoose(path.resolve(dir))
    const dirStat = await stat(root).catch(() => null)
    if (!dirStat) throw new DeepVisError('BAD_PARAM', `no atlas folder ${dir}`)
    if (!dirStat.isDirectory()) throw new DeepVisError('BAD_PARAM', `${dir} is not a folder: open the atlas folder (the --out folder of deepvis sweep)`)
    const file = path.join(root, MANIFEST_JSON)
    const st = await stat(file).catch(() => null)
    if (!st) throw new DeepVisError('BAD_PARAM', `${dir} holds no ${MANIFEST_JSON}: not an atlas (make one with deepvis sweep --out ${dir})`)
    const cached = cache.get(root)
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached
    const raw = await readJsonFile(file, 'atlas manifest', 'BAD_PARAM')
    const format = (raw as { format?: unknown } | null)?.format
    if (format !== ATLAS_FORMAT) {
      throw new DeepVisError('BAD_PARAM', `${file} is not a DeepVis atlas manifest (format ${JSON.stringify(format ?? null).slice(0, 60)}, expected ${ATLAS_FORMAT})`)
    }
    const parsed = manifestSchema.safeParse(raw)
    if (!parsed.success) throw new DeepVisError('BAD_PARAM', `atlas manifest ${file} is malformed at ${first(parsed.error.issues)}`)
    if (Object.keys(parsed.data.results).length > MAX_RESULTS) throw new DeepVisError('BAD_PARAM', `atlas manifest ${file} has over ${MAX_RESULTS} results`)
    const opened: Opened = {
      root, mtimeMs: st.mtimeMs, size: st.size, manifest: parsed.data,
      failed: new Map(parsed.data.failed.map((f) => [f.id, f.error])),
    }
    cache.set(root, opened)
    return opened
  }

  function layerOf(a: Opened, layer: string): Manifest['layers'][number] {
    const l = a.manifest.layers.find((x) => x.name === layer)
    if (!l) throw new DeepVisError('BAD_LAYER', `no layer '${layer}' in the atlas ${a.root} (its layers: ${a.manifest.layers.map((x) => x.name).slice(0, 8).join(', ')})`)
    return l
  }

  /** An image the manifest names, read inside the atlas; null when missing or refused. */
  async function imageBytes(a: Opened, rel: string | undefined): Promise<Buffer | null> {
    if (!rel) return null
    try {
      const real = await resolveInside(a.root, rel, 'atlas image', 'BAD_PARAM')
      return await readRegularFile(real, { what: 'atlas image', maxBytes: limits().auxFileBytes, raiseHint: raiseHint('auxFileBytes'), code: 'BAD_PARAM' })
    } catch {
      return null
    }
  }

  async function thumbnail(a: Opened, rel: string | undefined): Promise<string | null> {
    const bytes = await imageBytes(a, rel)
    if (!bytes) return null
    try {
      const img = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS })
      const meta = await img.metadata()
      if (meta.format === 'png' && (meta.width ?? 0) <= ATLAS_THUMB_PX && (meta.height ?? 0) <= ATLAS_THUMB_PX) return PNG_PREFIX + bytes.toString('base64')
      const small = await img.resize(ATLAS_THUMB_PX, ATLAS_THUMB_PX, { fit: 'inside', withoutEnlargement: true }).png().toBuffer()
      return PNG_PREFIX + small.toString('base64')
    } catch {
      return null
    }
  }

  async function fullImage(a: Opened, rel: string | undefined): Promise<string | null> {
    const bytes = await imageBytes(a, rel)
    if (!bytes) return null
    try {
      const meta = await sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).metadata()
      return meta.format === 'png' ? PNG_PREFIX + bytes.toString('base64') : null
    } catch {
      return null
    }
  }

  const id = (layer: string, unit: number, preset: string): string => `${layer}:${unit}:${preset}`
  const statusOf = (a: Opened, e: Entry | undefined, jobId: string): Pick<AtlasThumb, 'status' | 'error'> => {
    if (e) return { status: 'done' }
    const error = a.failed.get(jobId)
    return error === undefined ? { status: 'pending' } : { status: 'failed', error }
  }
  const labelOf = (l: Manifest['layers'][number], unit: number, e?: Entry): string => l.labels?.[unit] ?? e?.label ?? ''

  return {
    async open(dir) {
      const a = await load(dir)
      const m = a.manifest
      return {
        path: a.root,
        model: m.model,
        presets: m.presets,
        layers: m.layers.map((l) => {
          let done = 0
          let failed = 0
          for (const u of l.units) {
            for (const p of m.presets) {
              const key = id(l.name, u, p)
              if (m.results[key]) done += 1
              else if (a.failed.has(key)) failed += 1
            }
          }
          return { name: l.name, type: l.type, shape: l.shape, units: l.units, ...(l.labels ? { labels: l.labels } : {}), done, failed }
        }),
        results: Object.keys(m.results).length,
        planned: m.planned,
        failed: m.failed.slice(0, 200),
        updated: m.updated,
      }
    },

    async thumbs({ path: dir, layer, offset, limit }) {
      if (!Number.isInteger(offset) || offset < 0) throw new DeepVisError('BAD_PARAM', 'offset must be a whole number >= 0')
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ATLAS_PAGE) throw new DeepVisError('BAD_PARAM', `limit must be 1..${MAX_ATLAS_PAGE}`)
      const a = await load(dir)
      const l = layerOf(a, layer)
      const cells: AtlasCell[] = []
      let bytes = 0
      for (const unit of l.units.slice(offset, offset + limit)) {
        // Big images: a shorter page (at least one cell), so that one answer stays a few MB.
        if (cells.length > 0 && bytes > pageBytes) break
        const thumbs: AtlasThumb[] = []
        let label = ''
        for (const preset of a.manifest.presets) {
          const key = id(layer, unit, preset)
          const e = a.manifest.results[key]
          label ||= labelOf(l, unit, e)
          const image = e ? await thumbnail(a, e.images.best_X) : null
          bytes += image?.length ?? 0
          thumbs.push({ preset, image, obj: e?.best?.obj ?? null, ...statusOf(a, e, key) })
        }
        cells.push({ unit, label, thumbs })
      }
      return { layer, total: l.units.length, offset, cells }
    },

    async unit({ path: dir, layer, unit }) {
      const a = await load(dir)
      const l = layerOf(a, layer)
      const i = l.units.indexOf(unit)
      if (i < 0) throw new DeepVisError('BAD_UNIT', `unit ${unit} of '${layer}' is not in the atlas (it holds ${l.units.length} units of this layer)`)
      const presets: AtlasUnitPreset[] = []
      let label = ''
      for (const preset of a.manifest.presets) {
        const key = id(layer, unit, preset)
        const e = a.manifest.results[key]
        label ||= labelOf(l, unit, e)
        const snapshots: AtlasSnapshot[] = []
        if (e) {
          for (const kind of ['best', 'last', 'majority'] as const) {
            snapshots.push({ kind, image: await fullImage(a, e.images[`${kind}_X`]), ii: e[kind]?.ii ?? null, obj: e[kind]?.obj ?? null })
          }
        }
        presets.push({
          preset, ...statusOf(a, e, key), snapshots,
          quality: qualityRows(e?.quality ?? null),
          iterations: e?.iterations ?? 0, method: e?.method ?? '', metaResult: e?.meta_result ?? '', totalMs: e?.total_ms ?? 0,
        })
      }
      const t = a.manifest.tops?.[`${layer}:${unit}`]
      const top = t ? { montage: await fullImage(a, t.montage), indexDir: t.indexDir, images: t.images, entries: t.entries } : null
      return { layer, unit, label, presets, top, prev: i > 0 ? l.units[i - 1] : null, next: i < l.units.length - 1 ? l.units[i + 1] : null }
    },
  }
}

/** The `atlas:*` channels over one service (both hosts answer them on the main thread, without the engine). */
export function atlasHandlers(atlases: AtlasService = createAtlasService()): Pick<IpcHandlers, 'atlas:open' | 'atlas:pick' | 'atlas:thumbs' | 'atlas:unit'> {
  return {
    'atlas:open': (folder) => atlases.open(expandHome(folder)),
    'atlas:pick': () => {
      throw new DeepVisError('BAD_PARAM', "no folder dialog here: type the atlas folder's path")
    },
    'atlas:thumbs': (req) => atlases.thumbs({ ...req, path: expandHome(req.path) }),
    'atlas:unit': (req) => atlases.unit({ ...req, path: expandHome(req.path) }),
  }
}
