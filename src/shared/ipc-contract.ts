/**
 * THE IPC contract between the renderer and the main process: every request/response channel, its
 * payload and its result, written once. The preload object, the main-process handlers, the payload
 * schemas and the renderer's `window.vis` type are all derived from `InvokeMap`, so adding a channel
 * here is a compile error everywhere it is not yet implemented.
 *
 * Errors cross IPC as codes inside the result, never as thrown exceptions: Electron keeps only an
 * error's `message` across `invoke` (electron/electron#24427).
 * Shape: `window.vis[channel](payload) => Promise<IpcResult<result>>`
 *
 * Types and tiny constants only: this module is imported by main, preload and renderer alike.
 */
import type { ErrorCode as EngineErrorCode } from './errors'
import type { PresetInfo, RunDetail, RunProgress, RunSpec, RunSummary } from './run-types'
import type { AtlasInfo, AtlasThumbsPage, AtlasThumbsRequest, AtlasUnitPage, AtlasUnitRequest } from './atlas-types'
import type {
  IndexBuildRequest, IndexDoneEvent, IndexJob, IndexProgressEvent, IndexTop, IndexTopRequest, LiveActivations, LiveActivationsRequest,
  LiveFolder, LiveGradients, LiveGradientsRequest, LiveImageFile, LiveImageRequest,
} from './live-types'
import type {
  AppInfo, ExportRequest, ExportResult, InputSpecOverride, RecentModel, ThumbDone, ThumbProgress, ThumbRequest, UnitThumb,
  StagedUpload,
  UploadedFile,
} from './app-types'

export type {
  AppInfo, ExportRequest, ExportResult, InputSpecOverride, RecentModel, ThumbDone, ThumbProgress, ThumbRequest, UnitThumb,
  StagedUpload,
  UploadedFile,
}

/** How the model's input is fed: the part of the engine's InputSpec a user needs to see. */
export interface InputSpecSummary {
  /** Input height in pixels. */
  height: number
  /** Input width in pixels. */
  width: number
  /** Channel order the network expects. */
  channelOrder: 'RGB' | 'BGR'
  /** DVT mean in pixel units (0..255), per channel in model order; 'image' when a full mean image is used. */
  mean: number[] | 'image'
  /** Where the spec came from: 'deepvis.json', 'index.json', 'default', '… + flags'. */
  source: string
}

/** What the app knows about the loaded model (answer of `model:info`). */
/** `engine:restarted`: why the engine was replaced, and the model the fresh one loaded. */
export interface EngineRestarted {
  reason: string
  model: ModelInfo | null
}

export interface ModelInfo {
  /** Human-readable model name. */
  name: string
  /** TensorFlow.js model format. */
  format: 'layers-model' | 'graph-model' | 'onnx'
  /** tfjs backend in use: 'tensorflow' | 'wasm' | 'cpu' | … */
  backend: string
  /** What was loaded for the backend, e.g. '@tensorflow/tfjs-backend-wasm (simd)'. */
  backendDetail: string
  /** Input size, channel order, mean and where they came from. */
  inputSpec: InputSpecSummary
  /** Number of class labels known for the model (0 when none). */
  labelsCount: number
  /** Folder the model was loaded from (for an uploaded model: the server-side copy). */
  path: string
  /** The unit the model's sidecar (deepvis.json) proposes to look at first, if any. */
  defaultUnit: { layer: string; channel: number } | null
  /** Whether the input spec carries a user correction (`model:setInputSpec`). */
  inputSpecCorrected: boolean
}

/** One layer of the model as the layer browser shows it (answer of `model:layers`). */
export interface LayerInfo {
  name: string
  /** Keras class name (LayersModel) or TensorFlow op (GraphModel). */
  type: string
  /** Output shape without the batch dimension, e.g. [56, 56, 64] or [1000]. */
  shape: number[]
  /** Number of channels (last dimension). */
  units: number
  /** Class names, label[i] for unit i; present only on layers whose `units` equals the label count. */
  labels?: string[]
  /** ONNX models: the module of the layer (`layer2.1`, '' at the top). */
  module?: string
  /** ONNX models: a plumbing op (reshape, transpose, gather...), hidden unless asked for. */
  plumbing?: boolean
}

