/**
 * Opening .onnx models from disk (a file, a folder holding one, external data, deepvis.json sidecar,
 * ONNX metadata, torchvision's assumed convention, labels for 1000-class outputs) and through the CLI
 * (`deepvis layers`, `deepvis optimize`), with one-line errors for a missing external file.
 */
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadModelFolder } from '../../src/engine/node/load-model.ts'
import { TORCHVISION_MEAN, TORCHVISION_STD } from '../../src/engine/node/load-onnx.ts'
import { cli } from '../helpers/cli.ts'
import { useBackend } from '../helpers/tf-backend.ts'
import { buildOnnx, values } from '../fixtures/onnx-builder.ts'

let tmp = ''
const W = values(1000 * 3, 5).map((v) => v * 0.5)
/** conv -> relu -> global pool -> 1000-way Gemm; the Gemm weight inline or in an external file. */
function classifier(externalFile?: string, metadata?: Record<string, string>): Uint8Array {
  return buildOnnx({
    input: { name: 'input', dims: ['batch', 3, 'height', 'width'] },
    outputs: ['logits'],
    metadata,
    initializers: [
      { name: 'cw', dims: [3, 3, 3, 3], data: values(81, 3) },
      externalFile ? { name: 'fw', dims: [1000, 3], data: [], external: { location: externalFile } } : { name: 'fw', dims: [1000, 3], data: W },
    ],
    nodes: [
      { op: 'Conv', name: '/stem/conv/Conv', inputs: ['input', 'cw'], outputs: ['c'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', name: '/stem/act/Relu', inputs: ['c'], outputs: ['r'] },
      { op: 'GlobalAveragePool', name: '/pool/GlobalAveragePool', inputs: ['r'], outputs: ['p'] },
      { op: 'Flatten', name: '/Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', name: '/head/Gemm', inputs: ['f', 'fw'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  })
}

beforeAll(async () => {
  await useBackend('cpu')
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-onnx-'))
  await mkdir(path.join(tmp, 'plain'))
  await writeFile(path.join(tmp, 'plain', 'model.onnx'), classifier())
  await writeFile(path.join(tmp, 'plain', 'labels.txt'), Array.from({ length: 1000 }, (_, i) => `class ${i}`).join('\n') + '\n')
  await mkdir(path.join(tmp, 'ext'))
  await writeFile(path.join(tmp, 'ext', 'net.onnx'), classifier('net.weights'))
  await writeFile(path.join(tmp, 'ext', 'net.weights'), Buffer.from(Float32Array.from(W).buffer))
  await writeFile(path.join(tmp, 'ext', 'deepvis.json'), JSON.stringify({ format: 'deepvis-input-spec@1', name: 'Ext net', size: [32, 32], channelOrder: 'BGR', mean: [104, 117, 123], scale: 1, offset: [-104, -117, -123] }))
  await mkdir(path.join(tmp, 'missing'))
  await writeFile(path.join(tmp, 'missing', 'model.onnx'), classifier('gone.bin'))
  await mkdir(path.join(tmp, 'meta'))
  await writeFile(path.join(tmp, 'meta', 'm.onnx'), classifier(undefined, { 'deepvis.json': JSON.stringify({ format: 'deepvis-input-spec@1', mean: 0, scale: 0.5, offset: -1 }) }))
})
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

describe('loading .onnx models', () => {
  it('a file with no sidecar: torchvision convention marked assumed, free size 224, labels beside it', async () => {
    const m = await loadModelFolder(path.join(tmp, 'plain', 'model.onnx'))
    try {
      expect(m.model.format).toBe('onnx')
      expect(m.name).toBe('plain')
      const s = m.inputSpec
      expect(s.source).toMatch(/assumed: torchvision/)
      expect([s.height, s.width]).toEqual([224, 224])
      expect(s.labels?.[130]).toBe('class 130')
      expect(s.source).toMatch(/labels: labels\.txt/)
      // network input = (x + mean) * scale + offset = (pixel / 255 - m) / s
      for (let c = 0; c < 3; c++) {
        const pixel = 200
        expect(pixel * s.scale[c] + s.offset[c]).toBeCloseTo((pixel / 255 - TORCHVISION_MEAN[c]) / TORCHVISION_STD[c], 5)
        expect(s.mean[c]).toBeCloseTo(TORCHVISION_MEAN[c] * 255, 4)
      }
      expect(m.model.layerNames).toEqual(['stem/conv', 'stem/act', 'stem/act/pre_relu', 'pool', 'Flatten', 'head'])
    } finally { m.model.dispose() }
  })

  it('a folder with external data and a sidecar: the sidecar spec; same numbers as inline weights', async () => {
    const ext = await loadModelFolder(path.join(tmp, 'ext'))
    const plain = await loadModelFolder(path.join(tmp, 'plain'))
    try {
      expect(ext.name).toBe('Ext net')
      expect(ext.inputSpec.source).toBe('deepvis.json')
      expect(ext.inputSpec.channelOrder).toBe('BGR')
      expect([ext.inputSpec.height, ext.inputSpec.width]).toEqual([32, 32])
      tf.tidy(() => {
        const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D
        const d = tf.max(tf.abs(tf.sub(ext.model.forward(x, 'head'), plain.model.forward(x, 'logits')))).dataSync()[0]
        expect(d).toBe(0)
      })
    } finally { ext.model.dispose(); plain.model.dispose() }
  })

  it('the input spec from ONNX metadata', async () => {
    const m = await loadModelFolder(path.join(tmp, 'meta'))
    try {
      expect(m.inputSpec.source).toBe('ONNX metadata')
      expect(m.inputSpec.scale).toEqual([0.5, 0.5, 0.5])
    } finally { m.model.dispose() }
  })

  it('missing external data: one line naming the file', async () => {
    await expect(loadModelFolder(path.join(tmp, 'missing'))).rejects.toThrow(/missing external data file gone\.bin/)
  })

  it('deepvis layers and deepvis optimize open an .onnx', async () => {
    const r = await cli('layers', '--model', path.join(tmp, 'plain', 'model.onnx'), '--backend', 'cpu')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/stem\/act\/pre_relu\s+Relu \(pre-activation\)\s+\[224, 224, 3\]/)
    expect(r.out).toMatch(/onnx/)
    // plumbing (the Flatten) hidden by default, listed with --all
    expect(r.out).not.toMatch(/^Flatten/m)
    expect(r.out).toMatch(/1 plumbing layers hidden/)
    const all = await cli('layers', '--model', path.join(tmp, 'plain', 'model.onnx'), '--backend', 'cpu', '--all')
    expect(all.out).toMatch(/^Flatten\s+Flatten/m)
    const out = path.join(tmp, 'out')
    await mkdir(out)
    const o = await cli('optimize', '--model', path.join(tmp, 'ext'), '--backend', 'cpu', '--push-layer', 'head', '--push-channel', '7',
      '--max-iter', '4', '--output-prefix', path.join(out, 'r_'))
    expect(o.err).not.toMatch(/error/i)
    expect(o.code).toBe(0)
    const info = readdirSync(out).find((f) => f.endsWith('info.json'))!
    expect(existsSync(path.join(out, info))).toBe(true)
    const bad = await cli('layers', '--model', path.join(tmp, 'missing'), '--backend', 'cpu')
    expect(bad.code).toBe(2)
    expect(bad.err.trim().split('\n')).toHaveLength(1)
  })
})
