// @vitest-environment happy-dom
/**
 * General methods in the app: the preset picker groups presets by family; choosing the lucid preset
 * shows lucid's own fields and hides DVT's regularizers; editing a method field marks it modified;
 * Start sends `method` (and gifEvery) only for a method preset, and a plain DVT spec otherwise; the gallery
 * shows a run's method and GIF; a compare of yosinski-3 vs lucid sends one DVT spec and one with method,
 * and the parameter table highlights the method rows that differ.
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import RegularizerPanel from '../../src/renderer/src/components/RegularizerPanel.vue'
import RunPanel from '../../src/renderer/src/components/RunPanel.vue'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useParamsStore } from '../../src/renderer/src/stores/params'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import { DEFAULT_GENERAL_PARAMS } from '../../src/shared/method-params'
import type { PresetInfo, RunSpec } from '../../src/shared/run-types'
import { detail, fakeVisApi, installPinia, PRESETS } from './fake-vis-api'
import RunGallery from '../../src/renderer/src/components/RunGallery.vue'
import { useHistoryStore } from '../../src/renderer/src/stores/history'
import CompareParamTable from '../../src/renderer/src/components/CompareParamTable.vue'
import { useCompareStore } from '../../src/renderer/src/stores/compare'
import { PRESETS as TABLE1 } from '../../src/shared/dvt-params'

const LUCID_PRESET: PresetInfo = {
  name: 'lucid', description: 'lucid defaults', params: {}, family: 'lucid', source: 'tensorflow/lucid render_vis',
  method: { ...DEFAULT_GENERAL_PARAMS },
}

async function mountBoth() {
  const fake = fakeVisApi({ 'presets:list': async () => ({ ok: true as const, value: [...PRESETS, LUCID_PRESET] }) })
  const pinia = installPinia(fake.api)
  const params = useParamsStore()
  await params.loadPresets()
  await useModelStore().load()
  await useUnitsStore().selectLayer('logits')
  const panel = mount(RegularizerPanel, { global: { plugins: [pinia] } })
  // echarts needs a real canvas: the plot is stubbed.
  const run = mount(RunPanel, { global: { plugins: [pinia], stubs: { ObjectivePlot: true } } })
  return { fake, params, panel, run }
}

const started = (fake: ReturnType<typeof fakeVisApi>): RunSpec =>
  (fake.api['run:start'] as unknown as { mock: { calls: [RunSpec][] } }).mock.calls.at(-1)![0]

describe('RegularizerPanel + RunPanel with general methods', () => {
  it('groups presets by family, with the source as hint', async () => {
    const { panel } = await mountBoth()
    const groups = panel.findAll('#preset-select optgroup')
    expect(groups.map((g) => g.attributes('data-family'))).toEqual(['dvt', 'lucid'])
    const lucid = groups[1].find('option')
    expect([lucid.text(), lucid.attributes('title')]).toEqual(['lucid', 'tensorflow/lucid render_vis'])
  })

  it("choosing lucid shows lucid's fields and hides DVT's; editing marks modified", async () => {
    const { panel, params } = await mountBoth()
    expect(panel.find('[data-param="decay"]').exists()).toBe(true)
    expect(panel.find('[data-method-param="lr"]').exists()).toBe(false)
    await panel.find('#preset-select').setValue('lucid')
    for (const key of ['param', 'decorrelate', 'transforms', 'lr', 'fft_decay', 'relu_override_steps']) {
      expect(panel.find(`[data-method-param="${key}"]`).exists(), key).toBe(true)
    }
    for (const key of ['decay', 'blur_radius', 'lr_params.lr']) expect(panel.find(`[data-param="${key}"]`).exists(), key).toBe(false)
    // The run section shows the method's iterations.
    expect((panel.find('[data-param="max_iter"] input[type="number"]').element as HTMLInputElement).value).toBe(String(DEFAULT_GENERAL_PARAMS.max_iter))
    expect(params.modified).toBe(false)
    await panel.find('[data-method-param="lr"] input[type="number"]').setValue('0.2')
    expect(params.method?.lr).toBe(0.2)
    expect(params.modified).toBe(true)
    await panel.find('#method-param').setValue('pixel')
    expect(params.method?.param).toBe('pixel')
  })

  it('Start sends method and gifEvery for lucid, and none for a DVT preset', async () => {
    const { fake, panel, run } = await mountBoth()
    await panel.find('#preset-select').setValue('lucid')
    await panel.find('[data-param="max_iter"] input[type="number"]').setValue('20')
    await run.find('[data-testid="gif-every"]').setValue('5')
    await run.find('.run-panel__start').trigger('click')
    const spec = started(fake)
    expect(spec.method).toMatchObject({ method: 'lucid', param: 'fft', lr: DEFAULT_GENERAL_PARAMS.lr })
    expect([spec.params.push_layer, spec.params.max_iter, spec.gifEvery]).toEqual(['logits', 20, 5])
  })

  it('Start with a DVT preset after lucid sends no method and no GIF', async () => {
    const { fake, panel, run, params } = await mountBoth()
    await panel.find('#preset-select').setValue('lucid')
    await panel.find('#preset-select').setValue('yosinski-2')
    expect(params.method).toBeNull()
    expect(panel.find('[data-param="decay"]').exists()).toBe(true)
    await run.find('.run-panel__start').trigger('click')
    const spec = started(fake)
    expect([spec.method, spec.gifEvery, spec.params.decay]).toEqual([undefined, undefined, 0.3])
  })
})

describe('RunGallery with a general-method run', () => {
  it('shows the method and the GIF tile when the run has one, and neither for a plain DVT run', async () => {
    const GIF = 'data:image/gif;base64,R0lGODlhAQABAAAAACw='
    const fake = fakeVisApi({
      'runs:get': async (runId: string) => ({ ok: true as const, value: runId === 'g' ? detail({ runId, gif: GIF, method: { ...DEFAULT_GENERAL_PARAMS } }) : detail({ runId }) }),
    })
    const pinia = installPinia(fake.api)
    const w = mount(RunGallery, { global: { plugins: [pinia] } })
    await useHistoryStore().open('g')
    await w.vm.$nextTick()
    expect(w.find('[data-kind="gif"] img').attributes('src')).toBe(GIF)
    expect(w.find('[data-testid="run-method"]').text()).toBe('method lucid')
    await useHistoryStore().open('d')
    await w.vm.$nextTick()
    expect(w.find('[data-kind="gif"]').exists()).toBe(false)
    expect(w.find('[data-testid="run-method"]').text()).toBe('DVT')
  })
})

describe('Compare with a method preset', () => {
  const TABLE1_INFOS: PresetInfo[] = Object.entries(TABLE1).map(([name, p]) => ({ name, description: p.description, params: p.params, family: 'dvt' }))

  async function setup() {
    let n = 0
    const fake = fakeVisApi({
      'presets:list': async () => ({ ok: true as const, value: [...TABLE1_INFOS, LUCID_PRESET] }),
      'run:start': vi.fn(async () => ({ ok: true as const, value: { runId: `r${++n}` } })),
    })
    const pinia = installPinia(fake.api)
    await useParamsStore().loadPresets()
    await useModelStore().load()
    await useUnitsStore().selectLayer('logits')
    return { fake, pinia, compare: useCompareStore() }
  }

  it('yosinski-3 vs lucid sends one DVT spec and one with method, in the same group', async () => {
    const { fake, compare } = await setup()
    expect(compare.addPreset('yosinski-3')).toBe(true)
    expect(compare.addPreset('lucid')).toBe(true)
    await compare.run()
    const calls = (fake.api['run:start'] as unknown as { mock: { calls: [RunSpec][] } }).mock.calls.map((c) => c[0])
    expect(calls).toHaveLength(2)
    expect(calls[0].method).toBeUndefined()
    expect(calls[0].preset).toBe('yosinski-3')
    expect(calls[1].method).toMatchObject({ method: 'lucid', param: 'fft' })
    expect(calls[1].params.max_iter).toBe(DEFAULT_GENERAL_PARAMS.max_iter)
    expect(calls[0].compareGroup).toBe(calls[1].compareGroup)
  })

  it('the parameter table shows method rows, highlighted where the columns differ', async () => {
    const { pinia, compare } = await setup()
    compare.addPreset('yosinski-3')
    compare.addPreset('lucid')
    compare.addPreset('lucid')
    const w = mount(CompareParamTable, { global: { plugins: [pinia] } })
    const row = (id: string) => w.find(`tr[data-param="${id}"]`)
    expect(row('method').findAll('td').map((td) => td.text())).toEqual(['dvt', 'lucid', 'lucid'])
    expect(row('method').classes()).toContain('is-different')
    expect(row('method.lr').findAll('td').map((td) => td.text())).toEqual(['n/a', String(DEFAULT_GENERAL_PARAMS.lr), String(DEFAULT_GENERAL_PARAMS.lr)])
    // Two lucid columns against each other: the method rows are equal, not highlighted.
    compare.remove(0)
    await w.vm.$nextTick()
    expect(row('method').classes()).not.toContain('is-different')
    expect(row('method.param').classes()).not.toContain('is-different')
    // With only lucid columns, DVT's regularizer rows do not apply and are not listed; the run length is.
    expect(row('decay').exists()).toBe(false)
    expect(row('max_iter').exists()).toBe(true)
  })
})
