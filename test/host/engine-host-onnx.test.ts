/**
 * The engine host with ONNX models (cpu): one uploaded .onnx file opens (model:upload), its layers
 * carry module / plumbing flags for the layer browser, and it opens again by the path of the .onnx
 * (model:open), which is what model:info reports for the recent list.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createEngineHost } from '../../src/host/engine-host.ts'
import { buildOnnx, values } from '../fixtures/onnx-builder.ts'

let dir: string
const onnx = (): Uint8Array => buildOnnx({
  input: { name: 'input', dims: [1, 3, 8, 8] },
  outputs: ['logits'],
  initializers: [{ name: 'cw', dims: [4, 3, 3, 3], data: values(108, 2) }, { name: 'fw', dims: [5, 4], data: values(20, 3) }],
  nodes: [
    { op: 'Conv', name: '/block/conv/Conv', inputs: ['input', 'cw'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
    { op: 'Relu', name: '/block/relu/Relu', inputs: ['c'], outputs: ['r'] },
    { op: 'GlobalAveragePool', name: '/pool/GlobalAveragePool', inputs: ['r'], outputs: ['p'] },
    { op: 'Flatten', name: '/Flatten', inputs: ['p'], outputs: ['f'] },
    { op: 'Gemm', name: '/fc/Gemm', inputs: ['f', 'fw'], outputs: ['logits'], attrs: { transB: 1 } },
  ],
})

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'deepvis-host-onnx-'))
  await mkdir(path.join(dir, 'models'))
  await writeFile(path.join(dir, 'models', 'net.onnx'), onnx())
  await writeFile(path.join(dir, 'models', 'other.onnx'), onnx())
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

describe('engine host with ONNX models', () => {
  it('uploads one .onnx, lists its layers with plumbing flags, reopens it by path', async () => {
    const host = createEngineHost({ modelDir: path.join(dir, 'models', 'net.onnx'), backend: 'cpu', dataDir: path.join(dir, 'data') })
    await host.start()
    const first = await host.handlers['model:info'](undefined)
    expect(first.format).toBe('onnx')
    expect(first.path).toBe(path.join(dir, 'models', 'net.onnx'))
    const info = await host.handlers['model:upload']([{ name: 'uploaded.onnx', base64: Buffer.from(onnx()).toString('base64') }])
    expect(info.format).toBe('onnx')
    expect(info.name).toBe('uploaded')
    expect(info.inputSpec.source).toMatch(/assumed/)
    const layers = await host.handlers['model:layers'](undefined)
    expect(layers.map((l) => l.name)).toEqual(['block/conv', 'block/relu', 'block/relu/pre_relu', 'pool', 'Flatten', 'fc'])
    expect(layers.find((l) => l.name === 'Flatten')?.plumbing).toBe(true)
    expect(layers.find((l) => l.name === 'block/conv')?.module).toBe('block/conv')
    // a folder holding two .onnx files opens by file path
    const again = await host.handlers['model:open'](path.join(dir, 'models', 'other.onnx'))
    expect(again.name).toBe('other')
    await expect(host.handlers['model:open'](path.join(dir, 'models'))).rejects.toThrow(/2 \.onnx files/)
    // a corrupt .onnx or an unsupported op: one line, and the loaded model stays
    await writeFile(path.join(dir, 'corrupt.onnx'), Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]))
    await expect(host.handlers['model:open'](path.join(dir, 'corrupt.onnx'))).rejects.toThrow(/^corrupt\.onnx is not a valid ONNX model[^\n]*$/)
    await writeFile(path.join(dir, 'nms.onnx'), buildOnnx({ input: { name: 'input', dims: [1, 3, 8, 8] }, outputs: ['y'], nodes: [{ op: 'NonMaxSuppression', name: 'nms', inputs: ['input'], outputs: ['y'] }] }))
    await expect(host.handlers['model:open'](path.join(dir, 'nms.onnx'))).rejects.toThrow(/unsupported ONNX op 'NonMaxSuppression' \(node 'nms'\)/)
    expect((await host.handlers['model:info'](undefined)).name).toBe('other')
    expect((await host.handlers['model:layers'](undefined)).map((l) => l.name)).toContain('fc')
    host.dispose()
  })
})
