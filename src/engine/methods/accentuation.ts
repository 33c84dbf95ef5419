/**
 * Feature accentuation (Hamblin et al. 2024; facts from serre-lab/Horama feature_accentuation.py): the canvas is
 * a Fourier spectrum initialized from a real image, optimized with the crop step of maco-step.ts plus a pull
 * towards the image, image_weight x mean((canvas - seed)²): "what in this image would make the unit fire more".
 *
 * Parameterization (per image, ch x cw): variable = [2 (re, im), N, 3, ch, cw/2+1]; render:
 *   x = irfft2(spectrum) (numpy normalization, image-param.ts idftMatrices); rgb = sigmoid(x @ C^T).
 * Start: the seed image s (RGB [0, 1], resized to the canvas) is inverted exactly: z = logit(clamp(s, ε, 1-ε)),
 * x0 = z @ (C^T)^-1, spectrum = rfft2(x0) (unnormalized DFT, computed here in float64), so that render() at step
 * 0 IS the seed (up to the clamp at ε = 1e-3 and float32). Horama instead min-max normalizes the seed first and
 * takes logit((s + ε) / (1 - s + ε)), which changes its colours slightly; we keep the image as given.
 * The gradient of the spectrum is scaled by Horama's 1/max(f, 1/max(h, w))^decay · sqrt(h w) in the backward pass
 * (identity forward). With NAdam that scaling is nearly a no-op (Adam is invariant to a constant per-coordinate
 * gradient scale, up to ε): kept for fidelity, stated here.
 * Shape: `accentuationParam({batch, height, width, seed, decay}) => AccentParam`; `createAccentuation(...) => CropMethod`.
 */
import * as tf from '@tensorflow/tfjs'
import { check } from '../../shared/errors.ts'
import type { Rng } from '../rng.ts'
import type { AlphaAccumulator } from './alpha-map.ts'
import { colorCorrelationNormalized, idftMatrices, rfft2dFreqs } from './image-param.ts'
import { resizeAA } from './maco.ts'
import { cropStep, type CropMethod, type CropStepContext } from './maco-step.ts'
import { NAdam } from './nadam.ts'

/** Clamp of the seed before the logit (Horama's ε). */
export const LOGIT_EPS = 1e-3
const RGB = 3

/** An RGB image in [0, 1], HWC row-major. */
export interface RgbImage {
  data: Float32Array
  height: number
  width: number
}

/** Inverse of a 3x3 row-major matrix. */
function inverse3(a: number[][]): number[][] {
  const [[a0, a1, a2], [b0, b1, b2], [c0, c1, c2]] = a
  const det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0)
  return [
    [(b1 * c2 - b2 * c1) / det, (a2 * c1 - a1 * c2) / det, (a1 * b2 - a2 * b1) / det],
    [(b2 * c0 - b0 * c2) / det, (a0 * c2 - a2 * c0) / det, (a2 * b0 - a0 * b2) / det],
    [(b0 * c1 - b1 * c0) / det, (a1 * c0 - a0 * c1) / det, (a0 * b1 - a1 * b0) / det],
  ]
}

/** Half spectrum (re, im) [h, w/2+1] of a real h x w channel: unnormalized DFT, separable, float64. */
export function rfft2(x: Float64Array, h: number, w: number): { re: Float64Array; im: Float64Array } {
  const wf = Math.floor(w / 2) + 1
  const ar = new Float64Array(h * wf)
  const ai = new Float64Array(h * wf)
  for (let y = 0; y < h; y++) {
    for (let v = 0; v < wf; v++) {
      let sr = 0
      let si = 0
      for (let xx = 0; xx < w; xx++) {
        const t = x[y * w + xx]
        const a = (2 * Math.PI * ((v * xx) % w)) / w
        sr += t * Math.cos(a)
        si -= t * Math.sin(a)
      }
      ar[y * wf + v] = sr
      ai[y * wf + v] = si
    }
  }
  const re = new Float64Array(h * wf)
  const im = new Float64Array(h * wf)
  for (let u = 0; u < h; u++) {
    for (let y = 0; y < h; y++) {
      const a = (2 * Math.PI * ((u * y) % h)) / h
      const c = Math.cos(a)
      const s = Math.sin(a)
      for (let v = 0; v < wf; v++) {
        const r = ar[y * wf + v]
        const i = ai[y * wf + v]
        re[u * wf + v] += r * c + i * s
        im[u * wf + v] += i * c - r * s
      }
    }
  }
  return { re, im }
}

export interface AccentParam {
  readonly variables: tf.Variable[]
  /** The RGB canvas [N, H, W, 3] in [0, 1]. Call inside tf.tidy. */
  render(): tf.Tensor4D
  /** The canvas at step 0 (the seed as the parameterization renders it), [N, H, W, 3]; owned here. */
  readonly seed: tf.Tensor4D
  dispose(): void
}

