/**
 * Thumbnail service ("Render all units of this layer"): renders a layer's units in the background with
 * a quick preset, THUMB_BATCH units at a time (one run of the engine's run pipeline as a DVT batch:
 * one `optimizeBatch`, i.e. one forward/backward per iteration for the whole chunk), and caches each
 * unit's thumbnail on disk per model, so that a
 * second visit of the layer is instant. Pure Node (no Electron): the engine is injected as a function
 * and events leave through an injected `emit`, as in the run service.
 *
 * - `render({layer, channels?})` validates the layer (BAD_LAYER) and every channel (BAD_UNIT) up front,
 *   as run-service's start() does, then queues a job and returns `{jobId, total, cached}` at once.
 *   Jobs run one at a time, in order (jobs for different layers queue). The uncached units are
 *   optimized with THUMB_PARAMS in chunks of THUMB_BATCH (in the requested order; a chunk may skip
 *   over cached units), each chunk one optimizeBatch call, and written to the cache. Events go in the
 *   requested order: cached units before a chunk's first unit are emitted from the cache at once; when
 *   a chunk finishes, its units (and the cached units between them) are emitted in order. Each unit
 *   gives one `units:thumb` with `done` counting up; the end gives one `units:done` ('done' |
 *   'cancelled' | 'failed' with its message).
 * - One job per layer: a second `render` of a layer that has a queued or running job returns THAT
 *   job's id, total and cached count (its request is not started again; the channels of the second
 *   request are not added). Rendering is idempotent, so the renderer can re-attach to a job, e.g.
 *   after a reload, instead of cancelling work already done.
 * - `cancel(jobId)` stops the job after the current iteration (optimizeBatch's AbortSignal); nothing of
 *   the running chunk is cached or emitted, not even a unit of it that had already finished (possible
 *   only when its gradient vanished): the chunk is the unit of work, and a later render recomputes it.
 *   Chunks already finished stay cached and emitted. A queued job is cancelled at once. Unknown ids are
 *   ignored.
 * - A failing chunk (a diverging objective, a blur too large for the input, a full disk) fails the job
 *   with a message naming the unit (optimizeBatch names the image; all units of the chunk when it does
 *   not); earlier chunks stay cached; nothing is thrown out of the queue. `dispose()` cancels everything.
 * Cache layout: `<cacheDir>/<modelKey>/<hash of layer name + THUMB_PARAMS>/<channel>.png` and
 * `<channel>.json` (`{format, layer, channel, obj, ii, paramsHash}`; the hash also covers the thumbnail size), each written atomically, png
 * first and json last: a unit counts as cached only when its json exists and names the same hash.
 * Shape: `createThumbService({cacheDir, engine, emit}) => ThumbService`;
 *   `render(req) => Promise<{jobId, total, cached}>`, `cancel(jobId)`, `thumbs(layer) => UnitThumb[]`,
 *   `whenIdle()`, `dispose()`
 * Why over 400 lines: the cache (per model and parameter hash, png then json), the job queue with its
 * cancel/replace rules and the per-chunk error naming belong to one life cycle; the optimization itself
 * is the engine's run pipeline.
 */
import { createHash, randomUUID } from 'node:crypto'
import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { DeepVisError } from '../shared/errors.ts'
import type { InputSpec } from '../engine/index.ts'
import { renderX, writeFileAtomic } from '../engine/node/index.ts'
import { resolveTarget } from '../engine/index.ts'
import { optimizeBatch } from '../engine/index.ts'
import { createRun } from '../engine/node/index.ts'
import { DEFAULT_PARAMS, PRESETS, resolveParams, type FindParams } from '../engine/index.ts'
import type { OptimizeResult } from '../engine/index.ts'
import type { ThumbDone, ThumbRequest, UnitThumb } from '../shared/app-types.ts'
import type { EventChannel, EventMap } from '../shared/ipc-contract.ts'
import type { Emit, RunEngine } from './run-service.ts'
import { PNG_DATA_URL_PREFIX } from './run-store.ts'

/** Optimization parameters of a thumbnail: every FindParams field except the unit. */
export type ThumbParams = Omit<FindParams, 'push_layer' | 'push_channel'>

