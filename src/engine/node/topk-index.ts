/**
 * The top-k index of a folder of images: every image runs through the model once (in batches) and each
 * unit of the chosen layers keeps its k strongest images, with where its maximum was and, for conv
 * units, the receptive-field box there (computed from the layer graph, inspect/receptive-field.ts).
 *
 * - Keyed by the model (its file and input spec), the layers, k, the fit policy and the folder's content
 *   (every image's relative path, size and modification time): the same key finds the same index again.
 * - Resumable: `<out>/index.json` is rewritten atomically every `checkpointSeconds` and on a stop
 *   with `complete: false` and the number of images done; a later build with the same key continues
 *   from there (the images are taken in sorted order and ties keep the earlier image, so a resumed
 *   index equals an uninterrupted one). A complete index with the same key is returned as it is.
 * - An `<out>` holding an index with another key is refused (OUTPUT_EXISTS): it is not ours to replace.
 * - An image that cannot be read is listed in `failed` with its reason and skipped; the rest go on.
 * Shape: `await buildTopKIndex(options) => TopKIndexFile`; `await readTopKIndex(dir)`; `topEntries(index, layer, unit, k)`.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { DeepVisError } from '../../shared/errors.ts'
import { meanIsImage, type InputSpec } from '../model/input-spec.ts'
import type { VisModel } from '../model/vis-model.ts'
import { receptiveFields, unitBox, clipBox, type LayerRf, type RfBox } from '../inspect/receptive-field.ts'
import { TopK, unitScores, type TopKJson } from '../inspect/topk.ts'
import type { RgbImage } from '../inspect/network-input.ts'
import { DEFAULT_FIT_POLICY, type FitPolicy } from '../../shared/fit-policy.ts'
import { listImages, readImageFile } from './image-file.ts'
import { writeFileAtomic } from './save-results.ts'
import { readJsonFile } from './safe-files.ts'

export const INDEX_FORMAT = 'deepvis-topk-index@1'
export const INDEX_FILE = 'index.json'
/** DVT's unit view shows 9 top images. */
export const DEFAULT_TOP_K = 9
/** Images per forward pass. */
export const DEFAULT_INDEX_BATCH = 16
/** Seconds between checkpoints. */
export const DEFAULT_CHECKPOINT_SECONDS = 10

export interface TopKIndexLayer {
  name: string
  /** Output shape without the batch ([H, W, C] or [C]). */
  shape: number[]
  /** The layer's receptive field at the input size ('unknown' when the model's graph does not say). */
  rf: LayerRf
  topk: TopKJson
}

export interface TopKIndexFile {
  format: typeof INDEX_FORMAT
  key: string
  complete: boolean
  model: { name: string; path: string; key: string }
  /** The indexed folder (absolute) and its images, relative paths with '/', sorted. */
  imagesDir: string
  images: string[]
  fit: FitPolicy
  k: number
  /** The model's input [height, width]: receptive-field boxes are in these pixels of the fitted image. */
  inputSize: [number, number]
  layers: TopKIndexLayer[]
  /** Images processed so far, in list order (failed ones included). */
  done: number
  failed: { image: string; error: string }[]
  /** Seconds spent computing, over all runs, and the resulting throughput. */
  seconds: number
  imagesPerSecond: number
}

export interface IndexProgress {
  done: number
  total: number
  failed: number
  /** Images processed per second in this run. */
  rate: number
}

export interface BuildIndexOptions {
  model: VisModel
  inputSpec: InputSpec
  /** The model's display name and the file or folder it came from. */
  modelName: string
  modelPath: string
  /** A key of the model and its input spec (see modelKeyForIndex). */
  modelKey: string
  imagesDir: string
  layers: string[]
  outDir: string
  k?: number
  batchSize?: number
  fit?: FitPolicy
  checkpointSeconds?: number
  signal?: AbortSignal
  onProgress?: (p: IndexProgress) => void
}

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex')
}

/** A key of a model's file(s) and its effective input spec. */
export async function modelKeyForIndex(modelFile: string, spec: InputSpec): Promise<string> {
  const bytes = await readFile(modelFile)
  const specPart = JSON.stringify({
    size: [spec.height, spec.width], order: spec.channelOrder, scale: spec.scale, offset: spec.offset,
    mean: meanIsImage(spec) ? sha256(Buffer.from(spec.mean.buffer)) : Array.from(spec.mean),
  })
  return sha256(Buffer.concat([Buffer.from(sha256(bytes)), Buffer.from(specPart)])).slice(0, 24)
}

