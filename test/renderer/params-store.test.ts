// @vitest-environment happy-dom
/**
 * Params store: presets set the values over DVT's defaults, editing marks the preset modified,
 * every setter keeps values within range, and the renderer's defaults equal the engine's.
 */
import { describe, expect, it } from 'vitest'
import { useParamsStore } from '../../src/renderer/src/stores/params'
import { fakeVisApi, installPinia } from './fake-vis-api'

async function store() {
  installPinia(fakeVisApi().api)
  const s = useParamsStore()
  await s.loadPresets()
  return s
}

describe('useParamsStore', () => {
  it('choosing a preset sets its values and is unmodified', async () => {
    const s = await store()
    expect(s.presets.map((p) => p.name)).toEqual(['yosinski-2', 'yosinski-1'])
    s.applyPreset('yosinski-2')
    expect(s.presetName).toBe('yosinski-2')
    expect(s.values.decay).toBe(0.3)
    expect(s.values.max_iter).toBe(750)
    expect(s.values.lr_params).toEqual({ lr: 100 })
    expect(s.modified).toBe(false)
    s.applyPreset('yosinski-1')
    expect(s.values.decay).toBe(0)
    expect(s.values.blur_radius).toBe(0.5)
    expect(s.values.lr_policy).toBe('progress')
  })

  it('editing any value marks the preset modified; reset restores it', async () => {
    const s = await store()
    s.applyPreset('yosinski-2')
    s.setNumber('decay', 0.25)
    expect(s.modified).toBe(true)
    s.reset()
    expect(s.values.decay).toBe(0.3)
    expect(s.modified).toBe(false)
    s.setLrParam('lr', 50)
    expect(s.modified).toBe(true)
    s.reset()
    s.setDirection(-1)
    expect(s.modified).toBe(true)
    s.reset()
    s.setStartAt('randu')
    expect(s.modified).toBe(true)
  })

  it('setting the same value does not mark modified', async () => {
    const s = await store()
    s.applyPreset('yosinski-2')
    s.setNumber('decay', 0.3)
    expect(s.modified).toBe(false)
  })

  it('keeps values within range', async () => {
    const s = await store()
    s.setNumber('decay', 5)
    expect(s.values.decay).toBe(1)
    s.setNumber('decay', -1)
    expect(s.values.decay).toBe(0)
    s.setNumber('small_norm_percentile', 150)
    expect(s.values.small_norm_percentile).toBe(100)
    s.setNumber('blur_every', 3.7)
    expect(s.values.blur_every).toBe(4)
    s.setNumber('max_iter', 0)
    expect(s.values.max_iter).toBe(1)
    s.setNumber('rand_seed', Number.NaN)
    expect(s.values.rand_seed).toBe(0)
    s.setLrParam('lr', -3)
    expect(s.values.lr_params.lr).toBeGreaterThan(0)
    s.setSpatial([99, -4], [8, 6])
    expect(s.values.push_spatial).toEqual([7, 0])
  })

  it('switching lr policy keeps shared keys and fills the others', async () => {
    const s = await store()
    s.applyPreset('yosinski-1')
    s.setLrPolicy('progress01')
    expect(s.values.lr_params).toEqual({ max_lr: 100, early_prog: 0.03, late_prog_mult: 0.1 })
    s.setLrParam('desired_prog', 3) // not a key of progress01: ignored
    expect(s.values.lr_params).not.toHaveProperty('desired_prog')
  })

  it('keeps a presets:list failure for display', async () => {
    installPinia(fakeVisApi({ 'presets:list': async () => ({ ok: false, code: 'INTERNAL', message: 'boom' }) }).api)
    const s = useParamsStore()
    await s.loadPresets()
    expect(s.error).toEqual({ code: 'INTERNAL', message: 'boom' })
  })
})

describe('presetLabel', () => {
  it('names the preset, marks an edit, and names the DVT defaults when there is no preset', async () => {
    const { presetLabel } = await import('../../src/renderer/src/stores/params')
    expect(presetLabel('yosinski-3', false)).toBe('yosinski-3')
    expect(presetLabel('yosinski-3', true)).toBe('yosinski-3 (modified)')
    expect(presetLabel(null, false)).toBe('DVT defaults')
    expect(presetLabel(null, true)).toBe('DVT defaults (modified)')
  })
})
