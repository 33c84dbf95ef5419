// @vitest-environment happy-dom
/**
 * RunGallery: best/last/majority with iteration and objective, the plus-mean toggle, the enlarge
 * overlay, the note when majority was never reached, and deleting from the history.
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import RunGallery from '../../src/renderer/src/components/RunGallery.vue'
import { useHistoryStore } from '../../src/renderer/src/stores/history'
import { detail, fakeVisApi, installPinia, summary } from './fake-vis-api'

function mountGallery(overrides = {}) {
  const fake = fakeVisApi(overrides)
  const pinia = installPinia(fake.api)
  const history = useHistoryStore()
  const w = mount(RunGallery, { global: { plugins: [pinia] }, attachTo: document.body })
  return { w, history, api: fake.api }
}

describe('RunGallery', () => {
  it('shows best/last/majority with iteration and objective, no note when majority was reached', async () => {
    const { w, history } = mountGallery()
    await history.open('r1')
    await w.vm.$nextTick()
    const caps = w.findAll('figcaption').map((c) => c.text())
    expect(caps).toEqual(['best · it 9 · obj 5.500', 'last · it 9 · obj 5.500', 'majority · it 3 · obj 2.000'])
    expect(w.find('.run-gallery__note').exists()).toBe(false)
    w.unmount()
  })

  it('says so when majority was never reached', async () => {
    const { w, history } = mountGallery({
      'runs:get': async () => ({ ok: true, value: detail({ majority: null, metaResult: 'Metaresult: majority failure', images: { best: null, last: null, majority: null } }) }),
    })
    await history.open('r1')
    await w.vm.$nextTick()
    expect(w.find('.run-gallery__note').text()).toContain('Majority never reached')
    expect(w.find('[data-kind="majority"]').text()).toContain('no image')
    w.unmount()
  })

  it('toggles plus mean and enlarges on click', async () => {
    const { w, history } = mountGallery()
    await history.open('r1')
    await w.vm.$nextTick()
    // Off by default: the centred x (best_X.png), which looks like the object.
    expect(w.find('[data-kind="best"] img').attributes('src')).toContain('AAAA')
    await w.find('.run-gallery__toggle input').setValue(true)
    expect(w.find('[data-kind="best"] img').attributes('src')).toContain('BBBB')
    await w.find('[data-kind="best"] button').trigger('click')
    expect(w.find('[role="dialog"]').exists()).toBe(true)
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    await w.vm.$nextTick()
    expect(w.find('[role="dialog"]').exists()).toBe(false)
    w.unmount()
  })

  it('lists the history and deletes a run', async () => {
    const { w, history, api } = mountGallery({ 'runs:list': async () => ({ ok: true, value: [summary({ runId: 'a' }), summary({ runId: 'b' })] }) })
    await history.load()
    await w.vm.$nextTick()
    expect(w.findAll('.run-gallery__history li')).toHaveLength(2)
    await w.find('[aria-label="Delete run a"]').trigger('click')
    await w.vm.$nextTick()
    expect(api['runs:delete']).toHaveBeenCalledWith('a')
    expect(w.findAll('.run-gallery__history li')).toHaveLength(1)
    w.unmount()
  })

  it('shows an API error inline', async () => {
    const { w, history } = mountGallery({ 'runs:get': async () => ({ ok: false, code: 'INTERNAL', message: 'no such run' }) })
    await history.open('zz')
    await w.vm.$nextTick()
    expect(w.find('[role="alert"]').text()).toContain('no such run')
    w.unmount()
  })
})