/** The key of an index: model, layers, k, fit and the folder's content (path, size, mtime of each image). */
export async function indexKey(o: { modelKey: string; imagesDir: string; images: string[]; layers: string[]; k: number; fit: FitPolicy }): Promise<string> {
  const files: [string, number, number][] = []
  for (const rel of o.images) {
    const st = await stat(path.join(o.imagesDir, rel))
    files.push([rel, st.size, Math.round(st.mtimeMs)])
  }
  return sha256(JSON.stringify({ format: INDEX_FORMAT, model: o.modelKey, layers: o.layers, k: o.k, fit: o.fit, files })).slice(0, 32)
}

/** Read `<dir>/index.json`; BAD_PARAM when it is missing or not an index. */
export async function readTopKIndex(dir: string): Promise<TopKIndexFile> {
  const file = path.join(dir, INDEX_FILE)
  let json: unknown
  try { json = await readJsonFile(file, 'index', 'BAD_PARAM') } catch (e) {
    if (e instanceof DeepVisError && /^missing /.test(e.message)) throw new DeepVisError('BAD_PARAM', `no index in ${dir} (no ${INDEX_FILE}); build one with deepvis index`)
    throw e
  }
  const idx = json as Partial<TopKIndexFile>
  if (!idx || idx.format !== INDEX_FORMAT || !Array.isArray(idx.layers) || !Array.isArray(idx.images)) {
    throw new DeepVisError('BAD_PARAM', `${file} is not a deepvis top-k index (format ${INDEX_FORMAT})`)
  }
  return idx as TopKIndexFile
}

async function tryRead(dir: string): Promise<TopKIndexFile | null> {
  try { return await readTopKIndex(dir) } catch (e) {
    if (e instanceof DeepVisError && e.message.startsWith('no index in')) return null
    throw e
  }
}

