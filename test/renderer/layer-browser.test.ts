// @vitest-environment happy-dom
/**
 * LayerBrowser: shows name, type, shape and units of every layer, filters by name or type, and
 * moves the selection with ArrowUp/ArrowDown (from the list or the filter box) and clicks.
 */
import { mount, type VueWrapper } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import LayerBrowser from '../../src/renderer/src/components/LayerBrowser.vue'
import type { LayerInfo } from '../../src/shared/ipc-contract'

const LAYERS: LayerInfo[] = [
  { name: 'conv1', type: 'Conv2D', shape: [64, 64, 16], units: 16 },
  { name: 'pool1', type: 'MaxPooling2D', shape: [32, 32, 16], units: 16 },
  { name: 'conv2', type: 'Conv2D', shape: [32, 32, 32], units: 32 },
  { name: 'logits', type: 'Dense', shape: [3], units: 3, labels: ['circle', 'square', 'star'] },
]

/** Mount with `v-model:selected` wired the way a parent would (the emitted name flows back in). */
function mountBrowser(selected: string | null = null): VueWrapper {
  const wrapper: VueWrapper = mount(LayerBrowser, {
    props: {
      layers: LAYERS,
      selected,
      'onUpdate:selected': (name: string | null) => wrapper.setProps({ selected: name }),
    },
  })
  return wrapper
}

function rows(w: VueWrapper): string[][] {
  return w.findAll('[role="option"]').map((r) => ['.name', '.type', '.shape', '.units'].map((c) => r.find(c).text()))
}

function selectedName(w: VueWrapper): string | undefined {
  return w.find('[role="option"][aria-selected="true"] .name').text() || undefined
}

describe('LayerBrowser', () => {
  it('lists every layer with name, type, shape and units', () => {
    const w = mountBrowser()
    expect(rows(w)).toEqual([
      ['conv1', 'Conv2D', '64×64×16', '16 units'],
      ['pool1', 'MaxPooling2D', '32×32×16', '16 units'],
      ['conv2', 'Conv2D', '32×32×32', '32 units'],
      ['logits', 'Dense', '3', '3 units'],
    ])
    expect(w.find('[role="option"]:last-child .badge').text()).toBe('labels')
    expect(w.text()).toContain('4 of 4')
    w.unmount()
  })

  it('filters by name or type, case-insensitively', async () => {
    const w = mountBrowser()
    await w.find('input[type="search"]').setValue('CONV')
    expect(rows(w).map((r) => r[0])).toEqual(['conv1', 'conv2'])
    expect(w.text()).toContain('2 of 4')
    await w.find('input[type="search"]').setValue('dense')
    expect(rows(w).map((r) => r[0])).toEqual(['logits'])
    await w.find('input[type="search"]').setValue('nothing-like-this')
    expect(rows(w)).toEqual([])
    expect(w.text()).toContain('No layer matches')
    w.unmount()
  })

  it('moves the selection with ArrowDown and ArrowUp on the list, clamped at the ends', async () => {
    const w = mountBrowser()
    const list = w.find('[role="listbox"]')
    await list.trigger('keydown', { key: 'ArrowDown' })
    expect(w.emitted('update:selected')?.at(-1)).toEqual(['conv1'])
    await list.trigger('keydown', { key: 'ArrowDown' })
    await list.trigger('keydown', { key: 'ArrowDown' })
    expect(selectedName(w)).toBe('conv2')
    await list.trigger('keydown', { key: 'ArrowDown' })
    await list.trigger('keydown', { key: 'ArrowDown' })
    expect(selectedName(w)).toBe('logits')
    await list.trigger('keydown', { key: 'ArrowUp' })
    expect(selectedName(w)).toBe('conv2')
    await list.trigger('keydown', { key: 'Home' })
    expect(selectedName(w)).toBe('conv1')
    await list.trigger('keydown', { key: 'ArrowUp' })
    expect(selectedName(w)).toBe('conv1')
    await list.trigger('keydown', { key: 'End' })
    expect(selectedName(w)).toBe('logits')
    expect(list.attributes('aria-activedescendant')).toBe(w.find('[aria-selected="true"]').attributes('id'))
    w.unmount()
  })

  it('adds up several key presses within one tick', async () => {
    const w = mountBrowser()
    const list = w.find('[role="listbox"]').element
    for (let i = 0; i < 3; i++) list.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }))
    await w.vm.$nextTick()
    expect(w.emitted('update:selected')?.map((e) => e[0])).toEqual(['conv1', 'pool1', 'conv2'])
    expect(selectedName(w)).toBe('conv2')
    w.unmount()
  })

  it('moves within the filtered layers only, also from the filter box', async () => {
    const w = mountBrowser()
    const input = w.find('input[type="search"]')
    await input.setValue('conv')
    await input.trigger('keydown', { key: 'ArrowDown' })
    expect(selectedName(w)).toBe('conv1')
    await input.trigger('keydown', { key: 'ArrowDown' })
    expect(selectedName(w)).toBe('conv2')
    await input.trigger('keydown', { key: 'ArrowDown' })
    expect(selectedName(w)).toBe('conv2')
    w.unmount()
  })

  it('selects a layer on click and marks it', async () => {
    const w = mountBrowser('conv1')
    expect(selectedName(w)).toBe('conv1')
    await w.findAll('[role="option"]')[3].trigger('click')
    expect(w.emitted('update:selected')?.at(-1)).toEqual(['logits'])
    expect(selectedName(w)).toBe('logits')
    expect(w.findAll('.is-selected')).toHaveLength(1)
    w.unmount()
  })

  it('ignores other keys and does nothing without layers', async () => {
    const w = mount(LayerBrowser, { props: { layers: [] } })
    await w.find('[role="listbox"]').trigger('keydown', { key: 'ArrowDown' })
    expect(w.emitted('update:selected')).toBeUndefined()
    expect(w.text()).toContain('No layers.')
    const w2 = mountBrowser()
    await w2.find('[role="listbox"]').trigger('keydown', { key: 'a' })
    expect(w2.emitted('update:selected')).toBeUndefined()
    w.unmount()
    w2.unmount()
  })

  it('hides ONNX plumbing layers behind "all graph nodes"; the tooltip names the module', async () => {
    const layers: LayerInfo[] = [
      { name: 'layer1.0/conv1', type: 'Conv', shape: [56, 56, 64], units: 64, module: 'layer1.0' },
      { name: 'Flatten', type: 'Flatten', shape: [512], units: 512, module: '', plumbing: true },
      { name: 'fc', type: 'Gemm', shape: [1000], units: 1000, module: 'fc' },
    ]
    const w = mount(LayerBrowser, { props: { layers, selected: null } })
    expect(w.findAll('[role="option"] .name').map((n) => n.text())).toEqual(['layer1.0/conv1', 'fc'])
    expect(w.find('[role="option"] .name').attributes('title')).toBe('layer1.0/conv1 (module layer1.0)')
    await w.find('[data-testid="layers-all"]').setValue(true)
    expect(w.findAll('[role="option"] .name').map((n) => n.text())).toEqual(['layer1.0/conv1', 'Flatten', 'fc'])
  })
})
