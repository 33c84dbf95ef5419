/**
 * Node host: load an `.onnx` model (a file, or a folder holding exactly one .onnx and no model.json),
 * with its external-data files and an optional `deepvis.json` sidecar, and resolve its input spec.
 *
 * Input spec, first match wins: flags > `deepvis.json` beside the .onnx > a `deepvis.json` entry in
 * the ONNX metadata_props (same JSON) > torchvision's convention, marked "assumed": RGB pixels/255
 * normalized by the ImageNet mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225]. A free
 * (symbolic) input size defaults to 224x224.
 * Labels: the sidecar's `labels`; else, when the output has 1000 classes, a `labels.txt` beside the
 * model or the labels file named by an `index.json` one or two folders up (the layout of
 * ../shared/models); none are shipped with the app.
 * Shape: `isOnnxPath(p) => Promise<string | null>`; `loadOnnxModel(path, overrides) => LoadedModel`.
 */
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { DeepVisError } from '../../shared/errors.ts'
import { perChannel, validateInputSpec, type ChannelOrder } from '../model/input-spec.ts'
import { createOnnxVisModel } from '../model/onnx/onnx-vis-model.ts'
import { parseOnnx } from '../model/onnx/proto.ts'
import type { InputSpecOverrides, LoadedModel } from './load-model.ts'
import { limits, raiseHint } from './limits.ts'
import { checkModelRuns } from './model-checks.ts'
import { namedFile, parseJsonText, readJsonFile, readRegularFile, readRegularFileSync, resolveInsideSync } from './safe-files.ts'

const SIDECAR = 'deepvis.json'
const SIDECAR_FORMAT = 'deepvis-input-spec@1'
export const TORCHVISION_MEAN = [0.485, 0.456, 0.406]
export const TORCHVISION_STD = [0.229, 0.224, 0.225]
export const DEFAULT_FREE_SIZE = 224

interface Sidecar {
  format?: string
  name?: string
  size?: [number, number]
  channelOrder?: ChannelOrder
  mean?: number[] | number
  scale?: number | number[]
  offset?: number | number[]
  labels?: string
  defaults?: { push_layer?: string; push_channel?: number }
}

/** The .onnx file that `p` designates (the file, or the single .onnx in a folder without model.json), else null. */
export async function isOnnxPath(p: string): Promise<string | null> {
  let st
  try { st = await stat(p) } catch { return null }
  if (st.isFile()) return p.toLowerCase().endsWith('.onnx') ? p : null
  if (!st.isDirectory()) return null
  const entries = await readdir(p)
  if (entries.includes('model.json')) return null
  const onnx = entries.filter((e) => e.toLowerCase().endsWith('.onnx')).sort()
  if (onnx.length > 1) throw new DeepVisError('BAD_MODEL', `${p} holds ${onnx.length} .onnx files (${onnx.join(', ')}); give the path of one`)
  return onnx.length ? path.join(p, onnx[0]) : null
}

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true } catch { return false }
}

async function readLabels(file: string): Promise<string[]> {
  const text = (await readRegularFile(file, { what: 'labels file', maxBytes: limits().auxFileBytes, raiseHint: raiseHint('auxFileBytes'), code: 'BAD_INPUT_SPEC' })).toString('utf8')
  return text.split(/\r?\n/).filter((l, i, a) => l.length > 0 || i < a.length - 1)
}

function parseSidecar(text: string, where: string): Sidecar {
  const s = parseJsonText(text, where, 'input spec', 'BAD_INPUT_SPEC') as Sidecar
  if (!s || typeof s !== 'object' || Array.isArray(s) || s.format !== SIDECAR_FORMAT) {
    throw new DeepVisError('BAD_INPUT_SPEC', `${where}: "format" must be "${SIDECAR_FORMAT}"; got ${JSON.stringify(s?.format)}`)
  }
  return s
}

/** ImageNet-size label list found near the model: labels.txt beside it, or an index.json's labels file above it. */
async function findLabels(dir: string): Promise<string | null> {
  const beside = path.join(dir, 'labels.txt')
  if (await exists(beside)) return beside
  for (const up of [path.dirname(dir), path.dirname(path.dirname(dir))]) {
    const index = path.join(up, 'index.json')
    if (!(await exists(index))) continue
    try {
      const file = ((await readJsonFile(index, 'model index')) as { labels?: { file?: unknown } } | null)?.labels?.file
      // The labels an index names stay inside the index's folder.
      if (typeof file === 'string' && (await exists(path.join(up, file)))) return await namedFile(up, up, file, 'labels file')
    } catch { /* not an index of ours */ }
  }
  return null
}