/** Build (or resume, or find) the index; see the module header. */
export async function buildTopKIndex(o: BuildIndexOptions): Promise<TopKIndexFile> {
  const k = o.k ?? DEFAULT_TOP_K
  const fit = o.fit ?? DEFAULT_FIT_POLICY
  const batchSize = o.batchSize ?? DEFAULT_INDEX_BATCH
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DeepVisError('BAD_PARAM', `batch size must be a positive integer; got ${batchSize}`)
  if (!Number.isInteger(k) || k < 1) throw new DeepVisError('BAD_PARAM', `k must be a positive integer; got ${k}`)
  if (o.layers.length === 0) throw new DeepVisError('BAD_PARAM', 'name at least one layer to index')
  const size: [number, number] = [o.inputSpec.height, o.inputSpec.width]
  const infos = []
  for (const name of o.layers) {
    const info = await o.model.layerInfo(name, size)
    if (info.shape.length !== 1 && info.shape.length !== 3) {
      throw new DeepVisError('BAD_LAYER', `layer '${name}' has output shape [${info.shape.join(', ')}]; only dense [units] and conv [H, W, C] layers can be indexed`)
    }
    infos.push(info)
  }
  const imagesDir = path.resolve(o.imagesDir)
  const images = await listImages(imagesDir)
  const key = await indexKey({ modelKey: o.modelKey, imagesDir, images, layers: o.layers, k, fit })
  const old = await tryRead(o.outDir)
  if (old && old.key !== key) {
    throw new DeepVisError('OUTPUT_EXISTS', `${o.outDir} holds an index of another model, folder content, layer list or k; choose another output folder`)
  }
  if (old?.complete) return old
  const fields = o.model.rfGraph ? receptiveFields(o.model.rfGraph, size) : null
  const idx: TopKIndexFile = old ?? {
    format: INDEX_FORMAT, key, complete: false,
    model: { name: o.modelName, path: o.modelPath, key: o.modelKey },
    imagesDir, images, fit, k, inputSize: size,
    layers: infos.map((l) => ({
      name: l.name, shape: l.shape,
      rf: fields?.get(l.name) ?? { kind: 'unknown', reason: `receptive fields are not known for ${o.model.format} models` },
      topk: new TopK(l.units, k).toJSON(),
    })),
    done: 0, failed: [], seconds: 0, imagesPerSecond: 0,
  }
  const tops = idx.layers.map((l) => TopK.fromJSON(l.topk))
  await mkdir(o.outDir, { recursive: true })
  const save = async (): Promise<void> => {
    idx.layers.forEach((l, i) => { l.topk = tops[i].toJSON() })
    idx.imagesPerSecond = idx.seconds > 0 ? idx.done / idx.seconds : 0
    await writeFileAtomic(path.join(o.outDir, INDEX_FILE), new TextEncoder().encode(JSON.stringify(idx) + '\n'))
  }

  const startDone = idx.done
  const secondsBefore = idx.seconds
  const started = performance.now()
  let lastSave = started
  type Loaded = { ok: { at: number; img: RgbImage }[]; failed: { image: string; error: string }[] }
  /** Decode the images [from, to); failures are reported with their reason, not thrown. */
  const load = async (from: number, to: number): Promise<Loaded> => {
    const out: Loaded = { ok: [], failed: [] }
    const list = await Promise.all(images.slice(from, to).map(async (rel, i) => {
      try {
        return { at: from + i, img: await readImageFile(path.join(imagesDir, rel), { width: size[1], height: size[0] }, fit) }
      } catch (e) {
        return { image: rel, error: e instanceof Error ? e.message : String(e) }
      }
    }))
    for (const item of list) {
      if ('img' in item && item.img) out.ok.push({ at: item.at, img: item.img })
      else if ('error' in item && item.error !== undefined) out.failed.push({ image: item.image, error: item.error })
    }
    return out
  }

  let next = idx.done < images.length ? load(idx.done, Math.min(images.length, idx.done + batchSize)) : null
  while (next) {
    const to = Math.min(images.length, idx.done + batchSize)
    const batch = await next
    // Decode the next batch (sharp's threads) while this one runs through the model.
    next = to < images.length && !o.signal?.aborted ? load(to, Math.min(images.length, to + batchSize)) : null
    if (batch.ok.length > 0) {
      const scores = await unitScores(o.model, o.inputSpec, batch.ok.map((b) => b.img), o.layers)
      scores.forEach((s, li) => {
        const units = s.shape[s.shape.length - 1]
        batch.ok.forEach((b, bi) => tops[li].add(b.at, s.scores.subarray(bi * units, (bi + 1) * units), s.positions.subarray(bi * units * 2, (bi + 1) * units * 2)))
      })
    }
    idx.failed.push(...batch.failed)
    idx.done = to
    const now = performance.now()
    idx.seconds = secondsBefore + (now - started) / 1000
    o.onProgress?.({ done: idx.done, total: images.length, failed: idx.failed.length, rate: (idx.done - startDone) / ((now - started) / 1000) })
    if (o.signal?.aborted) break
    if ((now - lastSave) / 1000 >= (o.checkpointSeconds ?? DEFAULT_CHECKPOINT_SECONDS)) { await save(); lastSave = performance.now() }
  }
  if (next) await next
  idx.complete = idx.done >= images.length
  await save()
  return idx
}

/** One entry of a unit's top-k with its image and receptive-field box (in the fitted image's pixels). */
export interface TopImage {
  rank: number
  /** Path relative to the indexed folder, and absolute. */
  image: string
  file: string
  score: number
  y: number
  x: number
  /** The receptive field of the maximum (unclipped and cut to the image); null when not known. */
  box: RfBox | null
  clipped: RfBox | null
}

/** The top `k` images of `unit` of `layer` in `index`; BAD_LAYER / BAD_UNIT name what exists. */
export function topEntries(index: TopKIndexFile, layer: string, unit: number, k = index.k): TopImage[] {
  const l = index.layers.find((x) => x.name === layer)
  if (!l) throw new DeepVisError('BAD_LAYER', `the index has no layer '${layer}'; it has: ${index.layers.map((x) => x.name).join(', ')}`)
  const units = l.topk.units.length
  if (!Number.isInteger(unit) || unit < 0 || unit >= units) throw new DeepVisError('BAD_UNIT', `unit ${unit} is out of range: layer '${layer}' has ${units} units (0..${units - 1})`)
  if (!Number.isInteger(k) || k < 1) throw new DeepVisError('BAD_PARAM', `k must be a positive integer; got ${k}`)
  const conv = l.shape.length === 3
  return TopK.fromJSON(l.topk).entries(unit).slice(0, k).map((e, i) => {
    const box = conv ? unitBox(l.rf, e.y, e.x, index.inputSize) : null
    return {
      rank: i + 1, image: index.images[e.image], file: path.join(index.imagesDir, index.images[e.image]),
      score: e.score, y: e.y, x: e.x, box, clipped: box ? clipBox(box, index.inputSize) : null,
    }
  })
}