/** The preset whose regularizers thumbnails use. */
export const THUMB_PRESET = 'yosinski-3'
/** Iterations per thumbnail (the full preset runs 1000). */
export const THUMB_MAX_ITER = 50

/**
 * The quick preset of thumbnails: yosinski-3's regularizers (decay 1e-4, Gaussian blur of 1 px every 4
 * iterations, constant lr 100) with 50 iterations instead of 1000 and the default seed (0).
 * Why: yosinski-3 is the setting of most of the paper's figures, and its constant lr of 100 makes
 * full-size steps from the first iteration (the 'progress' policies of yosinski-1/4 start cautiously),
 * while the frequent blur keeps a short run smooth instead of high-frequency noise. On the embedded
 * model 50 iterations bring a class unit from a negative objective to near its 1000-iteration image
 * (e.g. logits #0: -8.6 at x0, best 6.1 at iteration 48) at about 1/20 of the cost: a layer of a few
 * hundred units renders in minutes, and a thumbnail is a preview, not a result (a full run of the unit
 * is one click away). The fixed seed makes a thumbnail reproducible and keeps the cache valid.
 */
export const THUMB_PARAMS: Readonly<ThumbParams> = Object.freeze({
  ...DEFAULT_PARAMS,
  ...PRESETS[THUMB_PRESET].params,
  lr_params: { ...(PRESETS[THUMB_PRESET].params.lr_params ?? DEFAULT_PARAMS.lr_params) },
  max_iter: THUMB_MAX_ITER,
})

/**
 * Units optimized together in one optimizeBatch call. Why 4: batching amortizes the per-op overhead
 * (large on wasm with a small model), while memory grows with the batch (GoogLeNet at 16 images took
 * 2.8 GB, so 4 stays near 0.7 GB in the engine worker); a cancel also loses at most this many units.
 */
export const THUMB_BATCH = 4

/** Longest side of a thumbnail in pixels; a smaller input keeps its size (never enlarged). */
export const THUMB_SIZE_PX = 96
/** `format` tag of a unit's json; bump the number on an incompatible change. */
export const THUMB_JSON_FORMAT = 'deepvis-thumb@1'
/** Hex characters kept of the sha256 that names a layer's cache folder. */
const HASH_CHARS = 24
/** A model key used as a folder name as it is; any other is hashed first. */
const SAFE_KEY = /^[A-Za-z0-9_-]{1,64}$/
/** Cache files read at once by `thumbs()`. */
const READ_BATCH = 32
const JSON_SUFFIX = '.json'
const PNG_SUFFIX = '.png'
/** How optimizeBatch names the image an error belongs to. */
const IMAGE_PREFIX = /^image (\d+): /

export interface ThumbServiceOptions {
  /** Folder of the thumbnail cache (one sub-folder per model key). */
  cacheDir: string
  /** The loaded engine (its `modelKey` names the cache folder). */
  engine: () => Promise<RunEngine>
  /** Where `units:thumb` and `units:done` go. */
  emit: Emit
  /** Overrides of THUMB_PARAMS (tests: a tiny max_iter). Part of the cache key. Default none. */
  params?: Partial<ThumbParams>
  /** Longest thumbnail side in pixels. Default THUMB_SIZE_PX. */
  sizePx?: number
  /** The batched optimizer, for tests (count or interrupt calls). Default optimizeBatch. */
  optimizeBatch?: typeof optimizeBatch
}

export interface ThumbService {
  /** Validate and queue a job (or return the layer's running one); resolves as soon as it is queued. */
  render(req: ThumbRequest): Promise<{ jobId: string; total: number; cached: number }>
  /** Cancel a queued or running job after its current iteration; unknown or finished ids are ignored. */
  cancel(jobId: string): void
  /** Cached thumbnails of `layer` for the current model, by channel (empty when none). */
  thumbs(layer: string): Promise<UnitThumb[]>
  /** Resolves when the queue is empty and nothing runs. */
  whenIdle(): Promise<void>
  /** Cancel every queued and running job (app quit); later renders answer INTERNAL. */
  dispose(): void
}

/** A unit's json in the cache. */
interface ThumbJson {
  format: typeof THUMB_JSON_FORMAT
  layer: string
  channel: number
  obj: number
  ii: number
  paramsHash: string
}

