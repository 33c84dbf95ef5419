/**
 * Data that crosses the process boundary for optimization runs: what to run (RunSpec), what streams
 * back while it runs (RunProgress), and what a finished or stored run looks like (RunSummary,
 * RunDetail). Plain JSON-serializable data; types only.
 */
import type { FindParams } from './dvt-params'

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
  /** PNG data URL of the current image (x + mean, stretched), every `previewEvery` iterations. */
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
}

/** A regularizer preset offered to the UI (`presets:list`). */
export interface PresetInfo {
  name: string
  description: string
  params: Partial<RunParams>
}
