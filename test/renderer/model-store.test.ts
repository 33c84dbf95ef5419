// @vitest-environment happy-dom
/**
 * Model store: `load()` fills info and layers from the VisApi, keeps IPC error codes for display,
 * clears stale data on failure, and reports `loading` while waiting. Model changes (open, pick,
 * upload, input spec) reload on success, keep the current model and report the code on failure,
 * follow `model:changed` events, and select the sidecar's default unit of a new model. The VisApi is a fake provided
 * at app level, as main.ts provides `window.vis`.
 */
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from 'vue'
import type { IpcResult, LayerInfo, ModelInfo, RecentModel, VisApi } from '../../src/shared/ipc-contract'
import { visApiKey } from '../../src/renderer/src/api/vis-api'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import { fakeVisApi } from './fake-vis-api'

const INFO: ModelInfo = {
  name: 'deepvis-shapes',
  format: 'layers-model',
  backend: 'wasm',
  backendDetail: '@tensorflow/tfjs-backend-wasm (simd)',
  inputSpec: { height: 64, width: 64, channelOrder: 'RGB', mean: [127.5, 127.5, 127.5], source: 'deepvis.json' },
  labelsCount: 3,
  path: '/models/deepvis-shapes',
  defaultUnit: null,
  inputSpecCorrected: false,
}
const LAYERS: LayerInfo[] = [
  { name: 'conv1', type: 'Conv2D', shape: [64, 64, 16], units: 16 },
  { name: 'logits', type: 'Dense', shape: [3], units: 3, labels: ['circle', 'square', 'star'] },
]

function fakeApi(overrides: Partial<VisApi> = {}): VisApi {
  return fakeVisApi({
    'model:info': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: INFO })),
    'model:layers': vi.fn(async (): Promise<IpcResult<LayerInfo[]>> => ({ ok: true, value: LAYERS })),
    ...overrides,
  }).api
}

/** A fresh pinia inside an app that provides `api`, made active for the store under test. */
function useStoreWith(api: VisApi): ReturnType<typeof useModelStore> {
  const app = createApp({})
  app.provide(visApiKey, api)
  const pinia = createPinia()
  app.use(pinia)
  setActivePinia(pinia)
  return useModelStore()
}

describe('useModelStore', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
  })

  it('starts empty', () => {
    const store = useStoreWith(fakeApi())
    expect(store.info).toBeNull()
    expect(store.layers).toEqual([])
    expect(store.error).toBeNull()
    expect(store.loading).toBe(false)
  })

  it('loads info and layers through the VisApi', async () => {
    const api = fakeApi()
    const store = useStoreWith(api)
    await store.load()
    expect(api['model:info']).toHaveBeenCalledTimes(1)
    expect(api['model:layers']).toHaveBeenCalledTimes(1)
    expect(store.info).toEqual(INFO)
    expect(store.layers).toEqual(LAYERS)
    expect(store.error).toBeNull()
    expect(store.loading).toBe(false)
  })

  it('is loading while the main process answers', async () => {
    let answer: (r: IpcResult<ModelInfo>) => void = () => undefined
    const store = useStoreWith(fakeApi({ 'model:info': () => new Promise((resolve) => { answer = resolve }) }))
    const done = store.load()
    expect(store.loading).toBe(true)
    answer({ ok: true, value: INFO })
    await done
    expect(store.loading).toBe(false)
  })

  it('keeps an error code from main and clears stale data', async () => {
    const results: IpcResult<ModelInfo>[] = [
      { ok: true, value: INFO },
      { ok: false, code: 'BAD_MODEL', message: 'no model.json in /models/deepvis-shapes' },
    ]
    const store = useStoreWith(fakeApi({ 'model:info': async () => results.shift()! }))
    await store.load()
    expect(store.info).toEqual(INFO)
    await store.load()
    expect(store.error).toEqual({ code: 'BAD_MODEL', message: 'no model.json in /models/deepvis-shapes' })
    expect(store.info).toBeNull()
  })

  it('reports a layers failure when info succeeded', async () => {
    const store = useStoreWith(fakeApi({ 'model:layers': async () => ({ ok: false, code: 'BACKEND', message: 'no backend' }) }))
    await store.load()
    expect(store.info).toEqual(INFO)
    expect(store.layers).toEqual([])
    expect(store.error).toEqual({ code: 'BACKEND', message: 'no backend' })
  })

  it('turns a rejected transport call into INTERNAL', async () => {
    const store = useStoreWith(fakeApi({ 'model:layers': () => Promise.reject(new Error('bridge gone')) }))
    await store.load()
    expect(store.error).toEqual({ code: 'INTERNAL', message: 'bridge gone' })
    expect(store.loading).toBe(false)
  })

  it('clears a previous error on a successful retry', async () => {
    let fail = true
    const store = useStoreWith(fakeApi({
      'model:info': async () => (fail ? { ok: false, code: 'BAD_MODEL', message: 'missing' } : { ok: true, value: INFO }),
    }))
    await store.load()
    expect(store.error?.code).toBe('BAD_MODEL')
    fail = false
    await store.load()
    expect(store.error).toBeNull()
    expect(store.info).toEqual(INFO)
  })

  it('falls back to window.vis when no VisApi is provided', async () => {
    const api = fakeApi()
    window.vis = api
    setActivePinia(createPinia())
    const store = useModelStore()
    await store.load()
    expect(api['model:info']).toHaveBeenCalled()
    expect(store.info).toEqual(INFO)
  })
})

