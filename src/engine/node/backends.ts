/**
 * Pick the fastest TensorFlow.js backend that works here, at start-up:
 * tfjs-node-gpu ('tensorflow', CUDA) > webgpu (Dawn, a real GPU only) > tfjs-node ('tensorflow', CPU)
 * > wasm (SIMD) > cpu (pure JS).
 * The native packages are optionalDependencies whose install downloads libtensorflow; where that
 * failed they are absent, and the guarded dynamic import below falls through to the next choice.
 * 'auto' skips a software WebGPU adapter (lavapipe, SwiftShader: slower than wasm on the same CPU);
 * the explicit 'webgpu' choice takes it (src/engine/node/webgpu.ts).
 * Shape: `await initBackend(choice) => BackendInfo`
 */
import { readdirSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'
import { installGradientOverrides } from '../gradients.ts'
import { startWebGpu } from './webgpu.ts'

export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const
export type BackendChoice = (typeof BACKEND_CHOICES)[number]

export interface BackendInfo {
  /** tfjs backend name in use: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'. */
  name: string
  /**
   * What was loaded, e.g. '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm (simd)',
   * 'webgpu (Dawn) on llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) (software)'.
   */
  detail: string
  /** Choices that were tried and failed, with the reason (for --verbose and the record). */
  failed: { choice: string; reason: string }[]
}

async function tryNative(pkg: string): Promise<void> {
  // A variable specifier keeps bundlers from resolving a package that may not be installed.
  const spec = pkg
  await import(/* @vite-ignore */ spec)
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but the 'tensorflow' backend did not start`)
}

async function tryWasm(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm')
  void wasm
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start')
  await tf.ready()
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')
  return `@tensorflow/tfjs-backend-wasm${simd ? ' (simd)' : ''}`
}

async function tryCpu(): Promise<void> {
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend did not start')
}

/**
 * GPU device nodes a Linux machine exposes: DRM render nodes (/dev/dri/renderD*: AMD, Intel, NVIDIA's
 * open driver), NVIDIA's proprietary nodes (/dev/nvidia0…) and WSL2's /dev/dxg. Without one, Dawn can
 * only find a software adapter, which 'auto' refuses anyway, and probing it costs a Vulkan instance and
 * prints Dawn's warnings on every start: so 'auto' skips WebGPU there (issue 12, point 6).
 * @example gpuDeviceNodes() // ['/dev/dri/renderD128'] on a desktop, [] on a CI container
 */
export function gpuDeviceNodes(list: (dir: string) => string[] = (d) => readdirSync(d)): string[] {
  const found: string[] = []
  const scan = (dir: string, pattern: RegExp): void => {
    try {
      for (const name of list(dir)) if (pattern.test(name)) found.push(`${dir}/${name}`)
    } catch { /* no such folder */ }
  }
  scan('/dev/dri', /^renderD\d+$/)
  scan('/dev', /^(nvidia\d+|dxg)$/)
  return found
}

/** Why 'auto' does not try WebGPU on this machine, or null when it should. */
export function autoWebGpuSkip(platform: string = process.platform, nodes: () => string[] = gpuDeviceNodes): string | null {
  if (platform !== 'linux') return null
  return nodes().length === 0 ? 'no GPU device (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg): only a software adapter could answer; --backend webgpu tries it anyway' : null
}

/** How each choice starts; `auto` is true when it is tried as part of 'auto' (not asked for by name). */
const ATTEMPTS: Record<Exclude<BackendChoice, 'auto'>, (auto: boolean) => Promise<string>> = {
  'tensorflow-gpu': async () => { await tryNative('@tensorflow/tfjs-node-gpu'); return '@tensorflow/tfjs-node-gpu' },
  webgpu: async (auto) => {
    const skip = auto ? autoWebGpuSkip() : null
    if (skip) throw new Error(skip)
    return startWebGpu({ allowSoftware: !auto })
  },
  tensorflow: async () => { await tryNative('@tensorflow/tfjs-node'); return '@tensorflow/tfjs-node' },
  wasm: tryWasm,
  cpu: async () => { await tryCpu(); return '@tensorflow/tfjs-backend-cpu' },
}

/** The order 'auto' tries the backends in: fastest first. */
export const AUTO_ORDER = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const

/** Start a backend: the requested one, or under 'auto' the first that works in preference order. */
export async function initBackend(choice: BackendChoice = 'auto'): Promise<BackendInfo> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(choice)) {
    throw new DeepVisError('BACKEND', `unknown backend '${choice}'; choose one of ${BACKEND_CHOICES.join(', ')}`)
  }
  const order = choice === 'auto' ? AUTO_ORDER : [choice]
  const failed: BackendInfo['failed'] = []
  // Production mode: no "install tfjs-node" banner on the cpu backend, no debug-mode checks.
  tf.env().set('PROD', true)
  for (const c of order) {
    try {
      const detail = await ATTEMPTS[c](choice === 'auto')
      await tf.ready()
      installGradientOverrides()
      return { name: tf.getBackend(), detail, failed }
    } catch (e) {
      failed.push({ choice: c, reason: (e as Error).message.split('\n')[0] })
    }
  }
  const why = failed.map((f) => `${f.choice}: ${f.reason}`).join('; ')
  throw new DeepVisError('BACKEND', `backend '${choice}' is not available here (${why})`)
}
