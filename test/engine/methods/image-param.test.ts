/**
 * Image parameterizations (lucid's test_param_can_fit_image): each can fit a given image under Adam, the
 * FFT basis is an exact inverse real DFT (a pure-frequency spectrum renders as a cosine), the frequencies
 * are numpy's fftfreq, and the colour matrix is normalized as lucid's.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { Rng } from '../../../src/engine/rng.ts'
import { drawGrating } from '../../../src/engine/stimuli.ts'
import { colorCorrelationNormalized, imageParam, rfft2dFreqs, FFT_OUTPUT_DIVISOR } from '../../../src/engine/methods/image-param.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

const SIZE = 32
const FIT_STEPS = 250
const FIT_LR = 0.05
/** Lucid's test asserts a mean error below 0.01 on a photo; on our smooth grating we ask the same order. */
const MAX_MEAN_ABS_ERROR = 0.02

beforeAll(async () => { await useBackend('wasm') })
let before = 0
afterEach(() => { expect(tf.memory().numTensors).toBe(before) })

/** A colourful target in (0, 1): a grating in grey plus a colour gradient, HWC. */
function target(): Float32Array {
  const g = drawGrating(SIZE, 30, 8, 0.6, 80, 128)
  const out = new Float32Array(g.length)
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = (y * SIZE + x) * 3
      out[i] = 0.15 + 0.7 * (g[i] / 255) * (x / SIZE)
      out[i + 1] = 0.15 + 0.7 * (g[i + 1] / 255) * (1 - y / SIZE)
      out[i + 2] = 0.2 + 0.6 * (g[i + 2] / 255)
    }
  }
  return out
}

describe('image parameterizations', () => {
  it.each([
    ['fft', true], ['fft', false], ['pixel', true], ['pixel', false],
  ] as const)('%s (decorrelate %s) can fit a given image: mean |error| < 0.02', async (kind, decorrelate) => {
    before = tf.memory().numTensors
    const param = imageParam({ kind, batch: 1, height: SIZE, width: SIZE, sd: 0.01, decay: 1, decorrelate }, new Rng(0))
    const goal = tf.tensor4d(target(), [1, SIZE, SIZE, 3])
    const opt = tf.train.adam(FIT_LR)
    const err = (): number => tf.tidy(() => tf.mean(tf.abs(tf.sub(param.render(), goal))).dataSync()[0])
    const start = err()
    for (let i = 0; i < FIT_STEPS; i++) opt.minimize(() => tf.mean(tf.square(tf.sub(param.render(), goal))) as tf.Scalar, false, param.variables)
    const end = err()
    opt.dispose(); goal.dispose(); param.dispose()
    expect(start).toBeGreaterThan(0.1)
    expect(end).toBeLessThan(MAX_MEAN_ABS_ERROR)
  })

  it('the FFT basis is the inverse real DFT: one frequency renders as a cosine with the 1/f scale', () => {
    before = tf.memory().numTensors
    const h = 8, w = 8, wf = w / 2 + 1
    const param = imageParam({ kind: 'fft', batch: 1, height: h, width: w, sd: 0, decay: 1, decorrelate: false, sigmoid: false }, new Rng(0))
    // real part of bin (u=1, v=2) of channel 0 set to 1
    const values = new Float32Array(2 * 3 * h * wf)
    values[1 * wf + 2] = 1
    tf.tidy(() => param.variables[0].assign(tf.tensor(values, [2, 1, 3, h, wf])))
    const rendered = tf.tidy(() => param.render())
    const img = rendered.arraySync()[0]
    rendered.dispose()
    const f = Math.hypot(1 / h, 2 / w)
    const amp = (Math.sqrt(h * w) / f) / FFT_OUTPUT_DIVISOR
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        // irfft2d of a single (non-DC, non-Nyquist) bin: 2 * cos(2 pi (u y / h + v x / w)) / (h w)
        expect(img[y][x][0]).toBeCloseTo(amp * 2 * Math.cos(2 * Math.PI * (y / h + (2 * x) / w)) / (h * w), 4)
        expect(img[y][x][1]).toBeCloseTo(0, 6)
      }
    }
    param.dispose()
  })

  it("frequencies are numpy's fftfreq radii and the colour matrix has unit max column norm", () => {
    before = tf.memory().numTensors
    const f = rfft2dFreqs(4, 4) // fy = [0, .25, -.5, -.25], fx = [0, .25, -.5] (abs)
    expect(Array.from(f.slice(0, 3))).toEqual([0, 0.25, 0.5])
    expect(f[2 * 3 + 1]).toBeCloseTo(Math.hypot(0.5, 0.25), 6)
    const m = colorCorrelationNormalized()
    const norms = [0, 1, 2].map((c) => Math.hypot(m[0][c], m[1][c], m[2][c]))
    expect(Math.max(...norms)).toBeCloseTo(1, 6)
  })
})
