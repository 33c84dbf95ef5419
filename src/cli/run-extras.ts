/**
 * Extras of a CLI run that apply to every method (DVT and the general ones): an animated GIF of the
 * optimization, recorded through the loops' onIteration hook, and the quality readouts of a result
 * (the target's activation and rank in its layer, the spectrum slope of the best image, and optionally a
 * second model's held-out score for the target class), stored in info.json under `quality`.
 * Also dnnbrain's progress outputs for every general method: the loss printed and the image saved every N iterations.
 * Shape: `new GifFrames(every, spec)` → `.onIteration(event)`, `await .encode(imageIndex)`;
 *   `new IterationLog({printEvery, saveEvery, prefixes, spec, stdout})` → `await .onIteration(event)`;
 *   `await qualityOf(model, spec, result, {check?, seed}) => Quality`; `formatQuality(q) => string`.
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../engine/errors.ts'
import { specTensors } from '../engine/optimize.ts'
import { channelSwapToRgb, type InputSpec } from '../engine/model/input-spec.ts'
import type { VisModel } from '../engine/model/vis-model.ts'
import type { OptimizeResult } from '../engine/result.ts'
import { activationRank, heldOutScore, spectrumSlope } from '../engine/methods/quality.ts'
import { encodeGif } from '../engine/node/gif.ts'
import { renderX, renderXpm, writeFileAtomic } from '../engine/node/save-results.ts'
import sharp from 'sharp'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { LoadedModel } from '../engine/node/load-model.ts'

/** Number of seeded augmentations of the held-out score (the spec's §D metric 1). */
export const CHECK_AUGMENTATIONS = 8
/** Top-k of the held-out score. */
const CHECK_TOP_K = 5
/** Probabilities of a row must sum to 1 within this to be taken as a softmax output already. */
const PROB_SUM_TOLERANCE = 1e-3

/** One event of either loop (DVT's IterationEvent, or the general loop's with imageIndex). */
interface FrameEvent {
  ii: number
  imageIndex?: number
  image: () => Promise<Float32Array>
}

/** Frames of the optimization: the current image at ii = 0, N, 2N, ... (one per N iterations), per image of a batch. */
export class GifFrames {
  private readonly frames = new Map<number, Uint8Array[]>()

  /** @param every record a frame every `every` iterations (a positive integer). */
  constructor(readonly every: number, private readonly spec: InputSpec) {
    check(Number.isInteger(every) && every >= 1, () => `--gif-every must be a positive integer; got ${every}`)
  }

  /** Pass to the loop's onIteration (chain with other hooks). */
  async onIteration(e: FrameEvent): Promise<void> {
    if (e.ii % this.every !== 0) return
    const i = e.imageIndex ?? 0
    const list = this.frames.get(i) ?? []
    list.push(renderX(await e.image(), this.spec))
    this.frames.set(i, list)
  }

  /** Number of frames recorded for image `i`. */
  count(i = 0): number {
    return this.frames.get(i)?.length ?? 0
  }

  /** The GIF of image `i` (undefined when no frame was recorded). */
  async encode(i = 0): Promise<Uint8Array | undefined> {
    const list = this.frames.get(i)
    return list && list.length ? encodeGif(list, { width: this.spec.width, height: this.spec.height }) : undefined
  }
}

/** Options of {@link IterationLog}. */
export interface IterationLogOptions {
  /** Print the loss every this many iterations (ii % n == 0); undefined = never. */
  printEvery?: number
  /** Write `<prefix>iter_<ii>.png` (the image plus the mean) every this many iterations; undefined = never. */
  saveEvery?: number
  /** Output prefix of each image of the batch. */
  prefixes: string[]
  spec: InputSpec
  stdout: (text: string) => void
}

/** Width of the zero-padded iteration number in `iter_<ii>.png`. */
const ITER_DIGITS = 4

/**
 * dnnbrain's progress outputs (save_step / print of activ_loss and regular_loss), for every general method:
 * at ii % printEvery == 0 a line `ii <ii> [image <i>] activation <obj> penalty <p> loss <-obj + p>`, and at
 * ii % saveEvery == 0 the image as `<prefix>iter_<ii, 4 digits>.png`.
 */
export class IterationLog {
  /** Files written so far. */
  readonly written: string[] = []

  constructor(private readonly opts: IterationLogOptions) {
    for (const [flag, v] of [['--print-every', opts.printEvery], ['--save-every', opts.saveEvery]] as const) {
      check(v === undefined || (Number.isInteger(v) && v >= 1), () => `${flag} must be a positive integer; got ${v}`)
    }
  }

  /** Pass to the general loop's onIteration. */
  async onIteration(e: FrameEvent & { obj: number; penalty?: number }): Promise<void> {
    const { printEvery, saveEvery, prefixes, spec, stdout } = this.opts
    const i = e.imageIndex ?? 0
    if (printEvery !== undefined && e.ii % printEvery === 0) {
      const pen = e.penalty ?? 0
      const who = prefixes.length > 1 ? ` image ${i}` : ''
      stdout(`ii ${e.ii}${who}: activation ${fmt(e.obj)}, penalty ${fmt(pen)}, loss ${fmt(-e.obj + pen)}\n`)
    }
    if (saveEvery !== undefined && e.ii % saveEvery === 0) {
      const file = `${prefixes[i]}iter_${String(e.ii).padStart(ITER_DIGITS, '0')}.png`
      const rgb = renderXpm(await e.image(), spec)
      const png = await sharp(Buffer.from(rgb), { raw: { width: spec.width, height: spec.height, channels: 3 } }).png().toBuffer()
      await mkdir(path.dirname(file), { recursive: true })
      await writeFileAtomic(file, png)
      this.written.push(file)
    }
  }
}

