/**
 * A sweep's model identity (src/sweep/model-hash.ts): the same files give the same hash wherever the
 * folder lies; any byte of a file that changes a result (model.json, a shard, the .onnx, an ONNX
 * external-data file, the sidecar, labels.txt) changes it; a copy with an unrelated file added keeps
 * it; names that leave the model's folder are refused, as when loading.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MODEL_DIR } from '../../src/engine/node/load-model.ts'
import { modelHash } from '../../src/sweep/model-hash.ts'
import { buildOnnx } from '../fixtures/onnx-builder.ts'

let tmp = ''
beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-hash-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

/** A copy of the embedded model with `edit` applied. */
function copyTf(name: string, edit: (dir: string) => void = () => {}): string {
  const dir = path.join(tmp, name)
  cpSync(DEFAULT_MODEL_DIR, dir, { recursive: true })
  edit(dir)
  return dir
}

function flipByte(file: string, at: number): void {
  const b = readFileSync(file)
  b[at] ^= 1
  writeFileSync(file, b)
}

/** A one-Gemm ONNX classifier whose weights live in `weights.bin` (external data). */
function onnxModel(name: string, weights = Float32Array.from({ length: 12 }, (_, i) => i / 10), location = 'weights.bin'): string {
  const dir = path.join(tmp, name)
  mkdirSync(dir)
  writeFileSync(path.join(dir, 'net.onnx'), buildOnnx({
    input: { name: 'x', dims: [1, 3, 2, 2] },
    outputs: ['y'],
    initializers: [{ name: 'w', dims: [3, 12], data: [], external: { location } }],
    nodes: [
      { op: 'Flatten', inputs: ['x'], outputs: ['f'] },
      { op: 'Gemm', inputs: ['f', 'w'], outputs: ['y'], attrs: { transB: 1 } },
    ],
  }))
  writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(new Float32Array([...weights, ...weights, ...weights]).buffer))
  return dir
}

describe('modelHash', () => {
  it('TF.js folder: stable across copies; changed by model.json, a shard, the sidecar or labels; not by an unrelated file', async () => {
    const base = await modelHash(DEFAULT_MODEL_DIR)
    expect(base).toMatch(/^[0-9a-f]{64}$/)
    expect(await modelHash(copyTf('same'))).toBe(base)
    expect(await modelHash(path.join(copyTf('by-json-path'), 'model.json'))).toBe(base)
    expect(await modelHash(copyTf('extra', (d) => writeFileSync(path.join(d, 'notes.txt'), 'hello')))).toBe(base)
    expect(await modelHash(copyTf('shard', (d) => flipByte(path.join(d, 'weights.bin'), 100)))).not.toBe(base)
    expect(await modelHash(copyTf('json', (d) => writeFileSync(path.join(d, 'model.json'), readFileSync(path.join(d, 'model.json'), 'utf8') + ' ')))).not.toBe(base)
    expect(await modelHash(copyTf('labels', (d) => writeFileSync(path.join(d, 'labels.txt'), readFileSync(path.join(d, 'labels.txt'), 'utf8') + 'x\n')))).not.toBe(base)
  })

  it('TF.js folder: a shard named outside the folder is refused before it is read', async () => {
    const dir = copyTf('escape', (d) => {
      const j = JSON.parse(readFileSync(path.join(d, 'model.json'), 'utf8'))
      j.weightsManifest[0].paths[0] = '../../../../dev/zero'
      writeFileSync(path.join(d, 'model.json'), JSON.stringify(j))
    })
    await expect(modelHash(dir)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringMatching(/lies outside the model folder/) })
  })

  it('ONNX: the .onnx and its external-data file count, by folder or file path; other .onnx-free files do not', async () => {
    const a = await modelHash(onnxModel('onnx-a'))
    expect(await modelHash(path.join(tmp, 'onnx-a', 'net.onnx'))).toBe(a)
    expect(await modelHash(onnxModel('onnx-b'))).toBe(a)
    writeFileSync(path.join(tmp, 'onnx-b', 'README.txt'), 'unrelated')
    expect(await modelHash(path.join(tmp, 'onnx-b'))).toBe(a)
    expect(await modelHash(onnxModel('onnx-c', Float32Array.from({ length: 12 }, (_, i) => i / 10 + 1e-3)))).not.toBe(a)
    writeFileSync(path.join(tmp, 'onnx-b', 'deepvis.json'), JSON.stringify({ format: 'deepvis-input-spec@1', name: 'x' }))
    expect(await modelHash(path.join(tmp, 'onnx-b'))).not.toBe(a)
  })

  it('ONNX: external data named outside the folder is refused', async () => {
    const dir = onnxModel('onnx-escape', undefined, '../onnx-a/weights.bin')
    await expect(modelHash(dir)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringMatching(/outside the model folder/) })
  })
})
