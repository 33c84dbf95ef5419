/**
 * The one run pipeline of every host (the CLI, its sweep workers, the app's run and thumbnail services):
 * resolve -> validate -> read the method's files (masks, images, spectrum) -> optimize -> GIF frames ->
 * quality readouts -> save. What differs between hosts is passed in: where progress goes, how a run is
 * stopped, whether a GIF is recorded (and whether it ends on the last frame), whether quality is
 * assessed (and with which second model), where the files go and what `extra` info.json records.
 *
 * - `createRun(engine, plan, opts)` resolves and validates everything before any work (a bad parameter,
 *   layer, unit or objective throws its DeepVisError: BAD_PARAM / BAD_LAYER / BAD_UNIT) and reads the
 *   files the method names (masks, generator on demand, images, maco's spectrum).
 * - `run.execute(io)` optimizes (DVT: optimizeImage; a DVT batch: optimizeBatch, one forward/backward per
 *   step for all images; a general method: optimizeGeneralBatch), then per image computes the quality
 *   readouts and encodes the GIF, and hands each finished image to `io.onImageDone` (a batch: as soon as
 *   that image finishes, while the others go on); resolves with every image's outcome in order.
 * - `saveOutcome(outcome, prefix, opts)` writes one image's result files (saveResults: PNGs, info.txt,
 *   .npy, info.json last) with its quality and GIF.
 * Shape: `await createRun(engine, plan, {gif?}) => Run`; `await run.execute(io) => RunOutcome[]`;
 *   `await saveOutcome(outcome, prefix, {brave, skipbig, extra?}) => string[]`.
 */
import { DeepVisError } from '../../shared/errors.ts'
import type { GeneralParams } from '../../shared/method-params.ts'
import type { InputSpec } from '../model/input-spec.ts'
import type { VisModel } from '../model/vis-model.ts'
import { optimizeImage, resolveTarget, type IterationEvent } from '../optimize.ts'
import { optimizeBatch } from '../optimize-batch.ts'
import { resolveParams, type FindParams } from '../params.ts'
import type { OptimizeResult, TargetInfo } from '../result.ts'
import { optimizeGeneralBatch, resolveGeneralParams, type GeneralOptions } from '../methods/general.ts'
import { imageReferences, parseObjective, validateObjective, type MaskWeights } from '../methods/objectives.ts'
import type { RgbImage } from '../methods/accentuation.ts'
import { GifFrames } from './gif-frames.ts'
import type { LoadedModel } from './load-model.ts'
import { readGeneratorArtifacts, readMasks } from './method-files.ts'
import { loadNaturalSpectrum } from './natural-spectrum.ts'
import { qualityOf, type Quality } from './quality-readout.ts'
import { readRgbImage } from './read-image.ts'
import { saveResults } from './save-results.ts'

/** What a run needs from its host: the loaded model and where it runs. */
export interface PipelineEngine {
  model: VisModel
  inputSpec: InputSpec
  /** tfjs backend name, recorded with the result. */
  backend: string
}

/** What to run. */
export type RunPlan =
  /** DVT's loop on one image (optimizeImage). */
  | { kind: 'dvt'; params: FindParams }
  /** DVT's loop on several images at once (optimizeBatch): compare groups, thumbnails. */
  | { kind: 'dvt-batch'; params: FindParams[] }
  /** A general method (lucid, maco, ...): batch_size images, or one per entry of `objectives`. */
  | {
    kind: 'general'; params: Partial<GeneralParams>
    /** One objective per image instead of params.objective for all (a grid of channels). */
    objectives?: string[]
    /** The unit an empty objective means. */
    defaultUnit?: { layer: string; channel: number }
    /**
     * Read the images the method names (accentuation's params.image, invert/caricature's references).
     * Default true; the app's run service passes false (it reads no image file named over IPC).
     */
    readImages?: boolean
  }

/** Options fixed when the run is created. */
export interface RunOptions {
  /**
   * Record an animated GIF: a frame every `every` iterations, plus the last one when `withLast`. A DVT
   * batch may give one per image (undefined: no GIF for that image).
   */
  gif?: GifOption | readonly (GifOption | undefined)[]
}

/** How an image's GIF is recorded. */
export interface GifOption { every: number; withLast?: boolean }

/** One iteration of one image (imageIndex 0 for a single image). */
export interface PipelineIterationEvent extends IterationEvent {
  imageIndex: number
  /** dnnbrain with a penalty: penalty_weight * R(image) of the recorded image. */
  penalty?: number
}

