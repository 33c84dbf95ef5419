/**
 * Data that crosses the process boundary for optimization runs: what to run (RunSpec), what streams
 * back while it runs (RunProgress), and what a finished or stored run looks like (RunSummary,
 * RunDetail). Plain JSON-serializable data; types plus the preset family list.
 */
import type { FindParams } from './dvt-params'
import type { GeneralParams } from './method-params'

/** DVT parameters the user sets; the unit (layer, channel) is part of it. */
export type RunParams = FindParams

/** One run to start: parameters plus how often to stream a preview image. */
export interface RunSpec {
  params: RunParams
  /** Name of the preset the parameters came from, if any (for the record). */
  preset?: string | null
  /** Send a preview image every N iterations (default 10). */
  previewEvery?: number
  /** Group id of a side-by-side comparison this run belongs to. */
  compareGroup?: string | null
  /**
   * A general (non-DVT) method's own parameters; absent or null = DVT with `params`. With a method,
   * `params` still carries the unit (push_layer, push_channel, push_spatial), rand_seed and max_iter.
   */
  method?: Partial<GeneralParams> | null
  /** Write `<runDir>/optimization.gif` with a frame every N iterations (and the last); 0 or absent = none. */
  gifEvery?: number
  /**
   * Folder of a second model (on the engine's machine) that scores the best image for the target
   * class: a held-out check that the image carries the class, not a pattern the first model overfits.
   * Its last layer must classify the same classes as the target layer.
   */
  checkModel?: string | null
}

export type RunStatus = 'running' | 'done' | 'stopped' | 'failed'

/** Streamed after each iteration (`run:progress` event). */
export interface RunProgress {
  runId: string
  ii: number
  maxIter: number
  obj: number
  lr: number
  norm: number
  std: number
  wallMs: number
  /** PNG data URL of the current image (centred x, as best_X), every `previewEvery` iterations. */
  preview?: string
}

/** A stored or finished run, without the series (`runs:list`, `run:done` event). */
export interface RunSummary {
  runId: string
  status: RunStatus
  createdAt: string
  modelName: string
  layer: string
  channel: number
  label: string | null
  preset: string | null
  maxIter: number
  iterations: number
  metaResult: string | null
  best: { ii: number; obj: number } | null
  last: { ii: number; obj: number } | null
  majority: { ii: number; obj: number } | null
  backend: string
  compareGroup: string | null
  /** Error message when status is 'failed'. */
  error?: string
  /** A small PNG data URL of the best image (as best_X), for the history list; absent in older runs. */
  thumb?: string
}

/** Images of one snapshot as PNG data URLs: centred (X) and plus-mean (Xpm). */
export interface SnapshotImages {
  x: string
  xpm: string
}

/** Everything about one run (`runs:get`). */
export interface RunDetail extends RunSummary {
  params: RunParams
  series: { obj: number[]; norm: number[]; std: number[]; lr: number[]; wall_ms: number[] }
  images: { best: SnapshotImages | null; last: SnapshotImages | null; majority: SnapshotImages | null }
  /** Folder holding the result files (the same files the CLI writes). */
  folder: string
  /** The general method's full parameters (null or absent for DVT runs). */
  method?: GeneralParams | null
  /** Quality readouts the engine recorded in info.json, if any. */
  quality?: Record<string, unknown> | null
  /** The optimization animation (`optimization.gif`) as a GIF data URL, when the run wrote one. */
  gif?: string | null
  /** The transparency map (`last_alpha.png`: accumulated |gradient| per pixel) as a PNG data URL, when the run wrote one. */
  alpha?: string | null
}

/** A regularizer preset offered to the UI (`presets:list`). */
export interface PresetInfo {
  name: string
  description: string
  params: Partial<RunParams>
  /** Method family the preset belongs to (groups the method selector); absent = 'dvt'. */
  family?: PresetFamily
  /** Where the preset comes from (paper / repository), shown as a hint. */
  source?: string
  /** The general method's parameters; absent for DVT presets. */
  method?: Partial<GeneralParams>
}

/** Method families of the presets. */
export const PRESET_FAMILIES = ['dvt', 'lucid', 'maco', 'dnnbrain', 'cnnpref', 'seed003', 'seed004'] as const
export type PresetFamily = (typeof PRESET_FAMILIES)[number]
