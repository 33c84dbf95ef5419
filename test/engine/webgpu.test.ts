/**
 * The webgpu backend (src/engine/node/webgpu.ts): which adapters 'auto' refuses (pure, on the
 * strings adapters report), and, where webgpu starts here (a GPU, or Mesa's lavapipe on CPU-only
 * machines; skipped with the reason otherwise), that 'auto' keeps wasm on a software adapter and
 * that the DVT loop on the embedded model climbs on webgpu with finite values and no tensor leak.
 */
import * as tf from '@tensorflow/tfjs'
import { afterAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../src/engine/node/backends.ts'
import { adapterName, isSoftwareAdapter, type AdapterDescription } from '../../src/engine/node/webgpu.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder } from '../../src/engine/node/load-model.ts'
import { optimizeImage } from '../../src/engine/optimize.ts'
import { PRESETS, type FindParams } from '../../src/engine/params.ts'
import { probeWebGpu } from '../helpers/webgpu.ts'

const WEBGPU = await probeWebGpu()
const ON_SOFTWARE_ADAPTER = WEBGPU.ok && WEBGPU.reason.endsWith('(software)')
/** Iterations of the DVT run: enough for the objective to climb well above its start. */
const DVT_ITERATIONS = 12

/** Adapters as Dawn reports them: CPU rasterizers (first group) and real GPUs (second). */
const SOFTWARE: [string, AdapterDescription][] = [
  ['Mesa lavapipe (Linux, Dawn on Vulkan)', { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15-0-6-256-bits-', description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1' }],
  ['lavapipe without an architecture string', { vendor: 'mesa', architecture: '', device: '', description: 'llvmpipe (LLVM 19.1.7, 256 bits)' }],
  ['SwiftShader', { vendor: 'google', architecture: '', device: 'swiftshader', description: 'SwiftShader Device (Subzero)' }],
  ['Microsoft WARP (Windows, D3D12)', { vendor: 'microsoft', architecture: '', device: '', description: 'Microsoft Basic Render Driver' }],
  ['anything flagged as the fallback adapter', { vendor: 'x', architecture: 'y', device: 'z', description: 'Some GPU', isFallbackAdapter: true }],
]
const HARDWARE: [string, AdapterDescription][] = [
  ['NVIDIA on Vulkan', { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA GeForce RTX 3080', isFallbackAdapter: false }],
  ['AMD on Vulkan (Mesa radv)', { vendor: 'amd', architecture: 'rdna-2', device: '', description: 'AMD Radeon RX 6800 (RADV NAVI21)' }],
  ['Intel on Vulkan (Mesa anv)', { vendor: 'intel', architecture: 'gen-12lp', device: '', description: 'Intel(R) UHD Graphics 770 (ADL-S GT1)' }],
  ['Apple silicon on Metal', { vendor: 'apple', architecture: 'metal-3', device: '', description: 'Apple M2' }],
]

describe('the automatic choice refuses software WebGPU adapters', () => {
  it.each(SOFTWARE)('%s is a software adapter', (_name, info) => {
    expect(isSoftwareAdapter(info)).toBe(true)
  })

  it.each(HARDWARE)('%s is a real GPU', (_name, info) => {
    expect(isSoftwareAdapter(info)).toBe(false)
  })

  it('names an adapter by its description, else by vendor and architecture', () => {
    const [, lavapipe] = SOFTWARE[0]
    expect(adapterName(lavapipe)).toBe(lavapipe.description)
    expect(adapterName({ vendor: 'nvidia', architecture: 'ampere', device: '', description: '' })).toContain('nvidia')
  })
})

describe.skipIf(!WEBGPU.ok)(`webgpu in this process (${WEBGPU.reason})`, () => {
  afterAll(async () => { await initBackend('wasm') })

  it('the explicit choice starts webgpu and names the adapter', async () => {
    const info = await initBackend('webgpu')
    expect(info.name).toBe('webgpu')
    expect(info.detail).toMatch(/^webgpu \(Dawn\) on \S/)
  })

  it.each([
    ['rank 1', [7], 0],
    ['rank 2, axis 0', [3, 5], 0],
    ['rank 2, axis -1', [3, 5], -1],
    ['rank 4, axis 3', [1, 2, 3, 4], 3],
  ] as [string, number[], number][])('argMax / argMin (%s) have the shape and values of cpu', async (_name, shape, axis) => {
    const values = Array.from({ length: shape.reduce((a, b) => a * b) }, (_, i) => ((i * 37) % 11) - 5 + i / 100)
    const run = async (backend: 'cpu' | 'webgpu'): Promise<{ shape: number[]; max: number[]; min: number[] }> => {
      await initBackend(backend)
      const x = tf.tensor(values, shape)
      const [mx, mn] = [tf.argMax(x, axis), tf.argMin(x, axis)]
      const out = { shape: mx.shape, max: Array.from(await mx.data()), min: Array.from(await mn.data()) }
      // A true scalar stacks with other scalars (the DVT statistics do this).
      if (shape.length === 1) expect(tf.stack([mx.cast('float32'), tf.scalar(1)]).shape).toEqual([2])
      tf.dispose([x, mx, mn])
      return out
    }
    const cpu = await run('cpu')
    expect(await run('webgpu')).toEqual(cpu)
  })

  it.skipIf(!ON_SOFTWARE_ADAPTER)("'auto' keeps a CPU backend on a software adapter and says why", async () => {
    const info = await initBackend('auto')
    expect(info.name).not.toBe('webgpu')
    const refusal = info.failed.find((f) => f.choice === 'webgpu')
    expect(refusal?.reason).toMatch(/software/)
  })

  it('the DVT loop on the embedded model climbs on webgpu, with finite values and no tensor leak', async () => {
    expect((await initBackend('webgpu')).name).toBe('webgpu')
    const loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
    try {
      const labels = loaded.inputSpec.labels!
      const params = {
        ...PRESETS['yosinski-3'].params,
        push_layer: 'logits', push_channel: labels.indexOf('grating vertical'), max_iter: DVT_ITERATIONS,
      } as FindParams
      expect(params.push_channel).toBeGreaterThanOrEqual(0)
      const before = tf.memory().numTensors
      const r = await optimizeImage(loaded.model, loaded.inputSpec, params, { backend: 'webgpu' })
      expect(tf.memory().numTensors).toBe(before)
      const obj = r.series.obj
      expect(obj.length).toBe(DVT_ITERATIONS)
      expect(obj.every(Number.isFinite)).toBe(true)
      expect(obj.at(-1)!).toBeGreaterThan(obj[0])
    } finally {
      loaded.model.dispose()
    }
  }, 300_000)
})