interface Job {
  jobId: string
  layer: string
  channels: number[]
  cached: number
  modelKey: string
  /** The layer's cache folder and its hash. */
  dir: string
  hash: string
  controller: AbortController
}

/** JSON with object keys sorted, so that equal parameters always hash equally. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

/**
 * Name of a layer's cache folder: a hash of the layer name, the thumbnail parameters and the thumbnail
 * size (which also changes the PNG).
 */
export function layerCacheHash(layer: string, params: ThumbParams, sizePx: number): string {
  return sha256(stableJson({ layer, params, sizePx, view: THUMB_VIEW })).slice(0, HASH_CHARS)
}

/**
 * Which image a thumbnail shows: the centred x of best_X (looks like the object; x + mean stretched
 * turned ImageNet models' images orange). Part of the cache key, so older plus-mean thumbnails are redone.
 */
const THUMB_VIEW = 'x'

/** A model key as a folder name (hashed unless it is short and path-safe). */
function modelFolderName(modelKey: string): string {
  return SAFE_KEY.test(modelKey) ? modelKey : sha256(modelKey).slice(0, HASH_CHARS)
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/**
 * The message of a failed job: optimizeBatch prefixes an image's error with `image <i>: `, which names
 * the unit; otherwise every unit of the chunk is named (or the layer, outside a chunk).
 */
function failureText(job: { layer: string }, chunk: number[], e: unknown): string {
  const text = errorText(e)
  const image = IMAGE_PREFIX.exec(text)
  const index = image ? Number(image[1]) : -1
  if (index >= 0 && index < chunk.length) return `thumbnail of unit ${chunk[index]} of layer '${job.layer}' failed: ${text.slice(image![0].length)}`
  const where = chunk.length === 0 ? `layer '${job.layer}'` : chunk.length === 1 ? `unit ${chunk[0]} of layer '${job.layer}'` : `units ${chunk.join(', ')} of layer '${job.layer}'`
  return `thumbnail of ${where} failed: ${text}`
}

function isThumbJson(value: unknown, channel: number, hash: string): value is ThumbJson {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Partial<ThumbJson>
  return v.format === THUMB_JSON_FORMAT && v.channel === channel && v.paramsHash === hash && typeof v.obj === 'number' && typeof v.ii === 'number'
}

/** Whether `<dir>/<channel>.json` exists and belongs to this cache folder. */
async function readThumbJson(dir: string, channel: number, hash: string): Promise<ThumbJson | null> {
  try {
    const value: unknown = JSON.parse(await readFile(path.join(dir, channel + JSON_SUFFIX), 'utf8'))
    return isThumbJson(value, channel, hash) ? value : null
  } catch {
    return null
  }
}

/** A cached unit (json and png), or null when it is not (completely) cached. */
async function readCached(dir: string, channel: number, hash: string): Promise<UnitThumb | null> {
  const meta = await readThumbJson(dir, channel, hash)
  if (!meta) return null
  try {
    const png = await readFile(path.join(dir, channel + PNG_SUFFIX))
    return { channel, image: PNG_DATA_URL_PREFIX + png.toString('base64'), obj: meta.obj }
  } catch {
    return null
  }
}

/** PNG of RGB bytes (HWC) of the input's size, shrunk to fit `sizePx` x `sizePx` (never enlarged). */
async function thumbnailPng(rgb: Uint8Array, spec: InputSpec, sizePx: number): Promise<Buffer> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), {
    raw: { width: spec.width, height: spec.height, channels: 3 },
  }).resize({ width: sizePx, height: sizePx, fit: 'inside', withoutEnlargement: true }).png().toBuffer()
}

/**
 * Create the service; nothing is read or written until the first call.
 * @example const thumbs = createThumbService({ cacheDir, engine: host.engine, emit: (c, p) => win.webContents.send(c, p) })
 */
