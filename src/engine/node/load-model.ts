/**
 * Node host: load a TensorFlow.js model folder (or model.json path) from disk, fully offline,
 * with clear errors for malformed or incomplete folders, and resolve its input spec.
 *
 * Input spec resolution, first match wins per field: explicit overrides (CLI flags) >
 * `deepvis.json` sidecar next to model.json > the entry for this model in `../index.json`
 * (the format of ../shared/models) > built-in default (model input size, RGB, pixels 0..255 as-is,
 * mean 127.5 grey).
 * Shape: `await loadModelFolder(path, overrides) => LoadedModel`
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'
import { createVisModel, type VisModel } from '../model/vis-model.ts'
import { perChannel, validateInputSpec, type ChannelOrder, type InputSpec } from '../model/input-spec.ts'
import { limits, raiseHint } from './limits.ts'
import { namedFile, readJsonFile as readJson, readRegularFile, resolveInside } from './safe-files.ts'
import { checkArtifacts, checkModelRuns } from './model-checks.ts'
import { isOnnxPath, loadOnnxModel } from './load-onnx.ts'

/** Folder of the embedded default model shipped with the app. */
export const DEFAULT_MODEL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../resources/models/deepvis-shapes')

export const SIDECAR_NAME = 'deepvis.json'
export const SIDECAR_FORMAT = 'deepvis-input-spec@1'
/** DVT mean used when nothing says otherwise: mid-grey, so decay pulls toward grey. */
export const DEFAULT_MEAN = 127.5

/** Everything a user may set about the input, from flags; each field optional. */
export interface InputSpecOverrides {
  size?: [number, number]
  channelOrder?: ChannelOrder
  /** Per-channel tuple, or a path to a mean image (.npy, HWC or CHW, centre-cropped to size). */
  mean?: number[] | string | null
  scale?: number | number[]
  offset?: number | number[]
  labelsPath?: string
  /**
   * Let `size` replace a LayersModel's fixed input height and width (the app's input-spec
   * correction): a fully convolutional part then takes the new size; a layer that cannot (a dense
   * layer after a flatten) fails when shapes are computed at that size. Default false: a size that
   * differs from a fixed input is refused.
   */
  freeSize?: boolean
}

/** Set the height and width of every 4-D `batch_input_shape` in a LayersModel topology to null. */
function freeInputSize(node: unknown): void {
  if (Array.isArray(node)) { node.forEach(freeInputSize); return }
  if (typeof node !== 'object' || node === null) return
  const obj = node as Record<string, unknown>
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'batch_input_shape' && Array.isArray(value) && value.length === 4) obj[key] = [value[0], null, null, value[3]]
    else freeInputSize(value)
  }
}

export interface LoadedModel {
  model: VisModel
  modelJsonPath: string
  inputSpec: InputSpec
  /** Default target from the sidecar, if any. */
  defaults: { push_layer?: string; push_channel?: number }
  /** Human-readable name of the model. */
  name: string
}

interface SidecarSpec {
  format?: string
  name?: string
  size?: [number, number]
  channelOrder?: ChannelOrder
  mean?: number[] | number | string
  scale?: number | number[]
  offset?: number | number[]
  labels?: string
  defaults?: { push_layer?: string; push_channel?: number }
  /** Folder that the files it names (labels, mean image) must stay inside; default the model's folder. */
  root?: string
}

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 }

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true } catch { return false }
}

/** Resolve a folder or a model.json path to the model.json path. */
export async function resolveModelJson(p: string): Promise<string> {
  let st
  try { st = await stat(p) } catch {
    throw new DeepVisError('BAD_MODEL', `model path ${p} does not exist (give a folder containing model.json, or a model.json file)`)
  }
  const file = st.isDirectory() ? path.join(p, 'model.json') : p
  if (!(await exists(file))) throw new DeepVisError('BAD_MODEL', `no model.json in ${p}`)
  if (st.isDirectory() || path.basename(file) === 'model.json' || file.endsWith('.json')) return file
  throw new DeepVisError('BAD_MODEL', `${p} is not a model folder or a model.json file`)
}

function expectedBytes(specs: tf.io.WeightsManifestEntry[]): number {
  let total = 0
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1)
    const dtype = s.quantization?.dtype ?? s.dtype
    const per = BYTES_PER[dtype]
    if (per === undefined) throw new DeepVisError('BAD_MODEL', `weight '${s.name}' has unsupported dtype ${dtype}`)
    total += n * per
  }
  return total
}

