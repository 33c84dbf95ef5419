/**
 * Compare store: the "Compare side by side" view. Holds 2..6 columns, each a full set of regularizer
 * parameters with a label ("yosinski-3", or "yosinski-3 · decay 0.1" once edited), runs them all on the
 * same unit from the same x0 as one compare group, and routes each run's streamed events into its column.
 *
 * Same start for every column: the unit (layer and index from the units store, spatial position from
 * the params store), the seed (`rand_seed`) and the start mode (`start_at`) are held once here and
 * forced onto every column, so every run starts from exactly the same x0; the columns differ only in
 * their regularizers. `run()` sends one `run:start` per column, in column order (the run service queues
 * them and runs them one after another), all with one compare-group id; `run:progress` / `run:done`
 * events are routed by runId; a finished run's images and series come from `runs:get`.
 * Per-column run state is replaced as a whole (markRaw) per update, never deep-mutated.
 * Shape: `useCompareStore() => { columns, seed, startAt, groupId, ranUnit, error, starting, resolved, labels,
 *   differingKeys, running, runBlockedReason, addFromCurrent, addPreset, addTable1Presets, remove, clear, editNumber,
 *   editLrParam, editLrPolicy, editDirection, setSeed, setStartAt, run, stop, clearError }`
 * Length (~470 lines), not split yet: its hand-kept parameter handling (COMPARE_PARAM_KEYS, the edits)
 * is being replaced by the method parameter tables of issue 10 (branch feat-methods), and its event
 * buffering duplicates stores/run.ts's; split it once those land, not before, so the merges stay simple.
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, markRaw, ref } from 'vue'
import type { FindParams, LrPolicy, StartAt } from '../../../shared/dvt-params'
import { RUN_ID_PATTERN } from '../../../shared/ipc-limits'
import type { RunDetail, RunProgress, RunSpec, RunStatus, RunSummary } from '../../../shared/run-types'
import { useVisApi } from '../api/vis-api'
import {
  clampToField, DEFAULT_EDITABLE_PARAMS, LR_PARAM_DEFAULTS, LR_PARAM_FIELDS, LR_POLICY_KEYS, PARAM_FIELDS,
  type EditableParams, type NumericParamKey,
} from '../params/param-fields'
import { useHistoryStore } from './history'
import { presetLabel, useParamsStore, type StoreError } from './params'
import type { GeneralParams } from '../../../shared/method-params'
import { emptyTrace, type RunTrace } from './run'
import { useUnitsStore } from './units'

/** Fewest and most columns a comparison runs with. */
export const MIN_COMPARE_COLUMNS = 2
export const MAX_COMPARE_COLUMNS = 6
/** The four hyper-parameter sets of Yosinski et al. 2015, Table 1 (the "Table-1 presets" shortcut). */
export const TABLE1_PRESETS = ['yosinski-1', 'yosinski-2', 'yosinski-3', 'yosinski-4'] as const
/** Parameters that are the same in every column by construction (they fix x0 and the unit's position). */
export const SHARED_KEYS = ['start_at', 'rand_seed', 'push_spatial'] as const
/** Most edited parameters named in a column's label before it says "+N more". */
const LABEL_MAX_CHANGES = 3
/** Random bytes in a compare-group id (hex-encoded). */
const GROUP_ID_RANDOM_BYTES = 4

/** Every parameter a column holds, in the order the parameter table lists them. */
export const COMPARE_PARAM_KEYS: readonly (keyof EditableParams)[] = [
  'start_at', 'rand_seed', 'push_spatial', 'push_dir', 'decay', 'blur_radius', 'blur_every', 'small_val_percentile',
  'small_norm_percentile', 'px_benefit_percentile', 'px_abs_benefit_percentile', 'max_iter', 'lr_policy', 'lr_params',
]

/** Where a column's run stands: 'queued' once run:start answered, 'running' from its first progress event. */
export type CompareRunStatus = 'idle' | 'starting' | 'queued' | RunStatus

