/**
 * Params store: every DVT parameter the user edits (all but the unit), the regularizer presets
 * fetched over the VisApi, and which preset the values came from. Choosing a preset sets the values
 * (preset over DVT's defaults, as the CLI does); editing any value afterwards marks it "modified".
 * Every setter clamps to the field's range, so the state is always a valid request.
 * A method preset (family other than 'dvt') also sets `method`, the general method's own fields (null = DVT);
 * the unit, rand_seed and max_iter stay in `values` (a method preset's max_iter is copied there).
 * Shape: `useParamsStore() => { values, method, presets, presetName, modified, error, loadPresets, applyPreset, setNumber, setLrParam, setLrPolicy, setStartAt, setDirection, setSpatial, setMethodField, reset }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ErrorCode } from '../../../shared/ipc-contract'
import type { PresetInfo, RunParams } from '../../../shared/run-types'
import type { GeneralParams } from '../../../shared/method-params'
import type { LrPolicy, StartAt } from '../../../shared/dvt-params'
import { useVisApi } from '../api/vis-api'
import {
  clampToField, DEFAULT_EDITABLE_PARAMS, METHOD_CHOICE_FIELDS, METHOD_FLAG_FIELDS, METHOD_NUMBER_FIELDS, LR_PARAM_DEFAULTS, LR_PARAM_FIELDS, LR_POLICY_KEYS, PARAM_FIELDS,
  type EditableParams, type NumericParamKey,
} from '../params/param-fields'

/** An IPC failure as the UI shows it. */
export interface StoreError {
  code: ErrorCode
  message: string
}

function cloneParams(p: EditableParams): EditableParams {
  return { ...p, lr_params: { ...p.lr_params }, push_spatial: p.push_spatial ? [p.push_spatial[0], p.push_spatial[1]] : null }
}

/**
 * How a run records the settings it came from: the preset's name, "<name> (modified)" after an edit,
 * "DVT defaults" (and "(modified)") without a preset.
 * @example presetLabel('yosinski-3', true) // 'yosinski-3 (modified)'
 */
export function presetLabel(presetName: string | null, modified: boolean): string {
  const base = presetName ?? 'DVT defaults'
  return modified ? `${base}${MODIFIED_SUFFIX}` : base
}

/** What presetLabel appends to an edited preset's name. */
export const MODIFIED_SUFFIX = ' (modified)'

