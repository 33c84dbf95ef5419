// @vitest-environment happy-dom
/**
 * ModelPanel: the facts with the "corrected" badge; "Open model…" by typed path (web) or dialog
 * (Electron); uploads (folder input and window-wide drop) sent as base64 of the files' exact bytes;
 * a failed change shown with its code while the old model's facts stay; the input-spec editor's
 * inline validation (nothing sent for invalid fields), Apply and Reset; the recent list.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import ModelPanel from '../../src/renderer/src/components/ModelPanel.vue'
import { useModelStore } from '../../src/renderer/src/stores/model'
import type { AppInfo } from '../../src/shared/app-types'
import type { IpcResult, ModelInfo, RecentModel, VisApi } from '../../src/shared/ipc-contract'
import { saveModelState } from '../../src/renderer/src/session/session'
import { fakeVisApi, installPinia } from './fake-vis-api'

const INFO: ModelInfo = {
  name: 'deepvis-shapes',
  format: 'layers-model',
  backend: 'cpu',
  backendDetail: '@tensorflow/tfjs-backend-cpu',
  inputSpec: { height: 64, width: 64, channelOrder: 'RGB', mean: [127.5, 127.5, 127.5], source: 'deepvis.json' },
  labelsCount: 3,
  path: '/models/deepvis-shapes',
  defaultUnit: null,
  inputSpecCorrected: false,
}
const OTHER: ModelInfo = { ...INFO, name: 'other net', path: '/models/other' }
const RECENT: RecentModel[] = [
  { path: '/models/other', name: 'other net', openedAt: '2026-01-02T00:00:00Z' },
  { path: '/models/deepvis-shapes', name: 'deepvis-shapes', openedAt: '2026-01-01T00:00:00Z' },
]

async function mountPanel(overrides: Partial<VisApi> = {}, app: Partial<AppInfo> = {}) {
  let current = INFO
  const fake = fakeVisApi({
    'app:info': vi.fn(async () => ({ ok: true as const, value: { mode: 'web' as const, version: '1', canPickFolders: false, dataDir: '/d', ...app } })),
    'model:info': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: current })),
    'model:recent': vi.fn(async () => ({ ok: true as const, value: RECENT })),
    'model:open': vi.fn(async (p: string): Promise<IpcResult<ModelInfo>> => {
      current = { ...OTHER, path: p }
      return { ok: true, value: current }
    }),
    ...overrides,
  })
  const pinia = installPinia(fake.api)
  const store = useModelStore()
  await store.load()
  const w = mount(ModelPanel, { global: { plugins: [pinia] }, attachTo: document.body })
  await flushPromises()
  return { w, api: fake.api, store }
}

/** Reference base64 of bytes (the browser's btoa over a byte string). */
function base64Of(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
}

/** A DragEvent-like event carrying files (happy-dom has no DataTransfer constructor to fill). */
function dragEvent(type: string, files: File[]): Event {
  const e = new Event(type, { bubbles: true, cancelable: true })
  Object.defineProperty(e, 'dataTransfer', { value: { types: ['Files'], files, items: undefined, dropEffect: 'none' } })
  return e
}