interface ManifestGroup { paths: string[]; weights: tf.io.WeightsManifestEntry[] }

/** The manifest's groups, checked for shape: every group has `paths` (names) and `weights` (entries). */
function checkManifest(manifest: unknown, modelJson: string): ManifestGroup[] {
  if (!Array.isArray(manifest)) throw new DeepVisError('BAD_MODEL', `${modelJson} has no weightsManifest`)
  return manifest.map((group: unknown, g) => {
    const grp = group as Partial<ManifestGroup> | null
    if (typeof grp !== 'object' || grp === null) throw new DeepVisError('BAD_MODEL', `${modelJson}: weightsManifest[${g}] is not an object`)
    if (!Array.isArray(grp.paths) || !grp.paths.every((p) => typeof p === 'string' && p.length > 0)) {
      throw new DeepVisError('BAD_MODEL', `${modelJson}: weightsManifest[${g}] needs "paths", a list of weight file names`)
    }
    if (!Array.isArray(grp.weights)) throw new DeepVisError('BAD_MODEL', `${modelJson}: weightsManifest[${g}] needs "weights", a list of weight entries`)
    for (const [i, w] of grp.weights.entries()) {
      const ok = typeof w === 'object' && w !== null && typeof w.name === 'string' && typeof w.dtype === 'string' &&
        Array.isArray(w.shape) && w.shape.every((d) => Number.isSafeInteger(d) && d >= 0)
      if (!ok) throw new DeepVisError('BAD_MODEL', `${modelJson}: weightsManifest[${g}].weights[${i}] needs a name, a dtype and a shape of non-negative integers`)
    }
    return grp as ManifestGroup
  })
}

/**
 * Read model.json and its weight shards into tfjs ModelArtifacts. Every shard must be a regular file
 * inside the model's folder; the sizes the manifest declares are checked against the limit before
 * anything is read, and each file's size against what is left of its group before it is read.
 */
export async function readArtifacts(modelJson: string): Promise<tf.io.ModelArtifacts> {
  const json = (await readJson(modelJson, 'model file')) as Record<string, unknown>
  if (!json || typeof json !== 'object' || !json.modelTopology || typeof json.modelTopology !== 'object') {
    throw new DeepVisError('BAD_MODEL', `${modelJson} has no modelTopology: not a TensorFlow.js model.json`)
  }
  const groups = checkManifest(json.weightsManifest, modelJson)
  const dir = path.dirname(modelJson)
  const wants = groups.map((g) => expectedBytes(g.weights))
  const total = wants.reduce((a, b) => a + b, 0)
  const lim = limits()
  if (total > lim.weightBytes) {
    throw new DeepVisError('BAD_MODEL', `${modelJson} declares ${total} bytes of weights, over the limit of ${lim.weightBytes} (${raiseHint('weightBytes')})`)
  }
  const buffers: Buffer[] = []
  const specs: tf.io.WeightsManifestEntry[] = []
  for (const [g, group] of groups.entries()) {
    let left = wants[g]
    for (const rel of group.paths) {
      const file = await resolveInside(dir, rel, 'weight file')
      const buf = await readRegularFile(file, {
        what: `weight file '${rel}'`, maxBytes: left,
        raiseHint: `${path.basename(modelJson)} describes ${wants[g]} bytes for ${group.paths.join(', ')} (truncated or wrong shard?)`,
      })
      buffers.push(buf)
      left -= buf.length
    }
    if (left !== 0) {
      throw new DeepVisError('BAD_MODEL',
        `weight files ${group.paths.join(', ')} hold ${wants[g] - left} bytes but ${path.basename(modelJson)} describes ${wants[g]} (truncated or wrong shard?)`)
    }
    specs.push(...group.weights)
  }
  const all = Buffer.concat(buffers)
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer
  return {
    modelTopology: json.modelTopology as object,
    format: json.format as string | undefined,
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | null | undefined,
    weightSpecs: specs,
    weightData,
    signature: json.signature as object | undefined,
    userDefinedMetadata: json.userDefinedMetadata as Record<string, object> | undefined,
  }
}

