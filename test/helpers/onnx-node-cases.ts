/**
 * ONNX's own backend node test cases (Debian's libonnx-testdata) run through the executor.
 * A case is a folder with model.onnx and test_data_set_0/{input,output}_N.pb (serialized TensorProtos).
 * Tolerances are those of ONNX's backend test runner: rtol 1e-3, atol 1e-7 (plus 1e-6 absolute for
 * float32 rounding of float64 cases).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { compileOnnx, OPS } from '../../src/engine/model/onnx/executor.ts'
import { hostToTensor, logical, val } from '../../src/engine/model/onnx/layout.ts'
import { parseOnnx, parseTensorProto, type HostTensor } from '../../src/engine/model/onnx/proto.ts'

export const NODE_CASES_DIR = '/usr/share/libonnx-testdata/data/node'
export const HAVE_NODE_CASES = existsSync(NODE_CASES_DIR)

/** ONNX tensor element types the executor handles (float, double, float16, integer types, bool). */
const TENSOR_TYPES = new Set([1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13])

export interface CaseResult {
  name: string
  status: 'pass' | 'fail' | 'unsupported'
  detail: string
}

/** Cases whose graph uses only supported ops (the ones that must pass). */
export function supportedCases(): string[] {
  if (!HAVE_NODE_CASES) return []
  return readdirSync(NODE_CASES_DIR).filter((name) => {
    const file = path.join(NODE_CASES_DIR, name, 'model.onnx')
    if (!existsSync(file)) return false
    try {
      const def = parseOnnx(readFileSync(file))
      return def.nodes.every((n) => (n.domain === '' || n.domain === 'ai.onnx') && n.opType in OPS)
    } catch { return false }
  }).sort()
}

function compare(got: tf.Tensor, want: HostTensor): string | null {
  const shapeOk = got.shape.length === want.shape.length && got.shape.every((d, i) => d === want.shape[i])
  if (!shapeOk) return `shape [${got.shape.join(',')}] != expected [${want.shape.join(',')}]`
  const g = got.dataSync() as ArrayLike<number>
  const w = want.data
  let worst = 0
  for (let i = 0; i < w.length; i++) {
    const a = Number(g[i])
    const b = Number(w[i])
    if (Number.isNaN(b) && Number.isNaN(a)) continue
    if (a === b) continue
    const err = Math.abs(a - b)
    const tol = 1e-7 + 1e-6 + 1e-3 * Math.abs(b)
    if (!(err <= tol)) return `element ${i}: ${a} != ${b}`
    worst = Math.max(worst, err)
  }
  return null
}

/** Run one case; never throws. */
export function runCase(name: string): CaseResult {
  const dir = path.join(NODE_CASES_DIR, name)
  const before = tf.memory().numTensors
  let graph: ReturnType<typeof compileOnnx> | null = null
  try {
    const def = parseOnnx(readFileSync(path.join(dir, 'model.onnx')), { fileName: name })
    const odd = [...def.inputs, ...def.outputs].find((v) => !TENSOR_TYPES.has(v.elemType))
    if (odd) return { name, status: 'unsupported', detail: `graph value '${odd.name}' has ONNX type ${odd.elemType || 'sequence/optional/map'}, which is not supported` }
    graph = compileOnnx(def, name)
    const data = path.join(dir, 'test_data_set_0')
    const feeds = def.inputs.map((inp, i) => [inp.name, parseTensorProto(readFileSync(path.join(data, `input_${i}.pb`)))] as const)
    const wants = def.outputs.map((_, i) => parseTensorProto(readFileSync(path.join(data, `output_${i}.pb`))))
    let problem: string | null = null
    tf.tidy(() => {
      const fd = Object.fromEntries(feeds.map(([n, h]) => [n, val(hostToTensor(h))]))
      const outs = graph!.run(fd, def.outputs.map((o) => o.name))
      for (let i = 0; i < outs.length && !problem; i++) {
        const p = compare(logical(outs[i]), wants[i])
        if (p) problem = `output ${i}: ${p}`
      }
    })
    return { name, status: problem ? 'fail' : 'pass', detail: problem ?? '' }
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]
    return { name, status: /not supported|unsupported/.test(msg) ? 'unsupported' : 'fail', detail: msg }
  } finally {
    graph?.dispose()
    const leaked = tf.memory().numTensors - before
    if (leaked > 0) console.warn(`[onnx-node-cases] ${name} left ${leaked} tensors`)
  }
}
