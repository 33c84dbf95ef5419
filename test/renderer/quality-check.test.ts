// @vitest-environment happy-dom
/**
 * Quality readouts in the app: the gallery shows the open run's activation, rank, spectrum slope and
 * held-out score; the run panel offers the recently opened models (not the loaded one) as a held-out
 * check and sends the chosen folder with the run.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import RunGallery from '../../src/renderer/src/components/RunGallery.vue'
import RunPanel from '../../src/renderer/src/components/RunPanel.vue'
import { useHistoryStore } from '../../src/renderer/src/stores/history'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import type { ModelInfo } from '../../src/shared/ipc-contract'
import { detail, fakeVisApi, installPinia } from './fake-vis-api'

const INFO: ModelInfo = {
  name: 'loaded', format: 'layers-model', backend: 'cpu', backendDetail: 'cpu',
  inputSpec: { height: 8, width: 6, channelOrder: 'RGB', mean: [0, 0, 0], source: 'default' },
  labelsCount: 3, path: '/models/loaded', defaultUnit: null, inputSpecCorrected: false,
}

describe('quality readouts', () => {
  it('the gallery shows activation, rank, spectrum slope and the held-out score', async () => {
    const quality = { activation: 5.5, rank: 1, of: 3, spectrum_slope: -1.84, held_out: { probability: 0.75, rank: 1, views: 8 } }
    const fake = fakeVisApi({ 'runs:get': async () => ({ ok: true, value: detail({ quality }) }) })
    const pinia = installPinia(fake.api)
    const w = mount(RunGallery, { global: { plugins: [pinia] } })
    await useHistoryStore().open('r1')
    await w.vm.$nextTick()
    const text = w.find('[data-testid="run-quality"]').text()
    expect(text).toContain('activation 5.500')
    expect(text).toContain('rank 1/3')
    expect(text).toContain('spectrum slope -1.84')
    expect(text).toContain('held-out p 0.750, rank 1 (8 views)')
    w.unmount()
  })

  it('the gallery shows nothing for a run stored without quality', async () => {
    const fake = fakeVisApi()
    const pinia = installPinia(fake.api)
    const w = mount(RunGallery, { global: { plugins: [pinia] } })
    await useHistoryStore().open('r1')
    await w.vm.$nextTick()
    expect(w.find('[data-testid="run-quality"]').exists()).toBe(false)
    w.unmount()
  })

  it('the run panel offers the other recent models and sends the chosen one as checkModel', async () => {
    const recent = [
      { path: '/models/loaded', name: 'loaded', openedAt: '2026-11-23T10:00:00Z' },
      { path: '/models/other', name: 'other net', openedAt: '2026-11-23T09:00:00Z' },
    ]
    const fake = fakeVisApi({
      'model:info': async () => ({ ok: true, value: INFO }),
      'model:recent': async () => ({ ok: true, value: recent }),
    })
    const pinia = installPinia(fake.api)
    await useModelStore().load()
    useUnitsStore().selectLayer('logits')
    const w = mount(RunPanel, { global: { plugins: [pinia], stubs: { ObjectivePlot: true } } })
    await flushPromises()
    const select = w.find('[data-testid="check-model"]')
    expect(select.findAll('option').map((o) => o.text())).toEqual(['none', 'other net'])
    // none by default
    expect((select.element as HTMLSelectElement).selectedIndex).toBe(0)
    await select.setValue('/models/other')
    await w.find('.run-panel__start').trigger('click')
    await flushPromises()
    const calls = (fake.api['run:start'] as unknown as { mock: { calls: [{ checkModel?: string }][] } }).mock.calls
    expect(calls[calls.length - 1][0].checkModel).toBe('/models/other')
    w.unmount()
  })
})