describe('ModelPanel', () => {
  it('shows the facts, and the corrected badge only for a corrected spec', async () => {
    const { w, store } = await mountPanel()
    expect(w.find('.model-panel__name').text()).toBe('deepvis-shapes')
    expect(w.text()).toContain('64×64 RGB')
    expect(w.find('.model-panel__badge').exists()).toBe(false)
    store.info = { ...INFO, inputSpecCorrected: true, inputSpec: { ...INFO.inputSpec, source: 'deepvis.json + user correction' } }
    await w.vm.$nextTick()
    expect(w.find('.model-panel__badge').text()).toBe('corrected')
    w.unmount()
  })

  it('web mode: opens a typed path and shows the new model', async () => {
    const { w, api } = await mountPanel()
    await w.find('.model-open__button').trigger('click')
    await w.find('input[name="modelPath"]').setValue('  /models/other  ')
    await w.find('.model-open__form').trigger('submit')
    await flushPromises()
    expect(api['model:open']).toHaveBeenCalledWith('/models/other')
    expect(api['model:pick']).not.toHaveBeenCalled()
    expect(w.find('.model-panel__name').text()).toBe('other net')
    expect(w.find('.model-open__form').exists()).toBe(false)
    w.unmount()
  })

  it('Electron: "Open model…" asks the host dialog instead', async () => {
    const { w, api } = await mountPanel({ 'model:pick': vi.fn(async () => ({ ok: true as const, value: null })) }, { mode: 'electron', canPickFolders: true })
    await w.find('.model-open__button').trigger('click')
    await flushPromises()
    expect(api['model:pick']).toHaveBeenCalledTimes(1)
    expect(w.find('.model-open__form').exists()).toBe(false)
    w.unmount()
  })

  it('shows a failed open with its code while the old model stays', async () => {
    const { w } = await mountPanel({
      'model:open': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: false, code: 'BAD_MODEL', message: 'no model.json in /nope' })),
    })
    await w.find('.model-open__button').trigger('click')
    await w.find('input[name="modelPath"]').setValue('/nope')
    await w.find('.model-open__form').trigger('submit')
    await flushPromises()
    const alert = w.find('[role="alert"]')
    expect(alert.text()).toContain('BAD_MODEL')
    expect(alert.text()).toContain('no model.json in /nope')
    expect(w.find('.model-panel__name').text()).toBe('deepvis-shapes')
    w.unmount()
  })

  it('uploads a chosen folder as base64 of each file\'s bytes, skipping hidden files', async () => {
    const upload = vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: OTHER }))
    const { w } = await mountPanel({ 'model:upload': upload })
    await w.find('.model-open__button').trigger('click')
    const bytes = new Uint8Array([0, 1, 2, 250, 251, 252, 253, 254, 255])
    const files = [
      new File(['{"modelTopology":{}}'], 'model.json'),
      new File([bytes], 'group1-shard1of1.bin'),
      new File(['junk'], '.DS_Store'),
    ]
    const input = w.find('input[name="upload"]')
    Object.defineProperty(input.element, 'files', { value: files, configurable: true })
    await input.trigger('change')
    // FileReader answers on a later task.
    await vi.waitFor(() => expect(upload).toHaveBeenCalled())
    await flushPromises()
    expect(upload).toHaveBeenCalledWith([
      { name: 'group1-shard1of1.bin', base64: base64Of(bytes) },
      { name: 'model.json', base64: base64Of(new TextEncoder().encode('{"modelTopology":{}}')) },
    ])
    expect(w.text()).toContain('Not uploaded: .DS_Store')
    w.unmount()
  })

  it('uploads one chosen .onnx file', async () => {
    const upload = vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: OTHER }))
    const { w } = await mountPanel({ 'model:upload': upload })
    await w.find('.model-open__button').trigger('click')
    const input = w.find('input[name="upload-onnx"]')
    expect(input.attributes('accept')).toBe('.onnx')
    const bytes = new Uint8Array([8, 7, 18, 4])
    Object.defineProperty(input.element, 'files', { value: [new File([bytes], 'resnet18.onnx')], configurable: true })
    await input.trigger('change')
    await vi.waitFor(() => expect(upload).toHaveBeenCalled())
    expect(upload).toHaveBeenCalledWith([{ name: 'resnet18.onnx', base64: base64Of(bytes) }])
    w.unmount()
  })

  it('shows a drop hint while files are dragged over the window and uploads dropped files', async () => {
    const upload = vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: OTHER }))
    const { w } = await mountPanel({ 'model:upload': upload })
    const files = [new File(['{}'], 'model.json')]
    window.dispatchEvent(dragEvent('dragenter', files))
    await w.vm.$nextTick()
    expect(w.find('.model-panel__drop').exists()).toBe(true)
    window.dispatchEvent(dragEvent('drop', files))
    await vi.waitFor(() => expect(upload).toHaveBeenCalled())
    expect(w.find('.model-panel__drop').exists()).toBe(false)
    expect(upload).toHaveBeenCalledWith([{ name: 'model.json', base64: base64Of(new TextEncoder().encode('{}')) }])
    // Unmounted: the window listeners are gone.
    w.unmount()
    const late = dragEvent('drop', files)
    window.dispatchEvent(late)
    expect(late.defaultPrevented).toBe(false)
    expect(upload).toHaveBeenCalledTimes(1)
  })

  it('spec editor: invalid fields show inline messages and send nothing; valid ones are applied; Reset sends null', async () => {
    const setSpec = vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: INFO }))
    const { w } = await mountPanel({ 'model:setInputSpec': setSpec })
    await w.find('.model-panel__toggle').trigger('click')
    expect((w.find('input[name="mean"]').element as HTMLInputElement).value).toBe('127.5, 127.5, 127.5')
    await w.find('input[name="height"]').setValue('abc')
    await w.find('input[name="width"]').setValue('2')
    await w.find('input[name="mean"]').setValue('1, 2')
    await w.find('.spec-editor').trigger('submit')
    await flushPromises()
    const msgs = Object.fromEntries(w.findAll('.spec-editor__errors li').map((li) => [li.attributes('data-field'), li.text()]))
    expect(Object.keys(msgs).sort()).toEqual(['height', 'mean', 'width'])
    expect(msgs['mean']).toContain('1 value')
    expect(msgs['width']).toContain('between')
    expect(setSpec).not.toHaveBeenCalled()

    await w.find('input[name="height"]').setValue('96')
    await w.find('input[name="width"]').setValue('80')
    await w.find('select[name="channelOrder"]').setValue('BGR')
    await w.find('input[name="mean"]').setValue('104 117 123')
    await w.find('.spec-editor').trigger('submit')
    await flushPromises()
    expect(w.find('.spec-editor__errors').exists()).toBe(false)
    expect(setSpec).toHaveBeenLastCalledWith({ height: 96, width: 80, channelOrder: 'BGR', mean: [104, 117, 123] })
    w.unmount()
  })

  it('spec editor: Reset restores the model\'s own spec (null)', async () => {
    const setSpec = vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: INFO }))
    const { w, store } = await mountPanel({ 'model:setInputSpec': setSpec })
    store.info = { ...INFO, inputSpecCorrected: true }
    await w.find('.model-panel__toggle').trigger('click')
    const reset = w.findAll('.spec-editor__actions button').find((b) => b.text() === 'Reset')!
    await reset.trigger('click')
    await flushPromises()
    expect(setSpec).toHaveBeenCalledWith(null)
    w.unmount()
  })

  it('lists the recent models and opens one on click', async () => {
    const { w, api } = await mountPanel()
    const items = w.findAll('.model-open__recent li button')
    expect(items.map((b) => b.text())).toEqual(['other net', 'deepvis-shapes'])
    expect(items[1].classes()).toContain('is-current')
    await items[0].trigger('click')
    await flushPromises()
    expect(api['model:open']).toHaveBeenCalledWith('/models/other')
    expect(w.find('.model-panel__name').text()).toBe('other net')
    w.unmount()
  })

  it('lists the loaded model and the ones this window had loaded (the embedded default) although the host list lacks them', async () => {
    localStorage.clear()
    saveModelState('/models/embedded', { name: 'DeepVis shapes (embedded default model)', layer: 'logits', unit: 4, params: null })
    const { w } = await mountPanel({ 'model:recent': vi.fn(async () => ({ ok: true as const, value: [] })) })
    const items = w.findAll('.model-open__recent li button')
    expect(items.map((b) => b.text())).toEqual([INFO.name, 'DeepVis shapes (embedded default model)'])
    expect(items[0].classes()).toContain('is-current')
    localStorage.clear()
    w.unmount()
  })

  it('offers opening a model when none is loaded', async () => {
    const { w } = await mountPanel({ 'model:info': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: false, code: 'BAD_MODEL', message: 'missing' })) })
    expect(w.text()).toContain('No model loaded.')
    expect(w.find('.model-open__button').exists()).toBe(true)
    w.unmount()
  })
})
