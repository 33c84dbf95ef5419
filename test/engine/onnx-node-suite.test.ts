/**
 * ONNX's own backend node test cases (Debian's libonnx-testdata, `apt-get install libonnx-testdata`):
 * every case whose graph uses only supported ops runs through the executor and must match ONNX's
 * expected outputs (rtol 1e-3), except variants this importer refuses with a clear "not supported"
 * line (3-D pooling, training mode, cubic-free features...). The passing list is committed in
 * test/fixtures/onnx-node-passing.txt (regenerate: npx tsx scripts/onnx-node-suite.ts --write).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { useBackend } from '../helpers/tf-backend.ts'
import { HAVE_NODE_CASES, NODE_CASES_DIR, runCase, supportedCases } from '../helpers/onnx-node-cases.ts'

const PASSING = readFileSync(path.resolve(import.meta.dirname, '../fixtures/onnx-node-passing.txt'), 'utf8').split('\n').filter(Boolean)

if (!HAVE_NODE_CASES) console.warn(`[deepvis tests] ${NODE_CASES_DIR} not found (apt-get install libonnx-testdata): ONNX node test cases skipped`)

describe.skipIf(!HAVE_NODE_CASES)('ONNX backend node test cases', () => {
  beforeAll(async () => { await useBackend('cpu') })

  it('every case of a supported op passes or is refused as an unsupported variant; the committed list passes', () => {
    const before = tf.memory().numTensors
    const results = supportedCases().map(runCase)
    const failed = results.filter((r) => r.status === 'fail')
    expect(failed.map((r) => `${r.name}: ${r.detail}`)).toEqual([])
    const passed = results.filter((r) => r.status === 'pass').map((r) => r.name)
    expect(passed).toEqual(PASSING)
    expect(passed.length).toBeGreaterThanOrEqual(460)
    // refused variants are named and say what is not supported
    for (const r of results.filter((x) => x.status === 'unsupported')) expect(r.detail).toMatch(/not supported/)
    expect(tf.memory().numTensors).toBe(before)
  }, 300_000)

  it('the committed list passes on wasm too', async () => {
    expect(await useBackend('wasm')).toBe('wasm')
    const failed = PASSING.map(runCase).filter((r) => r.status !== 'pass')
    expect(failed.map((r) => `${r.name}: ${r.detail}`)).toEqual([])
  }, 300_000)
})
