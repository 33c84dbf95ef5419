/**
 * Objectives: the expression parser (value = weighted sum of its parts, computed directly; one-line
 * errors with the position; BAD_LAYER / BAD_UNIT), each kind ascends under the general loop on the
 * embedded model (lucid's assert_gradient_ascent), and diversity lowers a batch's pairwise similarity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { channel, diversity, direction, negate, neuron, parseObjective, scale, sum, validateObjective } from '../../../src/engine/methods/objectives.ts'
import { optimizeGeneralBatch, optimizeGeneral } from '../../../src/engine/methods/general.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

let loaded: LoadedModel
beforeAll(async () => {
  await useBackend('wasm')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
})
afterAll(() => loaded?.model.dispose())

const size = (): [number, number] => [loaded.inputSpec.height, loaded.inputSpec.width]
const info = (l: string) => loaded.model.layerInfo(l, size())

/** Activations of a random (seeded) image batch, as the objectives read them. */
function withActs(f: (act: (layer: string) => tf.Tensor) => void): void {
  tf.tidy(() => {
    const x = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 5) as tf.Tensor4D
    const cache = new Map<string, tf.Tensor>()
    f((l) => { if (!cache.has(l)) cache.set(l, loaded.model.forward(x, l)); return cache.get(l)! })
  })
}

describe('objective expressions', () => {
  it("the expression's value equals the weighted sum of its parts computed directly", () => {
    const expr = parseObjective('conv2:3 - 0.5*conv3:7@4,5 + 2 * (logits:1 - neuron(conv1, 2)) - channel(conv2, 0)/4')
    expect(expr.layers).toEqual(['conv2', 'conv3', 'logits', 'conv1'])
    withActs((act) => {
      const got = expr.value(act).arraySync()
      const c2 = act('conv2').arraySync() as number[][][][]
      const c3 = act('conv3').arraySync() as number[][][][]
      const c1 = act('conv1').arraySync() as number[][][][]
      const lg = act('logits').arraySync() as number[][]
      const chMean = (a: number[][][][], n: number, c: number) => { let s = 0, k = 0; for (const row of a[n]) for (const px of row) { s += px[c]; k++ } return s / k }
      for (let n = 0; n < 2; n++) {
        const centre = c1[n][Math.floor(c1[n].length / 2)][Math.floor(c1[n][0].length / 2)][2]
        const direct = chMean(c2, n, 3) - 0.5 * c3[n][4][5][7] + 2 * (lg[n][1] - centre) - chMean(c2, n, 0) / 4
        expect(got[n]).toBeCloseTo(direct, 3)
      }
    })
  })

  it('the algebra composes: sum, scale, negate, and direction with cosine similarity', () => {
    const o = sum(channel('conv2', 1), scale(3, neuron('logits', 2)), negate(channel('conv2', 4)))
    expect(o.leaves.map((l) => l.weight)).toEqual([1, 3, -1])
    const vec = Array.from({ length: 32 }, (_, i) => (i % 3) - 1)
    withActs((act) => {
      const a = act('conv3').arraySync() as number[][][][]
      const plain = direction('conv3', vec).value(act).arraySync()
      const cos = direction('conv3', vec, 1).value(act).arraySync()
      const vn = Math.hypot(...vec)
      for (let n = 0; n < 2; n++) {
        let dots = 0, weighted = 0, k = 0
        for (const row of a[n]) for (const px of row) {
          const d = px.reduce((s, v, i) => s + v * vec[i], 0)
          const cs = d / (Math.hypot(...px) + 1e-4) / (vn + 1e-4)
          dots += d; weighted += d * Math.max(cs, 0.1); k++
        }
        expect(plain[n]).toBeCloseTo(dots / k, 3)
        expect(cos[n]).toBeCloseTo(weighted / k, 3)
      }
    })
  })

  it.each([
    ['conv2:', /expected a channel index .* at position 7/],
    ['conv2:3 +', /unexpected end of expression at position 10/],
    ['conv2:3 * conv2:4', /two objectives cannot be multiplied .* at position 9/],
    ['conv2:3 + 1', /a number cannot be added to an objective .* at position 9/],
    ['3 * 4', /a plain number, not an objective/],
    ['conv2 3', /expected ':' after layer name 'conv2'/],
    ['conv2:3 $', /unexpected character '\$' at position 9/],
    ['direction(conv3, [])', /direction needs at least one value/],
    ['', /the objective expression is empty/],
  ])('%j is a BAD_PARAM error naming the position', (text, re) => {
    let err: unknown
    try { parseObjective(text) } catch (e) { err = e }
    expect((err as { code?: string }).code).toBe('BAD_PARAM')
    expect((err as Error).message).toMatch(re)
    expect((err as Error).message).not.toContain('\n')
  })

  it('unknown layers are BAD_LAYER, channels and positions out of range BAD_UNIT', async () => {
    await expect(validateObjective(parseObjective('conv9:1'), info)).rejects.toMatchObject({ code: 'BAD_LAYER' })
    await expect(validateObjective(parseObjective('conv2:32'), info)).rejects.toMatchObject({ code: 'BAD_UNIT', message: expect.stringMatching(/has 32 units \(0\.\.31\)/) })
    await expect(validateObjective(parseObjective('conv2:1@40,0'), info)).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await expect(validateObjective(parseObjective('logits:1@0,0'), info)).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await expect(validateObjective(parseObjective('direction(conv3, [1, 2])'), info)).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await expect(validateObjective(parseObjective("'conv2':3 - 0.5*conv2:4@1,1"), info)).resolves.toBeUndefined()
  })
})

