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
 * Time: each job measures its rate (ms per rendered unit, cached ones excluded) as thumbnails arrive,
 * which gives its ETA and is kept per layer for the next estimate; before a first job of a layer,
 * `estimateMs` extrapolates from a run's ms per iteration on the same model (THUMB_ITERATIONS each).
 * State is replaced as a whole, never deep-mutated (a layer can have a few thousand units).
 * Shape: `useThumbsStore() => { thumbs, jobs, errors, generation, load, render, cancel, clearError, thumbOf,
 *   etaMs, estimateMs, noteIterationMs }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { IpcResult, ThumbDone, ThumbProgress, UnitThumb } from '../../../shared/ipc-contract'
import { callIpc } from '../api/call-ipc'
import { useVisApi } from '../api/vis-api'
import { thumbnailKey } from './history'
import type { StoreError } from './params'

/** A layer's job as the UI shows it; `jobId` is null until `units:render` has answered. */
export interface ThumbJob {
  jobId: string | null
  /** Units finished (cached ones included) and the job's total; total 0 while starting. */
  done: number
  total: number
  /** When the job started (ms, Date.now) and how many units were done (cached) at its first event. */
  startedAt?: number
  firstDone?: number
  /** Time of its first thumbnail event and units done then (the rate is measured from there). */
  rateFrom?: { at: number; done: number }
  /** Measured ms per rendered unit, once two thumbnails arrived. */
  msPerUnit?: number
}

/** Iterations of a quick thumbnail (thumb-service THUMB_MAX_ITER). */
export const THUMB_ITERATIONS = 50
/**
 * A thumbnail unit's cost relative to one iteration of a single run: units are optimized 4 at a time
 * (one batched forward/backward), cheaper per unit than alone.
 */
const BATCH_COST_FACTOR = 0.6

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
  /** The unit of each layer whose thumbnail arrived last (the grid follows it). */
  const latest = shallowRef<Record<string, number>>({})
  /** Measured ms per thumbnail unit, per layer (of the loaded model). */
  const msPerUnit = shallowRef<Record<string, number>>({})
  /** ms per iteration of a run on the loaded model (run store), for a first estimate. */
  const iterationMs = ref<number | null>(null)
  /** Injected clock (tests). */
  let now = (): number => Date.now()

  function setError(layer: string, error: StoreError): void {
    errors.value = { ...errors.value, [layer]: error }
  }

  /** Run an IPC call; on failure keep the error under `layer` and return null. */
  const call = <T>(layer: string, fn: () => Promise<IpcResult<T>>): Promise<T | null> => callIpc(fn, (e) => setError(layer, e))

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

  /** Start rendering every unit of `layer`, or only `channels` (no-op while a job of that layer runs). */
  async function render(layer: string, channels?: number[]): Promise<void> {
    if (jobs.value[layer]) return
    errors.value = without(errors.value, layer)
    jobs.value = { ...jobs.value, [layer]: { jobId: null, done: 0, total: 0, startedAt: now() } }
    const res = await call(layer, () => api['units:render'](channels ? { layer, channels } : { layer }))
    const job = jobs.value[layer]
    if (!res) {
      if (job && job.jobId === null) jobs.value = without(jobs.value, layer)
      return
    }
    if (ended.has(res.jobId) || !job) return
    jobs.value = { ...jobs.value, [layer]: { ...job, jobId: res.jobId, total: res.total } }
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
    latest.value = { ...latest.value, [p.layer]: p.thumb.channel }
    const job = jobs.value[p.layer]
    // A job this window did not start (another window, or a reload) is adopted so its progress shows.
    if (!ended.has(p.jobId) && (job === undefined || isOurs(job, p.jobId))) {
      const t = now()
      const next: ThumbJob = { ...(job ?? { startedAt: t }), jobId: p.jobId, done: p.done, total: p.total }
      if (!next.rateFrom) next.rateFrom = { at: t, done: p.done }
      else if (p.done > next.rateFrom.done) {
        next.msPerUnit = (t - next.rateFrom.at) / (p.done - next.rateFrom.done)
        msPerUnit.value = { ...msPerUnit.value, [p.layer]: next.msPerUnit }
      }
      jobs.value = { ...jobs.value, [p.layer]: next }
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
    msPerUnit.value = {}
    iterationMs.value = null
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

  /** Remaining time of the layer's running job (ms), once its rate is measured; else null. */
  function etaMs(layer: string): number | null {
    const job = jobs.value[layer]
    return job?.msPerUnit !== undefined ? job.msPerUnit * Math.max(0, job.total - job.done) : null
  }

  /**
   * About how long rendering `units` uncached units of `layer` takes (ms): the layer's measured rate,
   * else a run's ms per iteration on this model × THUMB_ITERATIONS (batched); null when neither is known.
   */
  function estimateMs(layer: string, units: number): number | null {
    const measured = msPerUnit.value[layer]
    if (measured !== undefined) return measured * units
    return iterationMs.value !== null ? iterationMs.value * THUMB_ITERATIONS * BATCH_COST_FACTOR * units : null
  }

  /** A run on the loaded model took `ms` per iteration (the run store reports it). */
  function noteIterationMs(ms: number): void {
    if (Number.isFinite(ms) && ms > 0) iterationMs.value = ms
  }

  /** Tests: a fake clock. */
  function setClock(fn: () => number): void {
    now = fn
  }

  return { thumbs, jobs, errors, generation, latest, msPerUnit, iterationMs, load, render, cancel, clearError, thumbOf, etaMs, estimateMs, noteIterationMs, setClock }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useThumbsStore, import.meta.hot))
