/**
 * Run service: starts, streams, stores and serves optimization runs for the app (the run channels of
 * the IPC contract). Pure Node (no Electron): the engine (model, input spec, backend) is injected as
 * a function and events leave through an injected `emit`, so tests drive it directly.
 *
 * - `start(spec)` validates the parameters and the target unit up front (a bad parameter, layer or
 *   unit throws its DeepVisError: BAD_PARAM / BAD_LAYER / BAD_UNIT, and no run is created), then
 *   queues the run and returns its id at once. Runs execute one at a time, in order.
 * - While a run executes, each iteration is streamed as `run:progress`, with a PNG data URL of the
 *   current image (centred x, as best_X: the view that looks like the object) every `previewEvery` iterations and at the end.
 * - Every run goes through the engine's one run pipeline (src/engine/node/run-pipeline.ts, as the CLI's):
 *   `createRun` validates it at start, `execute` optimizes and assesses it, `saveOutcome` writes it; so
 *   a run stores the same result files as the CLI for the same parameters and seed.
 * - At the end the result is written with the pipeline's `saveOutcome` (saveResults) into the staging folder
 *   `<historyDir>/.partial/<runId>/` (best_X.png, best_Xpm.png, ..., info.txt, *.npy, info.json), then
 *   `run.json` (summary + params) LAST, and the complete folder is renamed to `<historyDir>/<runId>/`.
 *   Only `.partial/` is swept when the service starts (interrupted runs); nothing else in the history
 *   folder is ever removed except a run the user deletes, and only a folder holding our run.json.
 *   Then `run:done` carries the summary.
 * - Compare groups run batched: when the next queued run has a `compareGroup`, the service waits until
 *   no further run of that group has been queued for `compareGatherMs` (the compare view starts its
 *   columns one run:start after another), then takes every queued run of the group (at most MAX_BATCH,
 *   the compare view's maximum) and runs them as ONE pipeline run of kind dvt-batch, i.e. one
 *   `optimizeBatch` (one forward/backward per iteration for all columns; each run's result equals its single run up to float rounding). Events
 *   stay per run (`run:progress` with that run's id and previews); each run is stored in its own folder
 *   as a single run is, as soon as its image finishes (optimizeBatch's onImageDone), and then gets its
 *   `run:done`, while the rest of the batch goes on: per run, progress… then done.
 *   A run without a compareGroup (or a group of one) runs alone (kind dvt: `optimizeImage`).
 * - A run with `spec.method` (a general method, e.g. lucid) runs alone (pipeline kind general): its
 *   method fields come from `spec.method` (checked by the pipeline at start: its parameters, and its
 *   objective parsed against the model: BAD_PARAM / BAD_LAYER / BAD_UNIT, no run created; image files
 *   named over IPC are not read), the unit, rand_seed and max_iter from `spec.params`; an empty objective
 *   means the unit. In a compare group only the DVT runs are batched together; method runs run alone.
 * - `spec.gifEvery` N > 0 also writes `optimization.gif`: a frame every N iterations and the last, the
 *   image as the previews show it (centred x, as best_X); run:export copies it.
 * - `stop(runId)` ends a run after its current iteration; its result is kept, marked 'stopped'. A
 *   queued run that is stopped still runs one iteration, so it too leaves a complete entry. In a
 *   batch only that run's image stops (optimizeBatch's per-image signals); the others go on.
 * - A run that fails while executing (e.g. a blur radius too large for the input, a diverging
 *   objective, a full disk) ends as a 'failed' `run:done` with the message; its folder is removed and
 *   nothing is stored. A batch that fails in the optimizer fails every run of it not yet finished with
 *   the message, storing none of them (runs already finished and stored stay); a run of a batch that
 *   fails while being stored fails alone. Nothing is thrown out
 *   of the queue.
 * The service lives with the engine, in the engine worker thread of the app and the web server
 * (src/host/engine-worker.ts); the loop yields to the event loop every iteration so that calls
 * (run:stop, ...) get in. Reading finished runs is src/host/run-store.ts, which the main thread
 * also uses directly.
 * Shape: `createRunService({historyDir, engine, emit, compareGatherMs?, optimizeBatch?}) => RunService`;
 *   `start(spec) => Promise<runId>`, `stop(runId)`, `list() => RunSummary[]` (newest first),
 *   `get(runId) => RunDetail`, `delete(runId)`, `whenIdle()`, `busy()`, `dispose()`
 * Why over 400 lines: one queue whose states (queued, gathering a compare group, running alone or
 * batched, stopped, failed, stored) share the job table and the staging folder; the run itself is the
 * engine's pipeline, the ids/thumbnails are run-records.ts and reading stored runs is run-store.ts.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { DeepVisError } from '../shared/errors.ts'
import type { InputSpec } from '../engine/index.ts'
import type { VisModel } from '../engine/index.ts'
import { dvtParamsOf, renderX, writeFileAtomic } from '../engine/node/index.ts'
import { resolveTarget } from '../engine/index.ts'
import { optimizeBatch } from '../engine/index.ts'
import { createRun, saveOutcome, type PipelineIterationEvent, type Run, type GifOption, type RunIo, type RunOutcome } from '../engine/node/index.ts'
import { loadModelFolder, type LoadedModel } from '../engine/node/index.ts'
import type { GeneralParams } from '../shared/method-params.ts'
import { resolveParams, type FindParams } from '../engine/index.ts'
import type { OptimizeResult } from '../engine/index.ts'
import type { EventChannel, EventMap } from '../shared/ipc-contract.ts'
import { RUN_ID_PATTERN } from '../shared/ipc-schemas.ts'
import { gifOptions, makeRunId, methodParams, pngDataUrl, runThumb } from './run-records.ts'
import { checkRunId, getStoredRun, GIF_FILE, listStoredRuns, RUN_JSON, RUN_JSON_FORMAT, type StoredRun } from './run-store.ts'

export { checkRunId, GIF_FILE, RUN_JSON, RUN_JSON_FORMAT }
export { makeRunId, methodParams }
import type { RunDetail, RunProgress, RunSpec, RunStatus, RunSummary } from '../shared/run-types.ts'

/** Default of `RunSpec.previewEvery` (iterations between preview images). */
export const DEFAULT_PREVIEW_EVERY = 10
/** Most runs of one compare group run as one batch: the compare view's maximum column count. */
export const MAX_BATCH = 6
/**
 * Default of `compareGatherMs`: how long the queue waits for the next run of a compare group before
 * starting the batch. The compare view sends its run:start calls one after another (each a round trip
 * to the engine worker of a few ms), so 150 ms gathers them all and delays the start unnoticeably.
 */