/** One column's run: live series and preview while it runs, summary and stored images once it ended. */
export interface CompareColumnRun {
  runId: string | null
  status: CompareRunStatus
  /** Series so far (replaced by the stored series once the run ended). */
  trace: RunTrace
  /** Latest preview image (PNG data URL) and its iteration. */
  preview: string | null
  previewIi: number | null
  /** The latest progress event. */
  progress: RunProgress | null
  /** The `run:done` summary (best / last / majority). */
  summary: RunSummary | null
  /** The stored run's images (from `runs:get` after done). */
  images: RunDetail['images'] | null
  /** The stored run's transparency map (PNG data URL), when the method wrote one. */
  alpha?: string | null
  /** Why run:start or the run failed. */
  error: StoreError | null
}

/** One setting of the comparison. */
export interface CompareColumn {
  /** Stable id for list rendering (never reused within a session). */
  key: number
  /** Preset the parameters came from, or null (DVT's defaults). */
  preset: string | null
  /** The column's own parameters; the shared ones (SHARED_KEYS) are overridden by `resolved`. */
  params: EditableParams
  /** A general method's own parameters (a method preset's column), or null for DVT. */
  method: Partial<GeneralParams> | null
  run: CompareColumnRun
}

const idleRun = (): CompareColumnRun =>
  markRaw({ runId: null, status: 'idle', trace: emptyTrace(), preview: null, previewIi: null, progress: null, summary: null, images: null, error: null })

function cloneParams(p: EditableParams): EditableParams {
  return { ...p, lr_params: { ...p.lr_params }, push_spatial: p.push_spatial ? [p.push_spatial[0], p.push_spatial[1]] : null }
}

/**
 * Deep equality of two parameter values (numbers, strings, null, tuples, lr_params records; key order ignored).
 * @example sameParamValue({ lr: 1 }, { lr: 1 }) // true
 */
export function sameParamValue(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ra = a as Record<string, unknown>
  const rb = b as Record<string, unknown>
  const ka = Object.keys(ra)
  const kb = Object.keys(rb)
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && sameParamValue(ra[k], rb[k]))
}