export interface HeldOut {
  model: string
  probability: number
  rank: number
  in_top_k: boolean
  views: number
}

/** The `quality` object of info.json. */
export interface Quality {
  /** The target unit's activation on the best image (a channel objective without a position: the channel mean). */
  activation: number
  /** Its rank among the layer's units (1 = highest) at the same position (or among channel means). */
  rank: number
  /** Number of units compared. */
  of: number
  /** Log-log slope of the radial power spectrum of the best image (natural images ~ -2). */
  spectrum_slope: number | null
  /** A second model's score for the target class (only with --check-model). */
  held_out: HeldOut | null
}

/** Model-order pixels (x + mean) of a DVT-space image, [1, H, W, C]; call in tidy. */
function pixelsOf(x: Float32Array, spec: InputSpec): tf.Tensor4D {
  const st = specTensors(spec)
  const out = tf.add(tf.tensor4d(x, [1, spec.height, spec.width, spec.channels]), st.mean) as tf.Tensor4D
  tf.dispose([st.mean, st.scale, st.offset])
  return out
}

/** Network input of model-order pixels under `spec`; call in tidy. */
function netInputOf(pixels: tf.Tensor4D, spec: InputSpec): tf.Tensor4D {
  const st = specTensors(spec)
  return tf.add(tf.mul(pixels, st.scale), st.offset) as tf.Tensor4D
}

/**
 * Quality readouts of `result`'s best image (see Quality). `check`: a second model whose last layer
 * classifies the same classes (same unit count as the target layer, which must be that model's class layer).
 */
export async function qualityOf(
  model: VisModel, spec: InputSpec, result: OptimizeResult, opts: { check?: LoadedModel; seed?: number; flip?: boolean } = {},
): Promise<Quality> {
  const snap = result.best ?? result.last
  check(snap !== null, () => 'the result has no image to assess')
  const t = result.target
  const acts = tf.tidy(() => model.forward(netInputOf(pixelsOf(snap!.x, spec), spec), t.layer))
  const data = (await acts.data()) as Float32Array
  const shape = acts.shape.slice(1)
  acts.dispose()
  let r
  if (shape.length === 3 && t.spatial) {
    r = activationRank(data, t.channel, shape as [number, number, number], { y: t.spatial[0], x: t.spatial[1] })
  } else if (shape.length === 3) {
    const [h, w, c] = shape
    const means = new Float64Array(c)
    for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) means[k] += data[p * c + k] / (h * w)
    r = activationRank(means, t.channel)
  } else {
    r = activationRank(data, t.channel)
  }
  const slope = spectrumSlope({ data: renderXpm(snap!.x, spec), width: spec.width, height: spec.height, channels: 3 })
  let heldOut: HeldOut | null = null
  if (opts.check) heldOut = await heldOutOf(opts.check, spec, snap!.x, t.channel, t.layerShape, opts.seed ?? 0, opts.flip ?? false)
  return { activation: r.value, rank: r.rank, of: r.of, spectrum_slope: Number.isFinite(slope) ? slope : null, held_out: heldOut }
}

/** The check model's held-out score of the image for `target` (its last layer must have as many units as the target layer). */
async function heldOutOf(other: LoadedModel, spec: InputSpec, x: Float32Array, target: number, targetShape: number[], seed: number, flip: boolean): Promise<HeldOut> {
  const names = other.model.layerNames
  const last = names[names.length - 1]
  const os = other.inputSpec
  const info = await other.model.layerInfo(last, [os.height, os.width])
  const classes = info.shape[info.shape.length - 1]
  const targetUnits = targetShape[targetShape.length - 1]
  check(info.shape.length === 1 && classes === targetUnits,
    () => `--check-model: its last layer '${last}' has ${info.shape.length === 1 ? classes : `shape [${info.shape.join(', ')}]`} units; the target layer has ${targetUnits}: the models must classify the same classes`)
  // The image as RGB 0..255 [1, H, W, 3]
  const rgb = tf.tidy(() => tf.gather(pixelsOf(x, spec), channelSwapToRgb(spec.channelOrder), 3) as tf.Tensor4D)
  try {
    const s = await heldOutScore(rgb, target, (batch) => tf.tidy(() => {
      const sized = batch.shape[1] === os.height && batch.shape[2] === os.width ? batch : tf.image.resizeBilinear(batch, [os.height, os.width])
      const inOrder = tf.gather(sized, channelSwapToRgb(os.channelOrder), 3) as tf.Tensor4D
      const out = other.model.forward(netInputOf(inOrder, os), last) as tf.Tensor2D
      // softmax unless the layer already gives probabilities
      const sums = tf.sum(out, 1)
      const isProb = tf.all(tf.greaterEqual(out, 0)).dataSync()[0] === 1 && tf.max(tf.abs(tf.sub(sums, 1))).dataSync()[0] < PROB_SUM_TOLERANCE
      return isProb ? out : tf.softmax(out)
    }), { augmentations: CHECK_AUGMENTATIONS, seed, topK: CHECK_TOP_K, flip })
    return { model: other.modelJsonPath, probability: s.probability, rank: s.rank, in_top_k: s.inTopK, views: s.views }
  } finally {
    rgb.dispose()
  }
}

const fmt = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(3))

/** One line for the CLI. */
export function formatQuality(q: Quality): string {
  const slope = q.spectrum_slope === null ? 'n/a' : q.spectrum_slope.toFixed(2)
  const held = q.held_out ? `; check model: p ${fmt(q.held_out.probability)}, rank ${q.held_out.rank} (${q.held_out.views} views)` : ''
  return `quality: activation ${fmt(q.activation)}, rank ${q.rank}/${q.of} in its layer, spectrum slope ${slope}${held}`
}
