/**
 * Trains the embedded default model "DeepVis shapes" and writes it to resources/models/deepvis-shapes/.
 *
 * The model is a small CNN trained on procedurally generated 64x64 RGB images (src/engine/stimuli.ts)
 * whose classes each have a KNOWN preferred stimulus, so it doubles as a correctness oracle for the
 * activation-maximization engine.
 *
 * Usage: `npm run train-default-model -- [--seed 1] [--train-per-class N] [--test-per-class N]
 *         [--epochs N] [--batch N] [--lr X] [--out DIR] [--dry-run]`
 *
 * Shapes: main() -> writes model.json + weights.bin (tfjs LayersModel), deepvis.json (input spec),
 * labels.txt, training.json, README.md. Fully reproducible from --seed on the pure-JS `cpu` backend:
 * datasets and per-epoch shuffles come from `Rng` (MT19937), layer initializers are explicitly seeded.
 *
 * Seed streams (for --seed s): training set Rng(s), held-out set Rng(s + HELDOUT_SEED_OFFSET),
 * shuffles Rng(s + SHUFFLE_SEED_OFFSET), initializers seeds s * INIT_SEED_STRIDE + layer number.
 */

import { mkdir, writeFile, stat } from 'node:fs/promises'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { Rng } from '../src/engine/rng.ts'
import { DEFAULT_STIMULUS_SIZE, NUM_STIMULUS_CLASSES, STIMULUS_CHANNELS, STIMULUS_CLASSES, drawStimulus } from '../src/engine/stimuli.ts'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DEFAULT_OUT_DIR = join(REPO_ROOT, 'resources', 'models', 'deepvis-shapes')

const IMAGE_SIZE = DEFAULT_STIMULUS_SIZE
const PIXELS_PER_IMAGE = IMAGE_SIZE * IMAGE_SIZE * STIMULUS_CHANNELS
/** Network input = pixel * INPUT_SCALE + INPUT_OFFSET (pixel RGB 0..255). */
const INPUT_SCALE = 1 / 127.5
const INPUT_OFFSET = -1
const INPUT_MEAN = 127.5
/**
 * Softmax temperature baked into the saved `logits` layer (its kernel and bias are multiplied by this
 * after training; argmax and accuracy are unchanged). Without it this small, smooth network's pixel
 * gradients are ~200x smaller than GoogLeNet's (||d logit / d pixel||^2 ~ 3e-5 vs ~7e-3), so DVT's
 * published step sizes (lr 100 in pixel units) barely move the image; with it they behave as on the
 * ImageNet networks the Yosinski et al. presets were tuned for.
 */
const LOGIT_GAIN = 16

const HELDOUT_SEED_OFFSET = 1_000_000
const SHUFFLE_SEED_OFFSET = 2_000_000
const INIT_SEED_STRIDE = 100

const CONV1_FILTERS = 16
const CONV2_FILTERS = 32
const CONV3_FILTERS = 32
const KERNEL = 3
const POOL = 2

const DEFAULTS = {
  seed: 1,
  trainPerClass: 120,
  testPerClass: 50,
  epochs: 3,
  batch: 16,
  lr: 3e-3,
  /** Learning rate multiplier for the last LR_DECAY_EPOCHS epochs. */
  lrDecay: 0.25,
} as const
const LR_DECAY_EPOCHS = 1
/** Evaluation batch size (forward only). */
const EVAL_BATCH = 100
const SIZE_BUDGET_BYTES = 5 * 1024 * 1024

