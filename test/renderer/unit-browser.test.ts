// @vitest-environment happy-dom
/**
 * UnitBrowser: shows the selected layer's units with labels, moves the selection with the arrow keys
 * (←/→ by one, ↑/↓ by a row of 8 when there is no layout width), clamped at the ends; click selects.
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import UnitBrowser from '../../src/renderer/src/components/UnitBrowser.vue'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import { fakeVisApi, installPinia } from './fake-vis-api'

async function mountWith(layer: string) {
  const pinia = installPinia(fakeVisApi().api)
  await useModelStore().load()
  const units = useUnitsStore()
  units.selectLayer(layer)
  const w = mount(UnitBrowser, { global: { plugins: [pinia] } })
  return { w, units }
}

describe('UnitBrowser', () => {
  it('asks for a layer when none is selected', () => {
    const pinia = installPinia(fakeVisApi().api)
    const w = mount(UnitBrowser, { global: { plugins: [pinia] } })
    expect(w.text()).toContain('Pick a layer')
  })

  it('lists the units with their class labels', async () => {
    const { w } = await mountWith('logits')
    const cells = w.findAll('[role="option"]')
    expect(cells.map((c) => c.text())).toEqual(['0circle', '1square', '2star'])
    expect(cells[0].attributes('aria-selected')).toBe('true')
  })

  it('arrow keys move the selection and clamp at the ends', async () => {
    const { w, units } = await mountWith('conv1')
    const grid = w.find('[role="listbox"]')
    await grid.trigger('keydown', { key: 'ArrowRight' })
    expect(units.unitIndex).toBe(1)
    await grid.trigger('keydown', { key: 'ArrowDown' })
    expect(units.unitIndex).toBe(9)
    await grid.trigger('keydown', { key: 'ArrowLeft' })
    expect(units.unitIndex).toBe(8)
    await grid.trigger('keydown', { key: 'ArrowUp' })
    expect(units.unitIndex).toBe(0)
    await grid.trigger('keydown', { key: 'ArrowUp' })
    expect(units.unitIndex).toBe(0)
    await grid.trigger('keydown', { key: 'ArrowLeft' })
    expect(units.unitIndex).toBe(0)
    await grid.trigger('keydown', { key: 'End' })
    expect(units.unitIndex).toBe(19)
    await grid.trigger('keydown', { key: 'ArrowDown' })
    await grid.trigger('keydown', { key: 'ArrowRight' })
    expect(units.unitIndex).toBe(19)
    expect(w.find('[aria-selected="true"]').attributes('id')).toBe(grid.attributes('aria-activedescendant'))
  })

  it('selects a unit on click', async () => {
    const { w, units } = await mountWith('logits')
    await w.findAll('[role="option"]')[2].trigger('click')
    expect(units.unitIndex).toBe(2)
    expect(w.findAll('.is-selected')).toHaveLength(1)
    expect(w.text()).toContain('“star”')
  })
})
