// @vitest-environment happy-dom
/**
 * No stale data (issue 13 item 1): the run panel shows a run only next to its own unit of its own
 * model, and says which run it shows; after selecting another unit or opening another model, the
 * preview and plot are empty and a line names the run still going. The Result shows the selected
 * unit's own newest stored run or nothing; a history entry shows its model and thumbnail, a compare
 * run says so, and "Run again with these settings" copies the run's parameters and selects its unit.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import RunGallery from '../../src/renderer/src/components/RunGallery.vue'
import RunPanel from '../../src/renderer/src/components/RunPanel.vue'
import { useHistoryStore } from '../../src/renderer/src/stores/history'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useParamsStore } from '../../src/renderer/src/stores/params'
import { useRunStore } from '../../src/renderer/src/stores/run'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import type { VisApi } from '../../src/shared/ipc-contract'
import type { RunDetail } from '../../src/shared/run-types'
import { detail, fakeVisApi, installPinia, MODEL_INFO, summary } from './fake-vis-api'

async function setup(overrides: Partial<VisApi> = {}) {
  const fake = fakeVisApi({ 'model:info': vi.fn(async () => ({ ok: true as const, value: MODEL_INFO })), ...overrides })
  const pinia = installPinia(fake.api)
  await useModelStore().load()
  const units = useUnitsStore()
  units.selectLayer('logits')
  units.selectUnit(1)
  return { ...fake, pinia, units }
}

describe('run panel: only the selected unit’s own run', () => {
  it('shows the run next to its unit, nothing next to another unit or model', async () => {
    const { pinia, emit, units } = await setup()
    const w = mount(RunPanel, { global: { plugins: [pinia], stubs: { ObjectivePlot: true } } })
    await w.find('.run-panel__start').trigger('click')
    await flushPromises()
    emit('run:progress', { runId: 'r1', ii: 0, maxIter: 10, obj: 8.329, lr: 100, norm: 1, std: 1, wallMs: 1, preview: 'data:image/png;base64,P0' })
    await nextTick()
    expect(w.find('.run-panel__preview img').exists()).toBe(true)
    expect(w.find('.run-panel__numbers').text()).toContain('obj 8.3')
    expect(w.find('[data-testid="run-which"]').text()).toContain('m')

    units.selectUnit(2)
    await nextTick()
    expect(w.find('.run-panel__preview img').exists()).toBe(false)
    expect(w.find('.run-panel__numbers').exists()).toBe(false)
    expect(w.find('[data-testid="run-status"]').text()).toBe('idle')
    expect(w.find('[data-testid="run-other"]').text()).toContain('logits #1')
    await w.find('[data-testid="run-other"] button').trigger('click')
    expect(units.unitIndex).toBe(1)
    await nextTick()
    expect(w.find('.run-panel__preview img').exists()).toBe(true)

    // Another model with a layer of the same name: the run is not its.
    useModelStore().info = { ...MODEL_INFO, name: 'GoogLeNet', path: '/models/googlenet' }
    await nextTick()
    expect(w.find('.run-panel__preview img').exists()).toBe(false)
    expect(w.find('[data-testid="run-other"]').text()).toContain('on m')
    expect(useRunStore().running).toBe(true)
    w.unmount()
  })
})

describe('run panel: a stored run of the selected unit', () => {
  it('shows its series and last image, marked as stored; nothing for another unit', async () => {
    const { pinia, units } = await setup({
      'runs:get': vi.fn(async () => ({ ok: true as const, value: detail({ series: { obj: [1, 2, 3], norm: [1, 1, 1], std: [1, 1, 1], lr: [100, 100, 100], wall_ms: [5, 5, 5] }, last: { ii: 2, obj: 3 } }) })),
    })
    const w = mount(RunPanel, { global: { plugins: [pinia], stubs: { ObjectivePlot: true } } })
    await useHistoryStore().open('r1')
    await nextTick()
    expect(w.find('[data-testid="run-which"]').text()).toContain('Stored run')
    expect(w.find('.run-panel__preview img').attributes('src')).toBe('data:image/png;base64,AAAA')
    expect(w.find('figcaption').text()).toBe('iteration 2 (stored run)')
    expect((w.findComponent({ name: 'ObjectivePlot' }).props('trace') as { obj: number[] }).obj).toEqual([1, 2, 3])
    units.selectUnit(2)
    await nextTick()
    expect(w.find('.run-panel__preview img').exists()).toBe(false)
    expect((w.findComponent({ name: 'ObjectivePlot' }).props('trace') as { obj: number[] }).obj).toEqual([])
    w.unmount()
  })
})

describe('result and history: the selected unit’s own run, with model and thumbnail', () => {
  const runs = [
    summary({ runId: 'r2', channel: 2, preset: 'yosinski-3', thumb: 'data:image/png;base64,T2', compareGroup: 'g1' }),
    summary({ runId: 'r1', channel: 1, preset: 'yosinski-3 (modified)' }),
    summary({ runId: 'o1', modelName: 'other', channel: 1 }),
  ]
  const details: Record<string, RunDetail> = {
    r1: detail({ runId: 'r1', channel: 1, preset: 'yosinski-3 (modified)', params: { decay: 0.25, max_iter: 77, lr_policy: 'constant', lr_params: { lr: 42 }, push_layer: 'logits', push_channel: 1 } as unknown as RunDetail['params'] }),
    r2: detail({ runId: 'r2', channel: 2, compareGroup: 'g1', preset: 'yosinski-3' }),
    o1: detail({ runId: 'o1', modelName: 'other', channel: 1 }),
  }

  async function mountGallery() {
    const ctx = await setup({
      'runs:list': vi.fn(async () => ({ ok: true as const, value: runs })),
      'runs:get': vi.fn(async (id: string) => ({ ok: true as const, value: details[id] })),
      'presets:list': vi.fn(async () => ({ ok: true as const, value: [{ name: 'yosinski-3', description: '', params: { decay: 0.0001, max_iter: 1000 } }] })),
    })
    await useHistoryStore().load()
    await useParamsStore().loadPresets()
    const w = mount(RunGallery, { global: { plugins: [ctx.pinia] } })
    await flushPromises()
    return { ...ctx, w }
  }

  it('follows the selection and never keeps another unit’s or model’s run', async () => {
    const { w, units } = await mountGallery()
    const history = useHistoryStore()
    expect(history.current?.runId).toBe('r1') // logits #1 of model m, not o1 (model 'other')
    expect(w.find('[data-testid="run-which"]').text()).toContain('m')
    units.selectUnit(0)
    await flushPromises()
    expect(history.current).toBeNull()
    expect(w.find('[data-testid="result-empty"]').exists()).toBe(true)
    units.selectUnit(2)
    await flushPromises()
    expect(history.current?.runId).toBe('r2')
    useModelStore().info = { ...MODEL_INFO, name: 'GoogLeNet', path: '/g' }
    await flushPromises()
    expect(history.current).toBeNull()
    w.unmount()
  })

  it('lists each run with its model, thumbnail and settings; a compare run says so', async () => {
    const { w } = await mountGallery()
    const entries = w.findAll('[data-testid="history-entry"]')
    expect(entries.map((e) => e.find('[data-testid="history-model"]').text())).toEqual(['m', 'm', 'other'])
    expect(entries[0].find('img').attributes('src')).toBe('data:image/png;base64,T2')
    expect(entries[0].text()).toContain('compare · yosinski-3')
    expect(entries[1].text()).toContain('yosinski-3 (modified)')
    // Opening a run of the loaded model selects its unit.
    await entries[0].find('.run-gallery__open').trigger('click')
    await flushPromises()
    expect(useUnitsStore().unitIndex).toBe(2)
    // A run of another model is shown with a note saying so.
    await entries[2].find('.run-gallery__open').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="run-other-model"]').text()).toContain('other')
    w.unmount()
  })

  it('"Run again with these settings" copies the run’s parameters and selects its unit', async () => {
    const { w, units } = await mountGallery()
    units.selectUnit(0)
    await flushPromises()
    await useHistoryStore().open('r1')
    await flushPromises()
    await w.find('[data-testid="run-again"]').trigger('click')
    const params = useParamsStore()
    expect(params.values.decay).toBe(0.25)
    expect(params.values.max_iter).toBe(77)
    expect(params.values.lr_params).toEqual({ lr: 42 })
    expect(params.presetName).toBe('yosinski-3')
    expect(params.modified).toBe(true)
    expect(units.unitIndex).toBe(1)
    w.unmount()
  })
})