/**
 * Request/response channels (`noun:verb`): channel → (payload) => result.
 * A channel without a parameter takes no payload (it is sent as `undefined`).
 */
export interface InvokeMap {
  /** Which host this is (Electron or web) and what it can do. */
  'app:info': () => AppInfo
  'model:info': () => ModelInfo
  'model:layers': () => LayerInfo[]
  /** Load another model from a folder (or model.json path) on the engine's machine; the old one stays on error. */
  'model:open': (modelPath: string) => ModelInfo
  /** Electron: choose a model folder in a dialog and load it; null when the user cancels. Web: BAD_PARAM. */
  'model:pick': () => ModelInfo | null
  /** Load a model from uploaded files (model.json, weight shards, optional deepvis.json / labels). */
  'model:upload': (files: UploadedFile[] | StagedUpload) => ModelInfo
  /** Recently opened model folders, newest first. */
  'model:recent': () => RecentModel[]
  /** Correct the loaded model's input spec (size, channel order, mean); null restores the model's own. */
  'model:setInputSpec': (override: InputSpecOverride | null) => ModelInfo
  /** The regularizer presets (yosinski-1..4, ...). */
  'presets:list': () => PresetInfo[]
  /** Start an optimization; progress arrives as `run:progress` events, the end as `run:done`. */
  'run:start': (spec: RunSpec) => { runId: string }
  /** Stop a running optimization after its current iteration (its result is kept, marked stopped). */
  'run:stop': (runId: string) => void
  /** Stored runs (history), newest first. */
  'runs:list': () => RunSummary[]
  /** One stored run with its series and images. */
  'runs:get': (runId: string) => RunDetail
  /** Delete a stored run and its folder. */
  'runs:delete': (runId: string) => void
  /** Copy a stored run's PNGs and info.json to a folder (null: Electron asks with a dialog). */
  'run:export': (req: ExportRequest) => ExportResult
  /** Start rendering thumbnails of a layer's units in the background (cached ones are skipped). */
  'units:render': (req: ThumbRequest) => { jobId: string; total: number; cached: number }
  /** Cancel a thumbnail job after its current unit. */
  'units:cancel': (jobId: string) => void
  /** Cached thumbnails of a layer of the loaded model (with its current input spec). */
  'units:thumbs': (layer: string) => UnitThumb[]
  /** Open an atlas folder written by `deepvis sweep` (a path on the engine's machine): its layers and counts. */
  'atlas:open': (folder: string) => AtlasInfo
  /** Electron: choose an atlas folder in a dialog and open it; null when the user cancels. Web: BAD_PARAM. */
  'atlas:pick': () => AtlasInfo | null
  /** A page of an atlas layer's unit grid, one thumbnail per preset. */
  'atlas:thumbs': (req: AtlasThumbsRequest) => AtlasThumbsPage
  /** One unit of an atlas: every preset's best / last / majority with quality readouts. */
  'atlas:unit': (req: AtlasUnitRequest) => AtlasUnitPage
  /** Live view: every unit of a layer on one image (fitted to the input size by the page). */
  'live:activations': (req: LiveActivationsRequest) => LiveActivations
  /** Live view: the plain-gradient, guided-backprop and deconv views of a unit on one image. */
  'live:gradients': (req: LiveGradientsRequest) => LiveGradients
  /** The images of a folder on the engine's machine (to walk with the arrow keys). */
  'live:folder': (folder: string) => LiveFolder
  /** One image of such a folder, fitted to the model's input. */
  'live:image': (req: LiveImageRequest) => LiveImageFile
  /** Build (or find cached) the top-k index of a folder for a layer, in the background. */
  'index:build': (req: IndexBuildRequest) => IndexJob
  /** Stop an index job after its current batch (what it did is kept and resumed later). */
  'index:cancel': (jobId: string) => void
  /** A unit's top-k images from the folder's index, with their receptive-field crops. */
  'index:top': (req: IndexTopRequest) => IndexTop
}