interface Options {
  seed: number
  trainPerClass: number
  testPerClass: number
  epochs: number
  batch: number
  lr: number
  outDir: string
  dryRun: boolean
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      'train-per-class': { type: 'string' },
      'test-per-class': { type: 'string' },
      epochs: { type: 'string' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      out: { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  })
  const int = (v: string | undefined, d: number, name: string): number => {
    if (v === undefined) return d
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`)
    return n
  }
  const lr = values.lr === undefined ? DEFAULTS.lr : Number(values.lr)
  if (!(lr > 0)) throw new Error(`--lr must be positive, got ${values.lr}`)
  const positive = (v: string | undefined, d: number, name: string): number => {
    const n = int(v, d, name)
    if (n < 1) throw new Error(`--${name} must be at least 1, got ${v}`)
    return n
  }
  return {
    seed: int(values.seed, DEFAULTS.seed, 'seed'),
    trainPerClass: positive(values['train-per-class'], DEFAULTS.trainPerClass, 'train-per-class'),
    testPerClass: positive(values['test-per-class'], DEFAULTS.testPerClass, 'test-per-class'),
    epochs: int(values.epochs, DEFAULTS.epochs, 'epochs'),
    batch: positive(values.batch, DEFAULTS.batch, 'batch'),
    lr,
    outDir: values.out === undefined ? DEFAULT_OUT_DIR : resolve(values.out),
    dryRun: values['dry-run'] ?? false,
  }
}

/** A dataset kept as quantized uint8 pixels (12 KB per image) plus class labels. */
interface Dataset {
  readonly pixels: Uint8Array
  readonly labels: Int32Array
  readonly count: number
}

/** Balanced dataset: image i has class i % numClasses, drawn in order from `rng`. */
function makeDataset(rng: Rng, perClass: number): Dataset {
  const count = perClass * NUM_STIMULUS_CLASSES
  const pixels = new Uint8Array(count * PIXELS_PER_IMAGE)
  const labels = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    const cls = i % NUM_STIMULUS_CLASSES
    labels[i] = cls
    const img = drawStimulus(cls, rng, IMAGE_SIZE)
    const base = i * PIXELS_PER_IMAGE
    for (let p = 0; p < PIXELS_PER_IMAGE; p++) pixels[base + p] = Math.round(img[p])
  }
  return { pixels, labels, count }
}

/** Network input batch [n, 64, 64, 3] for the given dataset indices (caller disposes). */
function inputBatch(data: Dataset, indices: ArrayLike<number>): tf.Tensor4D {
  const n = indices.length
  const buf = new Float32Array(n * PIXELS_PER_IMAGE)
  for (let j = 0; j < n; j++) {
    const base = indices[j] * PIXELS_PER_IMAGE
    const off = j * PIXELS_PER_IMAGE
    for (let p = 0; p < PIXELS_PER_IMAGE; p++) buf[off + p] = data.pixels[base + p] * INPUT_SCALE + INPUT_OFFSET
  }
  return tf.tensor4d(buf, [n, IMAGE_SIZE, IMAGE_SIZE, STIMULUS_CHANNELS])
}

/** Fisher-Yates permutation of 0..n-1 from `rng`. */
function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1)
    const t = p[i]
    p[i] = p[j]
    p[j] = t
  }
  return p
}

/** Reads a 2-vector attribute that tfjs may store as a number or a pair. */
function pair(v: unknown): [number, number] {
  if (typeof v === 'number') return [v, v]
  if (Array.isArray(v) && v.length === 2 && v.every((e) => typeof e === 'number')) return [v[0] as number, v[1] as number]
  throw new Error(`unexpected attribute ${JSON.stringify(v)}`)
}

/**
 * Filter gradient of a stride-1 'same' convolution (NHWC, odd kernel) by im2col + one matMul:
 * dW[kh, kw, ci, co] = sum over (b, y, x) of patch(b, y, x)[kh, kw, ci] * dy[b, y, x, co].
 * The im2col is a plain JS loop over x's data (tfjs's strided Slice is very slow on the cpu backend).
 */
function conv2dFilterGradSame(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number]): tf.Tensor4D {
  const [kh, kw, ci, co] = filterShape
  const [b, h, w] = x.shape
  const ph = (kh - 1) / 2
  const pw = (kw - 1) / 2
  const xv = x.dataSync()
  const k = kh * kw * ci
  const patches = new Float32Array(b * h * w * k)
  for (let n = 0; n < b; n++) {
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        let o = ((n * h + r) * w + c) * k
        for (let i = 0; i < kh; i++) {
          const rr = r + i - ph
          for (let j = 0; j < kw; j++) {
            const cc = c + j - pw
            if (rr < 0 || rr >= h || cc < 0 || cc >= w) {
              o += ci // zero padding: already 0
              continue
            }
            const src = ((n * h + rr) * w + cc) * ci
            for (let q = 0; q < ci; q++) patches[o++] = xv[src + q]
          }
        }
      }
    }
  }
  const cols = tf.tensor2d(patches, [b * h * w, k])
  return tf.reshape(tf.matMul(cols, tf.reshape(dy, [b * h * w, co]), true, false), filterShape)
}

/**
 * Replaces the gradients of Conv2D and MaxPool for this process with mathematically equivalent,
 * much faster ones for the configurations this model uses. The pure-JS cpu backend's
 * Conv2DBackpropFilter is an element-wise loop (about 2 s per 64x64 image for this network), which
 * would make a 10-minute training run impossible; im2col + matMul is about 50x faster. Only
 * stride-1 'same' NHWC convolutions with odd kernels and 2x2/stride-2 'valid' max pooling on even
 * sizes are supported; anything else throws rather than silently computing a wrong gradient.
 * MaxPool ties send the gradient to every tied input (they only occur at ReLU zeros here, where the
 * upstream ReLU gradient is 0 anyway).
 */
export function installFastGradients(): void {
  const convGrad: tf.GradConfig = {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D]
      const [sh, sw] = pair(attrs.strides)
      const [dh, dw] = pair(attrs.dilations ?? 1)
      const [kh, kw] = filter.shape
      if (sh !== 1 || sw !== 1 || dh !== 1 || dw !== 1 || attrs.pad !== 'same' || attrs.dataFormat !== 'NHWC' || kh % 2 === 0 || kw % 2 === 0) {
        throw new Error(`fast Conv2D gradient: unsupported attributes ${JSON.stringify(attrs)}`)
      }
      const g = dy as tf.Tensor4D
      return {
        x: () => tf.conv2dTranspose(g, filter, x.shape, 1, 'same'),
        filter: () => conv2dFilterGradSame(x, g, filter.shape),
      }
    },
  }
  const poolGrad: tf.GradConfig = {
    kernelName: 'MaxPool',
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved as [tf.Tensor4D, tf.Tensor4D]
      const [fh, fw] = pair(attrs.filterSize)
      const [sh, sw] = pair(attrs.strides)
      const [, h, w] = x.shape
      if (fh !== POOL || fw !== POOL || sh !== POOL || sw !== POOL || attrs.pad !== 'valid' || h % POOL !== 0 || w % POOL !== 0) {
        throw new Error(`fast MaxPool gradient: unsupported attributes ${JSON.stringify(attrs)} for shape ${x.shape}`)
      }
      return {
        x: () => {
          const up = (t: tf.Tensor4D): tf.Tensor4D => tf.image.resizeNearestNeighbor(t, [h, w])
          return tf.mul(tf.cast(tf.equal(x, up(y)), 'float32'), up(dy as tf.Tensor4D))
        },
      }
    },
  }
  tf.registerGradient(convGrad)
  tf.registerGradient(poolGrad)
}

/** Tolerance of the start-up check of the fast gradients against the stock ones (float32 sums). */
const GRAD_CHECK_TOLERANCE = 1e-3

/**
 * Installs the fast gradients after checking them against the stock tfjs gradients on a small
 * conv -> relu -> maxpool problem (stock first, then fast); throws on any mismatch.
 */
function installCheckedFastGradients(): void {
  const CHECK_SEED = 12345
  const problem = (x: tf.Tensor, w: tf.Tensor): tf.Scalar => {
    const y = tf.maxPool(tf.relu(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')), POOL, POOL, 'valid')
    return tf.sum(tf.mul(y, tf.randomNormal(y.shape, 0, 1, 'float32', CHECK_SEED)))
  }
  const x = tf.randomNormal([2, 8, 6, 3], 0, 1, 'float32', CHECK_SEED + 1)
  const w = tf.randomNormal([KERNEL, KERNEL, 3, 4], 0, 1, 'float32', CHECK_SEED + 2)
  const stock = tf.grads(problem)([x, w])
  installFastGradients()
  const fast = tf.grads(problem)([x, w])
  const err = Math.max(...stock.map((g, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(g, fast[i]))).dataSync()[0])))
  tf.dispose([x, w, ...stock, ...fast])
  if (!(err < GRAD_CHECK_TOLERANCE)) throw new Error(`fast gradients disagree with tfjs's by ${err}`)
  console.log(`fast Conv2D/MaxPool gradients installed (max abs difference from stock: ${err.toExponential(1)})`)
}

function buildModel(seed: number): tf.LayersModel {
  const init = (layer: number): ReturnType<typeof tf.initializers.heNormal> => tf.initializers.heNormal({ seed: seed * INIT_SEED_STRIDE + layer })
  const conv = (name: string, filters: number, layer: number, inputShape?: number[]): tf.layers.Layer =>
    tf.layers.conv2d({
      name,
      filters,
      kernelSize: KERNEL,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: init(layer),
      biasInitializer: 'zeros',
      ...(inputShape ? { inputShape } : {}),
    })
  const model = tf.sequential({ name: 'deepvis_shapes' })
  model.add(conv('conv1', CONV1_FILTERS, 1, [IMAGE_SIZE, IMAGE_SIZE, STIMULUS_CHANNELS]))
  model.add(tf.layers.maxPooling2d({ name: 'pool1', poolSize: POOL }))
  model.add(conv('conv2', CONV2_FILTERS, 2))
  model.add(tf.layers.maxPooling2d({ name: 'pool2', poolSize: POOL }))
  model.add(conv('conv3', CONV3_FILTERS, 3))
  model.add(tf.layers.globalAveragePooling2d({ name: 'pool3' }))
  model.add(
    tf.layers.dense({
      name: 'logits',
      units: NUM_STIMULUS_CLASSES,
      activation: 'linear',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed * INIT_SEED_STRIDE + 4 }),
      biasInitializer: 'zeros',
    }),
  )
  model.add(tf.layers.activation({ name: 'prob', activation: 'softmax' }))
  return model
}