export const COMPARE_GATHER_MS = 150

/** What a run needs from the engine host: the loaded model and where it runs. */
export interface RunEngine {
  model: VisModel
  inputSpec: InputSpec
  /** tfjs backend name, recorded with the result. */
  backend: string
  /** Human-readable model name, recorded in the summary. */
  modelName: string
  /**
   * Identity of the model as loaded: a hash of its model.json and effective input spec; changes when
   * another model is opened or the input spec corrected (names caches, e.g. thumbnails).
   */
  modelKey: string
}

/** Sends one event to the renderer. */
export type Emit = <K extends EventChannel>(channel: K, payload: EventMap[K]) => void

export interface RunServiceOptions {
  /** Folder holding one sub-folder per stored run; created when missing. */
  historyDir: string
  /** The loaded engine; may reject with a DeepVisError (e.g. no model), which start() passes on. */
  engine: () => Promise<RunEngine>
  /** Where `run:progress` and `run:done` go. */
  emit: Emit
  /** Skip the large .npy arrays (the CLI's --skipbig). Default false. */
  skipbig?: boolean
  /** Clock, for tests. Default `() => new Date()`. */
  now?: () => Date
  /** Wait for further runs of a compare group, in ms (see COMPARE_GATHER_MS). Default COMPARE_GATHER_MS. */
  compareGatherMs?: number
  /** The batched optimizer of compare groups, for tests (count or spy calls). Default optimizeBatch. */
  optimizeBatch?: typeof optimizeBatch
}

