/**
 * Read the shape of any weight, and the values of a small unquantized int32 / float32 one (a Pad's
 * paddings), straight from a model's artifacts, without creating tensors (so it works before a backend
 * can read back synchronously, e.g. webgpu in Node).
 * Shape: `weightReader(artifacts) => { shape(name), values(name) }`.
 */
import type * as tf from '@tensorflow/tfjs'

const BYTES_PER: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 }
/** Most values `values()` reads: constants, not kernels. */
const MAX_CONST_VALUES = 64

export interface WeightReader {
  shape(name: string): number[] | null
  values(name: string): number[] | null
}

export function weightReader(artifacts: tf.io.ModelArtifacts): WeightReader {
  const specs = artifacts.weightSpecs ?? []
  const data = artifacts.weightData instanceof ArrayBuffer ? artifacts.weightData : null
  const index = new Map<string, { spec: tf.io.WeightsManifestEntry; offset: number | null }>()
  let offset: number | null = 0
  for (const spec of specs) {
    index.set(spec.name, { spec, offset })
    const per = BYTES_PER[spec.quantization?.dtype ?? spec.dtype]
    const n = spec.shape.reduce((a, b) => a * b, 1)
    offset = offset === null || per === undefined ? null : offset + n * per
  }
  return {
    shape: (name) => index.get(name)?.spec.shape.slice() ?? null,
    values: (name) => {
      const hit = index.get(name)
      if (!hit || hit.offset === null || !data || hit.spec.quantization) return null
      const n = hit.spec.shape.reduce((a, b) => a * b, 1)
      if (n > MAX_CONST_VALUES || hit.offset + 4 * n > data.byteLength) return null
      if (hit.spec.dtype === 'int32') return Array.from(new Int32Array(data.slice(hit.offset, hit.offset + 4 * n)))
      if (hit.spec.dtype === 'float32') return Array.from(new Float32Array(data.slice(hit.offset, hit.offset + 4 * n)))
      return null
    },
  }
}