async function readLabels(file: string): Promise<string[]> {
  const bytes = await readRegularFile(file, { what: 'labels file', maxBytes: limits().auxFileBytes, raiseHint: raiseHint('auxFileBytes'), code: 'BAD_INPUT_SPEC' })
  const text = bytes.toString('utf8')
  return text.split(/\r?\n/).filter((l, i, a) => l.length > 0 || i < a.length - 1)
}

async function readMeanImage(file: string, size: [number, number], channels: number): Promise<Float32Array> {
  const { decodeNpy, chwToHwc } = await import('./npy.ts')
  const bytes = new Uint8Array(await readRegularFile(file, { what: 'mean image', maxBytes: limits().auxFileBytes, raiseHint: raiseHint('auxFileBytes'), code: 'BAD_INPUT_SPEC' }))
  let { data, shape } = (() => {
    try { return decodeNpy(bytes) } catch (e) { throw new DeepVisError('BAD_INPUT_SPEC', `mean image ${file}: ${(e as Error).message}`) }
  })()
  if (shape.length !== 3) throw new DeepVisError('BAD_INPUT_SPEC', `mean image ${file} must be 3-D (HxWxC or CxHxW); got shape ${JSON.stringify(shape)}`)
  if (shape[0] === channels && shape[2] !== channels) {
    data = chwToHwc(data, shape[1], shape[2], shape[0])
    shape = [shape[1], shape[2], shape[0]]
  }
  const [h, w, c] = shape
  const [th, tw] = size
  if (c !== channels || h < th || w < tw) {
    throw new DeepVisError('BAD_INPUT_SPEC', `mean image ${file} has shape ${JSON.stringify(shape)}; need at least ${th}x${tw}x${channels}`)
  }
  // Centre crop to the input size, as DVT does with --data-size.
  const top = Math.floor((h - th) / 2)
  const left = Math.floor((w - tw) / 2)
  const out = new Float32Array(th * tw * c)
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      for (let k = 0; k < c; k++) out[(y * tw + x) * c + k] = data[((y + top) * w + x + left) * c + k]
    }
  }
  return out
}

interface IndexEntry {
  path: string
  name?: string
  input?: { shape?: (number | null)[]; channelOrder?: ChannelOrder; range?: [number, number]; subtractMean?: number[] }
}

/** Translate an entry of ../shared/models/index.json into our sidecar form. */
function fromIndexEntry(entry: IndexEntry, indexDir: string, labelsFile: string | undefined): SidecarSpec {
  const inp = entry.input ?? {}
  const spec: SidecarSpec = { name: entry.name, channelOrder: inp.channelOrder }
  if (inp.shape && typeof inp.shape[1] === 'number' && typeof inp.shape[2] === 'number') spec.size = [inp.shape[1], inp.shape[2]]
  const [lo, hi] = inp.range ?? [0, 255]
  if (inp.subtractMean) {
    spec.mean = inp.subtractMean
    spec.scale = 1
    spec.offset = inp.subtractMean.map((m) => -m)
  } else {
    // Network range [lo, hi] from pixels 0..255: input = pixel * (hi - lo) / 255 + lo.
    spec.mean = DEFAULT_MEAN
    spec.scale = (hi - lo) / 255
    spec.offset = lo
  }
  if (labelsFile) spec.labels = path.relative(path.dirname(path.join(indexDir, entry.path)), path.join(indexDir, labelsFile))
  return spec
}

async function findIndexSpec(modelJson: string): Promise<SidecarSpec | null> {
  const indexDir = path.dirname(path.dirname(modelJson))
  const indexFile = path.join(indexDir, 'index.json')
  if (!(await exists(indexFile))) return null
  let index: { models?: IndexEntry[]; labels?: { file?: string } }
  try { index = (await readJson(indexFile, 'model index')) as typeof index } catch { return null }
  if (typeof index !== 'object' || index === null || !Array.isArray(index.models)) return null
  const entry = index.models.find((m) => typeof m?.path === 'string' && path.resolve(indexDir, m.path) === path.resolve(modelJson))
  if (!entry) return null
  // The files an index names (its labels) stay inside the index's folder.
  return { ...fromIndexEntry(entry, indexDir, typeof index.labels?.file === 'string' ? index.labels.file : undefined), root: indexDir }
}

