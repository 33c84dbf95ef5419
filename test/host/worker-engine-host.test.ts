/**
 * The engine in a worker_thread, through the main-side proxy (src/host/worker-engine-host.ts), on the
 * real embedded model (wasm backend) started from source (createSourceEngineWorker): the model
 * channels answer, a run streams its events through the proxy and is stored, a running run can be
 * stopped, error codes survive the
 * thread boundary, a worker that dies fails its calls and its run with INTERNAL / 'failed' and the next
 * call works on a fresh worker, dispose terminates, and TensorFlow.js is never loaded in this thread.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { threadId as mainThreadId, type Worker, type WorkerOptions } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { DeepVisError } from '../../src/shared/errors.ts'
import type { EngineHost } from '../../src/host/engine-host.ts'
import type { WorkerMessage } from '../../src/host/engine-worker.ts'
import { createSourceEngineWorker } from '../../src/host/source-engine-worker.ts'
import { createWorkerEngineHost } from '../../src/host/worker-engine-host.ts'
import type { EventChannel, EventMap, ModelInfo } from '../../src/shared/ipc-contract.ts'
import type { RunDetail, RunParams, RunSpec, RunSummary } from '../../src/shared/run-types.ts'

const MODEL_DIR = path.resolve(import.meta.dirname, '../../resources/models/deepvis-shapes')
/** A class of the embedded model (its logits layer). */
const LAYER = 'logits'
const RUN_ITERS = 5
/** Long enough to still be running when the test kills the worker. */
const LONG_RUN_ITERS = 5000

/** A run spec with only the given parameters (the run service fills in DVT's defaults). */
const spec = (params: Partial<RunParams>, rest: Omit<RunSpec, 'params'> = {}): RunSpec => ({ params: params as RunParams, ...rest })

type Seen = { event: EventChannel; payload: unknown }

/** A proxy on a recording worker factory, with its events collected. */
function makeHost(historyDir: string): { host: EngineHost; workers: Worker[]; events: Seen[]; next(pred: (e: Seen) => boolean): Promise<Seen> } {
  const workers: Worker[] = []
  const events: Seen[] = []
  const waiters: { pred: (e: Seen) => boolean; resolve: (e: Seen) => void }[] = []
  const host = createWorkerEngineHost({
    modelDir: MODEL_DIR,
    backend: 'wasm',
    historyDir,
    createWorker: (options: WorkerOptions) => {
      const w = createSourceEngineWorker(options)
      workers.push(w)
      return w
    },
    emit: <K extends EventChannel>(event: K, payload: EventMap[K]) => {
      const e = { event, payload }
      events.push(e)
      for (const w of waiters.filter((x) => x.pred(e))) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(e)
      }
    },
  })
  const next = (pred: (e: Seen) => boolean): Promise<Seen> => {
    const hit = events.find(pred)
    return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ pred, resolve }))
  }
  return { host, workers, events, next }
}

const exited = (w: Worker): Promise<number> => new Promise((resolve) => w.once('exit', resolve))

let tmp: string
beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-worker-'))
})
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true })
})