/** How a host takes part in one execution. */
export interface RunIo {
  /** Stops every image after its current iteration (results marked interrupted). */
  signal?: AbortSignal
  /** A DVT batch: per-image stops, by index (the other images go on). */
  signals?: readonly (AbortSignal | undefined)[]
  /** Called after each image's iteration is recorded (progress bars, previews, logs). */
  onIteration?: (event: PipelineIterationEvent) => void | Promise<void>
  /**
   * Quality readouts of each image (default on): a second model for the held-out score (`checks`: one
   * per image of a batch), flips. `false`: none.
   */
  quality?: false | { check?: LoadedModel; checks?: readonly (LoadedModel | undefined)[]; flip?: boolean }
  /** Called once per image as soon as its outcome is complete (a batch: while the others go on). */
  onImageDone?: (outcome: RunOutcome) => void | Promise<void>
  /**
   * Called instead of onImageDone when finishing one image (quality, GIF, onImageDone) throws; without
   * it the error ends the execution.
   */
  onImageFailed?: (imageIndex: number, error: unknown) => void | Promise<void>
  /** The batched optimizer, for tests (count or spy calls). Default optimizeBatch. */
  optimizeBatch?: typeof optimizeBatch
}

/** One image's finished run: the result, its quality readouts and GIF. */
export interface RunOutcome {
  imageIndex: number
  result: OptimizeResult
  /** null when the host asked for no quality readouts. */
  quality: Quality | null
  gif?: Uint8Array
}

/** A validated run, ready to execute (once). */
export interface Run {
  readonly plan: ResolvedPlan
  /** DVT plans: each image's target (layer, unit, label), as validated. */
  readonly targets: TargetInfo[]
  /** Images this run makes. */
  readonly images: number
  /** The rand_seed of image `i`. */
  seedOf(i: number): number
  execute(io?: RunIo): Promise<RunOutcome[]>
}

/** A plan with its parameters resolved (defaults filled, validated). */
export type ResolvedPlan =
  | { kind: 'dvt'; params: FindParams }
  | { kind: 'dvt-batch'; params: FindParams[] }
  | { kind: 'general'; params: GeneralParams; objectives?: string[]; defaultUnit?: { layer: string; channel: number }; readImages?: boolean }

/** Fill the defaults of a plan's parameters and validate them (no model needed); throws BAD_PARAM. */
export function resolvePlan(plan: RunPlan): ResolvedPlan {
  if (plan.kind === 'dvt') return { kind: 'dvt', params: resolveParams(plan.params) }
  if (plan.kind === 'dvt-batch') return { kind: 'dvt-batch', params: plan.params.map((p) => resolveParams(p)) }
  return { ...plan, params: resolveGeneralParams(plan.params) }
}

/** What a general method reads besides the model: maco's natural-image spectrum, accentuation's seed image, named images. */
async function methodInputs(params: GeneralParams, readImages: boolean): Promise<Partial<GeneralOptions>> {
  const images: Record<string, RgbImage> = {}
  if (readImages) for (const r of imageReferences(params.objective)) images[r.name] ??= await readRgbImage(r.name)
  const withImages = Object.keys(images).length > 0 ? { images } : {}
  if (params.method === 'maco') return { spectrum: await loadNaturalSpectrum(), ...withImages }
  if (params.method === 'accentuation' && readImages) {
    if (!params.image) throw new DeepVisError('BAD_PARAM', 'method accentuation starts from an image: give --image FILE')
    return { seedImage: await readRgbImage(params.image), ...withImages }
  }
  return withImages
}

/**
 * Resolve and validate `plan` against the engine's model and read the files its method names; nothing
 * is optimized or written. Throws the DeepVisError of the first problem.
 * @example const run = await createRun({ model, inputSpec, backend: 'cpu' }, { kind: 'dvt', params })
 */