export interface RunService {
  /** Validate and queue a run; resolves with its id as soon as it is queued. */
  start(spec: RunSpec): Promise<string>
  /** Stop a queued or running run after its current iteration; unknown or finished ids are ignored. */
  stop(runId: string): void
  /** Stored runs (folders with a readable run.json), newest first. */
  list(): Promise<RunSummary[]>
  /** One stored run with its series and images; BAD_PARAM when there is none. */
  get(runId: string): Promise<RunDetail>
  /** Delete a stored run's folder; BAD_PARAM for an invalid, unknown or still-active id. */
  delete(runId: string): Promise<void>
  /** Resolves when the queue is empty and nothing runs. */
  whenIdle(): Promise<void>
  /** True while a run is queued or running (e.g. the model must not be swapped then). */
  busy(): boolean
  /** Stop every queued and running run (app quit). */
  dispose(): void
}

interface Job {
  runId: string
  spec: RunSpec
  params: FindParams
  /** The general method's resolved parameters; null = DVT. */
  method: GeneralParams | null
  /** The run as the pipeline validated it at start (masks read, objective checked); executed alone, or batched with its compare group. */
  run: Run
  /** The model it was validated against (a run is validated again if another model is loaded meanwhile). */
  model: VisModel
  createdAt: string
  controller: AbortController
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** The history's staging folder: runs being written; the only part of the history swept at start. */
export const PARTIAL_SUBDIR = '.partial'

/**
 * Create the service. The history folder is created and its staging folder swept of interrupted
 * runs at once; every method waits for that.
 * @example const runs = createRunService({ historyDir, engine: host.engine, emit: (c, p) => win.webContents.send(c, p) })
 */
export function createRunService({
  historyDir, engine, emit, skipbig = false, now = () => new Date(), compareGatherMs = COMPARE_GATHER_MS, optimizeBatch: batchOptimize = optimizeBatch,
}: RunServiceOptions): RunService {
  const queue: Job[] = []
  /** Queued and running jobs by id. */
  const active = new Map<string, Job>()
  let pumping: Promise<void> | null = null
  let disposed = false

  /** Where a run is written until it is complete (its run.json written): `<history>/.partial/<runId>`. */
  const partialDir = (runId: string): string => path.join(historyDir, PARTIAL_SUBDIR, runId)

  const ready = (async () => {
    await mkdir(historyDir, { recursive: true })
    // Only the staging folder is swept: everything else in the history folder may be the user's.
    const staging = path.join(historyDir, PARTIAL_SUBDIR)
    const partial = await readdir(staging, { withFileTypes: true }).catch(() => [])
    for (const entry of partial) {
      if (entry.isDirectory() && RUN_ID_PATTERN.test(entry.name)) await rm(path.join(staging, entry.name), { recursive: true, force: true })
    }
  })()

  function send<K extends EventChannel>(channel: K, payload: EventMap[K]): void {
    try {
      emit(channel, payload)
    } catch (e) {
      // A closed window must not end the run.
      console.error(`[runs] could not send '${channel}':`, e)
    }
  }

  function newRunId(params: FindParams): string {
    for (;;) {
      const id = makeRunId(now(), params.push_layer, params.push_channel)
      if (!active.has(id) && !existsSync(path.join(historyDir, id)) && !existsSync(partialDir(id))) return id
    }
  }

  function baseSummary(job: Job, modelName: string, backend: string): RunSummary {
    return {
      runId: job.runId,
      status: 'failed',
      createdAt: job.createdAt,
      modelName,
      layer: job.params.push_layer,
      channel: job.params.push_channel,
      label: null,
      preset: job.spec.preset ?? null,
      maxIter: job.params.max_iter,
      iterations: 0,
      metaResult: null,
      best: null,
      last: null,
      majority: null,
      backend,
      compareGroup: job.spec.compareGroup ?? null,
    }
  }

  function finishedSummary(base: RunSummary, result: OptimizeResult, status: RunStatus): RunSummary {
    const snap = (s: OptimizeResult['best']): { ii: number; obj: number } | null => (s ? { ii: s.ii, obj: s.obj } : null)
    return {
      ...base,
      status,
      label: result.target.label,
      iterations: result.series.ii.length,
      metaResult: result.metaResult,
      best: snap(result.best),
      last: snap(result.last),
      majority: snap(result.majority),
      backend: result.backend,
    }
  }

  /** A run:progress of one iteration, with a preview every previewEvery iterations and at the last. */
  async function reportProgress(job: Job, ev: PipelineIterationEvent, spec: InputSpec): Promise<void> {
    // Let queued messages in (run:stop, other calls) between iterations: tfjs' data() on cpu/wasm
    // resolves as a microtask, so without this the whole run holds the thread.
    await new Promise<void>((resolve) => setImmediate(resolve))
    const previewEvery = job.spec.previewEvery ?? DEFAULT_PREVIEW_EVERY
    const progress: RunProgress = {
      runId: job.runId, ii: ev.ii, maxIter: ev.maxIter, obj: ev.obj, lr: ev.lr, norm: ev.norm, std: ev.std, wallMs: ev.wall_ms,
    }
    const last = ev.ii === ev.maxIter - 1
    if (ev.ii % previewEvery === 0 || last) progress.preview = await pngDataUrl(renderX(await ev.image(), spec), spec)
    send('run:progress', progress)
  }

  /** Write a finished result into the run's folder, run.json last; returns its summary. */
  async function storeRun(job: Job, base: RunSummary, outcome: RunOutcome): Promise<RunSummary> {
    const { result } = outcome
    const dir = partialDir(job.runId)
    await mkdir(path.dirname(dir), { recursive: true })
    await saveOutcome(outcome, dir + path.sep, {
      brave: false,
      skipbig,
      extra: { app: 'DeepVis Studio', runId: job.runId, model: base.modelName, preset: base.preset, compareGroup: base.compareGroup },
    })
    const summary = finishedSummary(base, result, result.interrupted ? 'stopped' : 'done')
    const thumb = await runThumb(result)
    if (thumb) summary.thumb = thumb
    const method = result.method ? (result.method.params as GeneralParams) : null
    // run.json's params are DVT's terms for every run (the app's parameter panel and "run again" read them).
    const stored: StoredRun = { format: RUN_JSON_FORMAT, ...summary, params: dvtParamsOf(result), method }
    await writeFileAtomic(path.join(dir, RUN_JSON), new TextEncoder().encode(JSON.stringify(stored, null, 2) + '\n'))
    // Complete: out of the staging folder into the history under its id (refused if that name was taken meanwhile).
    const final = path.join(historyDir, job.runId)
    if (existsSync(final)) throw new DeepVisError('INTERNAL', `cannot store run '${job.runId}': ${final} exists`)
    await rename(dir, final)
    return summary
  }

  /**
   * How a run takes part in the pipeline: progress (with previews) per iteration, its stop signal, the
   * quality readouts (a second model when the run asked for one, as the CLI records them).
   */
  async function runIo(jobs: Job[]): Promise<RunIo> {
    const checks = []
    for (const job of jobs) checks.push(job.spec.checkModel ? await checkModel(job.spec.checkModel) : undefined)
    return {
      ...(jobs.length === 1 ? { signal: jobs[0].controller.signal } : { signals: jobs.map((job) => job.controller.signal) }),
      quality: { checks },
      optimizeBatch: batchOptimize,
    }
  }

  /** A failed run: its folder removed, the message in the summary. */
  async function failRun(job: Job, base: RunSummary, e: unknown): Promise<RunSummary> {
    await rm(partialDir(job.runId), { recursive: true, force: true }).catch(() => undefined)
    if (!(e instanceof DeepVisError)) console.error(`[runs] run ${job.runId} failed:`, e)
    return { ...base, status: 'failed', error: errorText(e) }
  }

  async function execute(job: Job): Promise<RunSummary> {
    let base = baseSummary(job, '', '')
    try {
      const eng = await engine()
      base = baseSummary(job, eng.modelName, eng.backend)
      // Validated at start against this model; another model loaded since (the host refuses that while
      // runs are queued, but the queue does not rely on it) gets the run validated again.
      const run = job.model === eng.model ? job.run : await createRun(eng, job.run.plan, gifOptions(job.spec))
      const [outcome] = await run.execute({
        ...(await runIo([job])), onIteration: (ev) => reportProgress(job, ev, eng.inputSpec),
      })
      return await storeRun(job, base, outcome)
    } catch (e) {
      return failRun(job, base, e)
    }
  }

  /** Run the jobs of one compare group as one optimizeBatch (see the header), sending each run:done. */
  async function executeBatch(batch: Job[]): Promise<void> {
    let bases = batch.map((job) => baseSummary(job, '', ''))
    const finished = new Set<number>()
    const finishRun = (i: number, summary: RunSummary): void => {
      finished.add(i)
      active.delete(batch[i].runId)
      send('run:done', summary)
    }
    try {
      const eng = await engine()
      bases = batch.map((job) => baseSummary(job, eng.modelName, eng.backend))
      // The group as one pipeline run (validated again together: the jobs' params were checked at start).
      const run = await createRun(eng, { kind: 'dvt-batch', params: batch.map((job) => job.params) }, { gif: batch.map((job) => gifOptions(job.spec).gif as GifOption | undefined) })
      await run.execute({
        ...(await runIo(batch)),
        onIteration: (ev) => reportProgress(batch[ev.imageIndex], ev, eng.inputSpec),
        onImageDone: async (outcome) => {
          const i = outcome.imageIndex
          let summary: RunSummary
          try {
            summary = await storeRun(batch[i], bases[i], outcome)
          } catch (e) {
            summary = await failRun(batch[i], bases[i], e)
          }
          finishRun(i, summary)
        },
        onImageFailed: async (i, e) => finishRun(i, await failRun(batch[i], bases[i], e)),
      })
    } catch (e) {
      for (const [i, job] of batch.entries()) if (!finished.has(i)) finishRun(i, await failRun(job, bases[i], e))
    }
  }

  const groupSize = (group: string): number => queue.filter((j) => j.spec.compareGroup === group).length

  /** Wait until no run of `group` was queued for compareGatherMs, or MAX_BATCH of them are queued. */
  async function gather(group: string): Promise<void> {
    let seen = -1
    while (!disposed && groupSize(group) !== seen && groupSize(group) < MAX_BATCH) {
      seen = groupSize(group)
      await new Promise<void>((resolve) => setTimeout(resolve, compareGatherMs))
    }
  }

  /**
   * Take the next job and, when it is a DVT run with a compareGroup, every queued DVT job of that group
   * (MAX_BATCH at most); a general-method run is taken alone.
   */
  function takeNext(): Job[] {
    const head = queue.shift() as Job
    const group = head.spec.compareGroup
    if (!group || head.method) return [head]
    const batch = [head]
    for (let i = 0; i < queue.length && batch.length < MAX_BATCH;) {
      if (queue[i].spec.compareGroup === group && !queue[i].method) batch.push(...queue.splice(i, 1))
      else i++
    }
    return batch
  }

  async function pump(): Promise<void> {
    while (queue.length > 0) {
      const group = queue[0].spec.compareGroup
      if (group) await gather(group)
      const batch = takeNext()
      if (batch.length > 1) {
        await executeBatch(batch)
        continue
      }
      const summary = await execute(batch[0])
      active.delete(batch[0].runId)
      send('run:done', summary)
    }
  }

  function kick(): void {
    pumping ??= pump().finally(() => {
      pumping = null
      if (queue.length > 0) kick()
    })
  }

  /** Second models for held-out scores, by folder, loaded once (disposed with the service). */
  const checkModels = new Map<string, Promise<LoadedModel>>()
  function checkModel(dir: string): Promise<LoadedModel> {
    let hit = checkModels.get(dir)
    if (!hit) {
      hit = loadModelFolder(dir)
      checkModels.set(dir, hit)
      hit.catch(() => checkModels.delete(dir))
    }
    return hit
  }

  /** BAD_PARAM unless the check model's last layer classifies as many classes as the target layer has units. */
  async function validateCheckModel(dir: string, targetUnits: number): Promise<void> {
    const other = await checkModel(dir)
    const names = other.model.layerNames
    const last = names[names.length - 1]
    const info = await other.model.layerInfo(last, [other.inputSpec.height, other.inputSpec.width])
    const classes = info.shape[info.shape.length - 1]
    if (info.shape.length !== 1 || classes !== targetUnits) {
      throw new DeepVisError('BAD_PARAM', `the check model ${other.name} ends in '${last}' with shape [${info.shape.join(', ')}]; the target layer has ${targetUnits} units: a held-out check needs a model that classifies the same classes`)
    }
  }

  async function start(spec: RunSpec): Promise<string> {
    if (disposed) throw new DeepVisError('INTERNAL', 'the run service was disposed (the app is quitting)')
    await ready
    const params = resolveParams(spec.params)
    const eng = await engine()
    const layer = await eng.model.layerInfo(params.push_layer, [eng.inputSpec.height, eng.inputSpec.width])
    resolveTarget(layer, params, eng.inputSpec.labels)
    if (spec.checkModel) await validateCheckModel(spec.checkModel, layer.units)
    const method = spec.method ? methodParams(spec.method, params) : null
    // The pipeline validates the run now (unit, objective syntax and layers, masks read), so a bad one creates no run.
    const run = await createRun(eng, method
      ? { kind: 'general', params: method, defaultUnit: { layer: params.push_layer, channel: params.push_channel }, readImages: false }
      : { kind: 'dvt', params }, gifOptions(spec))
    const job: Job = {
      runId: newRunId(params), spec, params, method, run, model: eng.model, createdAt: now().toISOString(), controller: new AbortController(),
    }
    active.set(job.runId, job)
    queue.push(job)
    kick()
    return job.runId
  }

  function stop(runId: string): void {
    checkRunId(runId)
    active.get(runId)?.controller.abort()
  }

  async function list(): Promise<RunSummary[]> {
    await ready
    return listStoredRuns(historyDir)
  }

  async function get(runId: string): Promise<RunDetail> {
    await ready
    return getStoredRun(historyDir, runId)
  }

  async function remove(runId: string): Promise<void> {
    checkRunId(runId)
    await ready
    if (active.has(runId)) throw new DeepVisError('BAD_PARAM', `run '${runId}' is still queued or running; stop it first`)
    const dir = path.join(historyDir, runId)
    // Only a folder this app wrote (it holds our run.json) is ever deleted.
    if (!existsSync(path.join(dir, RUN_JSON))) throw new DeepVisError('BAD_PARAM', `no stored run '${runId}'`)
    await rm(dir, { recursive: true, force: true })
  }

  async function whenIdle(): Promise<void> {
    await ready
    while (pumping) await pumping
  }

  function dispose(): void {
    disposed = true
    for (const job of active.values()) job.controller.abort()
    for (const loading of checkModels.values()) void loading.then((m) => m.model.dispose(), () => undefined)
    checkModels.clear()
  }

  return { start, stop, list, get, delete: remove, whenIdle, busy: () => active.size > 0, dispose }
}