describe('useModelStore: changing the model', () => {
  const OTHER: ModelInfo = {
    ...INFO, name: 'other', path: '/models/other', defaultUnit: { layer: 'logits', channel: 2 },
  }

  it('open: on success reloads info, layers and the recent list, and selects the default unit', async () => {
    let current = INFO
    const api = fakeApi({
      'model:info': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: current })),
      'model:open': vi.fn(async (p: string): Promise<IpcResult<ModelInfo>> => {
        current = { ...OTHER, path: p }
        return { ok: true, value: current }
      }),
      'model:recent': vi.fn(async () => ({ ok: true as const, value: [{ path: '/models/other', name: 'other', openedAt: '2026-01-01T00:00:00Z' }] })),
    })
    const store = useStoreWith(api)
    await store.load()
    const units = useUnitsStore()
    units.selectLayer('conv1')
    units.selectUnit(5)
    await expect(store.open('/models/other')).resolves.toBe(true)
    expect(api['model:open']).toHaveBeenCalledWith('/models/other')
    expect(store.info?.name).toBe('other')
    expect(store.recent.map((r) => r.path)).toEqual(['/models/other'])
    expect(store.changeError).toBeNull()
    expect(store.changing).toBe(false)
    expect(units.layerName).toBe('logits')
    expect(units.unitIndex).toBe(2)
  })

  it('keeps the current model and reports the code when a change fails', async () => {
    const api = fakeApi({
      'model:open': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: false, code: 'BAD_MODEL', message: 'no model.json in /x' })),
      'model:upload': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: false, code: 'BAD_MODEL', message: 'missing weight file w.bin' })),
    })
    const store = useStoreWith(api)
    await store.load()
    await expect(store.open('/x')).resolves.toBe(false)
    expect(store.changeError).toEqual({ code: 'BAD_MODEL', message: 'no model.json in /x' })
    expect(store.info).toEqual(INFO)
    expect(store.layers).toEqual(LAYERS)
    expect(store.error).toBeNull()
    expect(api['model:info']).toHaveBeenCalledTimes(1)
    await store.upload([{ name: 'model.json', base64: 'e30=' }])
    expect(api['model:upload']).toHaveBeenCalledWith([{ name: 'model.json', base64: 'e30=' }])
    expect(store.changeError?.message).toBe('missing weight file w.bin')
    store.clearChangeError()
    expect(store.changeError).toBeNull()
  })

  it('pick: a cancelled dialog (null) changes nothing; setInputSpec passes the override or null', async () => {
    const api = fakeApi({
      'model:pick': vi.fn(async (): Promise<IpcResult<ModelInfo | null>> => ({ ok: true, value: null })),
      'model:setInputSpec': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: { ...INFO, inputSpecCorrected: true } })),
    })
    const store = useStoreWith(api)
    await expect(store.pick()).resolves.toBe(false)
    expect(api['model:info']).not.toHaveBeenCalled()
    await store.setInputSpec({ height: 96, width: 96 })
    await store.setInputSpec(null)
    expect(vi.mocked(api['model:setInputSpec']).mock.calls).toEqual([[{ height: 96, width: 96 }], [null]])
    expect(api['model:info']).toHaveBeenCalledTimes(2)
  })

  it('reloads on a model:changed event from elsewhere, but not twice for its own change', async () => {
    const fake = fakeVisApi({
      'model:info': vi.fn(async (): Promise<IpcResult<ModelInfo>> => ({ ok: true, value: INFO })),
      'model:layers': vi.fn(async (): Promise<IpcResult<LayerInfo[]>> => ({ ok: true, value: LAYERS })),
    })
    fake.api['model:open'] = vi.fn(async (): Promise<IpcResult<ModelInfo>> => {
      fake.emit('model:changed', INFO)
      return { ok: true, value: INFO }
    })
    const store = useStoreWith(fake.api)
    fake.emit('model:changed', INFO)
    await vi.waitFor(() => expect(store.info).toEqual(INFO))
    expect(fake.api['model:info']).toHaveBeenCalledTimes(1)
    await store.open('/m')
    expect(fake.api['model:info']).toHaveBeenCalledTimes(2)
  })

  it('loadRecent keeps the old list when the call fails', async () => {
    const answers: IpcResult<RecentModel[]>[] = [
      { ok: true, value: [{ path: '/a', name: 'a', openedAt: 't' }] },
      { ok: false, code: 'INTERNAL', message: 'x' },
    ]
    const store = useStoreWith(fakeApi({ 'model:recent': async () => answers.shift()! }))
    await store.loadRecent()
    await store.loadRecent()
    expect(store.recent.map((r) => r.name)).toEqual(['a'])
  })
})