export function createThumbService({
  cacheDir, engine, emit, params: overrides = {}, sizePx = THUMB_SIZE_PX, optimizeBatch: batchOptimize = optimizeBatch,
}: ThumbServiceOptions): ThumbService {
  // Validated once (with a placeholder unit), so a bad override fails at creation, not per job.
  const { push_layer: _l, push_channel: _c, ...params } = resolveParams({ ...THUMB_PARAMS, ...overrides, push_layer: 'x', push_channel: 0 })
  if (!Number.isInteger(sizePx) || sizePx < 1) throw new DeepVisError('BAD_PARAM', `thumbnail size must be a positive integer; got ${sizePx}`)
  const queue: Job[] = []
  /** Queued and running jobs by id, and by layer. */
  const jobs = new Map<string, Job>()
  const jobByLayer = new Map<string, Job>()
  let pumping: Promise<void> | null = null
  let disposed = false

  function send<K extends EventChannel>(channel: K, payload: EventMap[K]): void {
    try {
      emit(channel, payload)
    } catch (e) {
      // A closed window must not end the job.
      console.error(`[thumbs] could not send '${channel}':`, e)
    }
  }

  function layerDir(modelKey: string, layer: string): { dir: string; hash: string } {
    const hash = layerCacheHash(layer, params, sizePx)
    return { dir: path.join(cacheDir, modelFolderName(modelKey), hash), hash }
  }

  /** Write one unit (png, then json) and return its thumbnail. */
  async function store(job: Job, channel: number, result: OptimizeResult, spec: InputSpec): Promise<UnitThumb> {
    const snap = result.best ?? result.last
    if (!snap) throw new DeepVisError('INTERNAL', 'the optimization recorded no image')
    const png = await thumbnailPng(renderX(snap.x, spec), spec, sizePx)
    const jsonFile = path.join(job.dir, channel + JSON_SUFFIX)
    // A stale json must not vouch for the new png while it is being written.
    await rm(jsonFile, { force: true })
    await writeFileAtomic(path.join(job.dir, channel + PNG_SUFFIX), png)
    const meta: ThumbJson = { format: THUMB_JSON_FORMAT, layer: job.layer, channel, obj: snap.obj, ii: snap.ii, paramsHash: job.hash }
    await writeFileAtomic(jsonFile, new TextEncoder().encode(JSON.stringify(meta, null, 2) + '\n'))
    return { channel, image: PNG_DATA_URL_PREFIX + png.toString('base64'), obj: snap.obj }
  }

  async function execute(job: Job): Promise<ThumbDone> {
    let done = 0
    const total = job.channels.length
    const end = (status: ThumbDone['status'], error?: string): ThumbDone =>
      ({ jobId: job.jobId, layer: job.layer, status, done, total, ...(error !== undefined ? { error } : {}) })
    /** The units of the chunk being computed, for error messages. */
    let chunk: number[] = []
    try {
      await mkdir(job.dir, { recursive: true })
      // Thumbnails ready to emit, by position in job.channels (cached ones now, computed ones per chunk).
      const ready: (UnitThumb | null)[] = []
      const uncached: number[] = []
      for (const [pos, channel] of job.channels.entries()) {
        ready.push(await readCached(job.dir, channel, job.hash))
        if (!ready[pos]) uncached.push(pos)
      }
      /** Emit every ready unit in order, up to (not including) position `limit`. */
      const emitUpTo = (limit: number): void => {
        for (; done < limit; done++) {
          const thumb = ready[done] as UnitThumb
          send('units:thumb', { jobId: job.jobId, layer: job.layer, done: done + 1, total, thumb })
        }
      }
      for (let k = 0; k < uncached.length; k += THUMB_BATCH) {
        const positions = uncached.slice(k, k + THUMB_BATCH)
        emitUpTo(positions[0])
        if (job.controller.signal.aborted) return end('cancelled')
        const eng = await engine()
        if (eng.modelKey !== job.modelKey) {
          throw new DeepVisError('BAD_MODEL', 'another model was loaded (or its input spec corrected) since the job started; render the layer again')
        }
        chunk = positions.map((pos) => job.channels[pos])
        // The one run pipeline, as a DVT batch without quality readouts or result files.
        const run = await createRun(eng, { kind: 'dvt-batch', params: chunk.map((channel) => ({ ...params, push_layer: job.layer, push_channel: channel })) })
        const results = (await run.execute({
          signal: job.controller.signal, quality: false, optimizeBatch: batchOptimize,
          // Let queued messages in (units:cancel, other calls) between iterations (see run-service.ts).
          onIteration: () => new Promise<void>((resolve) => setImmediate(resolve)),
        })).map((o) => o.result)
        if (results.some((r) => r.interrupted)) return end('cancelled')
        for (const [i, pos] of positions.entries()) ready[pos] = await store(job, chunk[i], results[i], eng.inputSpec)
        chunk = []
        emitUpTo(positions.at(-1)! + 1)
      }
      emitUpTo(total)
      return end('done')
    } catch (e) {
      if (!(e instanceof DeepVisError)) console.error(`[thumbs] job ${job.jobId} failed:`, e)
      return end('failed', failureText(job, chunk, e))
    }
  }

  function finish(job: Job, outcome: ThumbDone): void {
    jobs.delete(job.jobId)
    if (jobByLayer.get(job.layer) === job) jobByLayer.delete(job.layer)
    send('units:done', outcome)
  }

  async function pump(): Promise<void> {
    for (let job = queue.shift(); job; job = queue.shift()) finish(job, await execute(job))
  }

  function kick(): void {
    pumping ??= pump().finally(() => {
      pumping = null
      if (queue.length > 0) kick()
    })
  }

  async function render(req: ThumbRequest): Promise<{ jobId: string; total: number; cached: number }> {
    if (disposed) throw new DeepVisError('INTERNAL', 'the thumbnail service was disposed (the app is quitting)')
    const eng = await engine()
    const info = await eng.model.layerInfo(req.layer, [eng.inputSpec.height, eng.inputSpec.width])
    const channels = req.channels ? [...new Set(req.channels)] : Array.from({ length: info.units }, (_, i) => i)
    if (channels.length === 0) throw new DeepVisError('BAD_UNIT', `no units to render: layer '${info.name}' has ${info.units} units and the request named none`)
    for (const c of channels) {
      if (!Number.isInteger(c) || c < 0) throw new DeepVisError('BAD_UNIT', `channel ${c} is not a unit index: use integers 0..${info.units - 1}`)
      resolveTarget(info, { ...params, push_layer: info.name, push_channel: c }, eng.inputSpec.labels)
    }
    const { dir, hash } = layerDir(eng.modelKey, req.layer)
    let cached = 0
    for (const c of channels) if (await readThumbJson(dir, c, hash)) cached++
    // Checked after the last await, so two concurrent requests cannot both start a job.
    const running = jobByLayer.get(req.layer)
    if (running) return { jobId: running.jobId, total: running.channels.length, cached: running.cached }
    if (disposed) throw new DeepVisError('INTERNAL', 'the thumbnail service was disposed (the app is quitting)')
    const job: Job = {
      jobId: randomUUID(), layer: req.layer, channels, cached, modelKey: eng.modelKey, dir, hash, controller: new AbortController(),
    }
    jobs.set(job.jobId, job)
    jobByLayer.set(job.layer, job)
    queue.push(job)
    kick()
    return { jobId: job.jobId, total: channels.length, cached }
  }

  function cancel(jobId: string): void {
    const job = jobs.get(jobId)
    if (!job) return
    job.controller.abort()
    const queued = queue.indexOf(job)
    if (queued >= 0) {
      queue.splice(queued, 1)
      finish(job, { jobId, layer: job.layer, status: 'cancelled', done: 0, total: job.channels.length })
    }
  }

  async function thumbs(layer: string): Promise<UnitThumb[]> {
    const eng = await engine()
    const { dir, hash } = layerDir(eng.modelKey, layer)
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      return []
    }
    const channels = names
      .filter((n) => /^\d+\.json$/.test(n))
      .map((n) => Number(n.slice(0, -JSON_SUFFIX.length)))
      .sort((a, b) => a - b)
    const out: UnitThumb[] = []
    for (let i = 0; i < channels.length; i += READ_BATCH) {
      const batch = await Promise.all(channels.slice(i, i + READ_BATCH).map((c) => readCached(dir, c, hash)))
      for (const t of batch) if (t) out.push(t)
    }
    return out
  }

  async function whenIdle(): Promise<void> {
    while (pumping) await pumping
  }

  function dispose(): void {
    disposed = true
    for (const job of [...jobs.values()]) cancel(job.jobId)
  }

  return { render, cancel, thumbs, whenIdle, dispose }
}