const ASCENT_STEPS = 12
describe('each objective kind ascends under the general loop', () => {
  it.each([
    ['channel', 'conv2:5'],
    ['neuron', 'conv3:7@8,8'],
    ['dense neuron', 'logits:4'],
    ['direction (cosine power 1)', `direction(conv3, [${Array.from({ length: 32 }, (_, i) => (i % 2 ? 1 : -0.5)).join(',')}], 1)`],
    ['sum', 'conv2:5 + logits:4'],
    ['scale + negate', '-0.5*logits:2 - conv2:1'],
  ])('%s: %s', async (_kind, objective) => {
    const r = await optimizeGeneral(loaded.model, loaded.inputSpec, { objective, max_iter: ASCENT_STEPS, rand_seed: 1 })
    const obj = r.series.obj
    expect(obj[obj.length - 1]).toBeGreaterThan(obj[0])
    expect(r.best!.obj).toBeGreaterThan(obj[0])
  })
})

/** Mean pairwise cosine similarity of the images' Gram matrices at `layer` (what diversity penalizes). */
function meanPairwiseSimilarity(images: Float32Array[], layer: string): number {
  return tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(images.flatMap((im) => Array.from(im, (v) => (v + 127.5) / 127.5 - 1))), [images.length, 64, 64, 3])
    const n = images.length
    return diversity(loaded.model.forward(x, layer)).dataSync()[0] / (n - 1)
  })
}

describe('diversity', () => {
  it('lowers the mean pairwise similarity of a batch of 3 (vs diversity 0)', async () => {
    const base = { objective: 'conv3:5', max_iter: 16, batch_size: 3, rand_seed: 2, diversity_layer: 'conv2' }
    const plain = await optimizeGeneralBatch(loaded.model, loaded.inputSpec, { ...base, diversity: 0 })
    const diverse = await optimizeGeneralBatch(loaded.model, loaded.inputSpec, { ...base, diversity: 1000 })
    expect(plain).toHaveLength(3)
    const simPlain = meanPairwiseSimilarity(plain.map((r) => r.last!.x), 'conv2')
    const simDiverse = meanPairwiseSimilarity(diverse.map((r) => r.last!.x), 'conv2')
    expect(simDiverse).toBeLessThan(simPlain)
    expect(diverse.map((r) => r.method!.image_index)).toEqual([0, 1, 2])
  })
})