export async function createRun(engine: PipelineEngine, plan: RunPlan, opts: RunOptions = {}): Promise<Run> {
  const resolved = resolvePlan(plan)
  const { model, inputSpec: spec } = engine
  const size: [number, number] = [spec.height, spec.width]
  /** One GIF recorder per image (null: none), new for each execution. */
  const gifsOf = (images: number): (GifFrames | null)[] => Array.from({ length: images }, (_, i) => {
    const g = Array.isArray(opts.gif) ? (opts.gif as (GifOption | undefined)[])[i] : (opts.gif as GifOption | undefined)
    return g ? new GifFrames(g.every, spec, { withLast: g.withLast }) : null
  })
  if (resolved.kind !== 'general') {
    const list = resolved.kind === 'dvt' ? [resolved.params] : resolved.params
    gifsOf(list.length) // a bad --gif-every fails now, before any work
    const targets: TargetInfo[] = []
    for (const p of list) targets.push(resolveTarget(await model.layerInfo(p.push_layer, size), p, spec.labels))
    return {
      plan: resolved, targets, images: list.length, seedOf: (i) => list[i].rand_seed,
      execute: (io = {}) => executeDvt(engine, resolved, gifsOf(list.length), io),
    }
  }
  const params = resolved.params
  const images = resolved.objectives?.length ?? params.batch_size
  gifsOf(images) // a bad --gif-every fails now, before any work
  const masks: Record<string, MaskWeights> = readMasks(params.objective)
  const readImages = resolved.readImages ?? true
  // Objectives that compare with an image are checked by the engine once it has the image's activations;
  // where no image is read (the app), such an objective is refused now, as any other it cannot run.
  for (const text of resolved.objectives ?? [params.objective]) {
    if (text.trim() && (!readImages || imageReferences(text).length === 0)) await validateObjective(parseObjective(text, { masks }), (l) => model.layerInfo(l, size))
  }
  if (params.diversity > 0 && params.diversity_layer) await model.layerInfo(params.diversity_layer, size)
  const inputs = await methodInputs(params, readImages)
  return {
    plan: resolved, targets: [], images, seedOf: () => params.rand_seed,
    execute: async (io = {}) => {
      const gifs = gifsOf(images)
      const results = await optimizeGeneralBatch(model, spec, resolved.objectives ? { ...params, batch_size: images } : params, {
        backend: engine.backend, signal: io.signal, masks, readGenerator: readGeneratorArtifacts, ...inputs,
        ...(resolved.objectives ? { objectives: resolved.objectives } : {}),
        ...(resolved.defaultUnit ? { defaultUnit: resolved.defaultUnit } : {}),
        onIteration: async (e) => { await gifs[e.imageIndex]?.onIteration(e); await io.onIteration?.(e) },
      })
      const outcomes: RunOutcome[] = []
      for (const [i, result] of results.entries()) {
        const outcome = await finishImage(engine, i, result, params.rand_seed, gifs[i], io)
        if (outcome) outcomes.push(outcome)
      }
      return outcomes
    },
  }
}

/** Quality and GIF of one finished image, handed to io.onImageDone; a failure goes to io.onImageFailed when given. */
async function finishImage(
  engine: PipelineEngine, i: number, result: OptimizeResult, seed: number, gif: GifFrames | null, io: RunIo,
): Promise<RunOutcome | null> {
  try {
    const check = io.quality ? (io.quality.checks ? io.quality.checks[i] : io.quality.check) : undefined
    const q = io.quality === false ? null : await qualityOf(engine.model, engine.inputSpec, result, { check, seed, flip: io.quality?.flip })
    const encoded = gif ? await gif.encode(i) : undefined
    const outcome: RunOutcome = { imageIndex: i, result, quality: q, ...(encoded ? { gif: encoded } : {}) }
    await io.onImageDone?.(outcome)
    return outcome
  } catch (e) {
    if (!io.onImageFailed) throw e
    await io.onImageFailed(i, e)
    return null
  }
}

async function executeDvt(
  engine: PipelineEngine, plan: Extract<ResolvedPlan, { kind: 'dvt' | 'dvt-batch' }>, gifs: (GifFrames | null)[], io: RunIo,
): Promise<RunOutcome[]> {
  const { model, inputSpec: spec, backend } = engine
  if (plan.kind === 'dvt') {
    const result = await optimizeImage(model, spec, plan.params, {
      backend, signal: io.signal,
      onIteration: async (e) => {
        const ev = { ...e, imageIndex: 0 }
        await io.onIteration?.(ev)
        await gifs[0]?.onIteration(ev)
      },
    })
    const outcome = await finishImage(engine, 0, result, plan.params.rand_seed, gifs[0], io)
    return outcome ? [outcome] : []
  }
  const outcomes = new Map<number, RunOutcome | null>()
  const finish = async (i: number, result: OptimizeResult): Promise<void> => {
    outcomes.set(i, null)
    outcomes.set(i, await finishImage(engine, i, result, plan.params[i].rand_seed, gifs[i], io))
  }
  const results = await (io.optimizeBatch ?? optimizeBatch)(model, spec, plan.params, {
    backend, signal: io.signal, signals: io.signals,
    onIteration: async (e) => {
      await io.onIteration?.(e)
      await gifs[e.imageIndex]?.onIteration(e)
    },
    onImageDone: finish,
  })
  // An optimizer that does not call onImageDone (a test double) still gets every image finished.
  for (const [i, result] of results.entries()) if (!outcomes.has(i)) await finish(i, result)
  return [...outcomes.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, o]) => (o ? [o] : []))
}

/** Options of {@link saveOutcome}: saveResults' own, less what the outcome carries. */
export interface SaveOutcomeOptions {
  brave: boolean
  skipbig: boolean
  /** Host-specific records for info.json's `extra`. */
  extra?: Record<string, unknown>
}

/** Write one image's result files under `prefix` (saveResults) with its quality readouts and GIF; returns the paths. */
export async function saveOutcome(outcome: RunOutcome, prefix: string, opts: SaveOutcomeOptions): Promise<string[]> {
  return saveResults(outcome.result, prefix, {
    brave: opts.brave, skipbig: opts.skipbig,
    ...(outcome.quality ? { quality: { ...outcome.quality } } : {}),
    gif: outcome.gif,
    ...(opts.extra ? { extra: opts.extra } : {}),
  })
}
