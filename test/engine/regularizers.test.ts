import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import {
  blursAt, clipPxAbsBenefit, clipPxBenefit, clipSmallNorm, clipSmallVal, gaussianBlur, gaussianKernel1d, pixelContribution,
} from '../../src/engine/regularizers.ts'
import { useBackend } from '../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

// A 5x6 image and scipy.ndimage.gaussian_filter of it (scipy 1.17, mode 'reflect', truncate 4).
const IMG = [[0.0, 1.0, 3.249009585424942, 6.473007839923779, 10.556063286183154, 4.425846568000241], [10.030864518443156, 5.331701439859053, 1.2967508011613802, 8.89983049571471, 6.1187233627272235, 3.9342233643252413], [2.329480410195117, 1.289532356812046, 0.8009599640747496, 0.8516257721268659, 1.4304721019038737, 2.527361840806975], [4.132950908257385, 6.238584648875388, 8.836212614761735, 0.9183176986636852, 4.477856620267289, 8.508209504285446], [2.0031368198297343, 6.9567423394847765, 1.36344106571849, 7.21793129023871, 2.5151701182153943, 9.250351917610828]]
const SCIPY_SIGMA_1 = [[2.8714881666231276, 2.888293617847908, 3.906072405664724, 5.831774158729159, 6.5453184491286915, 5.665243516215863], [4.182802942071142, 3.558950033105262, 3.6572600678963916, 4.75912942477113, 5.218677060932746, 4.751682462576184], [4.181623450067251, 3.793895167612833, 3.4739347393881364, 3.5893762881775135, 4.032537851463915, 4.463041592661348], [3.9533815579216975, 4.303171100536773, 4.133626035781668, 3.811177308309011, 4.430199628061169, 5.6733572986076934], [3.84911441782586, 4.521016363372052, 4.53211770973237, 4.447239311824941, 5.207393022808956, 6.731464104175867]]
const SCIPY_SIGMA_05 = [[1.1133293266408917, 1.5899144139212742, 3.266273804564978, 6.692206252803356, 9.112652052198984, 4.98255079903239], [7.74247847255647, 4.517316639079781, 2.448640783714546, 6.926674086269193, 6.030749531499882, 4.07977371560393], [3.2235621907487104, 2.3072303337562854, 1.7686849687710242, 1.7755282547640094, 2.3122724135999095, 3.2025855285769387], [3.9373683140796008, 5.714147553879435, 6.435648328069954, 2.4351558500032815, 4.121598937330072, 7.520453415378311], [2.726507566372739, 5.880279942904505, 3.1297336257501787, 5.671566163192182, 3.818569328378204, 8.480906660450344]]

/** The image in every one of 3 channels (scaled per channel), as [1, 5, 6, 3]. */
function threeChannel(img: number[][]): tf.Tensor4D {
  const flat: number[] = []
  for (const row of img) for (const v of row) flat.push(v, 2 * v, -v)
  return tf.tensor4d(flat, [1, 5, 6, 3])
}

