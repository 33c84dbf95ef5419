// @vitest-environment happy-dom
/**
 * Session (issue 13 items 2 and 8): a model seen for the first time opens on its class layer with
 * yosinski-3 (200 iterations on an ImageNet-sized input), not DVT's noise-giving defaults; a reload
 * (a fresh pinia over the same localStorage) brings back the model's layer, unit and parameters;
 * another model keeps its own state; a corrupt entry is ignored.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { useSession } from '../../src/renderer/src/session/use-session'
import { readSession, SESSION_KEY, startingSettings } from '../../src/renderer/src/session/session'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useParamsStore } from '../../src/renderer/src/stores/params'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import type { ModelInfo } from '../../src/shared/ipc-contract'
import type { PresetInfo } from '../../src/shared/run-types'
import { fakeVisApi, installPinia, MODEL_INFO, PRESETS } from './fake-vis-api'

const Y3: PresetInfo = { name: 'yosinski-3', description: 'row 3', params: { decay: 0.0001, blur_radius: 1, blur_every: 4, max_iter: 1000, lr_policy: 'constant', lr_params: { lr: 100 } } }
const BIG: ModelInfo = { ...MODEL_INFO, name: 'GoogLeNet', path: '/models/googlenet', inputSpec: { ...MODEL_INFO.inputSpec, height: 224, width: 224 } }

async function open(info: ModelInfo) {
  const fake = fakeVisApi({
    'model:info': vi.fn(async () => ({ ok: true as const, value: info })),
    'presets:list': vi.fn(async () => ({ ok: true as const, value: [...PRESETS, Y3] })),
  })
  const pinia = installPinia(fake.api)
  const Shell = defineComponent({ setup() { const { startedOn } = useSession(); return () => h('p', startedOn.value ?? '') } })
  const w = mount(Shell, { global: { plugins: [pinia] } })
  await Promise.all([useModelStore().load(), useParamsStore().loadPresets()])
  await flushPromises()
  return { w, params: useParamsStore(), units: useUnitsStore() }
}

describe('session', () => {
  beforeEach(() => localStorage.clear())

  it('starting settings: yosinski-3, its iterations cut to 200 on an ImageNet-sized model', () => {
    expect(startingSettings(MODEL_INFO)).toMatchObject({ preset: 'yosinski-3', maxIter: null })
    expect(startingSettings(BIG)).toMatchObject({ preset: 'yosinski-3', maxIter: 200 })
  })

  it('opens a new model on its class layer with the starting settings, and says so', async () => {
    const { w, params, units } = await open(BIG)
    expect(units.layerName).toBe('logits')
    expect(params.presetName).toBe('yosinski-3')
    expect(params.values.lr_params).toEqual({ lr: 100 })
    expect(params.values.blur_radius).toBe(1)
    expect(params.values.max_iter).toBe(200)
    expect(params.modified).toBe(false)
    expect(w.text()).toContain('DVT defaults')
    w.unmount()
  })

  it('a reload restores the layer, unit, preset and edits of each model', async () => {
    const first = await open(MODEL_INFO)
    expect(first.params.values.max_iter).toBe(1000)
    first.units.selectLayer('conv1')
    first.units.selectUnit(7)
    first.params.applyPreset('yosinski-1')
    first.params.setNumber('decay', 0.5)
    await flushPromises()
    first.w.unmount()

    const other = await open(BIG)
    expect(other.params.presetName).toBe('yosinski-3')
    other.w.unmount()

    const again = await open(MODEL_INFO)
    expect(again.units.layerName).toBe('conv1')
    expect(again.units.unitIndex).toBe(7)
    expect(again.params.presetName).toBe('yosinski-1')
    expect(again.params.values.decay).toBe(0.5)
    expect(again.params.modified).toBe(true)
    expect(again.w.text()).toBe('')
    again.w.unmount()
  })

  it('ignores a corrupt saved session', async () => {
    localStorage.setItem(SESSION_KEY, '{not json')
    expect(readSession()).toEqual({ models: {} })
    const { params, w } = await open(MODEL_INFO)
    expect(params.presetName).toBe('yosinski-3')
    w.unmount()
  })
})
