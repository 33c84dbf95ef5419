/**
 * The WebGPU backend in Node: @tensorflow/tfjs-backend-webgpu on top of the `webgpu` npm package
 * (Google's Dawn, prebuilt for linux/darwin/win32 x64 and arm64). Dawn drives the platform's GPU API:
 * Vulkan on Linux (needs `libvulkan1` and a Vulkan driver), Metal on macOS, D3D12 on Windows.
 *
 * tfjs-backend-webgpu registers its backend at import time only if `navigator.gpu` exists, so
 * `startWebGpu` first creates a Dawn instance, asks it for the adapter tfjs will use (high-performance),
 * and only then installs `navigator.gpu` plus Dawn's GPU* globals (GPUBufferUsage...) and imports tfjs's
 * backend. Nothing is installed while the adapter is refused, so a machine that keeps wasm keeps a
 * clean global scope.
 *
 * A software adapter (Mesa's lavapipe/llvmpipe, SwiftShader, Microsoft WARP) computes correctly but
 * is slower than the wasm backend on the same CPU (see the README's Backends section), so the automatic
 * choice refuses it (`allowSoftware: false`); `--backend webgpu` takes it anyway (tests, CI).
 * tfjs-backend-webgpu 4.22's ArgMax/ArgMin give a rank-1 input's result the shape [1] instead of []
 * (its ArgMinMaxProgram pads an empty output shape to [1]), which breaks `tf.stack` with true scalars
 * (the DVT loop's per-iteration statistics); `patchArgMinMax` re-registers both with the right shape.
 * Shape: `await startWebGpu({ allowSoftware }) => detail`; `isSoftwareAdapter(info) => boolean`.
 */
import * as tf from '@tensorflow/tfjs'

/** The strings a WebGPU adapter gives about itself (GPUAdapterInfo), all optional. */
export interface AdapterDescription {
  vendor?: string
  architecture?: string
  device?: string
  description?: string
  /** GPUAdapterInfo.isFallbackAdapter (newer spec) or GPUAdapter.isFallbackAdapter (older). */
  isFallbackAdapter?: boolean
}

/**
 * Names of CPU rasterizers that expose a WebGPU/Vulkan/D3D adapter: Mesa's lavapipe (reports itself
 * as llvmpipe) and softpipe, Google's SwiftShader, Microsoft's WARP ("Microsoft Basic Render Driver").
 */
const SOFTWARE_ADAPTER_NAMES = /\b(llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render driver|warp)\b/i
/** GPUAdapterInfo.architecture of a CPU adapter under Dawn (measured: lavapipe reports 'software'). */
const SOFTWARE_ARCHITECTURE = 'software'

/** The tfjs backend name registered by @tensorflow/tfjs-backend-webgpu. */
export const WEBGPU_BACKEND = 'webgpu'

/** Why a WebGPU adapter is refused or missing, for the backend's `failed` list. */
export class WebGpuUnavailable extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WebGpuUnavailable'
  }
}

/**
 * Whether an adapter is a software (CPU) implementation rather than a real GPU. Pure: looks at the
 * fallback flag, Dawn's 'software' architecture and the known rasterizer names in the strings.
 * @example isSoftwareAdapter({ vendor: 'mesa', architecture: 'software', description: 'llvmpipe: Mesa 25.0.7' }) // true
 */
export function isSoftwareAdapter(info: AdapterDescription): boolean {
  if (info.isFallbackAdapter) return true
  if ((info.architecture ?? '').toLowerCase() === SOFTWARE_ARCHITECTURE) return true
  const text = [info.vendor, info.device, info.description].filter(Boolean).join(' ')
  return SOFTWARE_ADAPTER_NAMES.test(text)
}

/** A short human name of the adapter, e.g. 'llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)' or 'nvidia ampere'. */
export function adapterName(info: AdapterDescription): string {
  if (info.description) return info.description.trim()
  const parts = [info.vendor, info.architecture, info.device].filter((s) => s && s.trim())
  return parts.length > 0 ? parts.join(' ') : 'an unnamed adapter'
}

/** The request tfjs-backend-webgpu makes (unless WEBGPU_USE_LOW_POWER_GPU), so we probe the same adapter. */
const ADAPTER_OPTIONS = { powerPreference: 'high-performance' } as const

interface DawnModule {
  create(options: string[]): GPU
  globals: object
}

/** One Dawn instance per process (thread): creating more would only duplicate the Vulkan instance. */
let dawn: GPU | null = null

/** How to get a Vulkan driver, for the "no adapter" message. */
function driverHint(): string {
  if (process.platform === 'linux') {
    return 'install libvulkan1 and a Vulkan driver: the GPU vendor\'s, or for the CPU fallback a recent Mesa mesa-vulkan-drivers (25.x works; on Debian 12 from bookworm-backports)'
  }
  return 'update the graphics driver'
}