describe('gaussian blur (scipy.ndimage.gaussian_filter semantics)', () => {
  it('kernel radius is int(4 sigma + 0.5) and the kernel sums to 1', () => {
    expect(gaussianKernel1d(1).length).toBe(2 * 4 + 1)
    expect(gaussianKernel1d(0.5).length).toBe(2 * 2 + 1)
    expect(gaussianKernel1d(0.3).length).toBe(2 * 1 + 1)
    expect(gaussianKernel1d(0.1).length).toBe(1)
    const k = gaussianKernel1d(1.7)
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6)
    expect(k[0]).toBeCloseTo(k[k.length - 1], 7)
  })
  it.each([[1, SCIPY_SIGMA_1], [0.5, SCIPY_SIGMA_05]])('sigma %s equals scipy with reflect padding, per channel', async (sigma, want) => {
    const out = gaussianBlur(threeChannel(IMG), sigma as number)
    const v = await out.data()
    const w = want as number[][]
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 6; x++) {
        const i = (y * 6 + x) * 3
        expect(v[i]).toBeCloseTo(w[y][x], 4)
        expect(v[i + 1]).toBeCloseTo(2 * w[y][x], 4)
        expect(v[i + 2]).toBeCloseTo(-w[y][x], 4)
      }
    }
  })
  it('lowers high-frequency energy: a checkerboard loses most of its energy', async () => {
    const n = 16
    const vals: number[] = []
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) for (let c = 0; c < 3; c++) vals.push((x + y) % 2 ? 50 : -50)
    const x = tf.tensor4d(vals, [1, n, n, 3])
    const energy = (t: tf.Tensor): number => tf.sum(tf.square(t)).dataSync()[0]
    const blurred = gaussianBlur(x, 1)
    expect(energy(blurred)).toBeLessThan(0.01 * energy(x))
    // while a constant image is unchanged (reflect padding keeps the edge value)
    const flat = tf.fill([1, n, n, 3], 7) as tf.Tensor4D
    expect(tf.max(tf.abs(tf.sub(gaussianBlur(flat, 1), flat))).dataSync()[0]).toBeLessThan(1e-5)
  })
  it('refuses a kernel larger than the image', () => {
    expect(() => gaussianBlur(tf.zeros([1, 4, 4, 3]), 2)).toThrow(/larger than the 4x4 image/)
  })
  it('blurs when ii mod every == 0, including ii = 0, and never when disabled', () => {
    expect([0, 1, 2, 3, 4, 8].map((ii) => blursAt(ii, 4, 1))).toEqual([true, false, false, false, true, true])
    expect(blursAt(0, 0, 1)).toBe(false)
    expect(blursAt(0, 4, 0)).toBe(false)
  })
})

describe('percentile clips', () => {
  // 1 x 2 x 2 x 3 image; pixel norms: 0, 5, 1, 13
  const x = (): tf.Tensor4D => tf.tensor4d([0, 0, 0, 3, 4, 0, 1, 0, 0, 5, 12, 0], [1, 2, 2, 3])
  it('small_val zeroes entries (not pixels) with |x| strictly below the percentile', async () => {
    // |x| sorted: 0 x7, 1, 3, 4, 5, 12 ; p=75 -> r = 8.25 -> 3 + 0.25 * 1 = 3.25
    const out = await (await clipSmallVal(x(), 75)).data()
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 4, 0, 0, 0, 0, 5, 12, 0])
  })
  it('small_norm zeroes whole pixels whose channel norm is strictly below the percentile', async () => {
    // norms [0, 5, 1, 13]; p=50 -> (1 + 5) / 2 = 3 -> pixels 0 and 2 zeroed
    const out = await (await clipSmallNorm(x(), 50)).data()
    expect(Array.from(out)).toEqual([0, 0, 0, 3, 4, 0, 0, 0, 0, 5, 12, 0])
  })
  it('px_benefit uses the contribution sum_c g*x and zeroes the least useful pixels', async () => {
    const g = tf.tensor4d([1, 1, 1, -1, 0, 0, 1, 0, 0, 1, 0, 0], [1, 2, 2, 3])
    // contributions: [0, -3, 1, 5]
    expect(Array.from(pixelContribution(x(), g).dataSync())).toEqual([0, -3, 1, 5])
    // p=50 -> (0 + 1) / 2 = 0.5 -> pixels with contribution 0 and -3 are zeroed
    const out = await (await clipPxBenefit(x(), g, 50)).data()
    expect(Array.from(out)).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0, 5, 12, 0])
  })
  it('px_abs_benefit uses |contribution| (a pixel that hurts a lot survives)', async () => {
    const g = tf.tensor4d([1, 1, 1, -1, 0, 0, 1, 0, 0, 1, 0, 0], [1, 2, 2, 3])
    // |contributions|: [0, 3, 1, 5]; p=50 -> 2 -> pixels 0 and 2 are zeroed, pixel 1 (-3) survives
    const out = await (await clipPxAbsBenefit(x(), g, 50)).data()
    expect(Array.from(out)).toEqual([0, 0, 0, 3, 4, 0, 0, 0, 0, 5, 12, 0])
  })
})