export const useParamsStore = defineStore('params', () => {
  const api = useVisApi()
  /** Current parameter values; replaced as a whole on preset/reset, edited only through the setters. */
  const values = ref<EditableParams>(cloneParams(DEFAULT_EDITABLE_PARAMS))
  /** The general method's own parameters (from a method preset), or null for DVT. */
  const method = ref<Partial<GeneralParams> | null>(null)
  /** Presets offered by the main process. */
  const presets = shallowRef<PresetInfo[]>([])
  /** Name of the preset the values came from, or null (DVT defaults). */
  const presetName = ref<string | null>(null)
  /** True once a value was edited after choosing the preset (or the defaults). */
  const modified = ref(false)
  /** Failure of the last presets:list, or null. */
  const error = ref<StoreError | null>(null)

  async function loadPresets(): Promise<void> {
    try {
      const res = await api['presets:list']()
      if (res.ok) {
        presets.value = res.value
        error.value = null
      } else {
        error.value = { code: res.code, message: res.message }
      }
    } catch (e) {
      error.value = { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
    }
  }

  /** Set every value from preset `name` over DVT's defaults; null goes back to the defaults. */
  function applyPreset(name: string | null): void {
    const preset = name === null ? null : presets.value.find((p) => p.name === name)
    if (name !== null && !preset) return
    const next = cloneParams({ ...DEFAULT_EDITABLE_PARAMS, ...(preset?.params ?? {}) } as EditableParams)
    // The spatial position is about the unit, not the regularizer: keep the user's.
    next.push_spatial = values.value.push_spatial
    const m = preset?.method ? structuredClone(preset.method) : null
    if (m) {
      // The run section's iterations and seed are the method's.
      if (typeof m.max_iter === 'number') next.max_iter = clampToField(PARAM_FIELDS.max_iter, m.max_iter)
      if (typeof m.rand_seed === 'number') next.rand_seed = clampToField(PARAM_FIELDS.rand_seed, m.rand_seed)
    }
    method.value = m
    values.value = next
    presetName.value = name
    modified.value = false
  }

  /**
   * The settings a stored run ran with ("run again with these settings"): its DVT values (all but the
   * unit), its method's fields, and its preset's name (still "modified" when the run's was).
   */
  function restoreRun(run: { params: Partial<RunParams>; method?: Partial<GeneralParams> | null; preset: string | null }): void {
    const { push_layer: _l, push_channel: _c, ...rest } = run.params
    const next = cloneParams({ ...DEFAULT_EDITABLE_PARAMS, ...rest } as EditableParams)
    const label = run.preset ?? null
    const wasModified = label !== null && label.endsWith(MODIFIED_SUFFIX)
    const base = label === null ? null : wasModified ? label.slice(0, -MODIFIED_SUFFIX.length) : label
    method.value = run.method ? structuredClone({ ...run.method }) : null
    values.value = next
    presetName.value = base === null || base === 'DVT defaults' || !presets.value.some((p) => p.name === base) ? null : base
    modified.value = wasModified || (base !== null && base !== 'DVT defaults' && presetName.value === null)
  }

  /** Saved settings (a reload): values, method fields, preset name and whether they were edited. */
  function restoreState(state: { values: EditableParams; method: Partial<GeneralParams> | null; presetName: string | null; modified: boolean }): void {
    values.value = cloneParams({ ...DEFAULT_EDITABLE_PARAMS, ...state.values })
    method.value = state.method ? structuredClone(state.method) : null
    presetName.value = state.presetName !== null && presets.value.some((p) => p.name === state.presetName) ? state.presetName : null
    modified.value = state.modified
  }

  /** Back to the chosen preset's values (or the defaults), unmodified. */
  function reset(): void {
    applyPreset(presetName.value)
  }

  function edited(): void {
    modified.value = true
  }

  /** Set a numeric parameter, clamped to its range. */
  function setNumber(key: NumericParamKey, value: number): void {
    const v = clampToField(PARAM_FIELDS[key], value)
    if (values.value[key] === v) return
    values.value[key] = v
    edited()
  }

  /** Set one lr-policy parameter (positive, clamped). */
  function setLrParam(key: string, value: number): void {
    const field = LR_PARAM_FIELDS[key]
    if (!field || !LR_POLICY_KEYS[values.value.lr_policy].includes(key)) return
    const v = clampToField(field, value)
    if (values.value.lr_params[key] === v) return
    values.value.lr_params = { ...values.value.lr_params, [key]: v }
    edited()
  }

  /** Switch the lr policy, keeping values of shared keys and filling the others with defaults. */
  function setLrPolicy(policy: LrPolicy): void {
    if (policy === values.value.lr_policy) return
    const old = values.value.lr_params
    const next: Record<string, number> = {}
    for (const k of LR_POLICY_KEYS[policy]) next[k] = old[k] ?? LR_PARAM_DEFAULTS[k]
    values.value.lr_policy = policy
    values.value.lr_params = next
    edited()
  }

  function setStartAt(mode: StartAt): void {
    if (mode === values.value.start_at) return
    values.value.start_at = mode
    edited()
  }

  /** +1 maximizes the unit, −1 minimizes it. */
  function setDirection(dir: 1 | -1): void {
    if (dir === values.value.push_dir) return
    values.value.push_dir = dir
    edited()
  }

  /**
   * Set the (y, x) position of a conv unit, clamped to the map size; null = the centre.
   * Not a regularizer: does not mark the preset modified.
   */
  function setSpatial(pos: [number, number] | null, size: [number, number] | null = null): void {
    if (pos === null) {
      values.value.push_spatial = null
      return
    }
    const clamp = (v: number, n: number | undefined): number =>
      Math.max(0, Math.min(n === undefined ? Number.MAX_SAFE_INTEGER : n - 1, Math.round(Number.isFinite(v) ? v : 0)))
    values.value.push_spatial = [clamp(pos[0], size?.[0]), clamp(pos[1], size?.[1])]
  }

  /** Set one field of the general method (numbers clamped to their range; unknown keys ignored). */
  function setMethodField(key: string, value: number | string | boolean): void {
    if (!method.value) return
    const numberField = METHOD_NUMBER_FIELDS[key]
    let v: number | string | boolean
    if (numberField) v = clampToField(numberField, Number(value))
    else if (METHOD_CHOICE_FIELDS[key]) {
      if (!METHOD_CHOICE_FIELDS[key].options.includes(String(value))) return
      v = String(value)
    } else if (METHOD_FLAG_FIELDS[key]) v = Boolean(value)
    else return
    if ((method.value as Record<string, unknown>)[key] === v) return
    method.value = { ...method.value, [key]: v }
    edited()
  }

  return {
    values, method, presets, presetName, modified, error,
    loadPresets, applyPreset, restoreRun, restoreState, reset, setMethodField, setNumber, setLrParam, setLrPolicy, setStartAt, setDirection, setSpatial,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useParamsStore, import.meta.hot))
