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
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../errors.ts'
import { createVisModel, type VisModel } from '../model/vis-model.ts'
import { perChannel, validateInputSpec, type ChannelOrder, type InputSpec } from '../model/input-spec.ts'
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
}

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 }

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true } catch { return false }
}

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string
  try { text = await readFile(file, 'utf8') } catch (e) {
    throw new DeepVisError('BAD_MODEL', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  }
  try { return JSON.parse(text) } catch (e) {
    throw new DeepVisError('BAD_MODEL', `${what} ${file} is not valid JSON: ${(e as Error).message}`)
  }
}

/** Resolve a folder or a model.json path to the model.json path. */
export async function resolveModelJson(p: string): Promise<string> {
  let st
  try { st = await stat(p) } catch {
    throw new DeepVisError('BAD_MODEL', `model path ${p} does not exist (give a folder containing model.json, or a model.json file)`)
  }
  const file = st.isDirectory() ? path.join(p, 'model.json') : p
  if (!(await exists(file))) throw new DeepVisError('BAD_MODEL', `no model.json in ${p}`)
  return file
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

/** Read model.json and its weight shards into tfjs ModelArtifacts, checking sizes. */
export async function readArtifacts(modelJson: string): Promise<tf.io.ModelArtifacts> {
  const json = (await readJson(modelJson, 'model file')) as Record<string, unknown>
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new DeepVisError('BAD_MODEL', `${modelJson} has no modelTopology: not a TensorFlow.js model.json`)
  }
  const manifest = json.weightsManifest as tf.io.WeightsManifestConfig | undefined
  if (!Array.isArray(manifest)) throw new DeepVisError('BAD_MODEL', `${modelJson} has no weightsManifest`)
  const dir = path.dirname(modelJson)
  const buffers: Buffer[] = []
  const specs: tf.io.WeightsManifestEntry[] = []
  for (const group of manifest) {
    let groupBytes = 0
    for (const rel of group.paths) {
      const file = path.join(dir, rel)
      try {
        const buf = await readFile(file)
        buffers.push(buf)
        groupBytes += buf.length
      } catch {
        throw new DeepVisError('BAD_MODEL', `missing weight file ${rel} listed in ${modelJson}`)
      }
    }
    const want = expectedBytes(group.weights)
    if (groupBytes !== want) {
      throw new DeepVisError('BAD_MODEL',
        `weight files ${group.paths.join(', ')} hold ${groupBytes} bytes but ${path.basename(modelJson)} describes ${want} (truncated or wrong shard?)`)
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
    userDefinedMetadata: json.userDefinedMetadata as Record<string, {}> | undefined,
  }
}

async function readLabels(file: string): Promise<string[]> {
  let text: string
  try { text = await readFile(file, 'utf8') } catch {
    throw new DeepVisError('BAD_INPUT_SPEC', `cannot read labels file ${file}`)
  }
  return text.split(/\r?\n/).filter((l, i, a) => l.length > 0 || i < a.length - 1)
}

async function readMeanImage(file: string, size: [number, number], channels: number): Promise<Float32Array> {
  const { decodeNpy, chwToHwc } = await import('./npy.ts')
  let bytes: Uint8Array
  try { bytes = new Uint8Array(await readFile(file)) } catch {
    throw new DeepVisError('BAD_INPUT_SPEC', `cannot read mean image ${file}`)
  }
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
  try { index = JSON.parse(await readFile(indexFile, 'utf8')) } catch { return null }
  const entry = index.models?.find((m) => path.resolve(indexDir, m.path) === path.resolve(modelJson))
  return entry ? fromIndexEntry(entry, indexDir, index.labels?.file) : null
}

/** Load a model folder and resolve its input spec. Throws DeepVisError on any bad input. */
export async function loadModelFolder(modelPath: string, overrides: InputSpecOverrides = {}): Promise<LoadedModel> {
  const onnxFile = await isOnnxPath(modelPath)
  if (onnxFile) return loadOnnxModel(onnxFile, overrides)
  const modelJson = await resolveModelJson(modelPath)
  const dir = path.dirname(modelJson)
  const artifacts = await readArtifacts(modelJson)

  let sidecar: SidecarSpec = {}
  let source = 'default'
  const sidecarPath = path.join(dir, SIDECAR_NAME)
  if (await exists(sidecarPath)) {
    sidecar = (await readJson(sidecarPath, 'input spec')) as SidecarSpec
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
    const [mh, mw] = model.inputShape
    if ((mh !== null && mh !== size[0]) || (mw !== null && mw !== size[1])) {
      throw new DeepVisError('BAD_INPUT_SPEC', `input size ${size[0]}x${size[1]} does not match the model's fixed input ${mh}x${mw}`)
    }
    const meanSrc = overrides.mean !== undefined ? overrides.mean : sidecar.mean
    let mean: Float32Array
    if (meanSrc === undefined || meanSrc === null) mean = new Float32Array(channels).fill(overrides.mean === null ? 0 : DEFAULT_MEAN)
    else if (typeof meanSrc === 'string') {
      mean = await readMeanImage(path.isAbsolute(meanSrc) || overrides.mean !== undefined ? meanSrc : path.join(dir, meanSrc), size, channels)
    } else mean = Float32Array.from(perChannel(meanSrc, channels, 'mean'))
    const labelsPath = overrides.labelsPath ?? (sidecar.labels ? path.join(dir, sidecar.labels) : undefined)
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
