/**
 * What the window remembers across a reload, per model folder: the selected layer and unit and the
 * parameter panel (values, method fields, preset name, edited or not), in localStorage. And the
 * settings the app opens on for a model it has not seen: a preset that gives a readable image on
 * that kind of model (DVT's own defaults, lr 1 without regularizers, give noise on most networks;
 * they stay one click away as "DVT defaults" in the preset list).
 * Shape: `readSession(storage?) => SavedSession`, `saveModelState(path, state, storage?)`,
 *   `startingSettings(model) => { preset, maxIter, why }`, `defaultTargetLayer(layers) => LayerInfo | null`
 */
import type { GeneralParams } from '../../../shared/method-params'
import type { LayerInfo, ModelInfo } from '../../../shared/ipc-contract'
import type { EditableParams } from '../params/param-fields'

/** localStorage key; bump the suffix on an incompatible change. */
export const SESSION_KEY = 'deepvis.session@1'
/** Most models remembered (oldest dropped first). */
const MAX_MODELS = 20

/** The parameter panel as saved. */
export interface SavedParams {
  values: EditableParams
  method: Partial<GeneralParams> | null
  presetName: string | null
  modified: boolean
}

/** What is remembered of one model. */
export interface SavedModelState {
  /** The model's display name when it was last used. */
  name?: string
  layer: string | null
  unit: number
  params: SavedParams | null
  savedAt: string
}

export interface SavedSession {
  models: Record<string, SavedModelState>
}

type StorageLike = Pick<Storage, 'getItem' | 'setItem'>

function defaultStorage(): StorageLike | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null // storage disabled (e.g. a sandboxed frame)
  }
}

/** The saved session; an empty one when there is none or it is unreadable. */
export function readSession(storage: StorageLike | null = defaultStorage()): SavedSession {
  try {
    const text = storage?.getItem(SESSION_KEY)
    if (!text) return { models: {} }
    const value: unknown = JSON.parse(text)
    if (typeof value === 'object' && value !== null && 'models' in value && typeof value.models === 'object' && value.models !== null) {
      return { models: value.models as Record<string, SavedModelState> }
    }
  } catch {
    // A corrupt entry is dropped: the app opens on its starting settings.
  }
  return { models: {} }
}

/** Remember `state` for the model at `modelPath` (keeps the newest MAX_MODELS models). */
export function saveModelState(modelPath: string, state: Omit<SavedModelState, 'savedAt'>, storage: StorageLike | null = defaultStorage()): void {
  if (!storage) return
  const session = readSession(storage)
  session.models[modelPath] = { ...state, savedAt: new Date().toISOString() }
  const entries = Object.entries(session.models).sort((a, b) => b[1].savedAt.localeCompare(a[1].savedAt)).slice(0, MAX_MODELS)
  try {
    storage.setItem(SESSION_KEY, JSON.stringify({ models: Object.fromEntries(entries) }))
  } catch {
    // Quota or disabled storage: the session is a convenience.
  }
}

/** The remembered state of one model, or null. */
export function savedStateOf(modelPath: string, storage: StorageLike | null = defaultStorage()): SavedModelState | null {
  return readSession(storage).models[modelPath] ?? null
}

/**
 * Models this window has had loaded (newest first), e.g. the embedded default model, which the host's
 * recent list only has once it was opened explicitly.
 */
export function sessionModels(storage: StorageLike | null = defaultStorage()): { path: string; name: string; openedAt: string }[] {
  return Object.entries(readSession(storage).models)
    .filter(([, s]) => typeof s.name === 'string')
    .sort((a, b) => b[1].savedAt.localeCompare(a[1].savedAt))
    .map(([path, s]) => ({ path, name: s.name!, openedAt: s.savedAt }))
}

/** Side (pixels) from which a model counts as ImageNet-sized for the starting settings. */
const LARGE_INPUT_PX = 128
/** Iterations of the starting settings on an ImageNet-sized model (the README's GoogLeNet example). */
export const LARGE_MODEL_MAX_ITER = 200

/**
 * The settings the app opens on for a model: yosinski-3 (Table 1 row 3, the paper's figures: decay,
 * blur every 4, lr 100) gives a readable image that reaches the unit's arg-max on the embedded model
 * and on ImageNet networks (GoogLeNet's flamingo: rank 1 of 1000 within 40 iterations); on an
 * ImageNet-sized input its 1000 iterations are cut to 200 (minutes instead of a quarter of an hour on
 * a CPU).
 */
export function startingSettings(model: Pick<ModelInfo, 'inputSpec'>): { preset: string; maxIter: number | null; why: string } {
  const { height, width } = model.inputSpec
  if (Math.max(height, width) >= LARGE_INPUT_PX) {
    return { preset: 'yosinski-3', maxIter: LARGE_MODEL_MAX_ITER, why: `yosinski-3 with ${LARGE_MODEL_MAX_ITER} iterations (a ${height}×${width} model)` }
  }
  return { preset: 'yosinski-3', maxIter: null, why: 'yosinski-3' }
}

/**
 * The layer to open on when the model names none: its class layer before the softmax (the logits,
 * with labels), else the last layer.
 */
export function defaultTargetLayer(layers: readonly LayerInfo[]): LayerInfo | null {
  const labelled = layers.filter((l) => l.labels && !/softmax/i.test(l.type))
  if (labelled.length > 0) return labelled[labelled.length - 1]
  return layers[layers.length - 1] ?? null
}
