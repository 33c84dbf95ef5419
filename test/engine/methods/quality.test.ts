/** Tests for the quality readouts: spectrum slope, activation rank, held-out score (incl. the embedded model). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs'
import { activationRank, augmentViews, heldOutScore, radialPowerSpectrum, spectrumSlope, type ImageData } from '../../../src/engine/methods/quality.ts'
import { loadModelFolder, DEFAULT_MODEL_DIR, type LoadedModel } from '../../../src/engine/node/load-model.ts'
import { Rng } from '../../../src/engine/rng.ts'
import { drawStimulus, STIMULUS_CLASSES } from '../../../src/engine/stimuli.ts'
import { useBackend } from '../../helpers/tf-backend.ts'

beforeAll(async () => { await useBackend('cpu') })

const N = 128
const SLOPE_TOLERANCE = 0.3

function grey(data: Float64Array | Float32Array, n = N): ImageData {
  return { data, width: n, height: n, channels: 1 }
}

function whiteNoise(seed: number, n = N): Float64Array {
  const rng = new Rng(seed)
  return Float64Array.from({ length: n * n }, () => rng.normal())
}

/**
 * Noise shaped in the Fourier domain: amplitude exactly 1/f^(power/2) with random Hermitian phase, so power ∝
 * f^−power exactly (fixed amplitudes: a single image has the nominal slope). The inverse DFT is then real.
 */
function powerLawNoise(seed: number, power: number, n = N): Float64Array {
  const rng = new Rng(seed)
  const phi = Float64Array.from({ length: n * n }, () => rng.uniform(0, 2 * Math.PI))
  const ar = new Float64Array(n * n)
  const ai = new Float64Array(n * n)
  for (let ky = 0; ky < n; ky++) for (let kx = 0; kx < n; kx++) {
    const fy = Math.min(ky, n - ky)
    const fx = Math.min(kx, n - kx)
    const f = Math.hypot(fx, fy)
    const amp = f === 0 ? 0 : Math.pow(f, -power / 2)
    // antisymmetric phase ψ(−k) = −ψ(k): a Hermitian spectrum, so the image is real with exactly these amplitudes
    const phase = phi[ky * n + kx] - phi[((n - ky) % n) * n + ((n - kx) % n)]
    ar[ky * n + kx] = amp * Math.cos(phase)
    ai[ky * n + kx] = amp * Math.sin(phase)
  }
  // separable inverse DFT: rows then columns
  const tr = new Float64Array(n * n)
  const ti = new Float64Array(n * n)
  for (let ky = 0; ky < n; ky++) for (let x = 0; x < n; x++) {
    let sr = 0
    let si = 0
    for (let kx = 0; kx < n; kx++) {
      const a = (2 * Math.PI * ((kx * x) % n)) / n
      const c = Math.cos(a)
      const s = Math.sin(a)
      sr += ar[ky * n + kx] * c - ai[ky * n + kx] * s
      si += ar[ky * n + kx] * s + ai[ky * n + kx] * c
    }
    tr[ky * n + x] = sr
    ti[ky * n + x] = si
  }
  const out = new Float64Array(n * n)
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    let sr = 0
    for (let ky = 0; ky < n; ky++) {
      const a = (2 * Math.PI * ((ky * y) % n)) / n
      sr += tr[ky * n + x] * Math.cos(a) - ti[ky * n + x] * Math.sin(a)
    }
    out[y * n + x] = sr
  }
  return out
}

/** 3x3 box blur with edge clamping. */
function boxBlur(img: Float64Array, n = N): Float64Array {
  const out = new Float64Array(n * n)
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    let s = 0
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      s += img[Math.min(n - 1, Math.max(0, y + dy)) * n + Math.min(n - 1, Math.max(0, x + dx))]
    }
    out[y * n + x] = s / 9
  }
  return out
}