interface Evaluation {
  readonly accuracy: number
  readonly perClass: number[]
  readonly confusion: number[][]
}

async function evaluate(model: tf.LayersModel, data: Dataset): Promise<Evaluation> {
  const confusion = STIMULUS_CLASSES.map(() => new Array<number>(NUM_STIMULUS_CLASSES).fill(0))
  for (let start = 0; start < data.count; start += EVAL_BATCH) {
    const idx = Array.from({ length: Math.min(EVAL_BATCH, data.count - start) }, (_, k) => start + k)
    const pred = tf.tidy(() => (model.predict(inputBatch(data, idx)) as tf.Tensor).argMax(-1))
    const p = await pred.data()
    pred.dispose()
    idx.forEach((i, k) => confusion[data.labels[i]][p[k]]++)
  }
  const perClass = confusion.map((row, c) => row[c] / row.reduce((a, b) => a + b, 0))
  const correct = confusion.reduce((s, row, c) => s + row[c], 0)
  return { accuracy: correct / data.count, perClass, confusion }
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

async function saveModel(model: tf.LayersModel, outDir: string): Promise<number> {
  let bytes = 0
  await model.save(
    tf.io.withSaveHandler(async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData)
      const modelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      }
      const json = JSON.stringify(modelJson)
      await writeFile(join(outDir, 'model.json'), json)
      await writeFile(join(outDir, 'weights.bin'), new Uint8Array(weights))
      bytes = json.length + weights.byteLength
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } }
    }),
  )
  return bytes
}

