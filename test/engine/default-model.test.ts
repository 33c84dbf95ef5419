/**
 * Tests for the embedded default model resources/models/deepvis-shapes (trained by
 * scripts/train-default-model.ts): loads it with tfjs on the cpu backend through a small local
 * loader, checks the files (size budget, labels, input spec, layer names) and re-measures accuracy
 * on a fresh held-out set drawn from a seed no training stream uses.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs'
import { Rng } from '../../src/engine/rng.ts'
import { NUM_STIMULUS_CLASSES, STIMULUS_CLASSES, drawGrating, drawStimulus } from '../../src/engine/stimuli.ts'

const MODEL_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'resources', 'models', 'deepvis-shapes')
const SIZE = 64
const CHANNELS = 3
const SIZE_BUDGET_BYTES = 5 * 1024 * 1024
/** Seed of the fresh held-out set: training used Rng(1), Rng(1_000_001) and Rng(2_000_001). */
const FRESH_SEED = 777_777
const FRESH_PER_CLASS = 20
const EVAL_BATCH = 50
const MIN_ACCURACY = 0.9
const LAYER_NAMES = ['conv1', 'pool1', 'conv2', 'pool2', 'conv3', 'pool3', 'logits', 'prob']

interface InputSpec {
  format: string
  size: [number, number]
  channelOrder: string
  mean: number[]
  scale: number
  offset: number
  labels: string
  defaults: { push_layer: string; push_channel: number }
}

interface ModelJson {
  modelTopology: object
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
}

/** Reads a tfjs LayersModel folder (model.json + weight files) from disk into a LayersModel. */
async function loadLayersModelFromDir(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelJson
  const weightSpecs: tf.io.WeightsManifestEntry[] = []
  const buffers: Uint8Array[] = []
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights)
    for (const p of group.paths) buffers.push(await readFile(join(dir, p)))
  }
  const total = buffers.reduce((s, b) => s + b.byteLength, 0)
  const weightData = new Uint8Array(total)
  let offset = 0
  for (const b of buffers) {
    weightData.set(b, offset)
    offset += b.byteLength
  }
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: weightData.buffer }))
}

let model: tf.LayersModel
let spec: InputSpec

/** Class predictions for RGB 0..255 images, preprocessed as the input spec says. */
async function predict(images: Float32Array[]): Promise<number[]> {
  const out: number[] = []
  for (let start = 0; start < images.length; start += EVAL_BATCH) {
    const chunk = images.slice(start, start + EVAL_BATCH)
    const pred = tf.tidy(() => {
      const buf = new Float32Array(chunk.length * SIZE * SIZE * CHANNELS)
      chunk.forEach((img, k) => {
        for (let i = 0; i < img.length; i++) buf[k * img.length + i] = img[i] * spec.scale + spec.offset
      })
      const x = tf.tensor4d(buf, [chunk.length, SIZE, SIZE, CHANNELS])
      return (model.predict(x) as tf.Tensor).argMax(-1)
    })
    out.push(...(await pred.data()))
    pred.dispose()
  }
  return out
}

beforeAll(async () => {
  await tf.setBackend('cpu')
  await tf.ready()
  spec = JSON.parse(await readFile(join(MODEL_DIR, 'deepvis.json'), 'utf8')) as InputSpec
  model = await loadLayersModelFromDir(MODEL_DIR)
})

afterAll(() => {
  model?.dispose()
})

describe('default model files', () => {
  it('fits the size budget (< 5 MB in all)', async () => {
    let total = 0
    for (const f of await readdir(MODEL_DIR)) total += (await stat(join(MODEL_DIR, f))).size
    expect(total).toBeLessThan(SIZE_BUDGET_BYTES)
    expect((await stat(join(MODEL_DIR, 'weights.bin'))).size).toBeGreaterThan(0)
  })

  it('has the documented input spec', () => {
    expect(spec).toEqual({
      format: 'deepvis-input-spec@1',
      name: 'DeepVis shapes (embedded default model)',
      size: [64, 64],
      channelOrder: 'RGB',
      mean: [127.5, 127.5, 127.5],
      scale: 0.00784313725490196,
      offset: -1,
      labels: 'labels.txt',
      defaults: { push_layer: 'logits', push_channel: 0 },
    })
  })

  it('has one label per logits unit, in class order', async () => {
    const lines = (await readFile(join(MODEL_DIR, spec.labels), 'utf8')).replace(/\n$/, '').split('\n')
    const logits = model.getLayer('logits')
    const units = (logits.outputShape as number[])[1]
    expect(lines.length).toBe(units)
    expect(units).toBe(NUM_STIMULUS_CLASSES)
    expect(lines).toEqual(STIMULUS_CLASSES.map((c) => c.label))
  })

  it('has the documented layer names, input shape and a softmax output', () => {
    expect(model.layers.map((l) => l.name)).toEqual(LAYER_NAMES)
    expect(model.inputs[0].shape).toEqual([null, SIZE, SIZE, CHANNELS])
    const out = tf.tidy(() => model.predict(tf.zeros([1, SIZE, SIZE, CHANNELS])) as tf.Tensor)
    const probs = Array.from(out.dataSync())
    out.dispose()
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4)
  })
})

describe('default model accuracy', () => {
  it(`classifies a fresh held-out set (seed ${FRESH_SEED}) with accuracy >= ${MIN_ACCURACY}`, async () => {
    const rng = new Rng(FRESH_SEED)
    const images: Float32Array[] = []
    const labels: number[] = []
    for (let i = 0; i < FRESH_PER_CLASS * NUM_STIMULUS_CLASSES; i++) {
      const cls = i % NUM_STIMULUS_CLASSES
      labels.push(cls)
      images.push(drawStimulus(cls, rng))
    }
    const pred = await predict(images)
    const accuracy = pred.filter((p, i) => p === labels[i]).length / labels.length
    expect(accuracy).toBeGreaterThanOrEqual(MIN_ACCURACY)
    expect(tf.memory().numTensors).toBeLessThan(50)
  })

  it('names clean, noise-free gratings by their orientation (the oracle the optimizer relies on)', async () => {
    const cases: [number, number][] = [
      [90, 0],
      [0, 1],
      [45, 2],
      [135, 3],
    ]
    const images = cases.map(([deg]) => drawGrating(SIZE, deg, 9, 0.5, 80, 128))
    expect(await predict(images)).toEqual(cases.map(([, cls]) => cls))
  })
})
