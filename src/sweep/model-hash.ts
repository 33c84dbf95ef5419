/**
 * The identity of a model for a sweep: SHA-256 over every file that changes a result. A TF.js folder:
 * its model.json and every weight file it names; an ONNX model: the .onnx file and every external-data
 * file its tensors name; for both, the deepvis.json sidecar and labels.txt beside the model. A queue
 * worker refuses jobs of a sweep whose hash differs from the model it loaded. Files are read under
 * issue 9's rules: inside the model's folder, regular files, within the size limits.
 * Shape: `await modelHash(modelPath) => hex string`.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import path from 'node:path'
import onnxProto from 'onnx-proto'
import { DeepVisError } from '../shared/errors.ts'
import { limits, raiseHint } from '../engine/node/index.ts'
import { resolveModelJson, SIDECAR_NAME } from '../engine/node/index.ts'
import { isOnnxPath } from '../engine/node/index.ts'
import { parseJsonText, readRegularFile, resolveInside } from '../engine/node/index.ts'

const { onnx } = onnxProto

/** External-data file names an ONNX model's tensors refer to (decoding errors: BAD_MODEL naming `file`). */
export function externalLocations(bytes: Uint8Array, file: string): string[] {
  let m
  try {
    m = onnx.ModelProto.decode(bytes)
  } catch {
    throw new DeepVisError('BAD_MODEL', `${file} is not an ONNX model (protobuf decoding failed)`)
  }
  const out = new Set<string>()
  for (const t of m.graph?.initializer ?? []) {
    for (const e of t.externalData ?? []) if (e.key === 'location' && e.value) out.add(e.value)
  }
  return [...out].sort()
}

export async function modelHash(modelPath: string): Promise<string> {
  const lim = limits()
  const weights = { maxBytes: lim.weightBytes, raiseHint: raiseHint('weightBytes') }
  const onnxFile = await isOnnxPath(modelPath)
  const main = onnxFile ?? await resolveModelJson(modelPath)
  const dir = path.dirname(main)
  const mainBytes = await readRegularFile(main, { what: onnxFile ? 'ONNX model' : 'model.json', ...(onnxFile ? weights : { maxBytes: lim.modelJsonBytes, raiseHint: raiseHint('modelJsonBytes') }) })
  const named: string[] = []
  if (onnxFile) {
    named.push(...externalLocations(mainBytes, main))
  } else {
    const parsed = parseJsonText(mainBytes.toString('utf8'), main, 'model.json') as { weightsManifest?: { paths?: string[] }[] }
    for (const group of parsed.weightsManifest ?? []) for (const p of group.paths ?? []) named.push(p)
  }
  const files: { rel: string; bytes: Buffer }[] = [{ rel: path.basename(main), bytes: mainBytes }]
  for (const name of named) {
    const real = await resolveInside(dir, name, onnxFile ? 'external data file' : 'weight file')
    files.push({ rel: name, bytes: await readRegularFile(real, { what: `file '${name}' of the model`, ...weights }) })
  }
  for (const extra of [SIDECAR_NAME, 'labels.txt']) {
    if (!existsSync(path.join(dir, extra))) continue
    const real = await resolveInside(dir, extra, extra)
    files.push({ rel: extra, bytes: await readRegularFile(real, { what: extra, maxBytes: lim.auxFileBytes, raiseHint: raiseHint('auxFileBytes') }) })
  }
  const h = createHash('sha256')
  for (const f of files) {
    h.update(`${f.rel}\0${f.bytes.length}\0`)
    h.update(f.bytes)
  }
  return h.digest('hex')
}
