// @vitest-environment happy-dom
/**
 * Model store: `load()` fills info and layers from the VisApi, keeps IPC error codes for display,
 * clears stale data on failure, and reports `loading` while waiting. The VisApi is a fake provided
 * at app level, as main.ts provides `window.vis`.
 */
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp } from 'vue'
import type { IpcResult, LayerInfo, ModelInfo, VisApi } from '../../src/shared/ipc-contract'
import { visApiKey } from '../../src/renderer/src/api/vis-api'
import { useModelStore } from '../../src/renderer/src/stores/model'
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