/** Build the parameterization from `seed` (resized, antialiased, to height x width; the same seed for every image). */
export function accentuationParam(opts: { batch: number; height: number; width: number; seed: RgbImage; decay: number }): AccentParam {
  const { batch: n, height: h, width: w, seed } = opts
  check(seed.data.length === seed.height * seed.width * RGB, () => `the seed image has ${seed.data.length} values for ${seed.height}x${seed.width}x3`)
  check(seed.data.every((v) => Number.isFinite(v) && v >= 0 && v <= 1), () => 'the seed image must hold RGB values in [0, 1]')
  const wf = Math.floor(w / 2) + 1
  const resized = tf.tidy(() => resizeAA(tf.tensor4d(seed.data, [1, seed.height, seed.width, RGB]), h, w).dataSync() as Float32Array)
  const c = colorCorrelationNormalized()
  const inv = inverse3([0, 1, 2].map((i) => [0, 1, 2].map((j) => c[j][i])))
  const chans = [0, 1, 2].map(() => new Float64Array(h * w))
  for (let p = 0; p < h * w; p++) {
    const z = [0, 1, 2].map((k) => {
      const s = Math.min(1 - LOGIT_EPS, Math.max(LOGIT_EPS, resized[p * RGB + k]))
      return Math.log(s / (1 - s))
    })
    for (let k = 0; k < RGB; k++) chans[k][p] = z[0] * inv[0][k] + z[1] * inv[1][k] + z[2] * inv[2][k]
  }
  const init = new Float32Array(2 * n * RGB * h * wf)
  chans.forEach((ch, k) => {
    const { re, im } = rfft2(ch, h, w)
    for (let i = 0; i < n; i++) {
      init.set(re, ((0 * n + i) * RGB + k) * h * wf)
      init.set(im, ((1 * n + i) * RGB + k) * h * wf)
    }
  })
  const variable = tf.tidy(() => tf.variable(tf.tensor(init, [2, n, RGB, h, wf])))
  const freqs = rfft2dFreqs(h, w)
  const floor = 1 / Math.max(h, w)
  const scale = tf.tensor(Float32Array.from(freqs, (f) => Math.sqrt(h * w) / Math.max(f, floor) ** opts.decay), [1, 1, 1, h, wf])
  const m = idftMatrices(h, w)
  const colour = tf.tidy(() => tf.tensor2d(c).transpose() as tf.Tensor2D)
  const scaleGrad = tf.customGrad(((x: tf.Tensor) => {
    return { value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.mul(dy, scale) }
  }) as unknown as Parameters<typeof tf.customGrad>[0])
  const render = (): tf.Tensor4D => {
    const spec = scaleGrad(variable) as tf.Tensor
    const re = spec.slice([0, 0, 0, 0, 0], [1, n, RGB, h, wf]).reshape([n * RGB, h, wf]) as tf.Tensor3D
    const im = spec.slice([1, 0, 0, 0, 0], [1, n, RGB, h, wf]).reshape([n * RGB, h, wf]) as tf.Tensor3D
    const cyB = m.cy.expandDims(0).tile([n * RGB, 1, 1]) as tf.Tensor3D
    const syB = m.sy.expandDims(0).tile([n * RGB, 1, 1]) as tf.Tensor3D
    const zr = tf.sub(tf.matMul(cyB, re), tf.matMul(syB, im))
    const zi = tf.add(tf.matMul(syB, re), tf.matMul(cyB, im))
    const img = tf.sub(tf.matMul(zr.reshape([-1, wf]), m.cx), tf.matMul(zi.reshape([-1, wf]), m.sx))
    const x = img.reshape([n, RGB, h, w]).transpose([0, 2, 3, 1])
    return tf.sigmoid(tf.matMul(x.reshape([-1, RGB]), colour).reshape([n, h, w, RGB])) as tf.Tensor4D
  }
  const seedCanvas = tf.tidy(render)
  return {
    variables: [variable],
    render,
    seed: seedCanvas,
    dispose: () => tf.dispose([variable, scale, m.cy, m.sy, m.cx, m.sx, colour, seedCanvas]),
  }
}

/** Build accentuation's canvas and its step (the crop step plus image_weight x mean((canvas - seed)²) per image). */
export function createAccentuation(
  p: { lr: number; max_iter: number; crops: number; box_start: number; box_end: number; box_sd: number; centre_sd: number; noise: number; canvas_scale: number; fft_decay: number; image_weight: number },
  n: number, inputSize: [number, number], seed: RgbImage, rng: Rng, alpha: AlphaAccumulator | null,
  objectiveOfCrops: (i: number, crops: tf.Tensor4D) => tf.Tensor1D,
): CropMethod {
  const [h, w] = inputSize
  const canvas = accentuationParam({ batch: n, height: Math.round(h * p.canvas_scale), width: Math.round(w * p.canvas_scale), seed, decay: p.fft_decay })
  const optimizer = new NAdam(p.lr)
  const ctx: CropStepContext = {
    canvas, optimizer, rng, alpha, batch: n, inputSize, objectiveOfCrops, crops: p.crops, boxStart: p.box_start, boxEnd: p.box_end,
    boxSd: p.box_sd, centreSd: p.centre_sd, noise: p.noise, maxIter: p.max_iter,
    regularizer: p.image_weight > 0 ? (img) => tf.mul(tf.mul(tf.mean(tf.square(tf.sub(img, canvas.seed))), n), p.image_weight) as tf.Scalar : undefined,
  }
  return {
    param: { variables: canvas.variables, render: () => resizeAA(canvas.render(), h, w), dispose: () => { optimizer.dispose(); canvas.dispose() } },
    step: (ii) => { cropStep(ctx, ii) },
  }
}
