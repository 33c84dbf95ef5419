/**
 * The run pipeline (src/engine/node/run-pipeline.ts) on the embedded model, cpu backend, short runs:
 * bad plans refused by createRun before any iteration (with their codes); a DVT run's outcome is the
 * optimizer's own result (same series as optimizeImage called directly) with quality readouts; GIF
 * frames every N plus the last one only when asked; a DVT batch hands each image to onImageDone once,
 * in a batch whose optimizer never calls onImageDone too; a failure while finishing an image goes to
 * onImageFailed and the other images still finish; quality: false gives none; tensors stay flat; a
 * general method's result has its method record and no FindParams (dvtParamsOf derives DVT's terms).
 */
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../../src/engine/node/backends.ts'
import { GifFrames } from '../../../src/engine/node/gif-frames.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { createRun, type PipelineEngine, type RunOutcome } from '../../../src/engine/node/run-pipeline.ts'
import { dvtParamsOf } from '../../../src/engine/node/save-results.ts'
import { optimizeImage } from '../../../src/engine/optimize.ts'
import { optimizeBatch } from '../../../src/engine/optimize-batch.ts'
import { DEFAULT_PARAMS, resolveParams, type FindParams } from '../../../src/engine/params.ts'

let loaded: LoadedModel
let engine: PipelineEngine

beforeAll(async () => {
  await initBackend('cpu')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  engine = { model: loaded.model, inputSpec: loaded.inputSpec, backend: 'cpu' }
}, 120_000)
afterAll(() => loaded?.model.dispose())

const MAX_ITER = 5
const dvt = (over: Partial<FindParams> = {}): FindParams =>
  resolveParams({ ...DEFAULT_PARAMS, push_layer: 'logits', push_channel: 1, max_iter: MAX_ITER, rand_seed: 7, blur_every: 2, ...over })

/** A GIF's frame count, from its image descriptors (0x2C after each graphic control extension). */
function gifFrames(gif: Uint8Array): number {
  let n = 0
  for (let i = 0; i + 2 < gif.length; i++) if (gif[i] === 0x21 && gif[i + 1] === 0xf9 && gif[i + 2] === 0x04) n++
  return n
}

describe('createRun validates before any work', () => {
  it('refuses a unit out of range (BAD_UNIT), an unknown layer (BAD_LAYER), a bad gif period and a bad objective', async () => {
    await expect(createRun(engine, { kind: 'dvt', params: dvt({ push_channel: 999 }) })).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await expect(createRun(engine, { kind: 'dvt', params: dvt({ push_layer: 'no_such_layer' }) })).rejects.toMatchObject({ code: 'BAD_LAYER' })
    await expect(createRun(engine, { kind: 'dvt', params: dvt() }, { gif: { every: 0 } })).rejects.toThrow(/gif-every must be a positive integer/)
    await expect(createRun(engine, { kind: 'general', params: { method: 'lucid', objective: 'logits:999' } })).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await expect(createRun(engine, { kind: 'dvt-batch', params: [dvt(), dvt({ push_channel: 999 })] })).rejects.toMatchObject({ code: 'BAD_UNIT' })
    // An objective naming an image: refused up front where no image is read (the app); read (here: missing) otherwise.
    const invert = { method: 'lucid' as const, objective: "invert(logits, 'no-such-image.png')" }
    await expect(createRun(engine, { kind: 'general', params: invert, readImages: false })).rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringMatching(/no activations were given/) })
    await expect(createRun(engine, { kind: 'general', params: invert })).rejects.toThrow(/no-such-image\.png/)
  })
})

