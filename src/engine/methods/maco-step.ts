/**
 * One optimization step of the crop-based methods (maco, accentuation): for each image of the batch draw K
 * crop boxes (maco.ts drawCrops; all images' draws first, then the noise seed, in that order from the
 * run's MT19937), crop-and-resize the canvas to the model's input, add noise, and take one NAdam step on
 * loss = -Σ_i mean_k obj_i(crop_ik) + Σ_i reg_i(canvas_i). With crops = 0 the whole canvas is resized to the
 * input instead (xplique's nb_crops == 0). The canvas passes through the transparency tap (alpha-map.ts).
 * Shape: `cropStep(ctx, ii) => CropBox[][]` (the boxes drawn, for the record); every tensor is freed in the step.
 */
import * as tf from '@tensorflow/tfjs'
import type { Rng } from '../rng.ts'
import type { AlphaAccumulator } from './alpha-map.ts'
import { NAdam } from './nadam.ts'
import { addCropNoise, boxSizeAt, cropAndResize, drawCrops, drawNoiseSeed, macoParam, resizeAA, type CropBox, type Spectrum } from './maco.ts'

export interface CropStepContext {
  /** The canvas parameterization: its variables and the RGB canvas [N, CH, CW, 3] in [0, 1]. */
  canvas: { variables: tf.Variable[]; render(): tf.Tensor4D }
  optimizer: NAdam
  rng: Rng
  alpha: AlphaAccumulator | null
  batch: number
  /** The model's input size [H, W]. */
  inputSize: [number, number]
  /** Objective values [K] of image i's objective on a batch of crops in RGB [0, 1]. */
  objectiveOfCrops: (i: number, crops: tf.Tensor4D) => tf.Tensor1D
  /** Penalty added to the loss, from the canvas [N, CH, CW, 3] (accentuation's pull towards its seed). */
  regularizer?: (canvas: tf.Tensor4D) => tf.Scalar
  crops: number
  boxStart: number
  boxEnd: number
  boxSd: number
  centreSd: number
  noise: number
  maxIter: number
}

export function cropStep(ctx: CropStepContext, ii: number): CropBox[][] {
  const box = boxSizeAt(ctx.boxStart, ctx.boxEnd, ii, ctx.maxIter)
  const boxes = Array.from({ length: ctx.batch }, () => drawCrops(ctx.rng, ctx.crops, box, ctx.boxSd, ctx.centreSd))
  const seed = drawNoiseSeed(ctx.rng)
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      let canvas = ctx.canvas.render()
      if (ctx.alpha) canvas = ctx.alpha.tap(canvas)
      const [n, ch, cw, c] = canvas.shape
      const terms: tf.Tensor[] = []
      for (let i = 0; i < n; i++) {
        const one = canvas.slice([i, 0, 0, 0], [1, ch, cw, c])
        const seen = ctx.crops > 0 ? cropAndResize(one, boxes[i], ctx.inputSize) : resizeAA(one, ctx.inputSize[0], ctx.inputSize[1])
        terms.push(tf.mean(ctx.objectiveOfCrops(i, addCropNoise(seen, ctx.noise, seed + 2 * i))))
      }
      let loss = tf.neg(tf.addN(terms)) as tf.Scalar
      if (ctx.regularizer) loss = tf.add(loss, ctx.regularizer(canvas)) as tf.Scalar
      return loss
    }, ctx.canvas.variables)
    value.dispose()
    ctx.optimizer.step(ctx.canvas.variables, ctx.canvas.variables.map((v) => grads[v.name]))
  })
  return boxes
}

/** A crop method's canvas, seen at the model's input size for recording, and its step. */
export interface CropMethod {
  /** The canvas resized to the input (what is recorded and saved), the trained variables; dispose() frees the canvas and the optimizer. */
  param: { variables: tf.Variable[]; render(): tf.Tensor4D; dispose(): void }
  step(ii: number): void
}

/** Build maco's canvas (macoParam on a canvas of canvas_scale x the input) and its step. */
export function createMaco(
  p: { lr: number; max_iter: number; crops: number; box_start: number; box_end: number; box_sd: number; centre_sd: number; noise: number; canvas_scale: number },
  n: number, inputSize: [number, number], spectrum: Spectrum, rng: Rng, alpha: AlphaAccumulator | null,
  objectiveOfCrops: (i: number, crops: tf.Tensor4D) => tf.Tensor1D,
): CropMethod {
  const [h, w] = inputSize
  const canvas = macoParam({ batch: n, height: Math.round(h * p.canvas_scale), width: Math.round(w * p.canvas_scale), spectrum }, rng)
  const optimizer = new NAdam(p.lr)
  const ctx: CropStepContext = {
    canvas, optimizer, rng, alpha, batch: n, inputSize, objectiveOfCrops, crops: p.crops, boxStart: p.box_start, boxEnd: p.box_end,
    boxSd: p.box_sd, centreSd: p.centre_sd, noise: p.noise, maxIter: p.max_iter,
  }
  return {
    param: { variables: canvas.variables, render: () => resizeAA(canvas.render(), h, w), dispose: () => { optimizer.dispose(); canvas.dispose() } },
    step: (ii) => { cropStep(ctx, ii) },
  }
}