/** JSON on one line with a space after each comma / colon: `[64, 64]`, `{ "a": 1 }`. */
function inlineJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inlineJson).join(', ')}]`
  if (v !== null && typeof v === 'object') {
    return `{ ${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${inlineJson(x)}`).join(', ')} }`
  }
  return JSON.stringify(v)
}

/** Top-level keys one per line, values inline: the layout the input-spec format documents. */
function specJson(spec: Record<string, unknown>): string {
  return `{\n${Object.entries(spec).map(([k, v]) => `  ${JSON.stringify(k)}: ${inlineJson(v)}`).join(',\n')}\n}\n`
}

function inputSpec(): Record<string, unknown> {
  return {
    format: 'deepvis-input-spec@1',
    name: 'DeepVis shapes (embedded default model)',
    size: [IMAGE_SIZE, IMAGE_SIZE],
    channelOrder: 'RGB',
    mean: [INPUT_MEAN, INPUT_MEAN, INPUT_MEAN],
    scale: INPUT_SCALE,
    offset: INPUT_OFFSET,
    labels: 'labels.txt',
    defaults: { push_layer: 'logits', push_channel: 0 },
  }
}

interface TrainingRecord {
  seed: number
  command: string
  imageSize: [number, number]
  classes: string[]
  trainImages: number
  heldoutImages: number
  epochs: number
  batchSize: number
  optimizer: string
  learningRate: number
  learningRateSchedule: string
  seedStreams: Record<string, string>
  logitGain: number
  finalTrainLoss: number
  heldoutAccuracy: number
  heldoutPerClassAccuracy: Record<string, number>
  heldoutConfusion: number[][]
  parameters: number
  datasetSeconds: number
  trainingSeconds: number
  evaluationSeconds: number
  totalSeconds: number
  tfjsVersion: string
  backend: string
  node: string
}

