// @vitest-environment happy-dom
/**
 * RegularizerPanel: choosing a preset shows its values; typing in a number input updates the store
 * and marks the preset modified; conv layers show a (y, x) position.
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import RegularizerPanel from '../../src/renderer/src/components/RegularizerPanel.vue'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useParamsStore } from '../../src/renderer/src/stores/params'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import { fakeVisApi, installPinia } from './fake-vis-api'

async function mountPanel() {
  const pinia = installPinia(fakeVisApi().api)
  const params = useParamsStore()
  await params.loadPresets()
  const w = mount(RegularizerPanel, { global: { plugins: [pinia] } })
  return { w, params }
}

const numberOf = (w: ReturnType<typeof mount>, key: string) => w.find(`[data-param="${key}"] input[type="number"]`)

describe('RegularizerPanel', () => {
  it('choosing yosinski-2 shows decay 0.3', async () => {
    const { w } = await mountPanel()
    await w.find('#preset-select').setValue('yosinski-2')
    expect((numberOf(w, 'decay').element as HTMLInputElement).value).toBe('0.3')
    expect((numberOf(w, 'max_iter').element as HTMLInputElement).value).toBe('750')
    expect((numberOf(w, 'lr_params.lr').element as HTMLInputElement).value).toBe('100')
    expect(w.text()).toContain('decay 0.3')
    expect(w.text()).not.toContain('modified')
  })

  it('typing in a number input updates the store and marks modified', async () => {
    const { w, params } = await mountPanel()
    await w.find('#preset-select').setValue('yosinski-2')
    await numberOf(w, 'blur_radius').setValue('1.5')
    expect(params.values.blur_radius).toBe(1.5)
    expect(params.modified).toBe(true)
    expect(w.text()).toContain('modified')
    await w.find('button[title="Back to the preset\'s values"]').trigger('click')
    expect(params.values.blur_radius).toBe(0)
  })

  it('every slider row explains its parameter in a title', async () => {
    const { w } = await mountPanel()
    const rows = w.findAll('.regularizer-slider')
    expect(rows.length).toBeGreaterThanOrEqual(10)
    for (const r of rows) expect(r.attributes('title')?.length).toBeGreaterThan(10)
  })

  it('shows lr params of the chosen policy and the direction toggle', async () => {
    const { w, params } = await mountPanel()
    await w.find('#lr-policy').setValue('progress')
    expect(params.values.lr_policy).toBe('progress')
    expect(w.find('[data-param="lr_params.max_lr"]').exists()).toBe(true)
    expect(w.find('[data-param="lr_params.lr"]').exists()).toBe(false)
    await w.findAll('[role="radio"]')[1].trigger('click')
    expect(params.values.push_dir).toBe(-1)
  })

  it('shows the spatial position only for conv layers, clamped to the map', async () => {
    const { w, params } = await mountPanel()
    expect(w.find('[data-param="spatial_y"]').exists()).toBe(false)
    await useModelStore().load()
    useUnitsStore().selectLayer('conv1')
    await w.vm.$nextTick()
    expect((numberOf(w, 'spatial_y').element as HTMLInputElement).value).toBe('4')
    await numberOf(w, 'spatial_x').setValue('50')
    expect(params.values.push_spatial).toEqual([4, 5])
  })
})
