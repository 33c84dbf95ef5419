/**
 * Run store: the optimization in progress. `start(spec)` asks main to run it, `stop()` asks it to
 * stop; progress and the end arrive as `run:progress` / `run:done` events, and only those of the
 * current run count (a runId guard drops stale events of earlier runs). Events that arrive before
 * `run:start` has answered are held and replayed once the runId is known.
 * The trace is held in a shallowRef and replaced per update, never deep-mutated.
 * `target` names the run's model, unit and preset, so that views show the run only next to its own unit.
 * Shape: `useRunStore() => { runId, status, target, trace, preview, previewIi, progress, summary, error, start, stop }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { RunProgress, RunSpec, RunStatus, RunSummary } from '../../../shared/run-types'
import { useVisApi } from '../api/vis-api'
import { useHistoryStore } from './history'
import { useThumbsStore } from './thumbs'
import type { StoreError } from './params'

/** What the UI shows about the run: idle before any, starting while run:start is pending. */
export type RunUiStatus = 'idle' | 'starting' | RunStatus

/** Per-iteration series of the current run, in arrays of equal length. */
export interface RunTrace {
  ii: number[]
  obj: number[]
  lr: number[]
  norm: number[]
  std: number[]
}

export const emptyTrace = (): RunTrace => ({ ii: [], obj: [], lr: [], norm: [], std: [] })

/** Which model, unit and settings the current run is about. */
export interface RunTarget {
  modelName: string
  layer: string
  channel: number
  preset: string | null
  startedAt: string
}

type PendingEvent = { kind: 'progress'; p: RunProgress } | { kind: 'done'; s: RunSummary }

export const useRunStore = defineStore('run', () => {
  const api = useVisApi()
  const history = useHistoryStore()
  const runId = ref<string | null>(null)
  const status = ref<RunUiStatus>('idle')
  /** The model, unit and preset of the current (or last) run; null before any. */
  const target = shallowRef<RunTarget | null>(null)
  /** Series so far; a new object per update. */
  const trace = shallowRef<RunTrace>(emptyTrace())
  /** Latest preview image (PNG data URL) and its iteration. */
  const preview = ref<string | null>(null)
  const previewIi = ref<number | null>(null)
  /** The latest progress event of the current run. */
  const progress = shallowRef<RunProgress | null>(null)
  /** Summary once the run ended. */
  const summary = shallowRef<RunSummary | null>(null)
  const error = ref<StoreError | null>(null)
  /** Events received while run:start was pending (runId unknown yet). */
  let pending: PendingEvent[] = []

  const running = computed(() => status.value === 'starting' || status.value === 'running')

  function onProgress(p: RunProgress): void {
    if (runId.value === null && status.value === 'starting') {
      pending.push({ kind: 'progress', p })
      return
    }
    if (p.runId !== runId.value) return
    const t = trace.value
    trace.value = {
      ii: [...t.ii, p.ii], obj: [...t.obj, p.obj], lr: [...t.lr, p.lr], norm: [...t.norm, p.norm], std: [...t.std, p.std],
    }
    progress.value = p
    // Iteration 0 includes warm-up; later ones tell the model's speed (for the thumbnail estimate).
    if (p.ii > 0) useThumbsStore().noteIterationMs(p.wallMs)
    if (p.preview) {
      preview.value = p.preview
      previewIi.value = p.ii
    }
  }

  function onDone(s: RunSummary): void {
    if (runId.value === null && status.value === 'starting') {
      pending.push({ kind: 'done', s })
      return
    }
    if (s.runId !== runId.value) return
    summary.value = s
    if (target.value && s.modelName) target.value = { ...target.value, modelName: s.modelName }
    status.value = s.status
    if (s.status === 'failed') error.value = { code: 'INTERNAL', message: s.error ?? 'the run failed' }
    void history.recordDone(s, preview.value)
  }

  // One subscription per store, for the app's lifetime.
  api.on('run:progress', onProgress)
  api.on('run:done', onDone)

  /**
   * Start a run of `spec` on model `modelName`; resets the trace and preview. Failures land in
   * `error`, never thrown.
   */
  async function start(spec: RunSpec, modelName = ''): Promise<void> {
    if (running.value) return
    target.value = {
      modelName, layer: spec.params.push_layer, channel: spec.params.push_channel, preset: spec.preset ?? null, startedAt: new Date().toISOString(),
    }
    runId.value = null
    status.value = 'starting'
    trace.value = emptyTrace()
    preview.value = null
    previewIi.value = null
    progress.value = null
    summary.value = null
    error.value = null
    pending = []
    try {
      const res = await api['run:start'](spec)
      if (!res.ok) {
        status.value = 'idle'
        error.value = { code: res.code, message: res.message }
        return
      }
      runId.value = res.value.runId
      status.value = 'running'
      const held = pending
      pending = []
      for (const e of held) {
        if (e.kind === 'progress') onProgress(e.p)
        else onDone(e.s)
      }
    } catch (e) {
      status.value = 'idle'
      error.value = { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
    }
  }

  /** Ask main to stop the current run; `run:done` (status 'stopped') ends it. */
  async function stop(): Promise<void> {
    if (status.value !== 'running' || runId.value === null) return
    try {
      const res = await api['run:stop'](runId.value)
      if (!res.ok) error.value = { code: res.code, message: res.message }
    } catch (e) {
      error.value = { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
    }
  }

  function clearError(): void {
    error.value = null
  }

  return { runId, status, target, trace, preview, previewIi, progress, summary, error, running, start, stop, clearError }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useRunStore, import.meta.hot))