function readme(rec: TrainingRecord, modelBytes: number): string {
  const rows = STIMULUS_CLASSES.map(
    (c, i) => `| ${i} | ${c.label} | ${c.preferred} | ${pct(rec.heldoutPerClassAccuracy[c.label])} |`,
  ).join('\n')
  return `# DeepVis shapes (embedded default model)

A small CNN (${rec.parameters.toLocaleString('en-US')} parameters, ${(modelBytes / 1024).toFixed(0)} KB) trained on procedurally
generated 64x64 RGB images whose classes each have a **known preferred stimulus**. It is the model
DeepVis Studio opens by default, and a correctness oracle for the optimizer: activation maximization of
\`logits\` unit 0 (grating vertical) must produce vertical bars, unit 7 (red blob) something red, etc.

Files: \`model.json\` + \`weights.bin\` (TensorFlow.js LayersModel), \`deepvis.json\` (input spec:
network input = pixel * ${INPUT_SCALE} + (${INPUT_OFFSET}), pixel RGB 0..255), \`labels.txt\` (line i+1 = class i),
\`training.json\` (full training record).

## Classes

Orientation convention: degrees counter-clockwise from horizontal as seen on screen, describing the bars
(90 = vertical bars, luminance varies along x; 0 = horizontal bars).

| index | label | preferred stimulus | held-out accuracy |
|---|---|---|---|
${rows}

Each training image randomizes phase, spatial frequency (period 6..14 px), contrast, mean brightness,
a slight colour tint, position and size (blobs, rings' centre, lattices' offset) and adds pixel noise,
so the network has to learn the defining feature rather than a template. Generator: \`src/engine/stimuli.ts\`.

## Architecture

Input 64x64x3 -> \`conv1\` Conv2D 3x3x${CONV1_FILTERS} same ReLU -> \`pool1\` MaxPool 2 -> \`conv2\` Conv2D 3x3x${CONV2_FILTERS} same ReLU
-> \`pool2\` MaxPool 2 -> \`conv3\` Conv2D 3x3x${CONV3_FILTERS} same ReLU -> \`pool3\` GlobalAveragePooling2D
-> \`logits\` Dense ${NUM_STIMULUS_CLASSES} linear -> \`prob\` softmax.

After training, the \`logits\` kernel and bias are multiplied by ${rec.logitGain} (a softmax temperature of
1/${rec.logitGain}; argmax and accuracy unchanged). This small, smooth network's pixel gradients are otherwise
~200x smaller than GoogLeNet's, and DVT's published step sizes (lr 100 in pixel units) would barely move
the image; with the gain they behave as on the ImageNet networks the Yosinski et al. presets were tuned
for. \`prob\` is correspondingly over-confident.

## How it was made

\`\`\`
${rec.command}
\`\`\`

TensorFlow.js ${rec.tfjsVersion}, pure-JS \`${rec.backend}\` backend (single-threaded), seed ${rec.seed}: ${rec.trainImages} training images,
${rec.epochs} epochs, batch ${rec.batchSize}, ${rec.optimizer} (lr ${rec.learningRate}, ${rec.learningRateSchedule}), categorical
cross-entropy on \`prob\`; training took ${rec.trainingSeconds.toFixed(0)} s (${rec.totalSeconds.toFixed(0)} s in all, Node ${rec.node}).
Reproducible: datasets and shuffles come from the seeded MT19937 \`Rng\`, initializers are seeded, and the
cpu backend is deterministic, so the same command rebuilds the same \`weights.bin\`.
The script swaps in faster (mathematically equivalent, checked against tfjs at start-up) gradients for
Conv2D and MaxPool: tfjs's cpu Conv2DBackpropFilter alone costs about 2 s per image for this network.

**Held-out accuracy: ${pct(rec.heldoutAccuracy)}** on ${rec.heldoutImages} images from a separate seed stream.

## Licence

MIT, same as DeepVis Studio.
`
}

