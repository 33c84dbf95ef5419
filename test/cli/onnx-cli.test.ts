/**
 * The CLI on the ONNX fixtures of ../shared/models/onnx (skipped when absent, wasm): `deepvis layers`
 * names resnet18's modules, and `deepvis optimize` with the lucid preset on a vit_tiny encoder block's
 * hidden unit 5 raises the objective and writes the usual files.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.ts'
import { HAVE_ONNX_FIXTURES, ONNX_FIXTURES } from '../helpers/onnx-refs.ts'

let tmp = ''
beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-onnx-cli-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

describe.skipIf(!HAVE_ONNX_FIXTURES)('deepvis on ONNX fixtures', () => {
  it('layers: resnet18 by module, with pre_relu and ImageNet labels on the logits', async () => {
    const r = await cli('layers', '--model', path.join(ONNX_FIXTURES, 'resnet18', 'model.onnx'), '--backend', 'wasm')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/^resnet18: onnx, input 224x224 RGB \(spec: assumed: torchvision/m)
    expect(r.out).toMatch(/^layer2\.1\/relu_1\s+Relu\s+\[28, 28, 128\]\s+128/m)
    expect(r.out).toMatch(/^layer2\.1\/relu_1\/pre_relu\s+Relu \(pre-activation\)/m)
    expect(r.out).toMatch(/^fc\s+Gemm\s+\[1000\]\s+1000\s+labels: tench/m)
  }, 120_000)

  it('optimize: lucid on vit_tiny encoder block 2, hidden unit 5, raises the objective', async () => {
    const prefix = path.join(tmp, 'vit_')
    const r = await cli('optimize', '--model', path.join(ONNX_FIXTURES, 'vit_tiny'), '--backend', 'wasm',
      '--push-layer', 'encoder/layers/encoder_layer_1', '--push-channel', '5', '--preset', 'lucid', '--max-iter', '8', '--output-prefix', prefix)
    expect(r.code, r.err).toBe(0)
    const files = readdirSync(tmp)
    expect(files.some((f) => f.endsWith('_best_X.png'))).toBe(true)
    const info = JSON.parse(readFileSync(path.join(tmp, files.find((f) => f.endsWith('info.json'))!), 'utf8'))
    const obj = info.series.obj as number[]
    expect(obj.every(Number.isFinite)).toBe(true)
    expect(Math.max(...obj.slice(2))).toBeGreaterThan(obj[0])
    expect(info.target.layer_shape).toEqual([14, 14, 192])
  }, 300_000)
})
