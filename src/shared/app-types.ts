/**
 * Data of the app-level IPC channels (host info, model opening, export, unit thumbnails); plain
 * JSON-serializable types only. The channels themselves are listed in ipc-contract.ts.
 */

/** Which host serves the renderer and what it can do (`app:info`). */
export interface AppInfo {
  /** 'electron': the desktop app; 'web': the headless web mode in a browser. */
  mode: 'electron' | 'web'
  /** DeepVis Studio version (package.json). */
  version: string
  /** Whether the host can show native folder dialogs (`model:pick`, `run:export` with folder null). */
  canPickFolders: boolean
  /** Folder where runs, thumbnails and settings live, on the engine's machine. */
  dataDir: string
}

/** A model folder opened before (`model:recent`). */
export interface RecentModel {
  /** Folder holding model.json. */
  path: string
  /** The model's display name when it was opened. */
  name: string
  /** ISO time of the last opening. */
  openedAt: string
}

/**
 * A user correction of the model's input spec (`model:setInputSpec`); fields left out keep the
 * model's own value.
 */
export interface InputSpecOverride {
  height?: number
  width?: number
  channelOrder?: 'RGB' | 'BGR'
  /** Per-channel mean in pixel units (0..255), in model channel order (1 or 3 values). */
  mean?: number[]
}

/** One file of an uploaded model (`model:upload`): a plain file name and its bytes in base64. */
export interface UploadedFile {
  /** File name without folders, e.g. 'model.json', 'group1-shard1of1.bin', 'deepvis.json'. */
  name: string
  base64: string
}

/**
 * An upload whose files were already streamed to the engine's machine (web mode: HTTP PUT
 * `<page>/upload/<uploadId>/<name>`, src/web/server.ts), to be stored and opened as `model:upload`.
 */
export interface StagedUpload {
  uploadId: string
}

/** `run:export` request: a stored run and the destination folder (null: ask with a dialog). */
export interface ExportRequest {
  runId: string
  folder: string | null
}

/** What `run:export` wrote (empty `files` and folder '' when the user cancelled the dialog). */
export interface ExportResult {
  folder: string
  files: string[]
}

/** `units:render` request: a layer and optionally which of its units (default: all). */
export interface ThumbRequest {
  layer: string
  channels?: number[]
}

/** A unit's cached visualization: thumbnail PNG data URL (the centred x, as best_X) and final objective. */
export interface UnitThumb {
  channel: number
  image: string
  obj: number
}

/** `units:thumb` event: one more thumbnail of a job. */
export interface ThumbProgress {
  jobId: string
  layer: string
  /** Units finished so far in this job (cached ones included) and the job's total. */
  done: number
  total: number
  thumb: UnitThumb
}

/** `units:done` event: a thumbnail job ended. */
export interface ThumbDone {
  jobId: string
  layer: string
  status: 'done' | 'cancelled' | 'failed'
  done: number
  total: number
  /** Why it failed (status 'failed'). */
  error?: string
}