/** Events main pushes to the renderer: channel -> payload. */
export interface EventMap {
  'run:progress': RunProgress
  'run:done': RunSummary
  /** Another model was loaded (or its input spec corrected): every page reloads its model state. */
  'model:changed': ModelInfo
  /**
   * The engine stopped unexpectedly (a crash, a wasm trap, out of memory) and a fresh one took over:
   * why, and the model it loaded (null if it could not load one). Runs it was executing ended 'failed'.
   */
  'engine:restarted': EngineRestarted
  /** One thumbnail of a `units:render` job is ready. */
  'units:thumb': ThumbProgress
  /** A `units:render` job ended (done, cancelled or failed). */
  'units:done': ThumbDone
  /** An `index:build` job made progress (after each batch). */
  'index:progress': IndexProgressEvent
  /** An `index:build` job ended. */
  'index:done': IndexDoneEvent
}

/** Any event channel name. */
export type EventChannel = keyof EventMap

/** Every event channel once (the preload subscribes to exactly these). */
const EVENT_SET: { readonly [K in EventChannel]: true } = {
  'run:progress': true,
  'run:done': true,
  'model:changed': true,
  'engine:restarted': true,
  'units:thumb': true,
  'units:done': true,
  'index:progress': true,
  'index:done': true,
}

/** Every event channel, as a runtime list. */
export const EVENT_CHANNELS: readonly EventChannel[] = Object.freeze(Object.keys(EVENT_SET) as EventChannel[])

/** Any request/response channel name. */
export type InvokeChannel = keyof InvokeMap

/**
 * Every channel once, as a record so that the compiler rejects a missing or unknown channel;
 * `INVOKE_CHANNELS` is its key list.
 */
const CHANNEL_SET: { readonly [K in InvokeChannel]: true } = {
  'app:info': true,
  'model:info': true,
  'model:layers': true,
  'model:open': true,
  'model:pick': true,
  'model:upload': true,
  'model:recent': true,
  'model:setInputSpec': true,
  'presets:list': true,
  'run:start': true,
  'run:stop': true,
  'runs:list': true,
  'runs:get': true,
  'runs:delete': true,
  'run:export': true,
  'units:render': true,
  'units:cancel': true,
  'units:thumbs': true,
  'atlas:open': true,
  'atlas:pick': true,
  'atlas:thumbs': true,
  'atlas:unit': true,
  'live:activations': true,
  'live:gradients': true,
  'live:folder': true,
  'live:image': true,
  'index:build': true,
  'index:cancel': true,
  'index:top': true,
}

/** Every channel of `InvokeMap`, as a runtime list (the preload and main iterate it). */
export const INVOKE_CHANNELS: readonly InvokeChannel[] = Object.freeze(Object.keys(CHANNEL_SET) as InvokeChannel[])

/** The payload a channel takes: its single parameter, or `undefined` for a parameterless channel. */
export type PayloadOf<K extends InvokeChannel> = Parameters<InvokeMap[K]> extends [infer P] ? P : undefined

/** The value a channel answers with on success. */
export type ResultOf<K extends InvokeChannel> = ReturnType<InvokeMap[K]>

/** Error codes that only the IPC layer produces. */
export type IpcOnlyErrorCode =
  | 'FORBIDDEN' // the message did not come from the app's own window
  | 'BAD_PAYLOAD' // the payload does not match the channel's schema

/** Every error code a result can carry: the engine's codes plus the IPC layer's own. */
export type ErrorCode = EngineErrorCode | IpcOnlyErrorCode

/** Outcome of one IPC call: a value, or an error code with a human-readable message. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string }

/**
 * The API the renderer sees as `window.vis`: one method per channel, named after the channel.
 * @example const res = await window.vis['model:layers'](); if (res.ok) show(res.value)
 */
export type VisApi = {
  [K in InvokeChannel]: (...args: Parameters<InvokeMap[K]>) => Promise<IpcResult<ResultOf<K>>>
} & {
  /** Subscribe to an event channel; returns the unsubscribe function. */
  on<K extends EventChannel>(channel: K, listener: (payload: EventMap[K]) => void): () => void
}