async function loadDawn(): Promise<{ gpu: GPU; globals: object }> {
  let mod: DawnModule
  try {
    mod = (await import('webgpu')) as unknown as DawnModule
  } catch (e) {
    throw new WebGpuUnavailable(`the 'webgpu' package (Dawn) did not load: ${(e as Error).message.split('\n')[0]}`)
  }
  dawn ??= mod.create([])
  return { gpu: dawn, globals: mod.globals }
}

/** Make `navigator.gpu` and Dawn's GPU* constructors/constants visible to tfjs-backend-webgpu. */
function installGlobals(gpu: GPU, globals: object): void {
  const g = globalThis as Record<string, unknown>
  for (const [key, value] of Object.entries(globals)) {
    if (!(key in g)) g[key] = value
  }
  const nav = g.navigator as { gpu?: GPU } | undefined
  if (nav === undefined) {
    g.navigator = { gpu }
  } else if (!nav.gpu) {
    // Node >= 21 has a global navigator (userAgent, hardwareConcurrency...): keep it, add gpu.
    Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true })
  }
}

/** Whether ArgMax/ArgMin of the webgpu backend were already re-registered in this process. */
let argMinMaxPatched = false

/**
 * Re-register webgpu's ArgMax and ArgMin so that their output has the shape of the input without the
 * reduced axis (tfjs's contract; the stock kernels answer [1] where that is []). Same data, only the
 * shape changes, so the output keeps its single reference.
 */
export function patchArgMinMax(): void {
  if (argMinMaxPatched) return
  for (const name of ['ArgMax', 'ArgMin']) {
    const stock = tf.getKernel(name, WEBGPU_BACKEND)
    if (!stock) continue
    tf.unregisterKernel(name, WEBGPU_BACKEND)
    tf.registerKernel({
      ...stock,
      kernelFunc: (args) => {
        const out = stock.kernelFunc(args) as tf.TensorInfo
        const { x } = args.inputs as { x: tf.TensorInfo }
        const axis = (args.attrs as { axis?: number | number[] }).axis ?? 0
        const axes = tf.util.parseAxisParam(axis, x.shape)
        const want = x.shape.filter((_, i) => !axes.includes(i))
        const same = want.length === out.shape.length && want.every((d, i) => d === out.shape[i])
        return same || tf.util.sizeFromShape(want) !== tf.util.sizeFromShape(out.shape) ? out : { ...out, shape: want }
      },
    })
  }
  argMinMaxPatched = true
}

export interface StartWebGpuOptions {
  /** Take a software adapter (lavapipe, SwiftShader...). Default false: refuse it (wasm is faster). */
  allowSoftware?: boolean
}

/**
 * Start tfjs's 'webgpu' backend on Dawn and return a description of what runs, e.g.
 * 'webgpu (Dawn) on llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) (software)'. Throws `WebGpuUnavailable` with
 * the reason when there is no adapter, when it is a software one and `allowSoftware` is false, or
 * when tfjs cannot start on it; the caller turns that into its DeepVisError.
 */
export async function startWebGpu({ allowSoftware = false }: StartWebGpuOptions = {}): Promise<string> {
  const { gpu, globals } = await loadDawn()
  let adapter: GPUAdapter | null
  try {
    adapter = await gpu.requestAdapter(ADAPTER_OPTIONS)
  } catch (e) {
    throw new WebGpuUnavailable(`Dawn could not look for a GPU adapter: ${(e as Error).message.split('\n')[0]}`)
  }
  if (!adapter) throw new WebGpuUnavailable(`no WebGPU adapter found: ${driverHint()}`)
  const info: AdapterDescription = {
    vendor: adapter.info.vendor,
    architecture: adapter.info.architecture,
    device: adapter.info.device,
    description: adapter.info.description,
    isFallbackAdapter: (adapter.info as { isFallbackAdapter?: boolean }).isFallbackAdapter
      ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
  }
  const name = adapterName(info)
  const software = isSoftwareAdapter(info)
  if (software && !allowSoftware) {
    throw new WebGpuUnavailable(`the only WebGPU adapter is a software one (${name}), slower than wasm here; --backend webgpu forces it`)
  }
  installGlobals(gpu, globals)
  await import('@tensorflow/tfjs-backend-webgpu')
  if (!tf.findBackendFactory(WEBGPU_BACKEND)) {
    throw new WebGpuUnavailable('@tensorflow/tfjs-backend-webgpu loaded but did not register (navigator.gpu was not visible to it)')
  }
  patchArgMinMax()
  // setBackend answers false (and logs the cause) when the backend's factory throws.
  if (!(await tf.setBackend(WEBGPU_BACKEND))) {
    throw new WebGpuUnavailable(`the webgpu backend did not start on ${name}`)
  }
  return `webgpu (Dawn) on ${name}${software ? ' (software)' : ''}`
}
