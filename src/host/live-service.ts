/**
 * Live-view service: answers the live:* and index:* channels from the loaded engine. Pure Node (no
 * Electron); the engine and the event sink are injected, as in the thumbnail service.
 * - `activations` / `gradients`: one forward (and backward) pass on an image the page already fitted
 *   to the model's input; conv maps travel quantized to a byte per value (exact max/min/mean per channel).
 * - `folder` / `image`: an image folder on the engine's machine (the one a user indexes) and one of its
 *   images fitted by the same policy as the index; the image must lie inside the folder (after links).
 * - `build`: the top-k index of (folder, layer) for the loaded model, in the background, one job at a
 *   time, cached under `<cacheDir>/<index key>/` (the key covers the model, its input spec, the layer,
 *   k and the folder's content, so a changed folder or another model gets its own index; a stopped job
 *   resumes where it stopped). Progress as `index:progress`, the end as `index:done`.
 * - `top`: a unit's entries from that index with their receptive-field crops; BAD_PARAM until built.
 * Shape: `createLiveService({cacheDir, engine, emit}) => LiveService`.
 */
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import sharp from 'sharp'
import { DeepVisError } from '../shared/errors.ts'
import { channelStats, layerActivations, quantizeChannels } from '../engine/index.ts'
import { gradientToRgb, gradientView } from '../engine/index.ts'
import type { RgbImage } from '../engine/index.ts'
import { isImageName, listImages, readImageFile } from '../engine/node/index.ts'
import { resolveInside } from '../engine/node/index.ts'
import { buildTopKIndex, DEFAULT_TOP_K, indexKey, readTopKIndex, topEntries, type TopKIndexFile } from '../engine/node/index.ts'
import { entryCrop } from '../engine/node/index.ts'
import { DEFAULT_FIT_POLICY } from '../shared/fit-policy.ts'
import { MAX_LIVE_FOLDER_LIST } from '../shared/ipc-limits.ts'
import type {
  IndexBuildRequest, IndexJob, IndexTop, IndexTopRequest, LiveActivations, LiveActivationsRequest, LiveFolder, LiveGradients,
  LiveGradientsRequest, LiveImage, LiveImageFile, LiveImageRequest,
} from '../shared/live-types.ts'
import type { Emit, RunEngine } from './run-service.ts'
import { PNG_DATA_URL_PREFIX } from './run-store.ts'

/** Most values of a layer sent live (GoogLeNet's largest map, conv1, has 802,816). */
export const MAX_LIVE_VALUES = 8 * 2 ** 20
/** Side of a top-k crop sent to the page, pixels. */
export const CROP_PX = 112

export interface LiveServiceOptions {
  cacheDir: string
  engine: () => Promise<RunEngine>
  emit: Emit
}

export interface LiveService {
  activations(req: LiveActivationsRequest): Promise<LiveActivations>
  gradients(req: LiveGradientsRequest): Promise<LiveGradients>
  folder(folder: string): Promise<LiveFolder>
  image(req: LiveImageRequest): Promise<LiveImageFile>
  build(req: IndexBuildRequest): Promise<IndexJob>
  cancel(jobId: string): void
  top(req: IndexTopRequest): Promise<IndexTop>
  dispose(): void
}

function rgbOf(img: LiveImage, engine: RunEngine): RgbImage {
  const { width, height } = engine.inputSpec
  if (img.width !== width || img.height !== height) {
    throw new DeepVisError('BAD_PARAM', `the image is ${img.width}x${img.height}; the loaded model takes ${width}x${height} (the model changed? the page fits images to it)`)
  }
  const bytes = Buffer.from(img.rgb, 'base64')
  return { data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), width, height }
}

async function png(rgb: Uint8Array, width: number, height: number): Promise<string> {
  const buf = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } }).png().toBuffer()
  return PNG_DATA_URL_PREFIX + buf.toString('base64')
}

interface Job {
  jobId: string
  folder: string
  layer: string
  controller: AbortController
}

