/**
 * Thumbs store: the quick unit thumbnails of "Render all units" and the background jobs that make them.
 * `load(layer)` fetches a layer's cached thumbnails (`units:thumbs`, for instant display on layer
 * select); `render(layer)` starts a job (`units:render`), `cancel(layer)` cancels it (`units:cancel`).
 * `units:thumb` events add thumbnails and advance the job's progress; `units:done` ends the job (a
 * failed job leaves its message in `errors[layer]`). Everything is kept per layer: switching layers
 * leaves a job running (jobs of different layers queue in main), and its thumbnails land under its
 * own layer. Events that arrive before `units:render` has answered are matched by layer; a job that
 * ended before the answer arrived is not revived by it. `model:changed` clears everything (the
 * thumbnails belong to the old model; main fails that model's jobs, whose end is then ignored) and
 * bumps `generation` so that views reload.
 * State is replaced as a whole, never deep-mutated (a layer can have a few thousand units).
 * Shape: `useThumbsStore() => { thumbs, jobs, errors, generation, load, render, cancel, clearError, thumbOf }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { IpcResult, ThumbDone, ThumbProgress, UnitThumb } from '../../../shared/ipc-contract'
import { useVisApi } from '../api/vis-api'
import { thumbnailKey } from './history'
import type { StoreError } from './params'

/** A layer's job as the UI shows it; `jobId` is null until `units:render` has answered. */
export interface ThumbJob {
  jobId: string | null
  /** Units finished (cached ones included) and the job's total; total 0 while starting. */
  done: number
  total: number
}

/** Copy of `record` without `key`. */
function without<T>(record: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _gone, ...rest } = record
  return rest
}

export const useThumbsStore = defineStore('thumbs', () => {
  const api = useVisApi()
  /** Quick thumbnail per unit key (`thumbnailKey(layer, channel)`). */
  const thumbs = shallowRef<Record<string, UnitThumb>>({})
  /** The queued or running job per layer name. */
  const jobs = shallowRef<Record<string, ThumbJob>>({})
  /** The last failure per layer name (a failed job or a refused request). */
  const errors = shallowRef<Record<string, StoreError>>({})
  /** Bumped when the model changes: cached thumbnails of the selected layer must be loaded again. */
  const generation = ref(0)
  /** Jobs whose units:done has arrived, so that a late units:render answer does not revive them. */
  const ended = new Set<string>()

  function setError(layer: string, error: StoreError): void {
    errors.value = { ...errors.value, [layer]: error }
  }

  /** Run an IPC call; on failure keep the error under `layer` and return null. */
  async function call<T>(layer: string, fn: () => Promise<IpcResult<T>>): Promise<T | null> {
    try {
      const res = await fn()
      if (res.ok) return res.value
      setError(layer, { code: res.code, message: res.message })
    } catch (e) {
      setError(layer, { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) })
    }
    return null
  }

  function addThumbs(layer: string, list: readonly UnitThumb[]): void {
    const next = { ...thumbs.value }
    for (const t of list) next[thumbnailKey(layer, t.channel)] = t
    thumbs.value = next
  }

  /** Fetch the cached thumbnails of `layer` and add them (newer ones from events are the same units). */
  async function load(layer: string): Promise<void> {
    const list = await call(layer, () => api['units:thumbs'](layer))
    if (list) addThumbs(layer, list)
  }

  /** Start rendering every unit of `layer` (no-op while a job of that layer runs). */
  async function render(layer: string): Promise<void> {
    if (jobs.value[layer]) return
    errors.value = without(errors.value, layer)
    jobs.value = { ...jobs.value, [layer]: { jobId: null, done: 0, total: 0 } }
    const res = await call(layer, () => api['units:render']({ layer }))
    const job = jobs.value[layer]
    if (!res) {
      if (job && job.jobId === null) jobs.value = without(jobs.value, layer)
      return
    }
    if (ended.has(res.jobId) || !job) return
    jobs.value = { ...jobs.value, [layer]: { jobId: res.jobId, done: job.done, total: res.total } }
  }

  /** Cancel the job of `layer`; its units:done ends it. */
  async function cancel(layer: string): Promise<void> {
    const jobId = jobs.value[layer]?.jobId
    if (jobId) await call(layer, () => api['units:cancel'](jobId))
  }

  /** The job's own events, or any event of its layer while its id is not known yet. */
  function isOurs(job: ThumbJob | undefined, jobId: string): boolean {
    return job !== undefined && (job.jobId === null || job.jobId === jobId)
  }

  function onThumb(p: ThumbProgress): void {
    addThumbs(p.layer, [p.thumb])
    const job = jobs.value[p.layer]
    // A job this window did not start (another window, or a reload) is adopted so its progress shows.
    if (!ended.has(p.jobId) && (job === undefined || isOurs(job, p.jobId))) {
      jobs.value = { ...jobs.value, [p.layer]: { jobId: p.jobId, done: p.done, total: p.total } }
    }
  }

  function onDone(d: ThumbDone): void {
    ended.add(d.jobId)
    // Jobs not tracked here (e.g. of the previous model, failing after model:changed) end silently.
    if (!isOurs(jobs.value[d.layer], d.jobId)) return
    jobs.value = without(jobs.value, d.layer)
    if (d.status === 'failed') setError(d.layer, { code: 'INTERNAL', message: d.error ?? 'rendering the units failed' })
  }

  function onModelChanged(): void {
    thumbs.value = {}
    jobs.value = {}
    errors.value = {}
    generation.value++
  }

  // One subscription per store, for the app's lifetime.
  api.on('units:thumb', onThumb)
  api.on('units:done', onDone)
  api.on('model:changed', onModelChanged)

  function clearError(layer: string): void {
    errors.value = without(errors.value, layer)
  }

  /** The quick thumbnail of unit `channel` of `layer`, if any. */
  function thumbOf(layer: string, channel: number): UnitThumb | undefined {
    return thumbs.value[thumbnailKey(layer, channel)]
  }

  return { thumbs, jobs, errors, generation, load, render, cancel, clearError, thumbOf }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useThumbsStore, import.meta.hot))
