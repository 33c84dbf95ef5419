/**
 * What the app's Atlas view receives about an atlas written by `deepvis sweep` (the folder's
 * manifest.json, read and checked by the host; images as data URLs). Types only.
 */

/** One layer of an atlas, with how many of its jobs are finished or failed. */
export interface AtlasLayerInfo {
  name: string
  type: string
  /** Output shape without the batch dimension. */
  shape: number[]
  /** Units the sweep planned for this layer, ascending. */
  units: number[]
  /** Class label per unit index (label[i] of unit i) where the model has them. */
  labels?: string[]
  /** Results present (units x presets). */
  done: number
  /** Jobs that failed. */
  failed: number
}

/** `atlas:open`: an atlas folder's summary. */
export interface AtlasInfo {
  /** The atlas folder (absolute, on the engine's machine). */
  path: string
  model: { name: string; path: string; hash: string }
  presets: string[]
  layers: AtlasLayerInfo[]
  /** Results present in the atlas. */
  results: number
  /** Jobs the last sweep planned. */
  planned: number
  failed: { id: string; error: string }[]
  /** When the sweep last wrote the manifest (ISO time). */
  updated: string
}

/** `atlas:thumbs`: one page of a layer's unit grid. */
export interface AtlasThumbsRequest {
  path: string
  layer: string
  /** Index into the layer's unit list. */
  offset: number
  /** Cells asked for (at most MAX_ATLAS_PAGE); a page of big images may hold fewer (ask again from offset + cells). */
  limit: number
}

/** One preset's thumbnail in a grid cell. */
export interface AtlasThumb {
  preset: string
  /** The best image, scaled to at most ATLAS_THUMB_PX, as a PNG data URL; null when there is none. */
  image: string | null
  /** The best objective value, when rendered. */
  obj: number | null
  /** 'done', or why there is no image. */
  status: 'done' | 'failed' | 'pending'
  error?: string
}

export interface AtlasCell {
  unit: number
  /** Class label of the unit ('' when the layer has none). */
  label: string
  thumbs: AtlasThumb[]
}

export interface AtlasThumbsPage {
  layer: string
  /** Units in the layer. */
  total: number
  offset: number
  cells: AtlasCell[]
}

/** `atlas:unit`: one unit's page. */
export interface AtlasUnitRequest {
  path: string
  layer: string
  unit: number
}

/** A snapshot of a preset's run: best, last or majority. */
export interface AtlasSnapshot {
  kind: 'best' | 'last' | 'majority'
  /** PNG data URL (the image as the run wrote it), null when the run has no such snapshot. */
  image: string | null
  /** Iteration and objective value of the snapshot; null when absent (e.g. majority never reached). */
  ii: number | null
  obj: number | null
}

export interface AtlasUnitPreset {
  preset: string
  status: 'done' | 'failed' | 'pending'
  error?: string
  snapshots: AtlasSnapshot[]
  /** Quality readouts the run recorded (activation, rank in its layer, spectrum slope...). */
  quality: { key: string; value: string }[]
  iterations: number
  method: string
  /** The run's verdict ("majority reached at ii …"). */
  metaResult: string
  totalMs: number
}

/** A unit's top images from the sweep's top-k index (`deepvis sweep --index`). */
export interface AtlasUnitTop {
  /** The montage of receptive-field crops, a PNG data URL (null when unreadable). */
  montage: string | null
  /** Indexed folder (on the machine that ran the sweep) and its image count. */
  indexDir: string
  images: number
  entries: { rank: number; image: string; score: number }[]
}

export interface AtlasUnitPage {
  layer: string
  unit: number
  label: string
  presets: AtlasUnitPreset[]
  /** Top images when the atlas was swept with an index; null otherwise. */
  top: AtlasUnitTop | null
  /** Neighbouring units of the layer's list, for the arrows. */
  prev: number | null
  next: number | null
}

/** Largest page of `atlas:thumbs`. */
export const MAX_ATLAS_PAGE = 256
/** Longest side of a grid thumbnail, pixels (smaller images are sent as they are). */
export const ATLAS_THUMB_PX = 128