/** Load an .onnx model and resolve its input spec. Throws DeepVisError (one line) on any bad input. */
export async function loadOnnxModel(file: string, overrides: InputSpecOverrides = {}): Promise<LoadedModel> {
  const dir = path.dirname(file)
  const base = path.basename(file)
  const lim = limits()
  const bytes = await readRegularFile(file, { what: 'ONNX model', maxBytes: lim.weightBytes + lim.modelJsonBytes, raiseHint: raiseHint('weightBytes') })
  // External data: regular files inside the model's folder, each read once, all together within the weight limit.
  const external = new Map<string, Uint8Array>()
  let externalBytes = 0
  const readExternal = (location: string): Uint8Array => {
    const hit = external.get(location)
    if (hit) return hit
    if (path.isAbsolute(location)) throw new DeepVisError('BAD_MODEL', `${base}: external data location '${location}' is outside the model's folder`)
    const target = resolveInsideSync(dir, location, 'external data file')
    const data = readRegularFileSync(target, { what: `external data file '${location}'`, maxBytes: lim.weightBytes - externalBytes, raiseHint: raiseHint('weightBytes') })
    externalBytes += data.length
    external.set(location, data)
    return data
  }
  const def = parseOnnx(bytes, { readExternal, fileName: base })
  let sidecar: Sidecar = {}
  let source = 'assumed: torchvision convention (RGB in [0,1], ImageNet mean/std)'
  const sidecarPath = path.join(dir, SIDECAR)
  if (await exists(sidecarPath)) {
    sidecar = parseSidecar((await readRegularFile(sidecarPath, { what: 'input spec', maxBytes: lim.modelJsonBytes, code: 'BAD_INPUT_SPEC' })).toString('utf8'), sidecarPath)
    source = SIDECAR
  } else if (def.metadata[SIDECAR]) {
    sidecar = parseSidecar(def.metadata[SIDECAR], `${base} metadata '${SIDECAR}'`)
    source = 'ONNX metadata'
  }
  const model = createOnnxVisModel(def, base)
  try {
    const channels = model.inputShape[2] ?? 3
    const [mh, mw] = model.inputShape
    const size: [number, number] = overrides.size ?? sidecar.size ?? [mh ?? DEFAULT_FREE_SIZE, mw ?? DEFAULT_FREE_SIZE]
    if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new DeepVisError('BAD_INPUT_SPEC', `input size must be two positive integers [height, width]; got ${JSON.stringify(size)}`)
    }
    if ((mh !== null && mh !== size[0]) || (mw !== null && mw !== size[1])) {
      throw new DeepVisError('BAD_INPUT_SPEC', `input size ${size[0]}x${size[1]} does not match the model's fixed input ${mh}x${mw}`)
    }
    // The same checks as a TF.js model before it replaces anything: caps, a trial forward pass.
    await checkModelRuns(model, size, channels)
    const assumed = source.startsWith('assumed')
    const meanSrc = overrides.mean !== undefined ? overrides.mean : sidecar.mean
    if (typeof meanSrc === 'string') throw new DeepVisError('BAD_INPUT_SPEC', 'a mean image is not supported for ONNX models yet; give per-channel values')
    const mean = meanSrc === null ? new Float32Array(channels)
      : meanSrc === undefined ? Float32Array.from(assumed ? TORCHVISION_MEAN.map((m) => m * 255) : new Array(channels).fill(127.5))
        : Float32Array.from(perChannel(meanSrc, channels, 'mean'))
    const scale = overrides.scale ?? sidecar.scale ?? (assumed ? TORCHVISION_STD.map((s) => 1 / (255 * s)) : 1)
    const offset = overrides.offset ?? sidecar.offset ?? (assumed ? TORCHVISION_MEAN.map((m, i) => -m / TORCHVISION_STD[i]) : 0)
    let labelsPath = overrides.labelsPath ?? (sidecar.labels !== undefined ? await namedFile(dir, dir, sidecar.labels, 'labels file') : undefined)
    let labelNote = ''
    if (!labelsPath) {
      const out = def.outputs[0] ? await model.layerInfo(def.outputs[0].name, size) : null
      if (out && out.units === 1000) {
        const found = await findLabels(dir)
        if (found) { labelsPath = found; labelNote = `; labels: ${path.relative(dir, found)} (1000 classes)` }
      }
    }
    const flags = Object.keys(overrides).some((k) => k !== 'freeSize' && overrides[k as keyof InputSpecOverrides] !== undefined)
    const inputSpec = validateInputSpec({
      height: size[0],
      width: size[1],
      channels,
      channelOrder: overrides.channelOrder ?? sidecar.channelOrder ?? 'RGB',
      mean,
      scale: perChannel(scale, channels, 'scale'),
      offset: perChannel(offset, channels, 'offset'),
      labels: labelsPath ? await readLabels(labelsPath) : null,
      source: `${source}${flags ? ' + flags' : ''}${labelNote}`,
    })
    return { model, modelJsonPath: file, inputSpec, defaults: sidecar.defaults ?? {}, name: sidecar.name ?? (base === 'model.onnx' ? path.basename(dir) : base.replace(/\.onnx$/i, '')) }
  } catch (e) {
    model.dispose()
    throw e
  }
}
