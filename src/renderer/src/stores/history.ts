/**
 * History store: the stored runs (newest first), the run open in the gallery with its images, and a
 * thumbnail per unit that has a run (shown in the unit browser). Talks to runs:list / runs:get /
 * runs:delete; failures are kept in `error` for an inline banner.
 *
 * Runs belong to a model (RunSummary.modelName): thumbnails are keyed by model, layer and channel, so
 * a unit of one model never shows another model's image; `showUnit(model, layer, channel)` opens the
 * newest stored run of exactly that unit, or nothing (the gallery never keeps another unit's run).
 * Shape: `useHistoryStore() => { runs, current, thumbnails, error, loading, load, open, showUnit, latestFor,
 *   remove, recordDone, clearError }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { IpcResult } from '../../../shared/ipc-contract'
import type { RunDetail, RunSummary } from '../../../shared/run-types'
import { callIpc } from '../api/call-ipc'
import { useVisApi } from '../api/vis-api'
import type { StoreError } from './params'

/** Key of a unit's thumbnail within one model: `layer#channel`. */
export function thumbnailKey(layer: string, channel: number): string {
  return `${layer}#${channel}`
}

/** Key of a unit of a given model: `model\u0000layer#channel`. */
export function unitKey(modelName: string, layer: string, channel: number): string {
  return `${modelName}\u0000${thumbnailKey(layer, channel)}`
}

/** Whether a run is of exactly this unit of this model. */
export function isRunOf(run: Pick<RunSummary, 'modelName' | 'layer' | 'channel'>, modelName: string, layer: string, channel: number): boolean {
  return run.modelName === modelName && run.layer === layer && run.channel === channel
}

export const useHistoryStore = defineStore('history', () => {
  const api = useVisApi()
  /** Stored runs, newest first; replaced as a whole. */
  const runs = shallowRef<RunSummary[]>([])
  /** The run shown in the gallery, with its images; null when none is open. */
  const current = shallowRef<RunDetail | null>(null)
  /** Thumbnail (PNG data URL) per `unitKey(model, layer, channel)`; replaced as a whole. */
  const thumbnails = shallowRef<Record<string, string>>({})
  const error = ref<StoreError | null>(null)
  const loading = ref(false)
  /** Bumped by every open/showUnit, so that a slow answer for an older request is dropped. */
  let openSeq = 0

  /** Run an IPC call; on failure keep the error and return null. */
  const call = <T>(fn: () => Promise<IpcResult<T>>): Promise<T | null> => callIpc(fn, (e) => { error.value = e })

  function setThumbnail(run: Pick<RunSummary, 'modelName' | 'layer' | 'channel'>, url: string): void {
    thumbnails.value = { ...thumbnails.value, [unitKey(run.modelName, run.layer, run.channel)]: url }
  }

  /** Unit thumbnails from the runs' own small images (newest run of a unit wins). */
  function thumbnailsFromRuns(list: readonly RunSummary[]): void {
    const next = { ...thumbnails.value }
    for (const r of [...list].reverse()) if (r.thumb) next[unitKey(r.modelName, r.layer, r.channel)] = r.thumb
    thumbnails.value = next
  }

  async function load(): Promise<void> {
    loading.value = true
    const list = await call(() => api['runs:list']())
    if (list) {
      runs.value = list
      thumbnailsFromRuns(list)
    }
    loading.value = false
  }

  /** Open a stored run in the gallery (and use its best image as the unit's thumbnail). */
  async function open(runId: string): Promise<RunDetail | null> {
    const seq = ++openSeq
    const detail = await call(() => api['runs:get'](runId))
    if (!detail || seq !== openSeq) return null
    current.value = detail
    const img = detail.images.best ?? detail.images.last
    if (img) setThumbnail(detail, detail.thumb ?? img.x)
    return detail
  }

  /** The newest stored run (done or stopped) of this unit of this model, if any. */
  function latestFor(modelName: string, layer: string, channel: number): RunSummary | null {
    return runs.value.find((r) => r.status !== 'failed' && isRunOf(r, modelName, layer, channel)) ?? null
  }

  /**
   * Show this unit's own newest run in the gallery, or nothing: never another unit's or model's run.
   * Keeps the open run when it already is of this unit.
   */
  async function showUnit(modelName: string | null, layer: string | null, channel: number): Promise<void> {
    if (modelName === null || layer === null) {
      openSeq++
      current.value = null
      return
    }
    if (current.value && isRunOf(current.value, modelName, layer, channel)) return
    const latest = latestFor(modelName, layer, channel)
    openSeq++
    current.value = null
    if (latest) await open(latest.runId)
  }

  async function remove(runId: string): Promise<void> {
    const res = await call(() => api['runs:delete'](runId))
    if (res === null && error.value) return
    runs.value = runs.value.filter((r) => r.runId !== runId)
    if (current.value?.runId === runId) current.value = null
  }

  /** A run finished: list it first, remember its image as the unit's thumbnail, and open it. */
  async function recordDone(summary: RunSummary, preview: string | null): Promise<void> {
    runs.value = [summary, ...runs.value.filter((r) => r.runId !== summary.runId)]
    const thumb = summary.thumb ?? preview
    if (thumb && summary.status !== 'failed') setThumbnail(summary, thumb)
    if (summary.status !== 'failed') await open(summary.runId)
  }

  function clearError(): void {
    error.value = null
  }

  return { runs, current, thumbnails, error, loading, load, open, showUnit, latestFor, remove, recordDone, clearError }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useHistoryStore, import.meta.hot))
