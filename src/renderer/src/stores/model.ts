/**
 * Model store: what the renderer knows about the loaded model (info for the model panel, the
 * layer catalog for the layer browser), filled by `load()` from the main process over the `VisApi`,
 * and the actions that change the model: open a folder by path, pick one in a dialog (Electron),
 * upload files (web mode, drag and drop), correct the input spec, and the recent-models list.
 *
 * - `load()` failures (no model at all) land in `error`, which the app shows with a Retry.
 * - A failed change (bad folder, incomplete upload, a size the model cannot take) lands in
 *   `changeError` instead: the main process keeps the current model, so info and layers stay as
 *   they are and the panel shows the code and message.
 * - After a successful change, and on every `model:changed` event (another window or browser tab
 *   changed it), `load()` runs again. When a different model arrived, its sidecar's default unit is
 *   selected in the units store.
 * Shape: `useModelStore() => { info, layers, error, loading, changing, changeError, recent,
 *   load, open, pick, upload, setInputSpec, loadRecent, clearChangeError }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ErrorCode, InputSpecOverride, IpcResult, LayerInfo, ModelInfo, RecentModel, UploadedFile } from '../../../shared/ipc-contract'
import { useVisApi } from '../api/vis-api'
import { useUnitsStore } from './units'

/** An IPC failure as the UI shows it. */
export interface ModelStoreError {
  code: ErrorCode
  message: string
}

function failure(e: unknown): ModelStoreError {
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
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
  /** True while a model change (open, pick, upload, input spec) is on its way. */
  const changing = ref(false)
  /** Why the last model change failed (the current model is still loaded), or null. */
  const changeError = ref<ModelStoreError | null>(null)
  /** Recently opened models, newest first. */
  const recent = shallowRef<RecentModel[]>([])

  /** Select the sidecar's default unit, if the layer exists (units store: public actions only). */
  function selectDefaultUnit(model: ModelInfo): void {
    const unit = model.defaultUnit
    if (!unit || !layers.value.some((l) => l.name === unit.layer)) return
    const units = useUnitsStore()
    units.selectLayer(unit.layer)
    units.selectUnit(unit.channel)
  }

  /** Fetch model info and layers; on failure keep the error and clear what is stale. */
  async function load(): Promise<void> {
    const previousPath = info.value?.path ?? null
    loading.value = true
    error.value = null
    try {
      const [infoRes, layersRes] = await Promise.all([api['model:info'](), api['model:layers']()])
      info.value = infoRes.ok ? infoRes.value : null
      layers.value = layersRes.ok ? layersRes.value : []
      if (!infoRes.ok) error.value = { code: infoRes.code, message: infoRes.message }
      else if (!layersRes.ok) error.value = { code: layersRes.code, message: layersRes.message }
      else if (infoRes.value.path !== previousPath) selectDefaultUnit(infoRes.value)
    } catch (e) {
      // The transport itself failed (it never should: main answers every call with a result).
      info.value = null
      layers.value = []
      error.value = failure(e)
    } finally {
      loading.value = false
    }
  }

  /** Fetch the recent-models list (a failure leaves the list as it was). */
  async function loadRecent(): Promise<void> {
    try {
      const res = await api['model:recent']()
      if (res.ok) recent.value = res.value
    } catch {
      // The list is a convenience: keep the old one.
    }
  }

  /**
   * Run one model change; on success reload info, layers and the recent list. Resolves true when
   * the model changed, false when it failed (see `changeError`) or the user cancelled a dialog.
   */
  async function change(call: () => Promise<IpcResult<ModelInfo | null>>): Promise<boolean> {
    changing.value = true
    changeError.value = null
    try {
      const res = await call()
      if (!res.ok) {
        changeError.value = { code: res.code, message: res.message }
        return false
      }
      if (res.value === null) return false
      await Promise.all([load(), loadRecent()])
      return true
    } catch (e) {
      changeError.value = failure(e)
      return false
    } finally {
      changing.value = false
    }
  }

  /** Open a model folder (or model.json) on the engine's machine. */
  function open(modelPath: string): Promise<boolean> {
    return change(() => api['model:open'](modelPath))
  }

  /** Choose a model folder in the host's dialog (Electron); cancelling changes nothing. */
  function pick(): Promise<boolean> {
    return change(() => api['model:pick']())
  }

  /** Load a model from uploaded files (model.json, shards, optional deepvis.json and labels). */
  function upload(files: UploadedFile[]): Promise<boolean> {
    return change(() => api['model:upload'](files))
  }

  /** Correct the input spec (size, channel order, mean); null restores the model's own. */
  function setInputSpec(override: InputSpecOverride | null): Promise<boolean> {
    return change(() => api['model:setInputSpec'](override))
  }

  function clearChangeError(): void {
    changeError.value = null
  }

  // Another window (or browser tab) changed the model: follow it. Our own changes reload in change().
  api.on('model:changed', () => {
    if (changing.value) return
    void load()
    void loadRecent()
  })

  /** Set when the engine was replaced after a crash: what the user is told (dismissable). */
  const engineNotice = ref<{ code: string; message: string } | null>(null)
  api.on('engine:restarted', ({ reason, model }) => {
    engineNotice.value = {
      code: 'ENGINE_RESTARTED',
      message: `${reason}. A fresh engine took over${model ? ` with ${model.name} loaded` : ''}; runs in progress were stopped and can be started again.`,
    }
    void load()
  })
  function clearEngineNotice(): void {
    engineNotice.value = null
  }

  return {
    info, layers, error, loading, changing, changeError, recent, engineNotice,
    load, open, pick, upload, setInputSpec, loadRecent, clearChangeError, clearEngineNotice,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useModelStore, import.meta.hot))
