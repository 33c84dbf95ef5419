/**
 * src/engine/node/tf-free.ts, the engine surface for a host's main thread, loads no TensorFlow.js, and
 * each of its exports is the same binding that the full barrels (src/engine/index.ts,
 * src/engine/node/index.ts) export under that name. Vitest runs each file in its own fork, so nothing
 * has loaded tfjs before the first import below.
 */
import { describe, expect, it } from 'vitest'

const tfLoaded = (): boolean => (globalThis as { _tfengine?: unknown })._tfengine !== undefined

describe('engine/node/tf-free.ts', () => {
  it('loads no TensorFlow.js, and re-exports the same bindings as the full barrels', async () => {
    expect(tfLoaded()).toBe(false)
    const light = await import('../../../src/engine/node/tf-free.ts')
    expect(tfLoaded()).toBe(false)
    expect(Object.keys(light).length).toBeGreaterThan(20)

    const portable: Record<string, unknown> = await import('../../../src/engine/index.ts')
    const nodeSide: Record<string, unknown> = await import('../../../src/engine/node/index.ts')
    // The full barrels do load it (a check that the probe above can see tfjs at all).
    expect(tfLoaded()).toBe(true)
    const missing = Object.entries(light).filter(([name, value]) => portable[name] !== value && nodeSide[name] !== value)
    expect(missing.map(([name]) => name)).toEqual([])
    // Nothing is exported by both full barrels under one name with different values.
    const clashes = Object.keys(portable).filter((name) => name in nodeSide && nodeSide[name] !== portable[name])
    expect(clashes).toEqual([])
  })
})
