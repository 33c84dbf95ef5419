// @vitest-environment happy-dom
/**
 * UnitBrowser: shows the selected layer's units with labels, moves the selection with the arrow keys
 * (←/→ by one, ↑/↓ by a row of 8 when there is no layout width), clamped at the ends; click selects.
 * Render all units: the button starts units:render for the layer, progress follows units:thumb events,
 * Cancel sends the job id, thumbnails come from units:thumbs on layer select and from events (a run's
 * image in the history wins), a failed job shows its message, and a job survives layer switches.
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { nextTick } from 'vue'
import UnitBrowser from '../../src/renderer/src/components/UnitBrowser.vue'
import { useHistoryStore } from '../../src/renderer/src/stores/history'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import { useThumbsStore } from '../../src/renderer/src/stores/thumbs'
import type { LayerInfo, ThumbProgress, UnitThumb, VisApi } from '../../src/shared/ipc-contract'
import { fakeVisApi, installPinia, MODEL_INFO } from './fake-vis-api'

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

const THUMB = (channel: number, tag = 'Q'): UnitThumb => ({ channel, image: `data:image/png;base64,${tag}${channel}`, obj: channel + 0.5 })
const progress = (done: number, over: Partial<ThumbProgress> = {}): ThumbProgress => ({
  jobId: 'job-1', layer: 'logits', done, total: 3, thumb: THUMB(done - 1), ...over,
})

async function mountRender(overrides: Partial<VisApi> = {}, layer = 'logits') {
  const fake = fakeVisApi({
    'units:render': vi.fn(async () => ({ ok: true as const, value: { jobId: 'job-1', total: 3, cached: 0 } })),
    ...overrides,
  })
  const pinia = installPinia(fake.api)
  await useModelStore().load()
  const units = useUnitsStore()
  units.selectLayer(layer)
  const w = mount(UnitBrowser, { global: { plugins: [pinia] } })
  await flushPromises()
  return { ...fake, w, units }
}

const renderButton = (w: VueWrapper) => w.findAll('button').find((b) => b.text().startsWith('Render all units'))
const cancelButton = (w: VueWrapper) => w.findAll('button').find((b) => b.text() === 'Cancel')
const thumbSrcs = (w: VueWrapper) => w.findAll('[role="option"]').map((c) => c.find('img').exists() ? c.find('img').attributes('src') : null)

describe('UnitBrowser: render all units', () => {
  it('shows the render button with the unit count; it starts units:render for the selected layer', async () => {
    const { w, api } = await mountRender({}, 'conv1')
    expect(renderButton(w)?.text()).toBe('Render all units (20)')
    await renderButton(w)!.trigger('click')
    await flushPromises()
    expect(api['units:render']).toHaveBeenCalledWith({ layer: 'conv1' })
  })

  it('shows the progress k / n from the events, the thumbnails as they arrive, then clears on done', async () => {
    const { w, emit } = await mountRender()
    await renderButton(w)!.trigger('click')
    await flushPromises()
    expect(renderButton(w)).toBeUndefined()
    expect(w.find('.unit-browser__render').text()).toContain('0 / 3')
    expect(thumbSrcs(w)).toEqual([null, null, null])
    emit('units:thumb', progress(1))
    emit('units:thumb', progress(2))
    await nextTick()
    expect(w.find('.unit-browser__render').text()).toContain('2 / 3')
    expect(w.find('progress').attributes('value')).toBe('2')
    expect(thumbSrcs(w)).toEqual([THUMB(0).image, THUMB(1).image, null])
    expect(w.findAll('[role="option"]')[1].attributes('title')).toContain('square')
    emit('units:thumb', progress(3))
    emit('units:done', { jobId: 'job-1', layer: 'logits', status: 'done', done: 3, total: 3 })
    await nextTick()
    expect(w.find('progress').exists()).toBe(false)
    expect(renderButton(w)).toBeDefined()
    expect(thumbSrcs(w)).toEqual([THUMB(0).image, THUMB(1).image, THUMB(2).image])
    expect(w.find('[role="alert"]').exists()).toBe(false)
  })

  it('Cancel calls units:cancel with the job id', async () => {
    const { w, api, emit } = await mountRender()
    await renderButton(w)!.trigger('click')
    await flushPromises()
    emit('units:thumb', progress(1))
    await nextTick()
    await cancelButton(w)!.trigger('click')
    expect(api['units:cancel']).toHaveBeenCalledWith('job-1')
    emit('units:done', { jobId: 'job-1', layer: 'logits', status: 'cancelled', done: 1, total: 3 })
    await nextTick()
    expect(cancelButton(w)).toBeUndefined()
    expect(w.find('[role="alert"]').exists()).toBe(false)
    expect(thumbSrcs(w)).toEqual([THUMB(0).image, null, null])
  })

  it('a failed job shows its message inline', async () => {
    const { w, emit } = await mountRender()
    await renderButton(w)!.trigger('click')
    await flushPromises()
    emit('units:done', { jobId: 'job-1', layer: 'logits', status: 'failed', done: 0, total: 3, error: "thumbnail of unit 0 of layer 'logits' failed: disk full" })
    await nextTick()
    expect(w.find('[role="alert"]').text()).toContain('disk full')
    expect(renderButton(w)).toBeDefined()
    await w.find('[role="alert"] button').trigger('click')
    expect(w.find('[role="alert"]').exists()).toBe(false)
  })

  it('shows the cached thumbnails of units:thumbs when a layer is selected', async () => {
    const thumbsOf = vi.fn(async (layer: string) => ({
      ok: true as const, value: layer === 'logits' ? [THUMB(0), THUMB(2)] : [THUMB(5, 'C')],
    }))
    const { w, units } = await mountRender({ 'units:thumbs': thumbsOf })
    expect(thumbsOf).toHaveBeenCalledWith('logits')
    expect(thumbSrcs(w)).toEqual([THUMB(0).image, null, THUMB(2).image])
    expect(w.find('img').attributes('loading')).toBe('lazy')
    units.selectLayer('conv1')
    await flushPromises()
    expect(thumbsOf).toHaveBeenLastCalledWith('conv1')
    const srcs = thumbSrcs(w)
    expect(srcs[5]).toBe(THUMB(5, 'C').image)
    expect(srcs.filter((s) => s !== null)).toHaveLength(1)
  })

  it("prefers a run's image from the history over the quick thumbnail, only for the run's own model", async () => {
    const { w } = await mountRender({
      'model:info': vi.fn(async () => ({ ok: true as const, value: MODEL_INFO })),
      'units:thumbs': vi.fn(async () => ({ ok: true as const, value: [THUMB(0), THUMB(1)] })),
    })
    // detail() of the fake is a run of model 'm', logits #1, whose best image is AAAA (centred x).
    await useHistoryStore().open('r1')
    await nextTick()
    expect(thumbSrcs(w)).toEqual([THUMB(0).image, 'data:image/png;base64,AAAA', null])
    // The same layer and unit of another model never show that run's image.
    useModelStore().info = { ...MODEL_INFO, name: 'other', path: '/models/other' }
    await nextTick()
    expect(thumbSrcs(w)).toEqual([THUMB(0).image, THUMB(1).image, null])
  })

  it('finds a unit by label or index and jumps to it', async () => {
    const { w, units } = await mountRender()
    const search = w.find('[data-testid="unit-search"]')
    await search.setValue('sq')
    const options = w.findAll('.find-unit__matches button')
    expect(options.map((o) => o.text())).toEqual(['#1 square'])
    await options[0].trigger('click')
    expect(units.unitIndex).toBe(1)
    await search.setValue('#2')
    await search.trigger('keydown', { key: 'Enter' })
    expect(units.unitIndex).toBe(2)
    await search.setValue('hexagon')
    expect(w.find('.find-unit__matches').text()).toContain('No unit matches')
  })

  it('searches the class layer when the selected layer has no labels', async () => {
    const { w, units } = await mountRender({}, 'conv1')
    await w.find('[data-testid="unit-search"]').setValue('star')
    const options = w.findAll('.find-unit__matches button')
    expect(options.map((o) => o.text())).toEqual(['logits #2 star'])
    await options[0].trigger('click')
    expect(units.layerName).toBe('logits')
    expect(units.unitIndex).toBe(2)
  })

  it('keeps a job running across layer switches, showing each layer its own state', async () => {
    const { w, units, emit, api } = await mountRender()
    await renderButton(w)!.trigger('click')
    await flushPromises()
    units.selectLayer('conv1')
    await flushPromises()
    expect(w.find('progress').exists()).toBe(false)
    expect(renderButton(w)?.text()).toBe('Render all units (20)')
    expect(api['units:cancel']).not.toHaveBeenCalled()
    emit('units:thumb', progress(1))
    units.selectLayer('logits')
    await flushPromises()
    expect(w.find('.unit-browser__render').text()).toContain('1 / 3')
    expect(thumbSrcs(w)[0]).toBe(THUMB(0).image)
  })

  it('stays usable with a few hundred units', async () => {
    const big: LayerInfo[] = [{ name: 'mixed', type: 'Conv2D', shape: [7, 7, 480], units: 480 }]
    const { w, units } = await mountRender({ 'model:layers': vi.fn(async () => ({ ok: true as const, value: big })) }, 'mixed')
    expect(w.findAll('[role="option"]')).toHaveLength(480)
    expect(renderButton(w)?.text()).toBe('Render all units (480)')
    await w.find('[role="listbox"]').trigger('keydown', { key: 'End' })
    expect(units.unitIndex).toBe(479)
  })
})

describe('UnitBrowser: long jobs, ETA and dead units (issue 13 item 6)', () => {
  const BIG: LayerInfo[] = [
    { name: 'inception_4c/relu_1x1', type: 'Relu', shape: [14, 14, 128], units: 128 },
    { name: 'inception_4c/relu_1x1/pre_relu', type: 'Relu (pre-activation)', shape: [14, 14, 128], units: 128 },
  ]

  async function mountBig(overrides: Partial<VisApi> = {}) {
    const fake = fakeVisApi({
      'model:info': vi.fn(async () => ({ ok: true as const, value: { ...MODEL_INFO, inputSpec: { ...MODEL_INFO.inputSpec, height: 224, width: 224 } } })),
      'model:layers': vi.fn(async () => ({ ok: true as const, value: BIG })),
      'units:render': vi.fn(async () => ({ ok: true as const, value: { jobId: 'job-1', total: 128, cached: 0 } })),
      ...overrides,
    })
    const pinia = installPinia(fake.api)
    await useModelStore().load()
    const units = useUnitsStore()
    units.selectLayer('inception_4c/relu_1x1')
    const w = mount(UnitBrowser, { global: { plugins: [pinia] } })
    await flushPromises()
    return { ...fake, w, units, thumbs: useThumbsStore() }
  }
  const bigThumb = (done: number, obj = 1): ThumbProgress => ({
    jobId: 'job-1', layer: 'inception_4c/relu_1x1', done, total: 128, thumb: { channel: done - 1, image: `data:image/png;base64,B${done}`, obj },
  })

  it('asks before a long job with its estimate, and can render only the first units', async () => {
    const { w, api, thumbs } = await mountBig()
    // A run on this model took 800 ms per iteration.
    thumbs.noteIterationMs(800)
    await renderButton(w)!.trigger('click')
    expect(api['units:render']).not.toHaveBeenCalled()
    // 128 units × 50 iterations × 0.8 s × 0.6 (batched) ≈ 51 min.
    expect(w.find('[data-testid="render-confirm"]').text()).toMatch(/128 units to render \(50 iterations each\):\s+about 51 min/)
    await w.findAll('button').find((b) => b.text() === 'First 32 only')!.trigger('click')
    await flushPromises()
    expect(api['units:render']).toHaveBeenCalledWith({ layer: 'inception_4c/relu_1x1', channels: Array.from({ length: 32 }, (_, i) => i) })
  })

  it('shows the time left from the measured rate', async () => {
    const { w, emit, thumbs } = await mountBig()
    let t = 1_000_000
    thumbs.setClock(() => t)
    await renderButton(w)!.trigger('click')
    await w.findAll('button').find((b) => b.text() === 'Render all')!.trigger('click')
    await flushPromises()
    emit('units:thumb', bigThumb(1))
    await nextTick()
    expect(w.find('[data-testid="render-eta"]').text()).toBe('measuring…')
    t += 20_000
    emit('units:thumb', bigThumb(3))
    await nextTick()
    // 10 s per unit, 125 left: about 21 min.
    expect(w.find('[data-testid="render-eta"]').text()).toBe('about 21 min left')
    // The next estimate of this layer uses the measured rate.
    expect(thumbs.estimateMs('inception_4c/relu_1x1', 6)).toBe(60_000)
  })

  it('flags units that stayed at 0 and points to the pre-activation layer', async () => {
    const { w, units } = await mountBig({
      'units:thumbs': vi.fn(async () => ({ ok: true as const, value: [{ channel: 0, image: 'data:image/png;base64,D0', obj: 0 }, { channel: 1, image: 'data:image/png;base64,L1', obj: 3.5 }, { channel: 2, image: 'data:image/png;base64,N2', obj: -0.5 }] })),
    })
    await flushPromises()
    const cells = w.findAll('[role="option"]')
    expect(cells[0].classes()).toContain('is-dead')
    expect(cells[1].classes()).not.toContain('is-dead')
    // Negative is not dead (a linear unit can be): only exactly 0.
    expect(cells[2].classes()).not.toContain('is-dead')
    expect(w.find('[data-testid="dead-note"]').text()).toContain('1 unit stays at 0')
    // Conv thumbnails (the centre unit) are zoomed on the receptive field: 224 px input, stride 16 → 128 px → 1.75×.
    expect((cells[1].find('img').element as HTMLImageElement).style.transform).toBe('scale(1.75)')
    await w.find('[data-testid="dead-note"] button').trigger('click')
    expect(units.layerName).toBe('inception_4c/relu_1x1/pre_relu')
  })
})
