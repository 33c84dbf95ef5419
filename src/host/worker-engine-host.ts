/**
 * Worker engine host: the main-side proxy of an engine host running in a worker_thread
 * (src/host/engine-worker.ts), with the same shape as `createEngineHost` (start, handlers, dispose)
 * so that src/host/ipc.ts and the web server use it unchanged. The engine's synchronous compute
 * (~2 s per GoogLeNet iteration on wasm) then no longer blocks the main event loop.
 *
 * - Each handler posts `{id, channel, payload}` to the worker and resolves with the answer's value,
 *   or throws `new DeepVisError(code, message)` with the worker's code.
 * - Engine events from the worker go to the given `emit`.
 * - This module never loads TensorFlow.js: only the worker does (type imports only from the engine side).
 * - If the worker dies (a crash, out of memory), the calls it was answering fail with INTERNAL and a
 *   message saying so, the error is logged, runs and thumbnail jobs it was executing end as 'failed'
 *   `run:done` / `units:done` events (so no page waits forever), and a fresh worker starts at once on
 *   the model that was loaded (the last one opened or uploaded, with its input-spec correction), then
 *   announces it with `model:changed` and tells the pages with `engine:restarted` (why, and what is
 *   loaded now). The worker itself exits when a wasm trap or an out-of-memory error leaves its
 *   TensorFlow.js runtime unusable (src/host/engine-worker.ts POISONED_ENGINE), so that case recovers
 *   the same way. A worker that dies again within a short time on a user's model falls back to the
 *   start-up model.
 * - `dispose()` terminates the worker; later calls answer BAD_MODEL, as the in-process host does.
 * The worker factory is injected because the worker file is loaded differently per runtime: an
 * electron-vite `?nodeWorker` import in the Electron build, createSourceEngineWorker under tsx/vitest.
 * Shape: `createWorkerEngineHost({...EngineHostOptions, createWorker}) => EngineHost`
 */
import type { Worker, WorkerOptions } from 'node:worker_threads'
import { DeepVisError } from '../shared/errors.ts'
import type {
  EventChannel, EventMap, InvokeChannel, ModelInfo, PayloadOf, ResultOf, ThumbRequest,
} from '../shared/ipc-contract.ts'
import type { RunSpec, RunSummary } from '../shared/run-types.ts'
import type { EngineHost } from './engine-host.ts'
import type { EngineWorkerData, WorkerMessage, WorkerRequest } from './engine-worker.ts'
import type { IpcHandlers } from './ipc.ts'
import { atlasHandlers } from './atlas-service.ts'
import { presetInfos } from './presets.ts'
import { getStoredRun, listStoredRuns } from './run-store.ts'
import type { Emit } from './run-service.ts'

/** Name of the worker thread (shows in debuggers and heap snapshots). */
const WORKER_NAME = 'deepvis-engine'
/** A second crash within this time of the first, on a restored model, restores the start-up model instead. */
const CRASH_LOOP_MS = 60_000

export interface WorkerEngineHostOptions extends EngineWorkerData {
  /**
   * Start a worker running src/host/engine-worker.ts with these options (they carry `workerData`).
   * Same signature as an electron-vite `?nodeWorker` import.
   */
  createWorker: (options: WorkerOptions) => Worker
  /** Where engine events go (the app window, the web clients). Default: dropped. */
  emit?: Emit
}

interface Pending {
  channel: InvokeChannel
  resolve: (value: unknown) => void
  reject: (error: Error) => void
}

/** One started worker and the calls it is answering. */
interface Live {
  worker: Worker
  /** Settles when the worker reports its start (or exits first). */
  started: Promise<void>
  pending: Map<number, Pending>
  /** Set by dispose(): the exit that follows is expected. */
  stopping: boolean
}

/** A run the worker executes: enough to report it as failed if the worker dies. */
interface OpenRun {
  spec: RunSpec
  createdAt: string
  /** Iterations streamed so far and the run's length (from run:progress). */
  iterations: number
  maxIter: number | null
}

/** A thumbnail job the worker executes. */
interface OpenJob {
  layer: string
  done: number
  total: number
}

/** Why a worker stopped, for the log and the failed calls. */
function exitReason(code: number, error: Error | null): string {
  if (error) return `${error.name}: ${error.message}`
  return `exit code ${code}`
}

/**
 * Create the proxy; the worker starts on `start()` or on the first call.
 * @example const host = createWorkerEngineHost({ modelDir, historyDir, emit, createWorker: createSourceEngineWorker })
 */
