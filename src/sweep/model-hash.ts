/**
 * The identity of a model for a sweep: SHA-256 over its model.json, every weight file it names and the
 * deepvis.json sidecar / labels.txt beside it (what changes a result). A queue worker refuses jobs of a
 * sweep whose hash differs from the model it loaded.
 * Shape: `await modelHash(modelPath) => hex string`.
 */
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { resolveModelJson, SIDECAR_NAME } from '../engine/node/load-model.ts'

export async function modelHash(modelPath: string): Promise<string> {
  const modelJson = await resolveModelJson(modelPath)
  const dir = path.dirname(modelJson)
  const text = await readFile(modelJson)
  const files = [modelJson]
  const parsed = JSON.parse(text.toString('utf8')) as { weightsManifest?: { paths: string[] }[] }
  for (const group of parsed.weightsManifest ?? []) for (const p of group.paths) files.push(path.join(dir, p))
  for (const extra of [SIDECAR_NAME, 'labels.txt']) if (existsSync(path.join(dir, extra))) files.push(path.join(dir, extra))
  const h = createHash('sha256')
  for (const f of files) {
    const bytes = await readFile(f)
    h.update(`${path.relative(dir, f)}\0${bytes.length}\0`)
    h.update(bytes)
  }
  return h.digest('hex')
}