/** A parameter value as a label or table shows it. */
export function formatParamValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) || (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6) ? String(v) : v.toExponential(2)
  if (v === null) return 'centre'
  if (Array.isArray(v)) return `(${v.map(formatParamValue).join(', ')})`
  if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k} ${formatParamValue(x)}`).join(', ')
  return String(v)
}

/**
 * A new compare-group id: time plus random hex, matching RUN_ID_PATTERN.
 * @example newCompareGroupId(new Date('2026-11-23T15:17:35Z')) // 'compare-20261123-151735-3fa9c2d1'
 */
export function newCompareGroupId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  const bytes = new Uint8Array(GROUP_ID_RANDOM_BYTES)
  crypto.getRandomValues(bytes)
  const id = `compare-${stamp}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`
  if (!RUN_ID_PATTERN.test(id)) throw new Error(`internal: compare-group id '${id}' does not match RUN_ID_PATTERN`)
  return id
}

type PendingEvent = { kind: 'progress'; p: RunProgress } | { kind: 'done'; s: RunSummary }

export const useCompareStore = defineStore('compare', () => {
  const api = useVisApi()
  const paramsStore = useParamsStore()
  const units = useUnitsStore()
  const history = useHistoryStore()

  /** The settings compared, in column order. */
  const columns = ref<CompareColumn[]>([])
  /** Seed and start mode forced on every column (so every column starts from the same x0). */
  const seed = ref(paramsStore.values.rand_seed)
  const startAt = ref<StartAt>(paramsStore.values.start_at)
  /** Compare-group id of the latest run, or null before any. */
  const groupId = ref<string | null>(null)
  /** The unit the latest run was on (the columns show its results), or null before any. */
  const ranUnit = ref<{ layer: string; channel: number } | null>(null)
  /** Last failed action (unknown preset, too many columns…), or null. */
  const error = ref<StoreError | null>(null)
  /** True while run() is still sending run:start requests. */
  const starting = ref(false)
  let nextKey = 1
  /** Events whose runId was not known yet while run:start requests were pending. */
  let pending: PendingEvent[] = []
  /** stop() was called while run() was still starting runs. */
  let stopRequested = false

  /** The unit's spatial position: the params store's, on a conv layer only. */
  const spatial = computed<[number, number] | null>(() => {
    const s = paramsStore.values.push_spatial
    return units.isConv && s ? [s[0], s[1]] : null
  })

  /** Every column's parameters with the shared ones applied: what is compared and what run() sends. */
  const resolved = computed<EditableParams[]>(() =>
    columns.value.map((c) => ({ ...cloneParams(c.params), rand_seed: seed.value, start_at: startAt.value, push_spatial: spatial.value })),
  )

  /** The preset's values over DVT's defaults (what choosing it in the regularizer panel gives). */
  function presetBase(name: string | null): EditableParams | null {
    if (name === null) return cloneParams(DEFAULT_EDITABLE_PARAMS)
    const preset = paramsStore.presets.find((p) => p.name === name)
    if (!preset) return null
    const base = cloneParams({ ...DEFAULT_EDITABLE_PARAMS, ...preset.params } as EditableParams)
    // A method preset's iterations are the run's (as choosing it in the regularizer panel does).
    if (typeof preset.method?.max_iter === 'number') base.max_iter = clampToField(PARAM_FIELDS.max_iter, preset.method.max_iter)
    return base
  }

  /** A copy of preset `name`'s method parameters, or null for a DVT preset (or none). */
  function presetMethod(name: string | null): Partial<GeneralParams> | null {
    const m = name === null ? undefined : paramsStore.presets.find((p) => p.name === name)?.method
    return m ? structuredClone(m) : null
  }

  /** Keys (not shared) where a column's parameters differ from its preset's. */
  function changedFromPreset(c: CompareColumn): (keyof EditableParams)[] {
    const base = presetBase(c.preset)
    if (!base) return []
    const shared: readonly string[] = SHARED_KEYS
    return COMPARE_PARAM_KEYS.filter((k) => !shared.includes(k) && !sameParamValue(c.params[k], base[k]))
  }

  /** Each column's label: its preset (or "defaults"), then the edited parameters with their values. */
  const labels = computed<string[]>(() =>
    columns.value.map((c) => {
      const changed = changedFromPreset(c)
      const parts = changed.slice(0, LABEL_MAX_CHANGES).map((k) => `${k} ${formatParamValue(c.params[k])}`)
      if (changed.length > LABEL_MAX_CHANGES) parts.push(`+${changed.length - LABEL_MAX_CHANGES} more`)
      return [c.preset ?? 'defaults', ...parts].join(' · ')
    }),
  )

  /** FindParams keys whose values differ between columns (deep compare; shared keys never differ). */
  const differingKeys = computed<(keyof FindParams)[]>(() => {
    const all = resolved.value
    if (all.length < 2) return []
    return COMPARE_PARAM_KEYS.filter((k) => all.some((p) => !sameParamValue(p[k], all[0][k])))
  })

  const running = computed(() => starting.value || columns.value.some((c) => ['starting', 'queued', 'running'].includes(c.run.status)))

  /** Why Run is disabled now, or null when the comparison can run. */
  const runBlockedReason = computed<string | null>(() => {
    const n = columns.value.length
    if (running.value) return 'A comparison is running'
    if (n < MIN_COMPARE_COLUMNS) return `Add at least ${MIN_COMPARE_COLUMNS} settings to compare (${n} now)`
    if (n > MAX_COMPARE_COLUMNS) return `At most ${MAX_COMPARE_COLUMNS} settings can be compared (${n} now): remove ${n - MAX_COMPARE_COLUMNS}`
    if (!units.layer) return 'Pick a layer and a unit first'
    return null
  })

  function addColumn(preset: string | null, params: EditableParams, method: Partial<GeneralParams> | null = null): boolean {
    if (running.value) return false
    if (columns.value.length >= MAX_COMPARE_COLUMNS) {
      error.value = { code: 'BAD_PARAM', message: `At most ${MAX_COMPARE_COLUMNS} settings can be compared; remove one first` }
      return false
    }
    columns.value.push({ key: nextKey++, preset, params: cloneParams(params), method: method ? structuredClone(method) : null, run: idleRun() })
    error.value = null
    return true
  }

  /** Add a column with the regularizer panel's current settings (and its preset name). */
  function addFromCurrent(): boolean {
    return addColumn(paramsStore.presetName, paramsStore.values, paramsStore.method)
  }

  /** Add a column with preset `name` over DVT's defaults; an unknown name sets `error`. */
  function addPreset(name: string): boolean {
    const base = presetBase(name)
    if (!base) {
      const known = paramsStore.presets.map((p) => p.name).join(', ') || 'none loaded'
      error.value = { code: 'BAD_PARAM', message: `Unknown preset '${name}' (known: ${known})` }
      return false
    }
    return addColumn(name, base, presetMethod(name))
  }

  /** Replace the columns with the four Table-1 presets, yosinski-1..4 (nothing changes if one is missing). */
  function addTable1Presets(): boolean {
    if (running.value) return false
    const missing = TABLE1_PRESETS.filter((n) => presetBase(n) === null)
    if (missing.length > 0) {
      error.value = { code: 'BAD_PARAM', message: `The presets ${missing.join(', ')} are not available (presets not loaded?)` }
      return false
    }
    columns.value = []
    return TABLE1_PRESETS.every((n) => addPreset(n))
  }

  function remove(index: number): void {
    if (running.value || index < 0 || index >= columns.value.length) return
    columns.value.splice(index, 1)
  }

  function clear(): void {
    if (running.value) return
    columns.value = []
    error.value = null
  }

  function editable(index: number): CompareColumn | null {
    return running.value ? null : (columns.value[index] ?? null)
  }

  /** Set one numeric parameter of column `index`, clamped to its range (the seed is shared: see setSeed). */
  function editNumber(index: number, key: Exclude<NumericParamKey, 'rand_seed'>, value: number): void {
    const c = editable(index)
    if (c) c.params[key] = clampToField(PARAM_FIELDS[key], value)
  }

  /** Set one lr-policy parameter of column `index` (only keys of its policy; positive, clamped). */
  function editLrParam(index: number, key: string, value: number): void {
    const c = editable(index)
    const field = LR_PARAM_FIELDS[key]
    if (!c || !field || !LR_POLICY_KEYS[c.params.lr_policy].includes(key)) return
    c.params.lr_params = { ...c.params.lr_params, [key]: clampToField(field, value) }
  }

  /** Switch column `index`'s lr policy, keeping values of shared keys and filling the others with defaults. */
  function editLrPolicy(index: number, policy: LrPolicy): void {
    const c = editable(index)
    if (!c || c.params.lr_policy === policy) return
    const next: Record<string, number> = {}
    for (const k of LR_POLICY_KEYS[policy]) next[k] = c.params.lr_params[k] ?? LR_PARAM_DEFAULTS[k]
    c.params.lr_policy = policy
    c.params.lr_params = next
  }

  /** +1 maximizes the unit in column `index`, −1 minimizes it. */
  function editDirection(index: number, dir: 1 | -1): void {
    const c = editable(index)
    if (c) c.params.push_dir = dir
  }

  /** The seed every column starts from (clamped to the generator's range). */
  function setSeed(value: number): void {
    if (!running.value) seed.value = clampToField(PARAM_FIELDS.rand_seed, value)
  }

  /** The start mode (x0) every column uses. */
  function setStartAt(mode: StartAt): void {
    if (!running.value) startAt.value = mode
  }

  function columnOf(runId: string): CompareColumn | undefined {
    return columns.value.find((c) => c.run.runId === runId)
  }

  function update(c: CompareColumn, patch: Partial<CompareColumnRun>): void {
    c.run = markRaw({ ...c.run, ...patch })
  }

  function onProgress(p: RunProgress): void {
    const c = columnOf(p.runId)
    if (!c) {
      if (starting.value) pending.push({ kind: 'progress', p })
      return
    }
    const t = c.run.trace
    update(c, {
      status: c.run.status === 'queued' ? 'running' : c.run.status,
      trace: { ii: [...t.ii, p.ii], obj: [...t.obj, p.obj], lr: [...t.lr, p.lr], norm: [...t.norm, p.norm], std: [...t.std, p.std] },
      progress: p,
      ...(p.preview ? { preview: p.preview, previewIi: p.ii } : {}),
    })
  }

  function onDone(s: RunSummary): void {
    const c = columnOf(s.runId)
    if (!c) {
      if (starting.value) pending.push({ kind: 'done', s })
      return
    }
    update(c, {
      status: s.status,
      summary: s,
      error: s.status === 'failed' ? { code: 'INTERNAL', message: s.error ?? 'the run failed' } : c.run.error,
    })
    if (s.status !== 'failed') void fetchDetail(c.key, s.runId)
    if (!running.value) void history.load()
  }

  /** The stored run's images and full series, into the column that still shows that run. */
  async function fetchDetail(key: number, runId: string): Promise<void> {
    try {
      const res = await api['runs:get'](runId)
      const c = columns.value.find((x) => x.key === key)
      if (!c || c.run.runId !== runId) return
      if (!res.ok) {
        update(c, { error: { code: res.code, message: res.message } })
        return
      }
      const d = res.value
      update(c, {
        images: d.images,
        alpha: d.alpha ?? null,
        trace: { ii: d.series.obj.map((_, i) => i), obj: d.series.obj, norm: d.series.norm, std: d.series.std, lr: d.series.lr },
      })
    } catch (e) {
      const c = columns.value.find((x) => x.key === key)
      if (c) update(c, { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } })
    }
  }

  // One subscription per store, for the app's lifetime.
  api.on('run:progress', onProgress)
  api.on('run:done', onDone)

  /** The RunSpec of column `index` for the selected unit and group `group`. */
  function specOf(index: number, group: string): RunSpec {
    const layer = units.layer
    if (!layer) throw new Error('internal: specOf without a layer')
    const c = columns.value[index]
    const params: FindParams = { ...resolved.value[index], push_layer: layer.name, push_channel: units.unitIndex }
    const spec: RunSpec = { params, preset: presetLabel(c.preset, changedFromPreset(c).length > 0), compareGroup: group }
    if (c.method) spec.method = { ...c.method }
    return spec
  }

  /**
   * Run every column on the selected unit, from the same seed and start: one run:start per column,
   * in order, with one compare-group id. A column whose run:start fails shows the error; the others run.
   */
  async function run(): Promise<void> {
    if (runBlockedReason.value !== null) return
    const group = newCompareGroupId()
    groupId.value = group
    ranUnit.value = units.layer ? { layer: units.layer.name, channel: units.unitIndex } : null
    error.value = null
    pending = []
    stopRequested = false
    starting.value = true
    for (const c of columns.value) update(c, { ...idleRun(), status: 'starting' })
    try {
      for (let i = 0; i < columns.value.length; i++) {
        const c = columns.value[i]
        if (stopRequested) {
          update(c, { status: 'idle' })
          continue
        }
        try {
          const res = await api['run:start'](specOf(i, group))
          if (res.ok) {
            update(c, { runId: res.value.runId, status: 'queued' })
            // Stop was asked while this run:start was on its way: stop this run too.
            if (stopRequested) await stopColumn(c)
          } else {
            update(c, { status: 'idle', error: { code: res.code, message: res.message } })
          }
        } catch (e) {
          update(c, { status: 'idle', error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } })
        }
        // Events of this run may have arrived before its id was known: replay those now routable.
        const held = pending
        pending = []
        for (const e of held) {
          if (e.kind === 'progress') onProgress(e.p)
          else onDone(e.s)
        }
      }
    } finally {
      starting.value = false
      pending = []
    }
  }

  async function stopColumn(c: CompareColumn): Promise<void> {
    try {
      const res = await api['run:stop'](c.run.runId as string)
      if (!res.ok) update(c, { error: { code: res.code, message: res.message } })
    } catch (e) {
      update(c, { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } })
    }
  }

  /**
   * Stop every queued or running run of the comparison (each ends with run:done, status 'stopped');
   * while run() is still starting runs, the columns not started yet are not started.
   */
  async function stop(): Promise<void> {
    if (starting.value) stopRequested = true
    const active = columns.value.filter((c) => c.run.runId !== null && ['queued', 'running'].includes(c.run.status))
    await Promise.all(active.map(stopColumn))
  }

  function clearError(): void {
    error.value = null
  }

  return {
    columns, seed, startAt, groupId, ranUnit, error, starting, resolved, labels, differingKeys, running, runBlockedReason,
    addFromCurrent, addPreset, addTable1Presets, remove, clear, editNumber, editLrParam, editLrPolicy, editDirection,
    setSeed, setStartAt, run, stop, clearError,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useCompareStore, import.meta.hot))
