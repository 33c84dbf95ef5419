/**
 * History store: the stored runs (newest first), the run open in the gallery with its images, and a
 * thumbnail per unit that has a run (shown in the unit browser). Talks to runs:list / runs:get /
 * runs:delete; failures are kept in `error` for an inline banner.
 * Shape: `useHistoryStore() => { runs, current, thumbnails, error, loading, load, open, remove, recordDone, thumbnailKey }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { IpcResult } from '../../../shared/ipc-contract'
import type { RunDetail, RunSummary } from '../../../shared/run-types'
import { useVisApi } from '../api/vis-api'
import type { StoreError } from './params'

/** Key of a unit's thumbnail: `layer#channel`. */
export function thumbnailKey(layer: string, channel: number): string {
  return `${layer}#${channel}`
}

export const useHistoryStore = defineStore('history', () => {
  const api = useVisApi()
  /** Stored runs, newest first; replaced as a whole. */
  const runs = shallowRef<RunSummary[]>([])
  /** The run shown in the gallery, with its images; null when none is open. */
  const current = shallowRef<RunDetail | null>(null)
  /** Thumbnail (PNG data URL) per unit key; replaced as a whole. */
  const thumbnails = shallowRef<Record<string, string>>({})
  const error = ref<StoreError | null>(null)
  const loading = ref(false)

  /** Run an IPC call; on failure keep the error and return null. */
  async function call<T>(fn: () => Promise<IpcResult<T>>): Promise<T | null> {
    try {
      const res = await fn()
      if (res.ok) return res.value
      error.value = { code: res.code, message: res.message }
    } catch (e) {
      error.value = { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
    }
    return null
  }

  function setThumbnail(layer: string, channel: number, url: string): void {
    thumbnails.value = { ...thumbnails.value, [thumbnailKey(layer, channel)]: url }
  }

  async function load(): Promise<void> {
    loading.value = true
    const list = await call(() => api['runs:list']())
    if (list) runs.value = list
    loading.value = false
  }

  /** Open a stored run in the gallery (and use its best image as the unit's thumbnail). */
  async function open(runId: string): Promise<void> {
    const detail = await call(() => api['runs:get'](runId))
    if (!detail) return
    current.value = detail
    const img = detail.images.best ?? detail.images.last
    if (img) setThumbnail(detail.layer, detail.channel, img.xpm)
  }

  async function remove(runId: string): Promise<void> {
    const res = await call(() => api['runs:delete'](runId))
    if (res === null && error.value) return
    runs.value = runs.value.filter((r) => r.runId !== runId)
    if (current.value?.runId === runId) current.value = null
  }

  /** A run finished: list it first, remember its preview as the unit's thumbnail, and open it. */
  async function recordDone(summary: RunSummary, preview: string | null): Promise<void> {
    runs.value = [summary, ...runs.value.filter((r) => r.runId !== summary.runId)]
    if (preview) setThumbnail(summary.layer, summary.channel, preview)
    if (summary.status !== 'failed') await open(summary.runId)
  }

  function clearError(): void {
    error.value = null
  }

  return { runs, current, thumbnails, error, loading, load, open, remove, recordDone, clearError }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useHistoryStore, import.meta.hot))