export function createLiveService({ cacheDir, engine, emit }: LiveServiceOptions): LiveService {
  const queue: { job: Job; run: () => Promise<void> }[] = []
  const jobs = new Map<string, Job>()
  let pumping = false
  let disposed = false

  const send: Emit = (channel, payload) => {
    try { emit(channel, payload) } catch (e) { console.error(`[live] could not send '${channel}':`, e) }
  }

  async function pump(): Promise<void> {
    if (pumping) return
    pumping = true
    try {
      for (let next = queue.shift(); next; next = queue.shift()) await next.run()
    } finally {
      pumping = false
    }
  }

  /** The index folder of (folder, layer) for the loaded model, and the folder's images. */
  async function locate(eng: RunEngine, folder: string, layer: string): Promise<{ dir: string; images: string[] }> {
    const images = await listImages(folder)
    const key = await indexKey({ modelKey: eng.modelKey, imagesDir: path.resolve(folder), images, layers: [layer], k: DEFAULT_TOP_K, fit: DEFAULT_FIT_POLICY })
    return { dir: path.join(cacheDir, key), images }
  }

  async function readIndex(dir: string): Promise<TopKIndexFile | null> {
    try { return await readTopKIndex(dir) } catch { return null }
  }

  return {
    async activations({ image, layer }) {
      const t0 = performance.now()
      const eng = await engine()
      const info = await eng.model.layerInfo(layer, [eng.inputSpec.height, eng.inputSpec.width])
      const n = info.shape.reduce((a, b) => a * b, 1)
      if (n > MAX_LIVE_VALUES) throw new DeepVisError('BAD_LAYER', `layer '${layer}' has ${n} values per image, more than the live view shows (${MAX_LIVE_VALUES}); pick a smaller layer`)
      const a = await layerActivations(eng.model, eng.inputSpec, rgbOf(image, eng), layer)
      const s = channelStats(a.values, a.shape)
      const out: LiveActivations = { layer, shape: a.shape, min: [], max: Array.from(s.max), mean: Array.from(s.mean), argmax: Array.from(s.argmax), ms: 0 }
      if (a.shape.length === 3) {
        const q = quantizeChannels(a.values, a.shape)
        out.min = Array.from(q.min)
        out.bytes = Buffer.from(q.bytes.buffer, q.bytes.byteOffset, q.bytes.byteLength).toString('base64')
      } else {
        out.min = Array.from(a.values)
        out.values = Array.from(a.values)
      }
      out.ms = performance.now() - t0
      return out
    },

    async gradients(req) {
      const t0 = performance.now()
      const eng = await engine()
      const rgb = rgbOf(req.image, eng)
      const views = []
      for (const mode of [...new Set(req.modes)]) {
        const v = await gradientView(eng.model, eng.inputSpec, rgb, { layer: req.layer, channel: req.channel, spatial: req.spatial }, mode)
        views.push({ mode, image: await png(gradientToRgb(v.grad), v.width, v.height), objective: v.objective })
      }
      return { views, ms: performance.now() - t0 }
    },

    async folder(folder) {
      const abs = path.resolve(folder)
      const images = await listImages(abs)
      return { folder: abs, images: images.slice(0, MAX_LIVE_FOLDER_LIST), total: images.length }
    },

    async image({ folder, image, fit }) {
      if (!isImageName(image)) throw new DeepVisError('BAD_IMAGE', `${image} is not an image file name (jpg, png, webp, gif, tiff, avif)`)
      const file = await resolveInside(path.resolve(folder), image, 'image', 'BAD_IMAGE')
      const eng = await engine()
      const { width, height } = eng.inputSpec
      const img = await readImageFile(file, { width, height }, fit)
      const bytes = img.data as Uint8Array
      return { name: image, width, height, rgb: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), png: await png(bytes, width, height) }
    },

    async build({ folder, layer }) {
      if (disposed) throw new DeepVisError('INTERNAL', 'the live service was disposed (the app is quitting)')
      const eng = await engine()
      const info = await eng.model.layerInfo(layer, [eng.inputSpec.height, eng.inputSpec.width])
      if (info.shape.length !== 1 && info.shape.length !== 3) throw new DeepVisError('BAD_LAYER', `layer '${layer}' has output shape [${info.shape.join(', ')}]; only dense and conv layers can be indexed`)
      const abs = path.resolve(folder)
      const { dir, images } = await locate(eng, abs, layer)
      const job: Job = { jobId: randomUUID(), folder: abs, layer, controller: new AbortController() }
      const cached = (await readIndex(dir))?.complete === true
      jobs.set(job.jobId, job)
      const run = async (): Promise<void> => {
        try {
          const now = await engine()
          if (now.modelKey !== eng.modelKey) throw new DeepVisError('BAD_MODEL', 'another model was loaded since the index was asked for; ask again')
          const idx = await buildTopKIndex({
            model: now.model, inputSpec: now.inputSpec, modelName: now.modelName, modelPath: now.modelName, modelKey: now.modelKey,
            imagesDir: abs, layers: [layer], outDir: dir, signal: job.controller.signal,
            onProgress: (p) => send('index:progress', { jobId: job.jobId, folder: abs, layer, done: p.done, total: p.total, failed: p.failed, rate: p.rate }),
          })
          send('index:done', { jobId: job.jobId, folder: abs, layer, status: idx.complete ? 'done' : 'cancelled', imagesPerSecond: idx.imagesPerSecond })
        } catch (e) {
          send('index:done', { jobId: job.jobId, folder: abs, layer, status: 'failed', imagesPerSecond: 0, error: e instanceof Error ? e.message : String(e) })
        } finally {
          jobs.delete(job.jobId)
        }
      }
      queue.push({ job, run })
      void pump()
      return { jobId: job.jobId, total: images.length, cached }
    },

    cancel(jobId) {
      const job = jobs.get(jobId)
      if (!job) return
      job.controller.abort()
      const at = queue.findIndex((q) => q.job === job)
      if (at >= 0) {
        queue.splice(at, 1)
        jobs.delete(jobId)
        send('index:done', { jobId, folder: job.folder, layer: job.layer, status: 'cancelled', imagesPerSecond: 0 })
      }
    },

    async top({ folder, layer, unit, k }) {
      const eng = await engine()
      const { dir } = await locate(eng, path.resolve(folder), layer)
      const idx = await readIndex(dir)
      if (!idx || !idx.complete) throw new DeepVisError('BAD_PARAM', `${folder} is not indexed for layer '${layer}' of this model yet; build its index first`)
      const entries = topEntries(idx, layer, unit, Math.min(k, idx.k))
      const out = []
      for (const e of entries) {
        const crop = PNG_DATA_URL_PREFIX + (await entryCrop(e, idx, CROP_PX)).toString('base64')
        out.push({ rank: e.rank, image: e.image, score: e.score, y: e.y, x: e.x, box: e.clipped, crop })
      }
      return { entries: out, images: idx.images.length, failed: idx.failed.length, inputSize: idx.inputSize }
    },

    dispose() {
      disposed = true
      for (const job of [...jobs.values()]) this.cancel(job.jobId)
    },
  }
}
