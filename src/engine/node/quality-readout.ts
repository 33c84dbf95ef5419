/**
 * Quality readouts of a result (the issue's "quality readouts for every result"), shared by the CLI
 * and the app: the target's activation on the best image and its rank in its layer, the spectrum
 * slope of the best image, and optionally a second model's held-out score for the target class
 * (seeded augmentations, flips optional). Written to info.json as `quality`.
 * Shape: `await qualityOf(model, spec, result, {check?, seed?, flip?}) => Quality`
 */
import { INPUT_LAYER } from '../methods/objectives.ts'
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'
import { activationRank, heldOutScore, spectrumSlope } from '../methods/quality.ts'
import { channelSwapToRgb, type InputSpec } from '../model/input-spec.ts'
import type { VisModel } from '../model/vis-model.ts'
import { specTensors } from '../optimize.ts'
import type { OptimizeResult } from '../result.ts'
import type { LoadedModel } from './load-model.ts'
import { renderXpm } from './save-results.ts'

/** Number of seeded augmentations of the held-out score (the spec's §D metric 1). */
export const CHECK_AUGMENTATIONS = 8
/** Top-k of the held-out score. */
const CHECK_TOP_K = 5
/** Probabilities of a row must sum to 1 within this to be taken as a softmax output already. */
const PROB_SUM_TOLERANCE = 1e-3

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
  const acts = tf.tidy(() => {
    const input = netInputOf(pixelsOf(snap!.x, spec), spec)
    return t.layer === INPUT_LAYER ? input : model.forward(input, t.layer)
  })
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