export function createWorkerEngineHost({ createWorker, emit = () => undefined, ...workerData }: WorkerEngineHostOptions): EngineHost {
  let current: Live | null = null
  let disposed = false
  let nextId = 1
  /** A worker died: its successor announces its model with `model:changed`. */
  let respawn = false
  /** The model last reported by the worker (names the failed runs of a dead worker). */
  let lastModel: ModelInfo | null = null
  /** What a fresh worker loads: the folder last opened or uploaded, and the input-spec correction in force. */
  let restore: { modelDir: string; correction: PayloadOf<'model:setInputSpec'> } | null = null
  /** When the last crash happened: a second one soon after on a restored model restores the start-up model. */
  let lastCrashAt = 0
  const openRuns = new Map<string, OpenRun>()
  const openJobs = new Map<string, OpenJob>()
  /** Index jobs (live view) the worker runs: reported as failed if it dies. */
  const openIndexJobs = new Map<string, { folder: string; layer: string }>()

  function safeEmit<K extends EventChannel>(channel: K, payload: EventMap[K]): void {
    try {
      emit(channel, payload)
    } catch (e) {
      console.error(`[engine] could not send '${channel}':`, e)
    }
  }

  /** Keep the bookkeeping of runs and jobs in step with the worker's events, then pass them on. */
  function onEvent(msg: Extract<WorkerMessage, { event: EventChannel }>): void {
    switch (msg.event) {
      case 'run:progress': {
        const p = msg.payload as EventMap['run:progress']
        const run = openRuns.get(p.runId)
        if (run) {
          run.iterations = p.ii + 1
          run.maxIter = p.maxIter
        }
        break
      }
      case 'run:done':
        openRuns.delete((msg.payload as EventMap['run:done']).runId)
        break
      case 'units:thumb': {
        const p = msg.payload as EventMap['units:thumb']
        const job = openJobs.get(p.jobId)
        if (job) job.done = p.done
        break
      }
      case 'units:done':
        openJobs.delete((msg.payload as EventMap['units:done']).jobId)
        break
      case 'index:progress': {
        const p = msg.payload as EventMap['index:progress']
        openIndexJobs.set(p.jobId, { folder: p.folder, layer: p.layer })
        break
      }
      case 'index:done':
        openIndexJobs.delete((msg.payload as EventMap['index:done']).jobId)
        break
      case 'model:changed':
        lastModel = msg.payload as ModelInfo
        break
    }
    safeEmit(msg.event, msg.payload as never)
  }

  /** End every run and job of a dead worker with a 'failed' event, so no page waits for it. */
  function failOpenWork(reason: string): void {
    for (const [runId, run] of openRuns) {
      const summary: RunSummary = {
        runId,
        status: 'failed',
        createdAt: run.createdAt,
        modelName: lastModel?.name ?? '',
        layer: run.spec.params.push_layer,
        channel: run.spec.params.push_channel,
        label: null,
        preset: run.spec.preset ?? null,
        maxIter: run.maxIter ?? run.spec.params.max_iter ?? 0,
        iterations: run.iterations,
        metaResult: null,
        best: null,
        last: null,
        majority: null,
        backend: lastModel?.backend ?? '',
        compareGroup: run.spec.compareGroup ?? null,
        error: reason,
      }
      safeEmit('run:done', summary)
    }
    openRuns.clear()
    for (const [jobId, job] of openJobs) {
      safeEmit('units:done', { jobId, layer: job.layer, status: 'failed', done: job.done, total: job.total, error: reason })
    }
    openJobs.clear()
    for (const [jobId, job] of openIndexJobs) {
      safeEmit('index:done', { jobId, folder: job.folder, layer: job.layer, status: 'failed', imagesPerSecond: 0, error: reason })
    }
    openIndexJobs.clear()
  }

  function spawn(): Live {
    const data = restore ? { ...workerData, modelDir: restore.modelDir } : workerData
    const worker = createWorker({ name: WORKER_NAME, workerData: data })
    let markStarted: () => void = () => undefined
    const started = new Promise<void>((resolve) => {
      markStarted = resolve
    })
    const live: Live = { worker, started, pending: new Map(), stopping: false }
    let crash: Error | null = null

    worker.on('message', (msg: WorkerMessage) => {
      if ('event' in msg) onEvent(msg)
      else if ('started' in msg) markStarted()
      else {
        const call = live.pending.get(msg.id)
        if (!call) return
        live.pending.delete(msg.id)
        if (msg.ok) call.resolve(msg.value)
        else call.reject(new DeepVisError(msg.code, msg.message))
      }
    })
    worker.on('messageerror', (e) => console.error('[engine] a message from the engine worker could not be read:', e))
    // An uncaught exception or an out-of-memory kill; 'exit' follows.
    worker.on('error', (e) => {
      crash = e
    })
    worker.on('exit', (code) => {
      markStarted()
      if (current === live) current = null
      const calls = [...live.pending.values()]
      live.pending.clear()
      if (live.stopping) {
        for (const c of calls) c.reject(new DeepVisError('BAD_MODEL', 'the engine was disposed (the app is quitting)'))
        return
      }
      const reason = `the engine worker stopped unexpectedly (${exitReason(code, crash)})`
      const now = Date.now()
      if (restore && now - lastCrashAt < CRASH_LOOP_MS) restore = null // the restored model may be the cause
      lastCrashAt = now
      console.error(`[engine] ${reason}; a fresh engine starts on ${restore ? restore.modelDir : 'the start-up model'}`)
      respawn = true
      for (const c of calls) c.reject(new DeepVisError('INTERNAL', `${reason} while answering '${c.channel}'; try again`))
      failOpenWork(reason)
      if (!disposed) restart(reason)
    })
    return live
  }

  /** Start a fresh worker after a crash, restore the input-spec correction, and tell the pages. */
  function restart(reason: string): void {
    const correction = restore?.correction ?? null
    void (async () => {
      let model: ModelInfo | null = null
      try {
        model = correction ? await call('model:setInputSpec', correction) : await call('model:info', undefined)
      } catch (e) {
        console.error('[engine] the restarted engine did not load its model:', e)
      }
      safeEmit('engine:restarted', { reason, model })
    })()
  }

  /** The live worker, started if needed. */
  function live(): Live {
    if (disposed) throw new DeepVisError('BAD_MODEL', 'the engine was disposed (the app is quitting)')
    if (current) return current
    current = spawn()
    if (respawn) {
      respawn = false
      // The pages still show the dead worker's model: tell them what is loaded now.
      call('model:info', undefined).then(
        (info) => onEvent({ event: 'model:changed', payload: info }),
        (e: unknown) => console.error('[engine] the restarted engine did not load its model:', e),
      )
    }
    return current
  }

  /** Post one call to the worker and wait for its answer. */
  function call<K extends InvokeChannel>(channel: K, payload: PayloadOf<K>): Promise<ResultOf<K>> {
    const target = live()
    const id = nextId++
    return new Promise<ResultOf<K>>((resolve, reject) => {
      target.pending.set(id, { channel, resolve: resolve as (v: unknown) => void, reject })
      try {
        target.worker.postMessage({ id, channel, payload } satisfies WorkerRequest)
      } catch (e) {
        target.pending.delete(id)
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    })
  }

  /** Pass a call through and keep the bookkeeping of what it started. */
  async function startRun(spec: RunSpec): Promise<{ runId: string }> {
    const createdAt = new Date().toISOString()
    const answer = await call('run:start', spec)
    openRuns.set(answer.runId, { spec, createdAt, iterations: 0, maxIter: null })
    return answer
  }

  async function renderUnits(req: ThumbRequest): Promise<ResultOf<'units:render'>> {
    const answer = await call('units:render', req)
    openJobs.set(answer.jobId, { layer: req.layer, done: answer.cached, total: answer.total })
    return answer
  }

  async function modelInfo<K extends 'model:info' | 'model:open' | 'model:upload' | 'model:setInputSpec'>(channel: K, payload: PayloadOf<K>): Promise<ModelInfo> {
    const info = (await call(channel, payload)) as ModelInfo
    lastModel = info
    // Remember what a fresh worker must load if this one dies.
    if (channel === 'model:open' || channel === 'model:upload') restore = { modelDir: info.path, correction: null }
    else if (channel === 'model:setInputSpec') restore = { modelDir: info.path, correction: payload as PayloadOf<'model:setInputSpec'> }
    return info
  }

  const handlers: IpcHandlers = {
    'app:info': () => call('app:info', undefined),
    'model:info': () => modelInfo('model:info', undefined),
    'model:layers': () => call('model:layers', undefined),
    'model:open': (modelPath) => modelInfo('model:open', modelPath),
    'model:pick': () => call('model:pick', undefined),
    'model:upload': (files) => modelInfo('model:upload', files),
    'model:recent': () => call('model:recent', undefined),
    'model:setInputSpec': (override) => modelInfo('model:setInputSpec', override),
    // Answered here, without the worker: static data and finished runs on disk (run.json is written
    // last), so these stay instant while the worker computes an iteration.
    'presets:list': () => presetInfos(),
    'run:start': (spec) => startRun(spec),
    'run:stop': (runId) => call('run:stop', runId),
    'runs:list': () => (workerData.historyDir ? listStoredRuns(workerData.historyDir) : call('runs:list', undefined)),
    'runs:get': (runId) => (workerData.historyDir ? getStoredRun(workerData.historyDir, runId) : call('runs:get', runId)),
    'runs:delete': (runId) => call('runs:delete', runId),
    'run:export': (req) => call('run:export', req),
    'units:render': (req) => renderUnits(req),
    'units:cancel': (jobId) => call('units:cancel', jobId),
    'units:thumbs': (layer) => call('units:thumbs', layer),
    // Atlases are files on disk: read here, never waiting for the engine's iteration.
    ...atlasHandlers(),
    'live:activations': (req) => call('live:activations', req),
    'live:gradients': (req) => call('live:gradients', req),
    'live:folder': (folder) => call('live:folder', folder),
    'live:image': (req) => call('live:image', req),
    'index:build': (req) => call('index:build', req),
    'index:cancel': (jobId) => call('index:cancel', jobId),
    'index:top': (req) => call('index:top', req),
  }

  return {
    /** Start the worker (backend + model load run there); resolves when that has settled, never rejects. */
    start(): Promise<void> {
      try {
        return live().started
      } catch {
        return Promise.resolve()
      }
    },
    handlers,
    /** Terminate the worker; calls in flight and later calls answer BAD_MODEL. */
    dispose(): void {
      if (disposed) return
      disposed = true
      if (current) {
        current.stopping = true
        void current.worker.terminate()
        current = null
      }
    },
  }
}
