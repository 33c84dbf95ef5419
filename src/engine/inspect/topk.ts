/**
 * Per-unit top-k over a stream of images (the dataset half of DVT's unit view and of Microscope):
 * each image gives every unit of a layer one score, its strongest response (a conv unit: the maximum
 * of its map, with where it is; a dense unit: its value), and each unit keeps the k highest.
 * Ties keep the earlier image, so the result depends only on the images' order, not on batching or on
 * where a run was interrupted and resumed. Plain data in and out (toJSON / fromJSON for checkpoints).
 * Shape: `const t = new TopK(units, k); t.add(image, scores, positions); t.entries(unit)`;
 *        `await unitScores(model, spec, images, layer) => BatchScores` (the tf part, per batch).
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'
import type { InputSpec } from '../model/input-spec.ts'
import type { VisModel } from '../model/vis-model.ts'
import { checkGridShape } from './activations.ts'
import { networkFromPixels, pixelTensor, type RgbImage } from './network-input.ts'

export interface TopKEntry {
  /** Index of the image in the index's image list. */
  image: number
  score: number
  /** Position of the maximum in the unit's map (0, 0 for a dense unit). */
  y: number
  x: number
}

/** Serialized TopK: per unit, its entries best first, as [image, score, y, x] tuples. */
export interface TopKJson {
  k: number
  units: [number, number, number, number][][]
}

export class TopK {
  readonly k: number
  private readonly lists: TopKEntry[][]

  constructor(units: number, k: number) {
    if (!Number.isInteger(k) || k < 1) throw new DeepVisError('BAD_PARAM', `k must be a positive integer; got ${k}`)
    this.k = k
    this.lists = Array.from({ length: units }, () => [])
  }

  get units(): number {
    return this.lists.length
  }

  /** Offer one image's scores (one per unit) and arg-max positions ([y, x] per unit, may be omitted for dense). */
  add(image: number, scores: ArrayLike<number>, positions?: ArrayLike<number>): void {
    if (scores.length !== this.lists.length) throw new DeepVisError('INTERNAL', `expected ${this.lists.length} scores, got ${scores.length}`)
    for (let u = 0; u < this.lists.length; u++) {
      const score = scores[u]
      if (!Number.isFinite(score)) continue
      const list = this.lists[u]
      if (list.length === this.k && !(score > list[list.length - 1].score)) continue
      // After every entry with a score >= this one: ties keep the earlier image first.
      let at = list.length
      while (at > 0 && list[at - 1].score < score) at--
      list.splice(at, 0, { image, score, y: positions ? positions[2 * u] : 0, x: positions ? positions[2 * u + 1] : 0 })
      if (list.length > this.k) list.pop()
    }
  }

  /** Unit `u`'s entries, best first. */
  entries(u: number): TopKEntry[] {
    const list = this.lists[u]
    if (!list) throw new DeepVisError('BAD_UNIT', `unit ${u} is out of range (0..${this.lists.length - 1})`)
    return list.map((e) => ({ ...e }))
  }

  toJSON(): TopKJson {
    return { k: this.k, units: this.lists.map((l) => l.map((e) => [e.image, e.score, e.y, e.x])) }
  }

  static fromJSON(json: TopKJson): TopK {
    const t = new TopK(json.units.length, json.k)
    json.units.forEach((l, u) => { t.lists[u] = l.map(([image, score, y, x]) => ({ image, score, y, x })) })
    return t
  }
}

/** One batch's scores of every unit of a layer: B x C scores and B x C x 2 positions [y, x]. */
export interface BatchScores {
  layer: string
  /** Output shape without the batch. */
  shape: number[]
  scores: Float32Array
  positions: Int32Array
}

/** The scores of every unit of each of `layers` for a batch of RGB images at the model's input size. */
export async function unitScores(model: VisModel, spec: InputSpec, images: readonly RgbImage[], layers: readonly string[]): Promise<BatchScores[]> {
  const shapes: number[][] = []
  // One pass for all layers where the model can (shared ancestors computed once).
  const reduced = tf.tidy(() => {
    const x = networkFromPixels(pixelTensor(images, spec), spec)
    const outs = model.forwardMany ? model.forwardMany(x, layers) : layers.map((l) => model.forward(x, l))
    return outs.map((a, i) => {
      const shape = a.shape.slice(1)
      checkGridShape(layers[i], shape)
      shapes.push(shape)
      if (shape.length === 1) return [a.clone(), tf.zeros([images.length, shape[0]], 'int32')]
      const flat = tf.reshape(a, [images.length, shape[0] * shape[1], shape[2]])
      return [tf.max(flat, 1), tf.argMax(flat, 1)]
    })
  }) as [tf.Tensor, tf.Tensor][]
  try {
    const out: BatchScores[] = []
    for (const [i, [max, arg]] of reduced.entries()) {
      const shape = shapes[i]
      const scores = Float32Array.from(await max.data())
      const positions = new Int32Array(scores.length * 2)
      if (shape.length === 3) {
        const at = await arg.data()
        const w = shape[1]
        for (let j = 0; j < at.length; j++) { positions[2 * j] = Math.floor(at[j] / w); positions[2 * j + 1] = at[j] % w }
      }
      out.push({ layer: layers[i], shape: [...shape], scores, positions })
    }
    return out
  } finally {
    tf.dispose(reduced.flat())
  }
}
