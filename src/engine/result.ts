/**
 * The result of one optimization, one type for every method (`RunResult`): what the run found (target,
 * snapshots, per-iteration series, timing, backend, RNG, input spec) plus what ran, DVT's FindParams
 * (`params`) or a general method's record (`method`), never both: a method's result carries no DVT
 * record made up for it (the DVT-format files derive one where their format needs it:
 * engine/node/info-files.ts `dvtParamsOf`). Images are plain Float32Arrays, HWC, mean-subtracted pixel
 * units, in the model's channel order, so hosts can write or send them.
 * Shape: `RunResult = DvtResult | MethodResult` (discriminated by `method`); `OptimizeResult` is its old name.
 */
import type { FindParams } from './params.ts'
import type { GeneralParams } from '../shared/method-params.ts'
import type { MetaResult, StepRecord } from './recorder.ts'
import type { InputSpec } from './model/input-spec.ts'

export interface ImageSnapshot {
  ii: number
  obj: number
  /** HWC, model channel order, mean-subtracted 0..255 pixel units. */
  x: Float32Array
}

export interface TargetInfo {
  layer: string
  layerType: string
  /** Layer output shape without the batch dimension. */
  layerShape: number[]
  channel: number
  /** (y, x) for conv layers, null for dense layers. */
  spatial: [number, number] | null
  /** DVT's push_unit: (channel, y, x); (channel, 0, 0) for dense layers. */
  pushUnit: [number, number, number]
  /** Class label of the unit, when the layer is a class layer with known labels. */
  label: string | null
}

/** What a non-DVT method ran with (absent for DVT runs): written to info.json as `method`. */
export interface MethodRecord {
  name: string
  /** The method's full parameters (plain JSON), objective expanded. */
  params: GeneralParams
  /** The objective as parsed. */
  objective: string
  /** Index of this image in its batch, and the batch size. */
  image_index: number
  batch_size: number
  /** cnnpref-lbfgs: why L-BFGS stopped, its iterations and function evaluations (one forward/backward each). */
  lbfgs?: { stop: string; iterations: number; evaluations: number }
  /** param 'generator': the generator code after the run (the last step's, within the code bounds). */
  code?: number[]
}

/** What every result has, whichever method made it. */
export interface ResultBase {
  target: TargetInfo
  inputSpec: InputSpec
  backend: string
  rng: { name: string; seed: number }
  x0: Float32Array
  best: ImageSnapshot | null
  last: ImageSnapshot | null
  majority: ImageSnapshot | null
  metaResult: MetaResult
  series: {
    ii: number[]; obj: number[]; idxmax: [number, number, number][]; ismax: boolean[]
    norm: number[]; dist: number[]; std: number[]; lr: number[]; wall_ms: number[]
    /** cnnpref-gd: the scheduled momentum, decay and blur sigma of each iteration's step (the general methods only). */
    momentum?: number[]; decay?: number[]; blur_sigma?: number[]
    /** dnnbrain with a penalty: penalty_weight * R(image) of each recorded image (obj is the activation term). */
    penalty?: number[]
    /** Values a method or a DVT view regularizer records per iteration (e.g. a seeded draw), by name. */
    [extra: string]: unknown[] | undefined
  }
  /** True when the run was stopped before max_iter by an abort signal. */
  interrupted: boolean
  /** Total wall time in ms, including set-up of the first iteration. */
  totalMs: number
  /**
   * Transparency map (DVT's loop and the general methods except cnnpref-gd's pixels): Σ over every gradient
   * evaluation of Σ_channels |d loss / d image| per pixel, H*W row-major at the input size (MACO's canvas resized to it).
   */
  alpha?: { data: Float32Array; height: number; width: number; evaluations: number }
}

/** A result of DVT's loop (optimizeImage, optimizeBatch): its FindParams. */
export interface DvtResult extends ResultBase {
  params: FindParams
  method?: undefined
}

/** A result of a general method (methods/general.ts): the method's record; no FindParams. */
export interface MethodResult extends ResultBase {
  method: MethodRecord
  params?: undefined
}

/** The result of one image of any run. */
export type RunResult = DvtResult | MethodResult

/** The former name of RunResult. */
export type OptimizeResult = RunResult

export type { StepRecord }
