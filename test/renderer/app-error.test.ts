// @vitest-environment happy-dom
/**
 * App shell: a panel that throws while rendering shows an error banner instead of taking the
 * window down; the other panels stay on screen.
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import App from '../../src/renderer/src/App.vue'
import { fakeVisApi, installPinia } from './fake-vis-api'

describe('App error boundary', () => {
  it('shows a thrown render error as a banner and keeps the other panels', async () => {
    const { api } = fakeVisApi()
    const pinia = installPinia(api)
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      // eslint-disable-next-line vue/require-render-return -- the render function throws on purpose
      const Broken = defineComponent({ name: 'RunPanel', render: () => { throw new Error('boom in the run panel') } })
      const w = mount(App, { global: { plugins: [pinia], stubs: { RunPanel: Broken } } })
      await new Promise((r) => setTimeout(r, 0))
      await w.vm.$nextTick()
      const banner = w.find('.app-shell__ui-error')
      expect(banner.exists()).toBe(true)
      expect(banner.text()).toContain('boom in the run panel')
      // The layer browser and the regularizer panel are still rendered.
      expect(w.find('[aria-label="Model layers"]').exists()).toBe(true)
      expect(w.text()).toContain('Preset')
      w.unmount()
    } finally {
      log.mockRestore()
    }
  })
})
