/**
 * Data of the live view's IPC channels (activations of an image, gradient views of a unit, an image
 * folder on the engine's machine, the background top-k index); plain JSON-serializable types only.
 * The channels themselves are listed in ipc-contract.ts.
 */
import type { FitPolicy } from './fit-policy'

/** An RGB image already fitted to the model's input size (HWC bytes, base64). */
export interface LiveImage {
  width: number
  height: number
  rgb: string
}

/** `live:activations` request. */
export interface LiveActivationsRequest {
  image: LiveImage
  layer: string
}

/**
 * A layer's activations for one image. Conv layers: `bytes` holds every map quantized per channel
 * (CHW, value ≈ min[c] + byte/255 (max[c] - min[c])); dense layers: `values` holds the exact values.
 */
export interface LiveActivations {
  layer: string
  /** [H, W, C] or [C]. */
  shape: number[]
  min: number[]
  max: number[]
  mean: number[]
  /** Per channel [y, x] of its maximum, flattened (y0, x0, y1, x1, ...). */
  argmax: number[]
  bytes?: string
  values?: number[]
  /** Engine milliseconds for this answer (forward pass and packing). */
  ms: number
}

export const GRADIENT_VIEW_MODES = ['gradient', 'guided', 'deconv'] as const
export type GradientViewModeName = (typeof GRADIENT_VIEW_MODES)[number]

/** `live:gradients` request: a unit (a conv unit at a position, or the whole channel) on an image. */
export interface LiveGradientsRequest {
  image: LiveImage
  layer: string
  channel: number
  /** [y, x] in a conv map; null: the whole channel (DVT's top diff = the map itself). */
  spatial: [number, number] | null
  modes: GradientViewModeName[]
}

export interface LiveGradientView {
  mode: GradientViewModeName
  /** PNG data URL: 0 is mid-grey, the largest |gradient| reaches black or white. */
  image: string
  objective: number
}

export interface LiveGradients {
  views: LiveGradientView[]
  ms: number
}

/** `live:folder` answer: the images of a folder on the engine's machine. */
export interface LiveFolder {
  folder: string
  /** Paths relative to the folder, '/'-separated, sorted; at most MAX_LIVE_FOLDER_LIST. */
  images: string[]
  /** How many the folder holds (more than listed when it was cut). */
  total: number
}

/** `live:image` request: one image of a folder, fitted to the model's input. */
export interface LiveImageRequest {
  folder: string
  image: string
  fit: FitPolicy
}

/** An image read on the engine's machine: fitted pixels for the model plus a PNG to show. */
export interface LiveImageFile extends LiveImage {
  name: string
  /** PNG data URL of the fitted image. */
  png: string
}

/** `index:build` request: index a folder for one layer of the loaded model, in the background. */
export interface IndexBuildRequest {
  folder: string
  layer: string
}

export interface IndexJob {
  jobId: string
  /** Images in the folder. */
  total: number
  /** True when a complete index was already cached (no job runs; `index:done` follows at once). */
  cached: boolean
}

/** `index:progress` event. */
export interface IndexProgressEvent {
  jobId: string
  folder: string
  layer: string
  done: number
  total: number
  failed: number
  /** Images per second in this job. */
  rate: number
}

/** `index:done` event. */
export interface IndexDoneEvent {
  jobId: string
  folder: string
  layer: string
  status: 'done' | 'cancelled' | 'failed'
  imagesPerSecond: number
  error?: string
}

/** `index:top` request. */
export interface IndexTopRequest {
  folder: string
  layer: string
  unit: number
  k: number
}

export interface IndexTopEntry {
  rank: number
  /** Path relative to the folder. */
  image: string
  score: number
  y: number
  x: number
  /** Receptive-field box of the maximum in the fitted image's pixels, cut to the image; null for dense units. */
  box: { top: number; left: number; bottom: number; right: number } | null
  /** PNG data URL of the crop (the whole fitted image when there is no box). */
  crop: string
}

export interface IndexTop {
  entries: IndexTopEntry[]
  /** Images indexed and the folder's images that could not be read. */
  images: number
  failed: number
  inputSize: [number, number]
}
