// @vitest-environment happy-dom
/**
 * CompareView: one column per setting, the parameter rows that differ carry the highlight class (and
 * the only-differing toggle hides the others), Run is disabled with a reason below 2 settings, every
 * column's plot gets the same axis ranges, a run whose majority was never reached says so, results of
 * a unit other than the selected one are flagged; the App header switches views; and the
 * shared plot ranges cover every column's objective.
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import CompareColumnPlot from '../../src/renderer/src/components/CompareColumnPlot.vue'
import App from '../../src/renderer/src/App.vue'
import CompareView from '../../src/renderer/src/components/CompareView.vue'
import RunPanel from '../../src/renderer/src/components/RunPanel.vue'
import { buildComparePlotOption, sharedPlotRange, tooltipText, type PlotRange } from '../../src/renderer/src/plot/build-compare-plot-option'
import { useCompareStore } from '../../src/renderer/src/stores/compare'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useParamsStore } from '../../src/renderer/src/stores/params'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import { PRESETS as TABLE1 } from '../../src/shared/dvt-params'
import type { PresetInfo } from '../../src/shared/run-types'
import { fakeVisApi, installPinia, summary } from './fake-vis-api'

const ALL_PRESETS: PresetInfo[] = Object.entries(TABLE1).map(([name, p]) => ({ name, description: p.description, params: p.params }))

async function mountView() {
  let n = 0
  const fake = fakeVisApi({
    'presets:list': async () => ({ ok: true, value: ALL_PRESETS }),
    'run:start': vi.fn(async () => ({ ok: true as const, value: { runId: `r${++n}` } })),
  })
  const pinia = installPinia(fake.api)
  await useParamsStore().loadPresets()
  await useModelStore().load()
  useUnitsStore().selectLayer('logits')
  const compare = useCompareStore()
  // echarts needs a real canvas: the plot is stubbed (its option builder is tested below).
  const w = mount(CompareView, { global: { plugins: [pinia], stubs: { CompareColumnPlot: true } }, attachTo: document.body })
  return { w, compare, ...fake }
}

describe('CompareView', () => {
  it('renders one column per setting, labelled', async () => {
    const { w, compare } = await mountView()
    compare.addTable1Presets()
    await w.vm.$nextTick()
    const cols = w.findAll('.compare-column')
    expect(cols).toHaveLength(4)
    expect(cols.map((c) => c.find('.compare-column__label').text())).toEqual(['yosinski-1', 'yosinski-2', 'yosinski-3', 'yosinski-4'])
    compare.remove(1)
    await w.vm.$nextTick()
    expect(w.findAll('.compare-column')).toHaveLength(3)
    w.unmount()
  })

  it('highlights exactly the parameter rows that differ; the toggle shows only those', async () => {
    const { w, compare } = await mountView()
    compare.addPreset('yosinski-3')
    compare.addPreset('yosinski-3')
    await w.vm.$nextTick()
    expect(w.findAll('tr.is-different')).toHaveLength(0)
    const decayOf2 = w.find('tr[data-param="decay"] td:nth-of-type(2) input')
    await decayOf2.setValue('0.1')
    await decayOf2.trigger('change')
    expect(w.findAll('tr.is-different').map((r) => r.attributes('data-param'))).toEqual(['decay'])
    expect(w.findAll('.compare-column__label').map((l) => l.text())).toEqual(['yosinski-3', 'yosinski-3 · decay 0.1'])

    const lrOf1 = w.find('tr[data-param="lr_params.lr"] td:nth-of-type(1) input')
    await lrOf1.setValue('5')
    await lrOf1.trigger('change')
    expect(w.findAll('tr.is-different').map((r) => r.attributes('data-param'))).toEqual(['decay', 'lr_params.lr'])

    await w.find('.compare-param-table__toggle input').setValue(true)
    expect(w.findAll('tbody tr').map((r) => r.attributes('data-param'))).toEqual(['decay', 'lr_params.lr'])
    w.unmount()
  })

  it('clamps a typed value to the parameter range and shows the kept value', async () => {
    const { w, compare } = await mountView()
    compare.addPreset('yosinski-1')
    compare.addPreset('yosinski-2')
    await w.vm.$nextTick()
    const input = w.find('tr[data-param="decay"] td:nth-of-type(1) input')
    await input.setValue('7')
    await input.trigger('change')
    expect(compare.columns[0].params.decay).toBe(1)
    expect((input.element as HTMLInputElement).value).toBe('1')
    w.unmount()
  })

  it('disables Run with a reason below 2 settings, and runs every column once enabled', async () => {
    const { w, compare, api } = await mountView()
    compare.addPreset('yosinski-1')
    await w.vm.$nextTick()
    const runButton = w.find('.compare-view__run')
    expect(runButton.attributes('disabled')).toBeDefined()
    expect(w.find('.compare-view__reason').text()).toMatch(/at least 2/)
    expect(runButton.attributes('title')).toMatch(/at least 2/)

    compare.addPreset('yosinski-2')
    await w.vm.$nextTick()
    expect(runButton.attributes('disabled')).toBeUndefined()
    expect(w.find('.compare-view__reason').exists()).toBe(false)
    await runButton.trigger('click')
    await vi.waitFor(() => expect(api['run:start']).toHaveBeenCalledTimes(2))
    w.unmount()
  })

  it('y axes: each column its own by default, one shared axis, or normalized objectives; x always shared', async () => {
    const { w, compare, emit } = await mountView()
    compare.addPreset('yosinski-1')
    compare.addPreset('yosinski-2')
    await compare.run()
    emit('run:progress', { runId: 'r1', ii: 0, maxIter: 500, obj: -3, lr: 1, norm: 1, std: 1, wallMs: 0 })
    emit('run:progress', { runId: 'r1', ii: 1, maxIter: 500, obj: -2, lr: 1, norm: 1, std: 1, wallMs: 0 })
    emit('run:progress', { runId: 'r2', ii: 0, maxIter: 750, obj: 100, lr: 1, norm: 1, std: 1, wallMs: 0 })
    emit('run:progress', { runId: 'r2', ii: 1, maxIter: 750, obj: 400, lr: 1, norm: 1, std: 1, wallMs: 0 })
    await w.vm.$nextTick()
    const ranges = () => w.findAllComponents(CompareColumnPlot).map((p) => p.props('range') as PlotRange)
    const traces = () => w.findAllComponents(CompareColumnPlot).map((p) => (p.props('trace') as { obj: number[] }).obj)
    // Own axes: the small curve (-3..-2) is not flattened by the large one (100..400).
    let [a, b] = ranges()
    expect(a.xMax).toBe(TABLE1['yosinski-2'].params.max_iter! - 1)
    expect(b.xMax).toBe(a.xMax)
    expect(a.yMin!).toBeLessThan(-3)
    expect(a.yMax!).toBeGreaterThan(-2)
    expect(a.yMax! - a.yMin!).toBeLessThan(3)
    expect(b.yMin!).toBeLessThanOrEqual(100)
    expect(b.yMax!).toBeGreaterThanOrEqual(400)
    await w.find('[data-testid="compare-axes"]').setValue('shared')
    ;[a, b] = ranges()
    expect(b).toEqual(a)
    expect(a.yMin!).toBeLessThan(-3)
    expect(a.yMax!).toBeGreaterThan(400)
    await w.find('[data-testid="compare-axes"]').setValue('normalized')
    ;[a, b] = ranges()
    expect(b).toEqual(a)
    expect(traces()).toEqual([[-1, -2 / 3], [0.25, 1]])
    expect(a.yMin!).toBeLessThan(-1)
    expect(a.yMax!).toBeGreaterThan(1)
    w.unmount()
  })

  it('says so when a run never reached majority', async () => {
    const { w, compare, emit } = await mountView()
    compare.addPreset('yosinski-1')
    compare.addPreset('yosinski-2')
    await compare.run()
    emit('run:done', summary({ runId: 'r1', majority: null }))
    emit('run:done', summary({ runId: 'r2', majority: { ii: 3, obj: 2 } }))
    await w.vm.$nextTick()
    const [c1, c2] = w.findAll('.compare-column')
    expect(c1.find('.compare-column__never').text()).toContain('never reached')
    expect(c2.find('.compare-column__never').exists()).toBe(false)
    expect(c2.text()).toContain('it 3')
    await vi.waitFor(() => expect(c1.find('img').exists()).toBe(true))
    expect(w.find('.compare-view__stale').exists()).toBe(false)
    useUnitsStore().selectUnit(2)
    await w.vm.$nextTick()
    expect(w.find('.compare-view__stale').text()).toContain('logits #0')
    w.unmount()
  })
})

describe('App view switch', () => {
  it('switches between Explore and Compare, and back from the compare view\'s link', async () => {
    const fake = fakeVisApi()
    const pinia = installPinia(fake.api)
    const w = mount(App, { shallow: true, global: { plugins: [pinia] } })
    const viewButton = (name: string) => w.findAll('.app-shell__views button').find((b) => b.text() === name)!
    expect(w.findComponent(RunPanel).exists()).toBe(true)
    expect(w.findComponent(CompareView).exists()).toBe(false)
    await viewButton('Compare').trigger('click')
    expect(viewButton('Compare').attributes('aria-pressed')).toBe('true')
    expect(w.findComponent(RunPanel).exists()).toBe(false)
    expect(w.findComponent(CompareView).exists()).toBe(true)
    w.findComponent(CompareView).vm.$emit('explore')
    await w.vm.$nextTick()
    expect(w.findComponent(RunPanel).exists()).toBe(true)
    w.unmount()
  })
})

describe('sharedPlotRange / buildComparePlotOption', () => {
  const trace = (obj: number[]) => ({ ii: obj.map((_, i) => i), obj, lr: obj, norm: obj, std: obj })

  it('covers every finite objective of every column and the longest run', () => {
    const r = sharedPlotRange([trace([1, 5, Number.NaN]), trace([-2, 0])], [10, 30])
    expect(r.xMax).toBe(29)
    expect(r.yMin!).toBeLessThan(-2)
    expect(r.yMax!).toBeGreaterThan(5)
    expect(r.yInterval! * Math.round(r.yMin! / r.yInterval!)).toBeCloseTo(r.yMin!, 9)
    expect(r.yInterval! * Math.round(r.yMax! / r.yInterval!)).toBeCloseTo(r.yMax!, 9)
    expect(sharedPlotRange([trace([]), trace([])], [10, 10])).toEqual({ xMax: 9, yMin: null, yMax: null, yInterval: null })
  })

  it('writes the tooltip as text (no HTML: the CSP blocks its style attributes)', () => {
    const o = buildComparePlotOption(trace([1]), sharedPlotRange([trace([1])], [5])) as { tooltip: { renderMode: string } }
    expect(o.tooltip.renderMode).toBe('richText')
    expect(tooltipText([{ value: [23, 1.27123] }])).toBe('it 23 · obj 1.271')
    expect(tooltipText([])).toBe('')
  })

  it('puts the shared range on both axes of every column\'s option', () => {
    const range = sharedPlotRange([trace([1, 2]), trace([3, 9])], [100, 100])
    for (const t of [trace([1, 2]), trace([3, 9])]) {
      const o = buildComparePlotOption(t, range) as { xAxis: { max: number }; yAxis: { min: number; max: number } }
      expect([o.xAxis.max, o.yAxis.min, o.yAxis.max]).toEqual([range.xMax, range.yMin, range.yMax])
    }
  })
})

describe('CompareParamTable with a method column (issue 13 item 5)', () => {
  it('shows only the parameters that apply, the run length that runs, and no DVT field editable in the lucid column', async () => {
    const lucid: PresetInfo = {
      name: 'lucid', description: 'lucid', params: {}, family: 'lucid',
      method: { method: 'lucid', max_iter: 512, rand_seed: 0, lr: 0.05, param: 'fft', decorrelate: true, transforms: 'standard', fft_decay: 1, init_sd: 0.01, relu_override_steps: 16, penalty: 'none', objective: '' } as PresetInfo['method'],
    }
    const fake = fakeVisApi({ 'presets:list': async () => ({ ok: true, value: [...ALL_PRESETS, lucid] }) })
    const pinia = installPinia(fake.api)
    await useParamsStore().loadPresets()
    await useModelStore().load()
    useUnitsStore().selectLayer('logits')
    const compare = useCompareStore()
    const w = mount(CompareView, { global: { plugins: [pinia], stubs: { CompareColumnPlot: true } }, attachTo: document.body })
    compare.addPreset('yosinski-3')
    compare.addPreset('lucid')
    compare.editNumber(1, 'max_iter', 200)
    await w.vm.$nextTick()
    const row = (id: string) => w.find(`tr[data-param="${id}"]`)
    const ids = w.findAll('tr[data-param]').map((r) => r.attributes('data-param'))
    // The lucid fields the panel shows; never max_iter / rand_seed / objective / another method's penalty.
    expect(ids.filter((id) => id!.startsWith('method.'))).toEqual(['method.param', 'method.decorrelate', 'method.transforms', 'method.lr', 'method.fft_decay', 'method.init_sd', 'method.relu_override_steps'])
    // DVT-only rows read n/a in the lucid column, with nothing to edit there.
    const decay = row('decay').findAll('td')
    expect(decay[0].find('input').exists()).toBe(true)
    expect(decay[1].text()).toBe('n/a')
    expect(decay[1].find('input').exists()).toBe(false)
    expect(row('decay').classes()).not.toContain('is-different')
    expect(row('lr_policy').findAll('td')[1].find('select').exists()).toBe(false)
    // The run length is the column's own (what runs), 200, not the preset's 512.
    expect(row('max_iter').findAll('td').map((td) => (td.find('input').element as HTMLInputElement).value)).toEqual(['1000', '200'])
    // Few rows differ: the method, its own fields (n/a on the DVT side do not count) and max_iter.
    expect(w.find('.compare-param-table__header').text()).toMatch(/^Parameters\s*2 rows differ/)
    w.unmount()
  })
})
