/**
 * 'auto' skips WebGPU on a Linux machine without a GPU device node (issue 12, point 6): no Dawn
 * instance, so none of Dawn's warnings on every CLI start; a named `--backend webgpu` still tries it.
 * The device scan is checked on fake folder listings; the CLI start is checked for silence on this
 * machine when it has no GPU device (a CI container).
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { autoWebGpuSkip, gpuDeviceNodes } from '../../src/engine/node/backends.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')

function fakeDev(tree: Record<string, string[]>): (dir: string) => string[] {
  return (dir) => {
    const entries = tree[dir]
    if (!entries) throw Object.assign(new Error(`ENOENT: ${dir}`), { code: 'ENOENT' })
    return entries
  }
}

describe('WebGPU probing under auto', () => {
  it('finds DRM render nodes, NVIDIA nodes and WSL2\'s dxg, and nothing else', () => {
    expect(gpuDeviceNodes(fakeDev({ '/dev/dri': ['card0', 'renderD128', 'by-path'], '/dev': ['null', 'nvidiactl', 'nvidia0', 'dri', 'tty1'] })))
      .toEqual(['/dev/dri/renderD128', '/dev/nvidia0'])
    expect(gpuDeviceNodes(fakeDev({ '/dev': ['null', 'dxg'] }))).toEqual(['/dev/dxg'])
    expect(gpuDeviceNodes(fakeDev({ '/dev': ['null', 'zero', 'nvidiactl', 'nvidia-uvm'] }))).toEqual([])
    expect(gpuDeviceNodes(fakeDev({}))).toEqual([])
  })

  it('skips only on Linux without a GPU device', () => {
    expect(autoWebGpuSkip('linux', () => [])).toMatch(/no GPU device/)
    expect(autoWebGpuSkip('linux', () => ['/dev/dri/renderD128'])).toBeNull()
    expect(autoWebGpuSkip('darwin', () => [])).toBeNull()
    expect(autoWebGpuSkip('win32', () => [])).toBeNull()
  })

  it.skipIf(gpuDeviceNodes().length > 0)('a CLI start on this GPU-less machine prints no Dawn/Vulkan warning', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/deepvis.mjs'), 'layers', '--layer', 'logits'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/logits \(Dense\)/)
    expect(r.stderr).not.toMatch(/Warning|Vulkan|vulkan/)
  })
})
