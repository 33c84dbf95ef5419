/**
 * Transforms: lucid's standard list as data, seeded draws (same seed -> same sequence), the resampling
 * (resize equals tfjs' resizeBilinear, rotation turns a grating's bars by the angle, counter-clockwise),
 * and a gradient through the whole chain on the wasm backend (which lacks gather/transform gradients).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { Rng } from '../../../src/engine/rng.ts'
import { drawGrating } from '../../../src/engine/stimuli.ts'
import { dominantOrientationDeg } from '../../helpers/orientation.ts'
import {
  applyTransforms, drawTransforms, resizeBilinearMatmul, resolveTransforms, rotate, standardTransforms,
} from '../../../src/engine/methods/transforms.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('wasm') })

const angleDiff = (a: number, b: number): number => { const d = Math.abs(a - b) % 180; return Math.min(d, 180 - d) }

describe('transforms', () => {
  it("standard_transforms is lucid's list", () => {
    const t = standardTransforms()
    expect(t.pad).toBe(12)
    expect(t.jitter).toBe(8)
    expect(t.jitter2).toBe(4)
    expect(t.scales.map((s) => Math.round(s * 100))).toEqual([90, 92, 94, 96, 98, 100, 102, 104, 106, 108, 110])
    expect(t.angles.length).toBe(26)
    expect(t.angles.filter((a) => a === 0).length).toBe(6)
    expect(Math.min(...t.angles)).toBe(-10)
    expect(Math.max(...t.angles)).toBe(10)
    expect(resolveTransforms('none')).toBeNull()
    expect(() => resolveTransforms({ ...t, jitter: -1 })).toThrow(/transforms.jitter must be a non-negative integer/)
    expect(() => resolveTransforms({ ...t, scales: [] })).toThrow(/transforms.scales/)
  })

  it('the same seed gives the same sequence of offsets, scales and angles; another seed another one', () => {
    const spec = standardTransforms()
    const seq = (seed: number) => { const rng = new Rng(seed); return Array.from({ length: 50 }, () => drawTransforms(spec, rng)) }
    const a = seq(7)
    expect(seq(7)).toEqual(a)
    expect(seq(8)).not.toEqual(a)
    // draws stay within their ranges and cover them
    expect(a.every((d) => d.jitter.every((o) => o >= 0 && o <= 8) && d.jitter2.every((o) => o >= 0 && o <= 4))).toBe(true)
    expect(new Set(a.map((d) => d.scale)).size).toBeGreaterThan(5)
    expect(a.every((d) => spec.angles.includes(d.angleDeg))).toBe(true)
  })

  it("resize equals tfjs' resizeBilinear (align_corners false); identity draws change nothing", () => {
    const before = tf.memory().numTensors
    tf.tidy(() => {
      const g = tf.randomUniform([2, 10, 12, 3], 0, 1, 'float32', 3) as tf.Tensor4D
      const diff = tf.max(tf.abs(tf.sub(resizeBilinearMatmul(g, 17, 9), tf.image.resizeBilinear(g, [17, 9])))).dataSync()[0]
      expect(diff).toBeLessThan(1e-5)
      const id = applyTransforms(g, { pad: 0, jitter: 0, scales: [1], angles: [0], jitter2: 0 }, { jitter: [0, 0], scale: 1, angleDeg: 0, jitter2: [0, 0] }, [10, 12])
      expect(tf.max(tf.abs(tf.sub(id, g))).dataSync()[0]).toBe(0)
    })
    expect(tf.memory().numTensors).toBe(before)
  })

  it.each([[90, 30], [0, -20], [45, 10]])('rotating bars at %i degrees by %i turns them counter-clockwise by that angle', (deg, by) => {
    tf.tidy(() => {
      const size = 64
      const g = tf.div(tf.tensor4d(drawGrating(size, deg, 8, 0, 100, 128), [1, size, size, 3]), 255) as tf.Tensor4D
      const centre = rotate(g, by).slice([0, 16, 16, 0], [1, 32, 32, 3])
      const found = dominantOrientationDeg(centre.dataSync() as Float32Array, 32, 32)
      expect(angleDiff(found, deg + by)).toBeLessThanOrEqual(3)
    })
  })

  it('the standard chain has a non-zero gradient on every pixel region it keeps, and is deterministic for a draw', () => {
    const spec = standardTransforms()
    const draw = { jitter: [3, 5] as [number, number], scale: 1.06, angleDeg: -7, jitter2: [1, 2] as [number, number] }
    tf.tidy(() => {
      const img = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D
      const f = (x: tf.Tensor) => tf.sum(tf.square(applyTransforms(x as tf.Tensor4D, spec, draw, [32, 32])))
      const g = tf.grad(f)(img)
      expect(g.shape).toEqual([1, 32, 32, 3])
      // the centre of the image is always seen
      expect(tf.min(tf.abs(g.slice([0, 12, 12, 0], [1, 8, 8, 3]))).dataSync()[0]).toBeGreaterThan(0)
      const a = applyTransforms(img, spec, draw, [32, 32]).dataSync()
      const b = applyTransforms(img, spec, draw, [32, 32]).dataSync()
      expect(Array.from(a)).toEqual(Array.from(b))
    })
  })
})