async function main(): Promise<void> {
  const opt = parseOptions()
  await tf.setBackend('cpu')
  await tf.ready()
  installCheckedFastGradients()
  const t0 = performance.now()
  console.log(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, seed ${opt.seed}`)

  const train = makeDataset(new Rng(opt.seed), opt.trainPerClass)
  const heldout = makeDataset(new Rng(opt.seed + HELDOUT_SEED_OFFSET), opt.testPerClass)
  const tData = performance.now()
  console.log(`datasets: ${train.count} train, ${heldout.count} held-out (${((tData - t0) / 1000).toFixed(1)} s)`)

  const model = buildModel(opt.seed)
  const optimizer = tf.train.adam(opt.lr)
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] })
  const parameters = model.countParams()
  console.log(`model: ${parameters} parameters`)

  const shuffleRng = new Rng(opt.seed + SHUFFLE_SEED_OFFSET)
  let finalLoss = Number.NaN
  for (let epoch = 0; epoch < opt.epochs; epoch++) {
    const decayed = epoch >= opt.epochs - LR_DECAY_EPOCHS && opt.epochs > LR_DECAY_EPOCHS
    // Adam's learning rate is a plain field; the schedule is a step decay for the last epochs.
    ;(optimizer as unknown as { learningRate: number }).learningRate = decayed ? opt.lr * DEFAULTS.lrDecay : opt.lr
    const order = permutation(train.count, shuffleRng)
    const te = performance.now()
    let lossSum = 0
    let accSum = 0
    let batches = 0
    for (let start = 0; start < train.count; start += opt.batch) {
      const idx = order.subarray(start, Math.min(start + opt.batch, train.count))
      const { x, y } = tf.tidy(() => ({
        x: inputBatch(train, idx),
        y: tf.oneHot(tf.tensor1d(Array.from(idx, (i) => train.labels[i]), 'int32'), NUM_STIMULUS_CLASSES),
      }))
      const out = await model.trainOnBatch(x, y)
      tf.dispose([x, y])
      const [loss, acc] = out as number[]
      lossSum += loss
      accSum += acc
      batches++
    }
    finalLoss = lossSum / batches
    const sec = (performance.now() - te) / 1000
    console.log(
      `epoch ${epoch + 1}/${opt.epochs}: loss ${finalLoss.toFixed(4)}, train acc ${pct(accSum / batches)}, ${sec.toFixed(1)} s` +
        ` (${((1000 * sec) / train.count).toFixed(1)} ms/image), tensors ${tf.memory().numTensors}`,
    )
  }
  const tTrain = performance.now()

  const ev = await evaluate(model, heldout)
  const tEval = performance.now()
  console.log(`held-out accuracy: ${pct(ev.accuracy)} (${heldout.count} images)`)
  STIMULUS_CLASSES.forEach((c, i) => console.log(`  ${String(i).padStart(2)} ${c.label.padEnd(20)} ${pct(ev.perClass[i])}`))
  console.log('confusion (rows = true, cols = predicted):')
  ev.confusion.forEach((row) => console.log('  ' + row.map((v) => String(v).padStart(4)).join('')))

  const record: TrainingRecord = {
    seed: opt.seed,
    command: `npm run train-default-model -- --seed ${opt.seed} --train-per-class ${opt.trainPerClass} --test-per-class ${opt.testPerClass} --epochs ${opt.epochs} --batch ${opt.batch} --lr ${opt.lr}`,
    imageSize: [IMAGE_SIZE, IMAGE_SIZE],
    classes: STIMULUS_CLASSES.map((c) => c.label),
    trainImages: train.count,
    heldoutImages: heldout.count,
    epochs: opt.epochs,
    batchSize: opt.batch,
    optimizer: 'adam',
    learningRate: opt.lr,
    learningRateSchedule: `x${DEFAULTS.lrDecay} for the last ${LR_DECAY_EPOCHS} epoch(s)`,
    seedStreams: {
      train: `Rng(seed)`,
      heldout: `Rng(seed + ${HELDOUT_SEED_OFFSET})`,
      shuffle: `Rng(seed + ${SHUFFLE_SEED_OFFSET})`,
      initializers: `seed * ${INIT_SEED_STRIDE} + layer number (1..4)`,
    },
    logitGain: LOGIT_GAIN,
    finalTrainLoss: finalLoss,
    heldoutAccuracy: ev.accuracy,
    heldoutPerClassAccuracy: Object.fromEntries(STIMULUS_CLASSES.map((c, i) => [c.label, ev.perClass[i]])),
    heldoutConfusion: ev.confusion,
    parameters,
    datasetSeconds: (tData - t0) / 1000,
    trainingSeconds: (tTrain - tData) / 1000,
    evaluationSeconds: (tEval - tTrain) / 1000,
    totalSeconds: (tEval - t0) / 1000,
    tfjsVersion: tf.version.tfjs,
    backend: tf.getBackend(),
    node: process.version,
  }

  const logits = model.getLayer('logits')
  const scaled = logits.getWeights().map((w) => tf.mul(w, LOGIT_GAIN))
  logits.setWeights(scaled)
  tf.dispose(scaled)

  if (opt.dryRun) {
    console.log('dry run: nothing written')
  } else {
    await mkdir(opt.outDir, { recursive: true })
    const modelBytes = await saveModel(model, opt.outDir)
    if (modelBytes > SIZE_BUDGET_BYTES) throw new Error(`model is ${modelBytes} bytes, over the ${SIZE_BUDGET_BYTES}-byte budget`)
    await writeFile(join(opt.outDir, 'deepvis.json'), specJson(inputSpec()))
    await writeFile(join(opt.outDir, 'labels.txt'), STIMULUS_CLASSES.map((c) => c.label).join('\n') + '\n')
    await writeFile(join(opt.outDir, 'training.json'), JSON.stringify(record, null, 2) + '\n')
    await writeFile(join(opt.outDir, 'README.md'), readme(record, modelBytes))
    const wb = (await stat(join(opt.outDir, 'weights.bin'))).size
    console.log(`wrote ${opt.outDir} (model.json + weights.bin = ${modelBytes} bytes, weights ${wb} bytes)`)
  }
  model.dispose()
  optimizer.dispose()
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s, tensors left ${tf.memory().numTensors}`)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