describe('createWorkerEngineHost on a real worker', () => {
  let h: ReturnType<typeof makeHost>
  let startedIn: Promise<number>

  beforeAll(() => {
    h = makeHost(path.join(tmp, 'history'))
    const started = h.host.start()
    const worker = h.workers[0]
    startedIn = new Promise((resolve) => {
      worker.on('message', (m: WorkerMessage) => {
        if ('started' in m) resolve(m.threadId)
      })
    })
    return started
  })
  afterAll(() => h.host.dispose())

  it('runs the engine in another thread and never loads TensorFlow.js in this one', async () => {
    expect(h.workers).toHaveLength(1)
    expect(await startedIn).not.toBe(mainThreadId)
    await h.host.handlers['model:info'](undefined)
    // tfjs-core registers its engine on the global object when it is first imported.
    expect((globalThis as { _tfengine?: unknown })._tfengine).toBeUndefined()
    // The proxy itself imports the engine side for types only.
    const src = await readFile(new URL('../../src/host/worker-engine-host.ts', import.meta.url), 'utf8')
    const valueImports = [...src.matchAll(/^import (?!type )[^\n]*from '([^']+)'/gm)].map((m) => m[1])
    expect(valueImports.filter((m) => /tensorflow|engine-host|engine-worker|run-service/.test(m))).toEqual([])
  })

  it('answers model:info and model:layers from the loaded model', async () => {
    const info = await h.host.handlers['model:info'](undefined)
    expect(info).toMatchObject({ format: 'layers-model', backend: 'wasm', path: MODEL_DIR })
    const layers = await h.host.handlers['model:layers'](undefined)
    const logits = layers.find((l) => l.name === LAYER)
    expect(logits?.units).toBe(info.labelsCount)
    expect(logits?.labels).toHaveLength(info.labelsCount)
  })

  it('streams a run through the proxy (run:progress, run:done) and stores it', async () => {
    const { runId } = await h.host.handlers['run:start'](spec({ push_layer: LAYER, push_channel: 1, max_iter: RUN_ITERS }, { previewEvery: 2 }))
    const done = await h.next((e) => e.event === 'run:done' && (e.payload as RunSummary).runId === runId)
    expect(done.payload).toMatchObject({ runId, status: 'done', iterations: RUN_ITERS, layer: LAYER, channel: 1 })
    const progress = h.events.filter((e) => e.event === 'run:progress' && (e.payload as { runId: string }).runId === runId)
    expect(progress.map((e) => (e.payload as { ii: number }).ii)).toEqual([...Array(RUN_ITERS).keys()])
    expect(progress.some((e) => typeof (e.payload as { preview?: string }).preview === 'string')).toBe(true)
    expect((await h.host.handlers['runs:list'](undefined)).map((r) => r.runId)).toContain(runId)
    const detail: RunDetail = await h.host.handlers['runs:get'](runId)
    expect(detail.series.obj).toHaveLength(RUN_ITERS)
  })

  it('stops a running run through the proxy (the worker takes calls between iterations)', async () => {
    // One preview only (its PNG encoding would let messages in on its own).
    const { runId } = await h.host.handlers['run:start'](spec({ push_layer: LAYER, push_channel: 3, max_iter: LONG_RUN_ITERS }, { previewEvery: LONG_RUN_ITERS }))
    await h.next((e) => e.event === 'run:progress' && (e.payload as { runId: string }).runId === runId)
    await h.host.handlers['run:stop'](runId)
    const done = await h.next((e) => e.event === 'run:done' && (e.payload as RunSummary).runId === runId)
    expect(done.payload).toMatchObject({ runId, status: 'stopped' })
    expect((done.payload as RunSummary).iterations).toBeLessThan(LONG_RUN_ITERS)
  })

  it('answers presets:list, runs:list, runs:get and atlas:* in this thread, without a message to the busy worker', async () => {
    const worker = h.workers[h.workers.length - 1]
    const posted: unknown[] = []
    const post = worker.postMessage.bind(worker)
    worker.postMessage = (m: unknown) => { posted.push(m); post(m) }
    try {
      // A long run keeps the worker busy meanwhile.
      const { runId } = await h.host.handlers['run:start'](spec({ push_layer: LAYER, push_channel: 2, max_iter: LONG_RUN_ITERS }, { previewEvery: LONG_RUN_ITERS }))
      await h.next((e) => e.event === 'run:progress' && (e.payload as { runId: string }).runId === runId)
      const before = posted.length
      const presets = await h.host.handlers['presets:list'](undefined)
      expect(presets.map((p) => p.name)).toContain('yosinski-3')
      const runs = await h.host.handlers['runs:list'](undefined)
      // The run in flight has no run.json yet: only finished runs are listed.
      expect(runs.map((r) => r.runId)).not.toContain(runId)
      expect(runs.length).toBeGreaterThan(0)
      expect((await h.host.handlers['runs:get'](runs[0].runId)).runId).toBe(runs[0].runId)
      // Atlases are files on disk too (a folder without a manifest is refused here, at once).
      await expect(h.host.handlers['atlas:open'](tmp)).rejects.toThrow(/holds no manifest\.json/)
      expect(posted.length).toBe(before)
      await h.host.handlers['run:stop'](runId)
      await h.next((e) => e.event === 'run:done' && (e.payload as RunSummary).runId === runId)
    } finally {
      worker.postMessage = post
    }
  })

  it('keeps the error code of a DeepVisError thrown in the worker', async () => {
    const bad = h.host.handlers['run:start'](spec({ push_layer: 'no-such-layer', push_channel: 0 }))
    await expect(bad).rejects.toBeInstanceOf(DeepVisError)
    await expect(bad).rejects.toMatchObject({ code: 'BAD_LAYER', message: expect.stringContaining('no-such-layer') })
  })

  it('answers INTERNAL, with the message, for anything else thrown in the worker', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      // Skipping the IPC layer's validation: the run service dereferences an undefined spec (a TypeError).
      const bad = h.host.handlers['run:start'](undefined as never)
      await expect(bad).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/undefined/) })
    } finally {
      spy.mockRestore()
    }
    // The worker is still serving.
    expect((await h.host.handlers['presets:list'](undefined)).map((p) => p.name)).toContain('yosinski-3')
  })
})

