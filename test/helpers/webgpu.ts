/**
 * Whether the webgpu backend starts in this process (Dawn + a Vulkan/Metal/D3D12 adapter, software
 * ones included: lavapipe on CPU-only machines). Tests on webgpu skip with this reason when it does not;
 * .ci/run installs Mesa's lavapipe where it can. Probing leaves the webgpu backend current: test files
 * pick their own backend afterwards (beforeAll / useBackend).
 * Shape: `await probeWebGpu() => { ok, reason }` (memoized per process).
 */
import { initBackend } from '../../src/engine/node/backends.ts'

export interface WebGpuProbe {
  ok: boolean
  /** The adapter (when ok) or why webgpu cannot start here. */
  reason: string
}

let probe: Promise<WebGpuProbe> | null = null

export function probeWebGpu(): Promise<WebGpuProbe> {
  probe ??= initBackend('webgpu').then(
    (info) => ({ ok: true, reason: info.detail }),
    (e: unknown) => {
      const reason = (e as Error).message
      console.warn(`[deepvis tests] webgpu cannot start here, its tests are skipped: ${reason}`)
      return { ok: false, reason }
    },
  )
  return probe
}
