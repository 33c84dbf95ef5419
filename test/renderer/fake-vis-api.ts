/**
 * A fake VisApi for renderer tests: every channel answers from fixtures, `emit` pushes events to
 * subscribed listeners, and `install` provides it to a fresh pinia app.
 * Shape: `fakeVisApi(overrides?) => { api, emit }`; `installPinia(api) => Pinia`
 */
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import { vi } from 'vitest'
import { createApp } from 'vue'
import type { EventChannel, EventMap, LayerInfo, ModelInfo, VisApi } from '../../src/shared/ipc-contract'
import type { PresetInfo, RunDetail, RunSummary } from '../../src/shared/run-types'
import { visApiKey } from '../../src/renderer/src/api/vis-api'

export const LAYERS: LayerInfo[] = [
  { name: 'conv1', type: 'Conv2D', shape: [8, 6, 20], units: 20 },
  { name: 'logits', type: 'Dense', shape: [3], units: 3, labels: ['circle', 'square', 'star'] },
]

export const PRESETS: PresetInfo[] = [
  { name: 'yosinski-2', description: 'decay 0.3', params: { decay: 0.3, blur_radius: 0, blur_every: 0, small_norm_percentile: 20, max_iter: 750, lr_policy: 'constant', lr_params: { lr: 100 } } },
  { name: 'yosinski-1', description: 'blur', params: { decay: 0, blur_radius: 0.5, blur_every: 4, small_norm_percentile: 50, max_iter: 500, lr_policy: 'progress', lr_params: { max_lr: 100, desired_prog: 2 } } },
]

/** A loaded model named 'm' (the fixtures' runs are of model 'm'). */
export const MODEL_INFO: ModelInfo = {
  name: 'm', format: 'layers-model', backend: 'cpu', backendDetail: 'cpu',
  inputSpec: { height: 64, width: 64, channelOrder: 'RGB', mean: [127.5, 127.5, 127.5], source: 'default' },
  labelsCount: 3, path: '/models/m', defaultUnit: null, inputSpecCorrected: false,
}

export function summary(over: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'r1', status: 'done', createdAt: '2026-01-01T00:00:00Z', modelName: 'm', layer: 'logits', channel: 1, label: 'square',
    preset: null, maxIter: 10, iterations: 10, metaResult: 'Metaresult: majority success', best: { ii: 9, obj: 5.5 }, last: { ii: 9, obj: 5.5 },
    majority: { ii: 3, obj: 2 }, backend: 'cpu', compareGroup: null, ...over,
  }
}

export function detail(over: Partial<RunDetail> = {}): RunDetail {
  const img = { x: 'data:image/png;base64,AAAA', xpm: 'data:image/png;base64,BBBB' }
  return {
    ...summary(),
    params: {} as RunDetail['params'],
    series: { obj: [], norm: [], std: [], lr: [], wall_ms: [] },
    images: { best: img, last: img, majority: img },
    folder: '/tmp/x',
    ...over,
  }
}

export function fakeVisApi(overrides: Partial<VisApi> = {}) {
  const listeners: { [K in EventChannel]: ((p: EventMap[K]) => void)[] } = {
    'run:progress': [], 'run:done': [], 'model:changed': [], 'engine:restarted': [], 'units:thumb': [], 'units:done': [],
    'index:progress': [], 'index:done': [],
  }
  const unused = async () => ({ ok: false as const, code: 'INTERNAL' as const, message: 'unused' })
  const api: VisApi = {
    'app:info': vi.fn(async () => ({ ok: true as const, value: { mode: 'web' as const, version: '0.0.0', canPickFolders: false, dataDir: '/tmp/deepvis' } })),
    'model:info': vi.fn(unused),
    'model:layers': vi.fn(async () => ({ ok: true as const, value: LAYERS })),
    'model:open': vi.fn(unused),
    'model:pick': vi.fn(unused),
    'model:upload': vi.fn(unused),
    'model:recent': vi.fn(async () => ({ ok: true as const, value: [] })),
    'model:setInputSpec': vi.fn(unused),
    'run:export': vi.fn(unused),
    'units:render': vi.fn(async () => ({ ok: true as const, value: { jobId: 'j1', total: 0, cached: 0 } })),
    'units:cancel': vi.fn(async () => ({ ok: true as const, value: undefined })),
    'units:thumbs': vi.fn(async () => ({ ok: true as const, value: [] })),
    'atlas:open': vi.fn(unused),
    'atlas:pick': vi.fn(unused),
    'atlas:thumbs': vi.fn(unused),
    'atlas:unit': vi.fn(unused),
    'presets:list': vi.fn(async () => ({ ok: true as const, value: PRESETS })),
    'run:start': vi.fn(async () => ({ ok: true as const, value: { runId: 'r1' } })),
    'run:stop': vi.fn(async () => ({ ok: true as const, value: undefined })),
    'runs:list': vi.fn(async () => ({ ok: true as const, value: [] })),
    'runs:get': vi.fn(async (runId: string) => ({ ok: true as const, value: detail({ runId }) })),
    'runs:delete': vi.fn(async () => ({ ok: true as const, value: undefined })),
    'live:activations': vi.fn(unused),
    'live:gradients': vi.fn(unused),
    'live:folder': vi.fn(unused),
    'live:image': vi.fn(unused),
    'index:build': vi.fn(unused),
    'index:cancel': vi.fn(async () => ({ ok: true as const, value: undefined })),
    'index:top': vi.fn(unused),
    on: vi.fn(<K extends EventChannel>(channel: K, fn: (p: EventMap[K]) => void) => {
      listeners[channel].push(fn)
      return () => {
        const i = listeners[channel].indexOf(fn)
        if (i >= 0) listeners[channel].splice(i, 1)
      }
    }) as VisApi['on'],
    ...overrides,
  }
  function emit<K extends EventChannel>(channel: K, payload: EventMap[K]): void {
    for (const fn of listeners[channel]) fn(payload)
  }
  return { api, emit }
}

/**
 * A fresh pinia inside an app that provides `api`, made active. Pass it to mount's global.plugins;
 * `api` is also set as `window.vis`, which stores first used inside a mounted component fall back to.
 */
export function installPinia(api: VisApi): Pinia {
  window.vis = api
  const app = createApp({})
  app.provide(visApiKey, api)
  const pinia = createPinia()
  app.use(pinia)
  setActivePinia(pinia)
  return pinia
}