describe('a worker that dies', () => {
  it('fails its pending calls and its run, logs, and the next call starts a fresh worker', async () => {
    const h = makeHost(path.join(tmp, 'history-crash'))
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const first: ModelInfo = await h.host.handlers['model:info'](undefined)
      const { runId } = await h.host.handlers['run:start'](spec({ push_layer: LAYER, push_channel: 2, max_iter: LONG_RUN_ITERS }))
      await h.next((e) => e.event === 'run:progress' && (e.payload as { runId: string }).runId === runId)

      const pending = h.host.handlers['model:layers'](undefined)
      const dead = exited(h.workers[0])
      void h.workers[0].terminate()
      await dead
      await expect(pending).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringContaining('stopped unexpectedly') })
      const failed = await h.next((e) => e.event === 'run:done' && (e.payload as RunSummary).runId === runId)
      expect(failed.payload).toMatchObject({ runId, status: 'failed', layer: LAYER, channel: 2, maxIter: LONG_RUN_ITERS })
      expect((failed.payload as RunSummary).iterations).toBeGreaterThan(0)
      expect(log.mock.calls.some((c) => String(c[0]).includes('stopped unexpectedly'))).toBe(true)

      const again = await h.host.handlers['model:info'](undefined)
      expect(h.workers).toHaveLength(2)
      expect(again).toEqual(first)
      const changed = await h.next((e) => e.event === 'model:changed')
      expect(changed.payload).toEqual(first)
      // The interrupted run left nothing in the history.
      expect((await h.host.handlers['runs:list'](undefined)).map((r) => r.runId)).not.toContain(runId)
    } finally {
      log.mockRestore()
      h.host.dispose()
    }
  })
})

describe('dispose', () => {
  it('terminates the worker; calls in flight and later calls answer BAD_MODEL', async () => {
    const h = makeHost(path.join(tmp, 'history-dispose'))
    // Asked before the worker has even loaded: certainly still in flight at dispose.
    const inFlight = h.host.handlers['model:layers'](undefined)
    const worker = h.workers[0]
    const gone = exited(worker)
    h.host.dispose()
    await gone
    expect(worker.threadId).toBe(-1)
    await expect(inFlight).rejects.toMatchObject({ code: 'BAD_MODEL' })
    await expect(h.host.handlers['model:info'](undefined)).rejects.toMatchObject({ code: 'BAD_MODEL' })
    expect(h.workers).toHaveLength(1)
  })
})
