/**
 * Live store: the current input image of the live view (a file, a folder image, a camera frame),
 * the selected layer's activations on it, the grid's colour scale, the folder being walked, the
 * camera's frame rate, the unit page's gradient views and top-k images, and the background index of
 * a folder. Layer and unit come from the units store (a tile click selects the unit everywhere).
 * Requests are latest-wins: an answer for an older image, layer or unit is dropped.
 * Shape: `useLiveStore() => { image, activations, scale, folder, ... setImage, openFolder, step, ... }`
 */
import { acceptHMRUpdate, defineStore, storeToRefs } from 'pinia'
import { ref, shallowRef, watch } from 'vue'
import { DEFAULT_FIT_POLICY, type FitPolicy } from '../../../shared/fit-policy'
import type { IpcResult } from '../../../shared/ipc-contract'
import type { IndexTop, LiveActivations, LiveGradients, LiveImage } from '../../../shared/live-types'
import { GRADIENT_VIEW_MODES } from '../../../shared/live-types'
import { callIpc } from '../api/call-ipc'
import { useVisApi } from '../api/vis-api'
import type { StoreError } from './params'
import { useUnitsStore } from './units'

/** Where the current image came from. */
export type ImageSource = 'file' | 'folder' | 'camera' | 'index'

export interface CurrentImage {
  image: LiveImage
  /** Data URL of the fitted image, for display. */
  url: string
  name: string
  source: ImageSource
}

export interface IndexState {
  folder: string
  layer: string
  jobId: string | null
  done: number
  total: number
  failed: number
  rate: number
  status: 'running' | 'done' | 'cancelled' | 'failed'
  error?: string
}

/** Top images shown on the unit page. */
export const TOP_K = 9