/** Load a model folder and resolve its input spec. Throws DeepVisError on any bad input. */
export async function loadModelFolder(modelPath: string, overrides: InputSpecOverrides = {}): Promise<LoadedModel> {
  const onnxFile = await isOnnxPath(modelPath)
  if (onnxFile) return loadOnnxModel(onnxFile, overrides)
  const modelJson = await resolveModelJson(modelPath)
  const dir = path.dirname(modelJson)
  const artifacts = await readArtifacts(modelJson)
  checkArtifacts(artifacts)

  let sidecar: SidecarSpec = {}
  let source = 'default'
  const sidecarPath = path.join(dir, SIDECAR_NAME)
  if (await exists(sidecarPath)) {
    const parsed = await readJson(sidecarPath, 'input spec')
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new DeepVisError('BAD_INPUT_SPEC', `${sidecarPath} must hold a JSON object`)
    }
    // `root` is ours (set for index.json entries), never taken from the file.
    sidecar = { ...(parsed as SidecarSpec), root: undefined }
    if (sidecar.format !== SIDECAR_FORMAT) {
      throw new DeepVisError('BAD_INPUT_SPEC', `${sidecarPath}: "format" must be "${SIDECAR_FORMAT}"; got ${JSON.stringify(sidecar.format)}`)
    }
    source = SIDECAR_NAME
  } else {
    const fromIndex = await findIndexSpec(modelJson)
    if (fromIndex) { sidecar = fromIndex; source = 'index.json' }
  }

  if (overrides.freeSize && overrides.size && artifacts.format !== 'graph-model') freeInputSize(artifacts.modelTopology)
  const model = await createVisModel(artifacts)
  try {
    const channels = model.inputShape[2] ?? 3
    const size: [number, number] | undefined = overrides.size ?? sidecar.size ??
      (model.inputShape[0] && model.inputShape[1] ? [model.inputShape[0], model.inputShape[1]] : undefined)
    if (!size) throw new DeepVisError('BAD_INPUT_SPEC', 'the model has a free input size: give --data-size "(H,W)" or a deepvis.json sidecar')
    if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new DeepVisError('BAD_INPUT_SPEC', `input size must be two positive integers [height, width]; got ${JSON.stringify(size)}`)
    }
    const [mh, mw] = model.inputShape
    if ((mh !== null && mh !== size[0]) || (mw !== null && mw !== size[1])) {
      throw new DeepVisError('BAD_INPUT_SPEC', `input size ${size[0]}x${size[1]} does not match the model's fixed input ${mh}x${mw}`)
    }
    await checkModelRuns(model, size, channels)
    const meanSrc = overrides.mean !== undefined ? overrides.mean : sidecar.mean
    let mean: Float32Array
    if (meanSrc === undefined || meanSrc === null) mean = new Float32Array(channels).fill(overrides.mean === null ? 0 : DEFAULT_MEAN)
    else if (typeof meanSrc === 'string') {
      // A path given on the command line is the user's own; one a sidecar names stays in the folder.
      const file = overrides.mean !== undefined ? meanSrc : await namedFile(dir, sidecar.root ?? dir, meanSrc, 'mean image')
      mean = await readMeanImage(file, size, channels)
    } else mean = Float32Array.from(perChannel(meanSrc, channels, 'mean'))
    const labelsPath = overrides.labelsPath ??
      (sidecar.labels !== undefined ? await namedFile(dir, sidecar.root ?? dir, sidecar.labels, 'labels file') : undefined)
    const inputSpec = validateInputSpec({
      height: size[0],
      width: size[1],
      channels,
      channelOrder: overrides.channelOrder ?? sidecar.channelOrder ?? 'RGB',
      mean,
      scale: perChannel(overrides.scale ?? sidecar.scale ?? 1, channels, 'scale'),
      offset: perChannel(overrides.offset ?? sidecar.offset ?? 0, channels, 'offset'),
      labels: labelsPath ? await readLabels(labelsPath) : null,
      source: Object.keys(overrides).some((k) => k !== 'freeSize' && overrides[k as keyof InputSpecOverrides] !== undefined) ? `${source} + flags` : source,
    })
    return { model, modelJsonPath: modelJson, inputSpec, defaults: sidecar.defaults ?? {}, name: sidecar.name ?? path.basename(dir) }
  } catch (e) {
    model.dispose()
    throw e
  }
}
