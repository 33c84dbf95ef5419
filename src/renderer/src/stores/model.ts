/**
 * Model store: what the renderer knows about the loaded model (info for the model panel, the
 * layer catalog for the layer browser), filled by one `load()` that asks the main process over
 * the `VisApi`. IPC failures arrive as error codes and are kept in `error` for display.
 * Shape: `useModelStore() => { info, layers, error, loading, load }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ErrorCode, LayerInfo, ModelInfo } from '../../../shared/ipc-contract'
import { useVisApi } from '../api/vis-api'

/** An IPC failure as the UI shows it. */
export interface ModelStoreError {
  code: ErrorCode
  message: string
}

export const useModelStore = defineStore('model', () => {
  const api = useVisApi()
  /** Model name, format, backend and input spec; null until loaded. */
  const info = ref<ModelInfo | null>(null)
  /** Every layer of the model; replaced as a whole, never deep-mutated (labels can be long). */
  const layers = shallowRef<LayerInfo[]>([])
  /** The first failure of the last `load()`, or null. */
  const error = ref<ModelStoreError | null>(null)
  /** True while `load()` is waiting for the main process. */
  const loading = ref(false)

  /** Fetch model info and layers; on failure keep the error and clear what is stale. */
  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const [infoRes, layersRes] = await Promise.all([api['model:info'](), api['model:layers']()])
      info.value = infoRes.ok ? infoRes.value : null
      layers.value = layersRes.ok ? layersRes.value : []
      if (!infoRes.ok) error.value = { code: infoRes.code, message: infoRes.message }
      else if (!layersRes.ok) error.value = { code: layersRes.code, message: layersRes.message }
    } catch (e) {
      // The transport itself failed (it never should: main answers every call with a result).
      info.value = null
      layers.value = []
      error.value = { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
    } finally {
      loading.value = false
    }
  }

  return { info, layers, error, loading, load }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useModelStore, import.meta.hot))