describe('execute', () => {
  it("a DVT run's outcome is optimizeImage's result, with quality readouts and a GIF of every 2nd frame (+ the last when asked)", async () => {
    const direct = await optimizeImage(loaded.model, loaded.inputSpec, dvt(), { backend: 'cpu' })
    const seen: number[] = []
    const run = await createRun(engine, { kind: 'dvt', params: dvt() }, { gif: { every: 2 } })
    expect(run.targets[0]).toMatchObject({ layer: 'logits', channel: 1 })
    const [o] = await run.execute({ onIteration: (e) => { seen.push(e.ii) } })
    expect(seen).toEqual([0, 1, 2, 3, 4])
    expect(o.result.series.obj).toEqual(direct.series.obj)
    expect(o.quality!.activation).toBeCloseTo(o.result.best!.obj, 3)
    expect(gifFrames(o.gif!)).toBe(3) // ii 0, 2, 4
    const [withLast] = await (await createRun(engine, { kind: 'dvt', params: dvt({ max_iter: 6 }) }, { gif: { every: 2, withLast: true } })).execute()
    expect(gifFrames(withLast.gif!)).toBe(4) // ii 0, 2, 4 and the last, 5
    const [none] = await run.execute({ quality: false })
    expect(none.quality).toBeNull()
  }, 120_000)

  it('a DVT batch hands every image to onImageDone once, also when the optimizer never calls it', async () => {
    const plan = { kind: 'dvt-batch' as const, params: [dvt(), dvt({ push_channel: 2, rand_seed: 8 }), dvt({ push_channel: 3 })] }
    for (const batch of [optimizeBatch, ((m, s, p, o) => optimizeBatch(m, s, p, { ...o, onImageDone: undefined })) as typeof optimizeBatch]) {
      const done: number[] = []
      const outcomes = await (await createRun(engine, plan)).execute({ optimizeBatch: batch, quality: false, onImageDone: (o) => { done.push(o.imageIndex) } })
      expect([...done].sort()).toEqual([0, 1, 2])
      expect(outcomes.map((o) => [o.imageIndex, o.result.target.channel])).toEqual([[0, 1], [1, 2], [2, 3]])
    }
  }, 120_000)

  it('a failure while finishing one image goes to onImageFailed; the others finish', async () => {
    const failed: number[] = []
    const finished: RunOutcome[] = []
    const run = await createRun(engine, { kind: 'dvt-batch', params: [dvt(), dvt({ push_channel: 2 })] })
    const outcomes = await run.execute({
      quality: false,
      onImageDone: (o) => { if (o.imageIndex === 0) throw new Error('disk full'); finished.push(o) },
      onImageFailed: (i, e) => { failed.push(i); expect(String(e)).toMatch(/disk full/) },
    })
    expect(failed).toEqual([0])
    expect(finished.map((o) => o.imageIndex)).toEqual([1])
    expect(outcomes.map((o) => o.imageIndex)).toEqual([1])
    // Without onImageFailed the error ends the execution.
    await expect(run.execute({ quality: false, onImageDone: () => { throw new Error('disk full') } })).rejects.toThrow(/disk full/)
  }, 120_000)

  it('leaks no tensors over repeated executions (DVT, batch, general)', async () => {
    const runs = [
      await createRun(engine, { kind: 'dvt', params: dvt({ max_iter: 2 }) }, { gif: { every: 1 } }),
      await createRun(engine, { kind: 'dvt-batch', params: [dvt({ max_iter: 2 }), dvt({ max_iter: 2, push_channel: 0 })] }),
      await createRun(engine, { kind: 'general', params: { method: 'lucid', objective: 'logits:1', max_iter: 2, rand_seed: 1 } }),
    ]
    for (const run of runs) await run.execute()
    const before = tf.memory().numTensors
    for (let k = 0; k < 2; k++) for (const run of runs) await run.execute()
    expect(tf.memory().numTensors).toBe(before)
  }, 120_000)
})

describe('one RunResult type', () => {
  it("a general method's result carries its method record and no FindParams; dvtParamsOf derives DVT's terms for the DVT-format files", async () => {
    const run = await createRun(engine, { kind: 'general', params: { method: 'normstep', objective: 'logits:3', max_iter: 2, rand_seed: 4, lr: 2 } })
    const [{ result }] = await run.execute({ quality: false })
    expect(result.params).toBeUndefined()
    expect(result.method).toMatchObject({ name: 'normstep', params: { method: 'normstep', rand_seed: 4, max_iter: 2, lr: 2 } })
    expect(dvtParamsOf(result)).toEqual({
      ...DEFAULT_PARAMS, start_at: 'mean', rand_seed: 4, push_layer: 'logits', push_channel: 3, push_spatial: null, push_dir: 1,
      lr_policy: 'constant', lr_params: { lr: 2 }, max_iter: 2,
    })
    // A DVT result: its own params, untouched.
    const [dvtOutcome] = await (await createRun(engine, { kind: 'dvt', params: dvt({ max_iter: 2 }) })).execute({ quality: false })
    expect(dvtOutcome.result.method).toBeUndefined()
    expect(dvtParamsOf(dvtOutcome.result)).toBe(dvtOutcome.result.params)
  }, 120_000)
})

describe('GifFrames', () => {
  it('records ii % every == 0, and ii = maxIter - 1 only withLast; rejects a non-positive period', async () => {
    const spec = loaded.inputSpec
    const image = async (): Promise<Float32Array> => new Float32Array(spec.height * spec.width * spec.channels)
    const plain = new GifFrames(3, spec)
    const last = new GifFrames(3, spec, { withLast: true })
    for (let ii = 0; ii < 8; ii++) {
      await plain.onIteration({ ii, maxIter: 8, image })
      await last.onIteration({ ii, maxIter: 8, image })
    }
    expect([plain.count(), last.count()]).toEqual([3, 4]) // 0, 3, 6 (+ 7)
    expect(() => new GifFrames(0, spec)).toThrow(/positive integer/)
  })
})
