/**
 * `deepvis worker --model <url>` (src/sweep/fetch-model.ts) against a local HTTP server: a TF.js
 * folder's URL (with or without the trailing slash, or its model.json) and an .onnx URL with external
 * data download into a private folder whose model hash equals the original's, with the sidecar and
 * labels when present; Basic credentials in the URL are sent and never appear in messages; a shard
 * named outside the folder, a 404, an oversized file and a non-model are refused with one clear line
 * and leave no folder behind.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MODEL_DIR } from '../../src/engine/node/load-model.ts'
import { displayUrl, fetchModel, isModelUrl } from '../../src/sweep/fetch-model.ts'
import { modelHash } from '../../src/sweep/model-hash.ts'
import { buildOnnx } from '../fixtures/onnx-builder.ts'

let tmp = ''
let root = ''
let server: http.Server
let base = ''
const requests: { url: string; auth?: string }[] = []

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-fetch-'))
  root = path.join(tmp, 'www')
  cpSync(DEFAULT_MODEL_DIR, path.join(root, 'shapes'), { recursive: true })
  // A model whose manifest names a file outside its folder.
  cpSync(DEFAULT_MODEL_DIR, path.join(root, 'escape'), { recursive: true })
  const j = JSON.parse(readFileSync(path.join(root, 'escape', 'model.json'), 'utf8'))
  j.weightsManifest[0].paths[0] = '../shapes/weights.bin'
  writeFileSync(path.join(root, 'escape', 'model.json'), JSON.stringify(j))
  // An ONNX model with external data.
  mkdirSync(path.join(root, 'onnx'))
  writeFileSync(path.join(root, 'onnx', 'net.onnx'), buildOnnx({
    input: { name: 'x', dims: [1, 3, 2, 2] }, outputs: ['y'],
    initializers: [{ name: 'w', dims: [3, 12], data: [], external: { location: 'net.data' } }],
    nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['f'] }, { op: 'Gemm', inputs: ['f', 'w'], outputs: ['y'], attrs: { transB: 1 } }],
  }))
  writeFileSync(path.join(root, 'onnx', 'net.data'), Buffer.from(new Float32Array(36).map((_, i) => i / 36).buffer))
  writeFileSync(path.join(root, 'junk.onnx'), 'not a protobuf at all \u0000\u0001')
  server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization })
    const rel = decodeURIComponent((req.url ?? '/').split('?')[0])
    const file = path.join(root, rel)
    if (!file.startsWith(root) || !existsSync(file) || !readdirSafe(file)) {
      res.writeHead(404).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server?.close()
  await rm(tmp, { recursive: true, force: true })
})

/** Whether `p` is a regular file (folders answer 404 like a static server without index). */
function readdirSafe(p: string): boolean {
  try { readdirSync(p); return false } catch { return true }
}

const leftovers = (): string[] => readdirSync(os.tmpdir()).filter((n) => n.startsWith('deepvis-model-'))

describe('fetchModel', () => {
  it('recognizes URLs and hides credentials in what it prints', () => {
    expect(isModelUrl('https://x/m.onnx')).toBe(true)
    expect(isModelUrl('/models/m')).toBe(false)
    expect(displayUrl('http://user:s3cret@host:8080/m/')).toBe('http://host:8080/m/')
  })

  it('downloads a TF.js model by folder URL (with or without /) or model.json URL: same hash as the original', async () => {
    const want = await modelHash(DEFAULT_MODEL_DIR)
    for (const url of [`${base}/shapes/`, `${base}/shapes`, `${base}/shapes/model.json`]) {
      const got = await fetchModel(url)
      try {
        expect(await modelHash(got.dir)).toBe(want)
        expect(existsSync(path.join(got.dir, 'labels.txt'))).toBe(true)
        expect(existsSync(path.join(got.dir, 'deepvis.json'))).toBe(true)
      } finally {
        await got.cleanup()
      }
      expect(existsSync(got.dir)).toBe(false)
    }
  })

  it('downloads an .onnx with its external data; sends Basic credentials and never prints them', async () => {
    const before = requests.length
    const got = await fetchModel(`http://alice:s3cret@${base.slice('http://'.length)}/onnx/net.onnx`)
    try {
      expect(await modelHash(got.file)).toBe(await modelHash(path.join(root, 'onnx', 'net.onnx')))
      const sent = requests.slice(before)
      expect(sent.map((r) => r.url)).toEqual(expect.arrayContaining(['/onnx/net.onnx', '/onnx/net.data']))
      expect(sent.every((r) => r.auth === `Basic ${Buffer.from('alice:s3cret').toString('base64')}`)).toBe(true)
    } finally {
      await got.cleanup()
    }
    await expect(fetchModel(`http://alice:s3cret@${base.slice('http://'.length)}/missing/`)).rejects.toSatisfy((e: Error) => !e.message.includes('s3cret') && /HTTP 404/.test(e.message))
  })

  it('refuses a shard outside the folder, a 404, an oversized model and a non-model, leaving nothing behind', async () => {
    const had = leftovers().length
    await expect(fetchModel(`${base}/escape/`)).rejects.toMatchObject({ code: 'BAD_MODEL', message: expect.stringMatching(/'\.\.\/shapes\/weights\.bin' is not a plain file name beside the model/) })
    await expect(fetchModel(`${base}/nothing-here/`)).rejects.toMatchObject({ message: expect.stringMatching(/could not download model\.json .*HTTP 404/) })
    await expect(fetchModel(`${base}/junk.onnx`)).rejects.toMatchObject({ message: expect.stringMatching(/is not an ONNX model/) })
    const closed = http.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    await expect(fetchModel(`http://127.0.0.1:${port}/m/`)).rejects.toMatchObject({ message: `could not download model.json from http://127.0.0.1:${port}/m/model.json: ECONNREFUSED` })
    const prev = process.env.DEEPVIS_MAX_WEIGHTS_MB
    process.env.DEEPVIS_MAX_WEIGHTS_MB = '0.01'
    try {
      await expect(fetchModel(`${base}/shapes/`)).rejects.toMatchObject({ message: expect.stringMatching(/over the limit .*DEEPVIS_MAX_WEIGHTS_MB/) })
    } finally {
      if (prev === undefined) delete process.env.DEEPVIS_MAX_WEIGHTS_MB
      else process.env.DEEPVIS_MAX_WEIGHTS_MB = prev
    }
    expect(leftovers().length).toBe(had)
  })
})