describe('spectrum slope', () => {
  it('white noise has β ≈ 0', () => {
    for (const seed of [1, 2]) expect(Math.abs(spectrumSlope(grey(whiteNoise(seed))))).toBeLessThan(SLOPE_TOLERANCE)
  })

  it('1/f² noise has β ≈ −2, and 1/f noise β ≈ −1 (mean of 4 images: one image’s β spreads by ~0.15)', () => {
    const meanSlope = (power: number): number => [1, 2, 3, 4].reduce((s, seed) => s + spectrumSlope(grey(powerLawNoise(seed, power))), 0) / 4
    expect(Math.abs(meanSlope(2) + 2)).toBeLessThan(SLOPE_TOLERANCE)
    expect(Math.abs(meanSlope(1) + 1)).toBeLessThan(SLOPE_TOLERANCE)
  })

  it('a blurred image is steeper than the original', () => {
    const img = powerLawNoise(5, 2)
    const b = spectrumSlope(grey(img))
    const blurred = spectrumSlope(grey(boxBlur(boxBlur(img))))
    expect(blurred).toBeLessThan(b - 0.3)
  })

  it('averages the channels and centre-crops a non-square image; brightness and contrast do not matter', () => {
    const g = powerLawNoise(6, 2, 32)
    const rgb = new Float32Array(32 * 48 * 3)
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) rgb.set([1, 1, 1].map(() => 100 + 5 * g[y * 32 + x]), ((y * 48) + x + 8) * 3)
    const a = spectrumSlope({ data: rgb, width: 48, height: 32, channels: 3 })
    expect(a).toBeCloseTo(spectrumSlope(grey(g, 32)), 3)
    expect(radialPowerSpectrum(grey(g, 32))).toHaveLength(17)
    expect(() => spectrumSlope(grey(new Float64Array(64), 8))).toThrow(/at least 16/)
    expect(() => spectrumSlope({ data: [1, 2], width: 16, height: 16, channels: 1 })).toThrow(/needs 256/)
  })
})

describe('activation rank', () => {
  it('gives the value, rank (1 = highest) and count of a dense layer', () => {
    const acts = [0.1, 0.7, -2, 0.3, 0.65]
    expect(activationRank(acts, 1)).toEqual({ value: 0.7, rank: 1, of: 5 })
    expect(activationRank(acts, 4)).toEqual({ value: 0.65, rank: 2, of: 5 })
    expect(activationRank(acts, 2)).toEqual({ value: -2, rank: 5, of: 5 })
  })

  it('ties share the better rank', () => {
    expect(activationRank([1, 3, 3, 2], 2).rank).toBe(1)
    expect(activationRank([1, 3, 3, 2], 3).rank).toBe(3)
  })

  it('ranks the units at one spatial position of an [H, W, C] map', () => {
    // 2x2x3: position (1, 0) holds [5, 9, 1]; other positions are larger but do not count
    const acts = [50, 50, 50, 60, 60, 60, 5, 9, 1, 70, 70, 70]
    expect(activationRank(acts, 0, [2, 2, 3], { y: 1, x: 0 })).toEqual({ value: 5, rank: 2, of: 3 })
    expect(() => activationRank(acts, 0, [2, 2, 3])).toThrow(/spatial position/)
    expect(() => activationRank(acts, 3, [2, 2, 3], { y: 0, x: 0 })).toThrow(/0\.\.2/)
  })
})

