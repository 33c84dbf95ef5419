/**
 * A method is a value: its name, family, source, the parameters it reads, how it parameterizes the image and
 * its step. The general loop (general.ts) knows no method names: it asks the registry (registry.ts) for the
 * method's definition and calls `create` once per run, then the returned run's `step` per iteration (or its
 * `drive`, for a method such as L-BFGS that runs its own iterations). DVT is a method of the 'dvt' family,
 * whose loop (optimize.ts) composes its regularizers (dvt-regularizers.ts).
 * Shape: `GeneralMethod.create(ctx, generatorParam) => MethodRun`; `MethodRun.step(ii)`.
 */
import type * as tf from '@tensorflow/tfjs'
import type { GeneralParams } from '../../shared/method-params.ts'
import type { Rng } from '../rng.ts'
import type { AlphaAccumulator } from './alpha-map.ts'
import type { Generator } from './generator-param.ts'
import type { Spectrum } from './maco.ts'
import type { RgbImage } from './accentuation.ts'

/** What a parameterization offers the loop: its variables, the RGB image [N, H, W, 3] in [0, 1], disposal. */
export interface ImageParameterization {
  variables: tf.Variable[]
  render(): tf.Tensor4D
  dispose(): void
  /** Clamp the variables to their bounds after a step (a generator's code). */
  project?: () => void
}

/** What the loop gives a method for one run. Every function that returns tensors is called inside tf.tidy. */
export interface MethodContext {
  params: GeneralParams
  /** Images in the batch. */
  n: number
  /** Model input size [H, W]. */
  size: [number, number]
  /** The run's seeded generator (initial parameters first, then every draw, in order). */
  rng: Rng
  /** The run's Adam(lr), for the methods that step with it (disposed by the loop). */
  optimizer: tf.Optimizer
  /** The generator, when params.param is 'generator' (its parameterization is passed to create). */
  generator: Generator | null
  /** Objective value per image [N] of an RGB batch (the transparency map taps it, unless the method opts out). */
  objectiveOf(rgb: tf.Tensor4D): tf.Tensor1D
  /** Objective of image i on a batch of its crops (the crop methods). */
  objectiveOfCrops(i: number, crops: tf.Tensor4D): tf.Tensor1D
  /** Records |d loss / d image| for the transparency map; returns the image unchanged. */
  tap(rgb: tf.Tensor4D): tf.Tensor4D
  /** Activations of the layers the objective reads plus `extra`, for an RGB batch (not tapped). */
  activations(rgb: tf.Tensor4D, extra?: string[]): (layer: string) => tf.Tensor
  /** Per-image objective [N] from activations. */
  objectiveValue(act: (layer: string) => tf.Tensor): tf.Tensor1D
  /** Layer of the diversity penalty, or null (lucid). */
  diversityLayer: string | null
  alpha: AlphaAccumulator
  /** Host-read inputs (natural spectrum for maco, seed image for accentuation). */
  spectrum?: Spectrum
  seedImage?: RgbImage
}

/** One run of a method: its parameterization and its step. */
export interface MethodRun {
  param: ImageParameterization
  /** One step at iteration ii (never called on the last iteration). */
  step(ii: number): void | Promise<void>
  /** Scheduled values of iteration ii, recorded as series of the same names (cnnpref-gd: momentum, decay, blur_sigma). */
  scheduled?(ii: number): Record<string, number>
  dispose?(): void
}

/** Results of a method that drives its own iterations (L-BFGS), recorded in the result's method info. */
export interface DriveReport {
  stop: string
  iterations: number
  evaluations: number
  interrupted: boolean
}

/** What the loop lends a driving method: one evaluation (loss, image, statistics), recording and notification. */
export interface Driver {
  evaluate(): { loss: tf.Scalar; x: tf.Tensor4D; stats: tf.Tensor2D }
  recordAll(ii: number, x: tf.Tensor4D, s: Float32Array, lr: number): Promise<tf.Tensor4D[]>
  notify(ii: number, wall: number, images: tf.Tensor4D[]): Promise<void>
  signal?: AbortSignal
}

/** A method of the general loop. */
export interface GeneralMethod {
  name: string
  family: 'general'
  /** Where it comes from (paper, repository), one line. */
  source: string
  /** One line for --method's help and the app. */
  summary: string
  /**
   * The GeneralParams keys only this method (and others listing them) reads: a key off its default for a method
   * that does not list it is refused. Keys every method reads (objective, lr, max_iter...) and lucid's image
   * keys that the pixel methods ignore are not listed.
   */
  reads: readonly (keyof GeneralParams)[]
  /** Whether it accepts param 'generator' (the code of a generator instead of pixels). */
  acceptsGenerator?: boolean
  /** Whether the transparency map taps its image (false: cnnpref-gd, whose gradient is taken on the rolled image). */
  tapsAlpha?: boolean
  /** Learning rate recorded at iteration ii (default: params.lr). */
  lrAt?(p: GeneralParams, ii: number): number
  /** Penalty weight x R(image) per image [N], recorded as the series `penalty` (dnnbrain), or null. */
  recordedPenalty?(p: GeneralParams): ((rgb: tf.Tensor4D) => tf.Tensor1D) | null
  /** Extra checks of the resolved params (one-line BAD_PARAM errors). */
  validate?(p: GeneralParams): void
  /** Build the run: the parameterization (or take the generator's, when given) and the step. */
  create(ctx: MethodContext, generatorParam: ImageParameterization | null): MethodRun
  /** Run the iterations itself instead of step (L-BFGS); the loop records through the driver. */
  drive?(ctx: MethodContext, run: MethodRun, driver: Driver): Promise<DriveReport>
}

/** DVT's method (optimize.ts and its composable regularizers), listed in the registry beside the general ones. */
export interface DvtMethod {
  name: 'dvt'
  family: 'dvt'
  source: string
  summary: string
}

export type MethodDefinition = GeneralMethod | DvtMethod