export const useLiveStore = defineStore('live', () => {
  const api = useVisApi()
  const units = useUnitsStore()
  const { layerName, unitIndex } = storeToRefs(units)

  const current = shallowRef<CurrentImage | null>(null)
  const fit = ref<FitPolicy>(DEFAULT_FIT_POLICY)
  const activations = shallowRef<LiveActivations | null>(null)
  const scale = ref<'tile' | 'shared'>('tile')
  const error = ref<StoreError | null>(null)
  const folder = ref('')
  const folderImages = shallowRef<string[]>([])
  const folderAt = ref(-1)
  const gradients = shallowRef<LiveGradients | null>(null)
  const gradientsBusy = ref(false)
  const top = shallowRef<IndexTop | null>(null)
  const topError = ref<string | null>(null)
  const index = ref<IndexState | null>(null)
  /** Whether an activations request is in flight (the camera waits for it). */
  const busy = ref(false)
  let actSeq = 0
  /** The latest folder-image request, and the folder position it asked for (null: none in flight). */
  let imageSeq = 0
  let pendingAt: number | null = null
  let gradSeq = 0
  let topSeq = 0

  const call = <T>(fn: () => Promise<IpcResult<T>>, onError: (e: StoreError) => void = (e) => { error.value = e }): Promise<T | null> => callIpc(fn, onError)

  /** Run the selected layer on the current image; resolves when the answer (or error) is in. */
  async function refreshActivations(): Promise<void> {
    const img = current.value
    const layer = layerName.value
    if (!img || !layer) { activations.value = null; return }
    const seq = ++actSeq
    busy.value = true
    const res = await call(() => api['live:activations']({ image: img.image, layer }))
    if (seq === actSeq) busy.value = false
    if (seq !== actSeq || !res) return
    activations.value = res
    error.value = null
  }

  /** The three gradient views of the selected unit on the current image. */
  async function refreshGradients(): Promise<void> {
    const img = current.value
    const layer = layerName.value
    if (!img || !layer) { gradients.value = null; return }
    const seq = ++gradSeq
    gradientsBusy.value = true
    const res = await call(() => api['live:gradients']({ image: img.image, layer, channel: unitIndex.value, spatial: null, modes: [...GRADIENT_VIEW_MODES] }))
    if (seq !== gradSeq) return
    gradientsBusy.value = false
    gradients.value = res
  }

  /** The selected unit's top images from the index of `folder` (null when not indexed yet). */
  async function refreshTop(): Promise<void> {
    const layer = layerName.value
    if (!folder.value || !layer || index.value?.status !== 'done' || index.value.layer !== layer) { top.value = null; return }
    const seq = ++topSeq
    topError.value = null
    const res = await call(() => api['index:top']({ folder: folder.value, layer, unit: unitIndex.value, k: TOP_K }), (e) => { if (seq === topSeq) topError.value = e.message })
    if (seq === topSeq) top.value = res
  }

  /** Make `img` the input; `refresh` false leaves running the layer to the caller (the camera loop awaits it). */
  function setImage(img: CurrentImage, refresh = true): void {
    current.value = img
    if (refresh) void refreshActivations()
  }

  /** List the images of a folder on the engine's machine and show the first. */
  async function openFolder(path: string): Promise<void> {
    const res = await call(() => api['live:folder'](path))
    if (!res) return
    folder.value = res.folder
    folderImages.value = res.images
    folderAt.value = -1
    pendingAt = null
    await step(1)
  }

  /**
   * Show the folder's image `delta` away from the current one (wrapping). Steps taken while an image is
   * still loading count from the position last asked for, so two quick arrow presses move by two.
   */
  async function step(delta: number): Promise<void> {
    const n = folderImages.value.length
    if (n === 0) return
    const at = (((pendingAt ?? folderAt.value) + delta) % n + n) % n
    await showFolderImage(folderImages.value[at], at)
  }

  /** Load one image of the folder as the input; only the latest request's answer is shown. */
  async function showFolderImage(name: string, at = folderImages.value.indexOf(name), source: ImageSource = 'folder'): Promise<void> {
    const seq = ++imageSeq
    pendingAt = at >= 0 ? at : null
    const res = await call(() => api['live:image']({ folder: folder.value, image: name, fit: fit.value }))
    if (seq !== imageSeq) return
    pendingAt = null
    if (!res) return
    if (at >= 0) folderAt.value = at
    setImage({ image: { width: res.width, height: res.height, rgb: res.rgb }, url: res.png, name: res.name, source })
  }

  /** Index `folder` for the selected layer in the background (a cached index is found at once). */
  async function buildIndex(): Promise<void> {
    const layer = layerName.value
    if (!folder.value || !layer) return
    const res = await call(() => api['index:build']({ folder: folder.value, layer }))
    if (!res) return
    index.value = { folder: folder.value, layer, jobId: res.jobId, done: res.cached ? res.total : 0, total: res.total, failed: 0, rate: 0, status: 'running' }
  }

  function cancelIndex(): void {
    if (index.value?.jobId && index.value.status === 'running') void api['index:cancel'](index.value.jobId)
  }

  api.on('index:progress', (p) => {
    if (index.value?.jobId !== p.jobId) return
    index.value = { ...index.value, done: p.done, total: p.total, failed: p.failed, rate: p.rate }
  })
  api.on('index:done', (d) => {
    if (index.value?.jobId !== d.jobId) return
    index.value = { ...index.value, status: d.status, error: d.error, rate: d.imagesPerSecond || index.value.rate }
    void refreshTop()
  })
  // Another model: nothing computed on the old one applies.
  api.on('model:changed', () => {
    activations.value = null
    gradients.value = null
    top.value = null
    index.value = null
    current.value = null
  })

  watch(layerName, () => { activations.value = null; void refreshActivations() })
  watch([layerName, unitIndex], () => { void refreshTop() })

  return {
    current, fit, activations, scale, error, folder, folderImages, folderAt, gradients, gradientsBusy, top, topError, index, busy,
    setImage, refreshActivations, refreshGradients, refreshTop, openFolder, step, showFolderImage, buildIndex, cancelIndex,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useLiveStore, import.meta.hot))