describe('held-out score', () => {
  /** A fake classifier: softmax of the per-image mean of each channel × 10 (3 classes). */
  const fake = (batch: tf.Tensor4D): tf.Tensor2D => tf.tidy(() => tf.softmax(tf.mul(batch.mean([1, 2]), 10)) as tf.Tensor2D)

  it('returns p(target), its rank and top-k membership from the callback', async () => {
    const img = tf.tidy(() => tf.concat([tf.fill([8, 8, 1], 0.5), tf.fill([8, 8, 1], 0.1), tf.fill([8, 8, 1], 0.3)], 2) as tf.Tensor3D)
    const before = tf.memory().numTensors
    const s0 = await heldOutScore(img, 0, fake, { topK: 1 })
    const s1 = await heldOutScore(img, 1, fake, { topK: 2 })
    expect(tf.memory().numTensors).toBe(before)
    const e = [5, 1, 3].map(Math.exp)
    expect(s0.probability).toBeCloseTo(e[0] / (e[0] + e[1] + e[2]), 5)
    expect(s0).toMatchObject({ rank: 1, inTopK: true, views: 1 })
    expect(s1).toMatchObject({ rank: 3, inTopK: false })
    await expect(heldOutScore(img, 3, fake)).rejects.toThrow(/0\.\.2/)
    await expect(heldOutScore(img, 0, (b) => tf.tidy(() => fake(b).reshape([-1]) as unknown as tf.Tensor2D))).rejects.toThrow(/classifier returned shape \[3\]/)
    expect(tf.memory().numTensors).toBe(before)
    img.dispose()
  })

  it('seeded augmentations: same seed, same views; crops stay inside the image and flips mirror it', async () => {
    const rng = new Rng(9)
    const img = tf.tensor4d(rng.fill(16 * 16 * 3, (r) => r.uniform(0, 1)), [1, 16, 16, 3])
    const before = tf.memory().numTensors
    const a = augmentViews(img, 6, new Rng(1))
    const b = augmentViews(img, 6, new Rng(1))
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()))
    expect(a.shape).toEqual([6, 16, 16, 3])
    const [lo, hi] = tf.tidy(() => [a.min().dataSync()[0], a.max().dataSync()[0]])
    expect(lo).toBeGreaterThanOrEqual(0)
    expect(hi).toBeLessThanOrEqual(1)
    tf.dispose([a, b])
    const s = await heldOutScore(img, 0, fake, { augmentations: 4, seed: 2 })
    expect(s.views).toBe(4)
    expect(tf.memory().numTensors).toBe(before)
    img.dispose()
  })

  it('flips are optional: without them every view is the flipped run\'s view or its mirror, and some views differ', () => {
    const img = tf.tensor4d(new Rng(5).fill(16 * 16 * 3, (r) => r.uniform(0, 1)), [1, 16, 16, 3])
    const [withFlips, without, mirrored] = tf.tidy(() => {
      const f = augmentViews(img, 8, new Rng(3), { flip: true })
      const n = augmentViews(img, 8, new Rng(3), { flip: false })
      return [f, n, tf.reverse(n, 2)].map((t) => tf.unstack(t).map((v) => Array.from(v.dataSync())))
    })
    img.dispose()
    let flipped = 0
    for (let i = 0; i < 8; i++) {
      const same = withFlips[i].every((v, k) => v === without[i][k])
      const mirror = withFlips[i].every((v, k) => Math.abs(v - mirrored[i][k]) < 1e-6)
      expect(same || mirror, `view ${i}`).toBe(true)
      if (!same) flipped++
    }
    expect(flipped).toBeGreaterThan(0)
  })

  it('augmented views are the same on wasm as on cpu', async () => {
    const data = new Rng(10).fill(12 * 12 * 3, (r) => r.uniform(0, 255))
    const run = (): number[] => tf.tidy(() => Array.from(augmentViews(tf.tensor4d(data, [1, 12, 12, 3]), 5, new Rng(4)).dataSync()))
    const cpu = run()
    await useBackend('wasm')
    const wasm = run()
    await useBackend('cpu')
    cpu.forEach((v, i) => expect(wasm[i]).toBeCloseTo(v, 2))
  })

  describe('on the embedded deepvis-shapes model', () => {
    let loaded: LoadedModel
    beforeAll(async () => { loaded = await loadModelFolder(DEFAULT_MODEL_DIR) })
    afterAll(() => loaded?.model.dispose())

    it('scores a synthetic grating image for its class, with and without augmentations', async () => {
      const { model, inputSpec } = loaded
      const size = inputSpec.height
      const classify = (batch: tf.Tensor4D): tf.Tensor2D => tf.tidy(() => {
        // pixels 0..255 (RGB, the model's order) → network input: p·scale + offset per channel
        const net = tf.add(tf.mul(batch, tf.tensor1d(inputSpec.scale)), tf.tensor1d(inputSpec.offset)) as tf.Tensor4D
        return model.forward(net, 'prob').reshape([batch.shape[0], -1]) as tf.Tensor2D
      })
      const cls = STIMULUS_CLASSES.findIndex((c) => c.id === 'grating_vertical')
      const img = tf.tensor3d(drawStimulus(cls, new Rng(123), size), [size, size, 3])
      const before = tf.memory().numTensors
      const plain = await heldOutScore(img, cls, classify, { topK: 1 })
      const views = await heldOutScore(img, cls, classify, { topK: 1, augmentations: 8, seed: 0 })
      const wrong = await heldOutScore(img, STIMULUS_CLASSES.findIndex((c) => c.id === 'red_blob'), classify, { topK: 1 })
      expect(tf.memory().numTensors).toBe(before)
      expect(plain.inTopK).toBe(true)
      expect(plain.probability).toBeGreaterThan(0.5)
      expect(views.inTopK).toBe(true)
      expect(views.views).toBe(8)
      expect(wrong.inTopK).toBe(false)
      expect(wrong.probability).toBeLessThan(plain.probability)
      img.dispose()
    })
  })
})
