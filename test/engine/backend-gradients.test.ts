/**
 * Every backend we ship computes the same input gradients as the reference cpu backend, on every
 * real model of ../shared/models (skipped when absent): for each model's class unit, the gradient of
 * the unit with respect to the DVT pixel image at the same seeded x0 is computed on cpu, on wasm and
 * on webgpu (skipped with the reason when webgpu cannot start here; on CPU-only machines it runs on
 * Mesa's lavapipe, which checks the WebGPU kernels, not a GPU's float behaviour).
 * Tolerance: relative L2 error below 1e-3, or, for a network whose gradient is itself that
 * sensitive, below the change of cpu's own gradient when x0 is nudged by 0.001 grey levels (every
 * 7th value): ReLU6 kinks make MobileNet's gradient jump by ~2 % under such a nudge (measured), and
 * float32 kernels that sum in different orders differ by ~1e-6 in the forward pass, which flips a
 * few of those kinks. A wrong kernel is off by O(1) (wasm's max-pool gradient on darknet was 0.34).
 * The native tensorflow backends are checked the same way when they load here (they do not on
 * this machine: libtensorflow cannot be downloaded).
 */
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../src/engine/node/backends.ts'
import { meanIsImage } from '../../src/engine/model/input-spec.ts'
import { loadModelFolder } from '../../src/engine/node/load-model.ts'
import { defaultSpatial, makeX0 } from '../../src/engine/optimize.ts'
import { HAVE_SHARED_MODELS, SHARED_TARGETS, sharedModel } from '../helpers/shared-models.ts'
import { probeWebGpu } from '../helpers/webgpu.ts'

const WEBGPU = await probeWebGpu()

const MAX_REL_L2 = 1e-3
const MIN_COSINE = 0.99999
const MIN_COSINE_SENSITIVE = 0.9999
const SEED = 0
/** The nudge (DVT pixel units, i.e. grey levels) that measures a network's own gradient sensitivity. */
const NUDGE = 1e-3
const NUDGE_EVERY = 7

/** Flat index of channel `channel` at the default (centre) position of a layer's output. */
function flatIndexOf(shape: number[], channel: number): number {
  const spatial = defaultSpatial(shape)
  if (!spatial) return channel
  const [y, x] = spatial
  return (y * shape[1] + x) * shape[2] + channel
}

/** d unit / d x at x0 (seed SEED) on the current backend, as a flat Float32Array, plus the unit's value. */
async function inputGradient(id: string, layer: string, channel: number, nudge = 0): Promise<{ grad: Float32Array; value: number }> {
  const loaded = await loadModelFolder(sharedModel(id))
  try {
    const spec = loaded.inputSpec
    const shape: [number, number, number, number] = [1, spec.height, spec.width, spec.channels]
    const x0 = makeX0(spec, 'mean_plus_rand', SEED).map((v, i) => (i % NUDGE_EVERY === 0 ? v + nudge : v))
    const info = await loaded.model.layerInfo(layer, [spec.height, spec.width])
    const unit = flatIndexOf(info.shape, channel)
    const [g, v] = tf.tidy(() => {
      const mean = meanIsImage(spec) ? tf.tensor(spec.mean, shape) : tf.tensor(spec.mean, [1, 1, 1, spec.channels])
      const f = (x: tf.Tensor): tf.Scalar => {
        const input = tf.add(tf.mul(tf.add(x, mean), tf.tensor(spec.scale, [1, 1, 1, spec.channels])), tf.tensor(spec.offset, [1, 1, 1, spec.channels]))
        return loaded.model.forward(input as tf.Tensor4D, layer).reshape([-1]).slice([unit], [1]).sum() as tf.Scalar
      }
      const { value, grad } = tf.valueAndGrad(f)(tf.tensor(x0, shape))
      return [grad, value]
    })
    const grad = (await g.data()) as Float32Array
    const value = (await v.data())[0]
    g.dispose(); v.dispose()
    return { grad, value }
  } finally {
    loaded.model.dispose()
  }
}

function compare(a: Float32Array, b: Float32Array): { relL2: number; cosine: number } {
  let dot = 0, na = 0, nb = 0, nd = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; nd += (a[i] - b[i]) ** 2
  }
  return { relL2: Math.sqrt(nd / na), cosine: dot / Math.sqrt(na * nb) }
}

/** cpu's gradient per target, computed once for all the backends compared with it. */
const references = new Map<string, { grad: Float32Array; value: number }>()
/** Relative L2 change of cpu's own gradient under the nudge, per target: computed only where it decides the verdict. */
const sensitivities = new Map<string, number>()

async function reference(id: string, layer: string, channel: number): Promise<{ grad: Float32Array; value: number }> {
  const key = `${id} ${layer}:${channel}`
  let ref = references.get(key)
  if (!ref) {
    await initBackend('cpu')
    ref = await inputGradient(id, layer, channel)
    references.set(key, ref)
  }
  return ref
}

async function sensitivity(id: string, layer: string, channel: number): Promise<number> {
  const key = `${id} ${layer}:${channel}`
  let s = sensitivities.get(key)
  if (s === undefined) {
    const cpu = await reference(id, layer, channel)
    await initBackend('cpu')
    const nudged = await inputGradient(id, layer, channel, NUDGE)
    s = compare(cpu.grad, nudged.grad).relL2
    sensitivities.set(key, s)
  }
  return s
}

/**
 * The gradient on `backend` equals cpu's within the tolerance rule of the header. The rule's tolerances are
 * max(MAX_REL_L2, sensitivity) and MIN_COSINE (MIN_COSINE_SENSITIVE only when sensitivity > MAX_REL_L2), so a
 * backend within MAX_REL_L2 and MIN_COSINE passes whatever the sensitivity is: the nudged cpu gradient (one more
 * full cpu backward pass) is computed only when the strict bounds are missed, and the verdict is the same.
 */
async function expectSameAsCpu(backend: 'wasm' | 'webgpu', id: string, layer: string, channel: number): Promise<void> {
  const cpu = await reference(id, layer, channel)
  await initBackend(backend)
  const other = await inputGradient(id, layer, channel)
  expect(cpu.grad.length).toBe(other.grad.length)
  // A real gradient, not zeros on both sides.
  expect(cpu.grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0)).toBeGreaterThan(0)
  const { relL2, cosine } = compare(cpu.grad, other.grad)
  const strict = relL2 < MAX_REL_L2 && cosine > MIN_COSINE
  const sens = strict ? 0 : await sensitivity(id, layer, channel)
  const tolerance = Math.max(MAX_REL_L2, sens)
  expect(relL2, `relative L2 error of ${backend} vs cpu on ${id} (cpu's own change under the nudge: ${strict ? 'not needed' : sens})`).toBeLessThan(tolerance)
  expect(cosine).toBeGreaterThan(sens > MAX_REL_L2 ? MIN_COSINE_SENSITIVE : MIN_COSINE)
  expect(other.value).toBeCloseTo(cpu.value, 3)
}

describe.skipIf(!HAVE_SHARED_MODELS)('input gradients on every shipped backend equal cpu on the shared models', () => {
  afterAll(async () => { await initBackend('wasm') })

  it.each(SHARED_TARGETS)('$id $layer:$channel: wasm = cpu', async ({ id, layer, channel }) => {
    await expectSameAsCpu('wasm', id, layer, channel)
  }, 900_000)

  it.skipIf(!WEBGPU.ok).each(SHARED_TARGETS)('$id $layer:$channel: webgpu = cpu', async ({ id, layer, channel }) => {
    await expectSameAsCpu('webgpu', id, layer, channel)
  }, 900_000)
})
