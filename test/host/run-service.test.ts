/**
 * The run service on the REAL embedded model (resources/models/deepvis-shapes, wasm backend) with
 * short runs: progress streamed in order with previews every N, the CLI's files plus run.json in the
 * run folder, list/get/delete, stop keeping a complete 'stopped' entry, the one-at-a-time queue, bad
 * targets refused up front with their code, failures during a run as 'failed' summaries, run ids that
 * cannot escape the history folder, and interrupted folders (no run.json) ignored and swept; compare
 * groups run as ONE optimizeBatch (spied) whose per-run results equal single runs, stop one run of a
 * group alone, and fail together. General methods (lucid): a run with `method` streams, is stored with
 * its method, gifEvery writes an animated GIF with one frame per N iterations plus the last, invalid
 * method params are refused up front (BAD_PARAM, nothing created), and a compare group mixing DVT and
 * lucid batches only the DVT runs.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { optimizeBatch } from '../../src/engine/optimize-batch.ts'
import { encodeNpy } from '../../src/engine/node/npy.ts'
import type { FindParams } from '../../src/engine/params.ts'
import { checkRunId, createRunService, GIF_FILE, makeRunId, PARTIAL_SUBDIR, RUN_JSON, type RunEngine, type RunService } from '../../src/host/run-service.ts'
import { DEFAULT_GENERAL_PARAMS, METHOD_PRESETS } from '../../src/shared/method-params.ts'
import type { EventChannel, EventMap } from '../../src/shared/ipc-contract.ts'
import { RUN_ID_PATTERN } from '../../src/shared/ipc-schemas.ts'
import type { RunProgress, RunSpec, RunSummary } from '../../src/shared/run-types.ts'

const MAX_ITER = 12
const PREVIEW_EVERY = 4
const PNG_PREFIX = 'data:image/png;base64,'

let loaded: LoadedModel
let root: string
let backend: string

beforeAll(async () => {
  backend = (await initBackend('wasm')).name
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  root = await mkdtemp(path.join(tmpdir(), 'deepvis-runs-'))
})

afterAll(async () => {
  loaded?.model.dispose()
  await rm(root, { recursive: true, force: true })
})

type Event = { [K in EventChannel]: { channel: K; payload: EventMap[K] } }[EventChannel]

interface Harness {
  service: RunService
  events: Event[]
  dir: string
  /** Sizes of the optimizeBatch calls made, in order. */
  batchSizes: number[]
  progress(runId: string): RunProgress[]
  done(runId: string): RunSummary
}

let harnessCount = 0

/** A service over its own history folder, recording every event. */
async function harness(opts: { dir?: string; onEvent?: (e: Event, service: RunService) => void; now?: () => Date } = {}): Promise<Harness> {
  const dir = opts.dir ?? path.join(root, `h${harnessCount++}`)
  const events: Event[] = []
  const batchSizes: number[] = []
  const engine = async (): Promise<RunEngine> => ({ model: loaded.model, inputSpec: loaded.inputSpec, backend, modelName: loaded.name, modelKey: 'test-model' })
  const service: RunService = createRunService({
    historyDir: dir,
    engine,
    now: opts.now,
    optimizeBatch: (model, inputSpec, list, o) => {
      batchSizes.push(list.length)
      return optimizeBatch(model, inputSpec, list, o)
    },
    emit: (channel, payload) => {
      const e = { channel, payload } as Event
      events.push(e)
      opts.onEvent?.(e, service)
    },
  })
  return {
    service,
    events,
    dir,
    batchSizes,
    progress: (runId) => events.flatMap((e) => (e.channel === 'run:progress' && e.payload.runId === runId ? [e.payload] : [])),
    done: (runId) => {
      const d = events.filter((e) => e.channel === 'run:done' && e.payload.runId === runId)
      expect(d, `one run:done for ${runId}`).toHaveLength(1)
      return d[0].payload as RunSummary
    },
  }
}

function spec(over: Partial<FindParams> = {}, extra: Partial<RunSpec> = {}): RunSpec {
  return {
    params: {
      start_at: 'mean_plus_rand', rand_seed: 0, push_layer: 'logits', push_channel: 2, push_spatial: null, push_dir: 1,
      decay: 0.0001, blur_radius: 1, blur_every: 4, small_val_percentile: 0, small_norm_percentile: 0,
      px_benefit_percentile: 0, px_abs_benefit_percentile: 0, lr_policy: 'constant', lr_params: { lr: 100 },
      max_iter: MAX_ITER, ...over,
    },
    previewEvery: PREVIEW_EVERY,
    ...extra,
  }
}

describe('run service: one run', () => {
  let h: Harness
  let runId: string

  beforeAll(async () => {
    h = await harness()
    runId = await h.service.start(spec({}, { preset: 'yosinski-3', compareGroup: 'g1' }))
    await h.service.whenIdle()
  })

  it('returns an id of the documented form', () => {
    expect(runId).toMatch(/^\d{8}-\d{6}-logits-0002-[0-9a-f]{4}$/)
    expect(runId).toMatch(RUN_ID_PATTERN)
  })

  it('streams one progress event per iteration, in order, before run:done', () => {
    const progress = h.progress(runId)
    expect(progress.map((p) => p.ii)).toEqual([...Array(MAX_ITER).keys()])
    for (const p of progress) {
      expect(p.maxIter).toBe(MAX_ITER)
      expect(Number.isFinite(p.obj) && Number.isFinite(p.norm) && Number.isFinite(p.std) && p.wallMs >= 0).toBe(true)
      expect(p.lr).toBe(100)
    }
    expect(h.events.at(-1)?.channel).toBe('run:done')
    expect(h.events.filter((e) => e.channel === 'run:done')).toHaveLength(1)
  })

  it('sends a preview PNG every previewEvery iterations and at the last one', async () => {
    const progress = h.progress(runId)
    expect(progress.filter((p) => p.preview).map((p) => p.ii)).toEqual([0, 4, 8, MAX_ITER - 1])
    const first = progress[0].preview!
    expect(first.startsWith(PNG_PREFIX)).toBe(true)
    const meta = await sharp(Buffer.from(first.slice(PNG_PREFIX.length), 'base64')).metadata()
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 64, 64, 3])
    // The image changes while the optimization runs.
    expect(progress[8].preview).not.toBe(first)
  })

  it('ends with a done summary that matches the stream', () => {
    const done = h.done(runId)
    const last = h.progress(runId).at(-1)!
    expect(done).toMatchObject({
      runId, status: 'done', layer: 'logits', channel: 2, label: loaded.inputSpec.labels![2], preset: 'yosinski-3',
      compareGroup: 'g1', maxIter: MAX_ITER, iterations: MAX_ITER, backend, modelName: loaded.name,
      last: { ii: MAX_ITER - 1, obj: last.obj },
    })
    expect(done.metaResult).toMatch(/^Metaresult: /)
    expect(done.best!.obj).toBeGreaterThanOrEqual(Math.max(...h.progress(runId).map((p) => p.obj)) - 1e-6)
    expect(done.error).toBeUndefined()
  })

  it("stores the CLI's files plus run.json in <historyDir>/<runId>/, and nothing else", async () => {
    const folder = path.join(h.dir, runId)
    const info = JSON.parse(await readFile(path.join(folder, 'info.json'), 'utf8')) as { files: string[]; params: FindParams; extra: Record<string, unknown> }
    expect(info.files).toEqual(expect.arrayContaining(['best_X.png', 'best_Xpm.png', 'last_X.png', 'last_Xpm.png', 'info.txt', 'x0.npy', 'best.npy', 'last.npy', 'info.json']))
    expect((await readdir(folder)).sort()).toEqual([...info.files, RUN_JSON].sort())
    expect(info.params.max_iter).toBe(MAX_ITER)
    expect(info.extra).toMatchObject({ runId, preset: 'yosinski-3' })
    const stored = JSON.parse(await readFile(path.join(folder, RUN_JSON), 'utf8')) as Record<string, unknown>
    expect(stored).toMatchObject({ ...h.done(runId), format: 'deepvis-run@1', params: { push_layer: 'logits', max_iter: MAX_ITER } })
  })

  it('get returns the series of info.json and the images as data URLs', async () => {
    const detail = await h.service.get(runId)
    const info = JSON.parse(await readFile(path.join(h.dir, runId, 'info.json'), 'utf8')) as { series: { obj: number[] } }
    expect(detail.series.obj).toEqual(info.series.obj)
    expect(detail.series.obj).toHaveLength(MAX_ITER)
    expect(detail.series.lr).toHaveLength(MAX_ITER)
    expect(detail.series.obj.at(-1)).toBeCloseTo(h.progress(runId).at(-1)!.obj, 4)
    expect(detail.images.best?.x.startsWith(PNG_PREFIX)).toBe(true)
    expect(detail.images.best?.xpm).toBe(PNG_PREFIX + (await readFile(path.join(h.dir, runId, 'best_Xpm.png'))).toString('base64'))
    expect(detail.images.last?.xpm.startsWith(PNG_PREFIX)).toBe(true)
    // The previews and the history thumbnail are the centred x of best_X / last_X (the view that looks like the object).
    expect(h.progress(runId).at(-1)!.preview).toBe(PNG_PREFIX + (await readFile(path.join(h.dir, runId, 'last_X.png'))).toString('base64'))
    expect(detail.thumb?.startsWith(PNG_PREFIX)).toBe(true)
    const thumb = await sharp(Buffer.from(detail.thumb!.slice(PNG_PREFIX.length), 'base64')).raw().toBuffer({ resolveWithObject: true })
    expect([thumb.info.width, thumb.info.height]).toEqual([64, 64])
    const best = await sharp(path.join(h.dir, runId, 'best_X.png')).resize(64, 64).raw().toBuffer()
    const diff = thumb.data.reduce((acc, v, i) => acc + Math.abs(v - best[i]), 0) / thumb.data.length
    expect(diff).toBeLessThan(4)
    expect(detail.images.majority === null).toBe(detail.majority === null)
    expect(detail.params.max_iter).toBe(MAX_ITER)
    expect(detail.folder).toBe(path.join(h.dir, runId))
  })

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors
    const id = await h.service.start(spec({ max_iter: 3 }))
    await h.service.whenIdle()
    expect(h.done(id).status).toBe('done')
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('run service: history', () => {
  it('lists newest first, gets, and deletes exactly one folder', async () => {
    let t = Date.UTC(2026, 10, 23, 14, 22, 33)
    const h = await harness({ now: () => new Date((t += 1000)) })
    const a = await h.service.start(spec({ max_iter: 3, push_channel: 1 }))
    const b = await h.service.start(spec({ max_iter: 3, push_channel: 3 }))
    await h.service.whenIdle()
    expect(a.slice(0, 15)).toBe('20261123-142234')
    const list = await h.service.list()
    expect(list.map((s) => s.runId)).toEqual([b, a])
    expect(list[0]).toEqual(h.done(b))
    await h.service.delete(a)
    expect(existsSync(path.join(h.dir, a))).toBe(false)
    expect(existsSync(path.join(h.dir, b, RUN_JSON))).toBe(true)
    expect((await h.service.list()).map((s) => s.runId)).toEqual([b])
    await expect(h.service.get(a)).rejects.toMatchObject({ code: 'BAD_PARAM' })
    await expect(h.service.delete(a)).rejects.toMatchObject({ code: 'BAD_PARAM' })
  })

  it('sweeps only its staging folder at start: unrelated folders and files (even run-id-like names without run.json) stay byte for byte', async () => {
    const dir = path.join(root, 'sweep')
    const leftover = path.join(dir, PARTIAL_SUBDIR, '20260101-000000-logits-0001-dead')
    const userFolders = ['Documents', 'src', '20260101-000000-logits-0001-cafe', 'not a run.d']
    await mkdir(leftover, { recursive: true })
    await writeFile(path.join(leftover, 'info.json'), '{}')
    for (const f of userFolders) {
      await mkdir(path.join(dir, f), { recursive: true })
      await writeFile(path.join(dir, f, 'notes.txt'), `keep ${f}`)
    }
    await writeFile(path.join(dir, 'loose.txt'), 'loose')
    const h = await harness({ dir })
    expect(await h.service.list()).toEqual([])
    expect(existsSync(leftover)).toBe(false)
    for (const f of userFolders) expect(await readFile(path.join(dir, f, 'notes.txt'), 'utf8')).toBe(`keep ${f}`)
    expect(await readFile(path.join(dir, 'loose.txt'), 'utf8')).toBe('loose')
    // A folder without our run.json is not a run: deleting it is refused and it stays.
    await expect(h.service.delete('20260101-000000-logits-0001-cafe')).rejects.toMatchObject({ code: 'BAD_PARAM' })
    expect(existsSync(path.join(dir, '20260101-000000-logits-0001-cafe', 'notes.txt'))).toBe(true)
    // A run is written under .partial/ and moved into the history only when complete.
    const { runId } = { runId: await h.service.start(spec({ max_iter: 2 })) }
    await h.service.whenIdle()
    expect(existsSync(path.join(dir, runId, RUN_JSON))).toBe(true)
    expect(existsSync(path.join(dir, PARTIAL_SUBDIR, runId))).toBe(false)
    // A corrupt run.json is ignored.
    const late = path.join(dir, '20260101-000000-logits-0001-beef')
    await mkdir(late)
    await writeFile(path.join(late, RUN_JSON), '{ not json')
    expect((await h.service.list()).map((r) => r.runId)).toEqual([runId])
    for (const f of userFolders) expect(await readFile(path.join(dir, f, 'notes.txt'), 'utf8')).toBe(`keep ${f}`)
  })

  it.each(['../x', '..', '../../etc', 'a/b', 'a\\b', '.', '', 'x'.repeat(65)])('refuses the run id %j everywhere', async (bad) => {
    const h = await harness({ dir: path.join(root, 'ids', 'history') })
    const outside = path.join(root, 'ids', 'x')
    await mkdir(outside, { recursive: true })
    await writeFile(path.join(outside, RUN_JSON), '{}')
    await expect(h.service.get(bad)).rejects.toMatchObject({ code: 'BAD_PARAM' })
    await expect(h.service.delete(bad)).rejects.toMatchObject({ code: 'BAD_PARAM' })
    expect(() => h.service.stop(bad)).toThrow(expect.objectContaining({ code: 'BAD_PARAM' }))
    expect(existsSync(path.join(outside, RUN_JSON))).toBe(true)
  })
})

describe('run service: stop, queue, failures', () => {
  it('stop ends a run early, marked stopped, with a complete entry', async () => {
    const STOP_AT = 2
    const h = await harness({
      onEvent: (e, service) => {
        if (e.channel === 'run:progress' && e.payload.ii === STOP_AT) service.stop(e.payload.runId)
      },
    })
    const id = await h.service.start(spec({ max_iter: 500 }))
    await h.service.whenIdle()
    const done = h.done(id)
    expect(done).toMatchObject({ status: 'stopped', iterations: STOP_AT + 1, maxIter: 500, last: { ii: STOP_AT } })
    expect(h.progress(id)).toHaveLength(STOP_AT + 1)
    const info = JSON.parse(await readFile(path.join(h.dir, id, 'info.json'), 'utf8')) as { interrupted: boolean }
    expect(info.interrupted).toBe(true)
    expect((await h.service.list()).map((s) => [s.runId, s.status])).toEqual([[id, 'stopped']])
    expect((await h.service.get(id)).series.obj).toHaveLength(STOP_AT + 1)
  })

  it('queues a second run: both ids at once, the second runs after the first is done', async () => {
    const h = await harness()
    const a = await h.service.start(spec({ max_iter: 4 }))
    const b = await h.service.start(spec({ max_iter: 4, push_channel: 0 }))
    expect(a).not.toBe(b)
    // Nothing of b has run yet when it is queued.
    expect(h.progress(b)).toEqual([])
    await h.service.whenIdle()
    const order = h.events.map((e) => `${e.channel}:${'runId' in e.payload && e.payload.runId === a ? 'a' : 'b'}`)
    expect(order).toEqual([...Array(4).fill('run:progress:a'), 'run:done:a', ...Array(4).fill('run:progress:b'), 'run:done:b'])
    expect([h.done(a).status, h.done(b).status]).toEqual(['done', 'done'])
  })

  it('a stopped queued run still leaves a complete one-iteration entry', async () => {
    const h = await harness()
    const a = await h.service.start(spec({ max_iter: 4 }))
    const b = await h.service.start(spec({ max_iter: 50 }))
    h.service.stop(b)
    await h.service.whenIdle()
    expect(h.done(a).status).toBe('done')
    expect(h.done(b)).toMatchObject({ status: 'stopped', iterations: 1 })
    expect(existsSync(path.join(h.dir, b, RUN_JSON))).toBe(true)
  })

  it('refuses a bad layer, unit or parameter up front with its code, creating nothing', async () => {
    const h = await harness()
    await expect(h.service.start(spec({ push_layer: 'no_such_layer' }))).rejects.toMatchObject({ code: 'BAD_LAYER' })
    await expect(h.service.start(spec({ push_channel: 999 }))).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await expect(h.service.start(spec({ decay: 2 }))).rejects.toMatchObject({ code: 'BAD_PARAM' })
    await h.service.whenIdle()
    expect(h.events).toEqual([])
    expect(await readdir(h.dir)).toEqual([])
  })

  it('a run failing while it executes ends as a failed summary, stores nothing, and the queue goes on', async () => {
    const h = await harness()
    // The blur kernel check happens inside the engine loop, after the target was accepted.
    const bad = await h.service.start(spec({ blur_radius: 400, blur_every: 1 }))
    const good = await h.service.start(spec({ max_iter: 2 }))
    await h.service.whenIdle()
    expect(h.done(bad)).toMatchObject({ status: 'failed', iterations: 0, error: expect.stringContaining('blur_radius') })
    expect(existsSync(path.join(h.dir, bad))).toBe(false)
    expect(h.done(good).status).toBe('done')
    expect((await h.service.list()).map((s) => s.runId)).toEqual([good])
  })

  it('a failing engine (no model) is refused with its code', async () => {
    const service = createRunService({
      historyDir: path.join(root, 'nomodel'),
      engine: () => Promise.reject(Object.assign(new Error('no model.json'), { code: 'BAD_MODEL' })),
      emit: () => undefined,
    })
    await expect(service.start(spec())).rejects.toMatchObject({ code: 'BAD_MODEL' })
  })

  it('refuses to delete a run that is still active', async () => {
    const h = await harness()
    const id = await h.service.start(spec({ max_iter: 3 }))
    await expect(h.service.delete(id)).rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('stop it first') })
    await h.service.whenIdle()
    await h.service.delete(id)
    expect(await h.service.list()).toEqual([])
  })
})

describe('makeRunId / checkRunId', () => {
  it('keeps ids within 64 safe characters whatever the layer name', () => {
    const id = makeRunId(new Date(Date.UTC(2026, 10, 23, 14, 22, 33)), 'loss3/classifier '.repeat(10), 12345)
    expect(id).toMatch(RUN_ID_PATTERN)
    expect(id.startsWith('20261123-142233-loss3_classifier_')).toBe(true)
    expect(id).toMatch(/-12345-[0-9a-f]{4}$/)
    expect(() => checkRunId(id)).not.toThrow()
  })
})

/** Relative tolerance between batched and single runs (as in test/engine/optimize-batch.test.ts). */
const REL_TOL = 1e-3

/** The float32 data of a .npy file (format 1.0: magic, version, 2-byte header length, header). */
async function readNpy(file: string): Promise<Float32Array> {
  const buf = await readFile(file)
  const headerLen = buf.readUInt16LE(8)
  const data = buf.subarray(10 + headerLen)
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength))
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length)
  let scale = 1e-6
  let worst = 0
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i])) { expect(actual[i], `${what}[${i}]`).toBeNaN(); continue }
    scale = Math.max(scale, Math.abs(expected[i]))
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]))
  }
  expect(worst / scale, `${what}: max |diff| / max |value|`).toBeLessThanOrEqual(REL_TOL)
}

/** Three different settings of one unit (the compare view's use). */
const GROUP_SPECS: Partial<FindParams>[] = [{}, { rand_seed: 3, decay: 0.01 }, { blur_every: 2, lr_policy: 'progress', lr_params: { max_lr: 1e5, desired_prog: 2 } }]

describe('run service: compare groups run batched', () => {
  it('a compare group of 3 runs executes as ONE batch; each run is stored as its single run would be', async () => {
    const h = await harness()
    // One run:start after another, as the compare view sends them.
    const ids: string[] = []
    for (const over of GROUP_SPECS) ids.push(await h.service.start(spec(over, { compareGroup: 'cmp-1', preset: null })))
    await h.service.whenIdle()
    expect(h.batchSizes).toEqual([3])

    const single = await harness()
    const singleIds: string[] = []
    for (const over of GROUP_SPECS) singleIds.push(await single.service.start(spec(over, { preset: null })))
    await single.service.whenIdle()
    expect(single.batchSizes).toEqual([])

    for (const [i, id] of ids.entries()) {
      const what = `run ${i}`
      // Events per run: every iteration in order, previews as for a single run, run:done last.
      const progress = h.progress(id)
      expect(progress.map((p) => p.ii), what).toEqual([...Array(MAX_ITER).keys()])
      expect(progress.filter((p) => p.preview).map((p) => p.ii), what).toEqual([0, 4, 8, MAX_ITER - 1])
      const mine = h.events.filter((e) => 'runId' in e.payload && e.payload.runId === id).map((e) => e.channel)
      expect(mine, what).toEqual([...Array(MAX_ITER).fill('run:progress'), 'run:done'])
      const done = h.done(id)
      const ref = single.done(singleIds[i])
      expect(done, what).toMatchObject({ status: 'done', compareGroup: 'cmp-1', iterations: MAX_ITER, best: { ii: ref.best!.ii }, metaResult: ref.metaResult })
      // Stored files, series and images equal the single run's.
      const [a, b] = [path.join(h.dir, id), path.join(single.dir, singleIds[i])]
      expect((await readdir(a)).sort(), what).toEqual((await readdir(b)).sort())
      const [da, db] = [await h.service.get(id), await single.service.get(singleIds[i])]
      expect(da.params, what).toEqual(db.params)
      expectClose(da.series.obj, db.series.obj, `${what} obj`)
      expectClose(da.series.norm, db.series.norm, `${what} norm`)
      expectClose(da.series.lr, db.series.lr, `${what} lr`)
      for (const npy of ['x0.npy', 'best.npy', 'last.npy']) expectClose(await readNpy(path.join(a, npy)), await readNpy(path.join(b, npy)), `${what} ${npy}`)
      expect(da.images.best?.xpm.startsWith(PNG_PREFIX)).toBe(true)
    }
    expect((await h.service.list()).map((r) => r.runId).sort()).toEqual([...ids].sort())
  })

  it('stop of one run of a group stops only that run; the others finish', async () => {
    const STOP_AT = 2
    const ids: string[] = []
    const h = await harness({
      onEvent: (e, service) => {
        if (e.channel === 'run:progress' && e.payload.runId === ids[1] && e.payload.ii === STOP_AT) service.stop(ids[1])
      },
    })
    for (const over of GROUP_SPECS) ids.push(await h.service.start(spec(over, { compareGroup: 'cmp-2' })))
    await h.service.whenIdle()
    expect(h.batchSizes).toEqual([3])
    expect(h.done(ids[1])).toMatchObject({ status: 'stopped', iterations: STOP_AT + 1, last: { ii: STOP_AT } })
    expect(h.progress(ids[1])).toHaveLength(STOP_AT + 1)
    // The stopped run is stored and reported at once, while the others still run.
    const order = h.events.map((e) => `${e.channel} ${'runId' in e.payload ? ids.indexOf(e.payload.runId) : -1}`)
    expect(order.indexOf('run:done 1')).toBeLessThan(order.lastIndexOf('run:progress 0'))
    expect(order.lastIndexOf('run:progress 1')).toBeLessThan(order.indexOf('run:done 1'))
    for (const i of [0, 2]) expect(h.done(ids[i])).toMatchObject({ status: 'done', iterations: MAX_ITER })
    for (const id of ids) expect(existsSync(path.join(h.dir, id, RUN_JSON))).toBe(true)
  })

  it('groups batch separately from runs without a group; a failing batch fails all its runs and stores nothing', async () => {
    const h = await harness()
    const plain = await h.service.start(spec({ max_iter: 2 }))
    // The blur kernel check happens inside the engine loop, so the batch fails while running.
    const bad = [
      await h.service.start(spec({ max_iter: 3 }, { compareGroup: 'cmp-3' })),
      await h.service.start(spec({ max_iter: 3, blur_radius: 400, blur_every: 1 }, { compareGroup: 'cmp-3' })),
    ]
    const after = await h.service.start(spec({ max_iter: 2 }))
    await h.service.whenIdle()
    expect(h.batchSizes).toEqual([2])
    for (const id of bad) {
      expect(h.done(id)).toMatchObject({ status: 'failed', error: expect.stringContaining('blur_radius') })
      expect(existsSync(path.join(h.dir, id))).toBe(false)
    }
    expect([h.done(plain).status, h.done(after).status]).toEqual(['done', 'done'])
    expect((await h.service.list()).map((r) => r.runId).sort()).toEqual([plain, after].sort())
  })
})

describe('run service: general methods', () => {
  /** Few lucid steps, pixel-free defaults otherwise (the lucid preset). */
  const LUCID = { ...DEFAULT_GENERAL_PARAMS, ...METHOD_PRESETS['lucid'].params, method: 'lucid' as const }
  const LUCID_ITER = 11
  const GIF_EVERY = 5

  it('a lucid run streams progress, is stored with its method, and get returns method and images', async () => {
    const h = await harness()
    const runId = await h.service.start(spec({ max_iter: LUCID_ITER, push_channel: 1 }, { method: LUCID, preset: 'lucid' }))
    await h.service.whenIdle()
    const progress = h.progress(runId)
    expect(progress.map((p) => p.ii)).toEqual([...Array(LUCID_ITER).keys()])
    // lucid's Adam learning rate, not DVT's 100 (the last iteration is recorded, not stepped).
    for (const p of progress.slice(0, -1)) expect(p.lr).toBeCloseTo(LUCID.lr, 6)
    expect(progress.filter((p) => p.preview).map((p) => p.ii)).toEqual([0, 4, 8, LUCID_ITER - 1])
    expect(h.done(runId)).toMatchObject({ status: 'done', layer: 'logits', channel: 1, iterations: LUCID_ITER, preset: 'lucid' })
    const detail = await h.service.get(runId)
    expect(detail.method).toMatchObject({ method: 'lucid', param: LUCID.param, lr: LUCID.lr, max_iter: LUCID_ITER, rand_seed: 0 })
    expect(detail.method?.objective).toContain('logits')
    expect(detail.images.best?.xpm.startsWith(PNG_PREFIX)).toBe(true)
    expect(detail.images.last?.x.startsWith(PNG_PREFIX)).toBe(true)
    expect(detail.series.obj).toHaveLength(LUCID_ITER)
    // The objective rises under lucid's optimization of the unit.
    expect(detail.best!.obj).toBeGreaterThan(detail.series.obj[0])
    expect(detail.gif ?? null).toBeNull()
    const runJson = JSON.parse(await readFile(path.join(h.dir, runId, RUN_JSON), 'utf8'))
    expect(runJson.method.method).toBe('lucid')
    // A DVT run records no method.
    const dvt = await h.service.start(spec({ max_iter: 2 }))
    await h.service.whenIdle()
    expect((await h.service.get(dvt)).method ?? null).toBeNull()
  })

  it('a mask objective reads its weights file on the engine side; a missing file is refused up front', async () => {
    const h = await harness()
    const weights = new Float32Array(10)
    weights[3] = 2
    weights[5] = -1
    const maskFile = path.join(root, 'mask-logits.npy')
    await writeFile(maskFile, encodeNpy(weights, [10]))
    const runId = await h.service.start(spec({ max_iter: 6 }, { method: { ...LUCID, objective: `mask(logits, '${maskFile}')` } }))
    await h.service.whenIdle()
    const detail = await h.service.get(runId)
    expect(h.done(runId).status).toBe('done')
    expect(detail.best!.obj).toBeGreaterThan(detail.series.obj[0])
    await expect(h.service.start(spec({ max_iter: 3 }, { method: { ...LUCID, objective: `mask(logits, '${path.join(root, 'nope.npy')}')` } })))
      .rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('nope.npy') })
  })

  it('gifEvery writes optimization.gif with a frame every N iterations and the last', async () => {
    const h = await harness()
    const runId = await h.service.start(spec({ max_iter: LUCID_ITER }, { method: LUCID, gifEvery: GIF_EVERY }))
    await h.service.whenIdle()
    const file = path.join(h.dir, runId, GIF_FILE)
    expect(existsSync(file)).toBe(true)
    const meta = await sharp(file, { pages: -1 }).metadata()
    // Frames at ii = 0, 5, 10 (10 is also the last).
    const expected = [...Array(LUCID_ITER).keys()].filter((ii) => ii % GIF_EVERY === 0 || ii === LUCID_ITER - 1).length
    expect([meta.format, meta.pages, meta.width, meta.pageHeight]).toEqual(['gif', expected, 64, 64])
    expect((await h.service.get(runId)).gif?.startsWith('data:image/gif;base64,')).toBe(true)
    // DVT runs write it too.
    const dvt = await h.service.start(spec({ max_iter: 7 }, { gifEvery: 3 }))
    await h.service.whenIdle()
    expect((await sharp(path.join(h.dir, dvt, GIF_FILE), { pages: -1 }).metadata()).pages).toBe(3)
  })

  it.each([
    ['lr', { lr: -1 }],
    ['param', { param: 'wavelet' }],
    ['method', { method: 'nonesuch' }],
    ['objective', { objective: 'nosuchlayer:0 +' }],
    ['batch_size', { batch_size: 4 }],
  ])('refuses invalid method params (%s) with BAD_PARAM, creating no run', async (_what, bad) => {
    const h = await harness()
    const err = await h.service.start(spec({}, { method: { ...LUCID, ...bad } as RunSpec['method'] })).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'BAD_PARAM' })
    await h.service.whenIdle()
    expect(h.events).toEqual([])
    expect(await readdir(h.dir)).toEqual([])
  })

  it('a compare group mixing DVT and lucid batches only the DVT runs; the lucid run runs alone', async () => {
    const h = await harness()
    const ids = [
      await h.service.start(spec({ max_iter: 4 }, { compareGroup: 'mix-1' })),
      await h.service.start(spec({ max_iter: 4 }, { compareGroup: 'mix-1', method: LUCID })),
      await h.service.start(spec({ max_iter: 4, decay: 0.3 }, { compareGroup: 'mix-1' })),
    ]
    await h.service.whenIdle()
    expect(h.batchSizes).toEqual([2])
    for (const id of ids) expect(h.done(id)).toMatchObject({ status: 'done', iterations: 4, compareGroup: 'mix-1' })
    expect((await h.service.get(ids[1])).method?.method).toBe('lucid')
  })
})

describe('run service: quality readouts', () => {
  it('stores the quality of every run: the best objective as activation, its rank, a spectrum slope', async () => {
    const h = await harness()
    const runId = await h.service.start(spec({ max_iter: 12, push_channel: 7 }))
    await h.service.whenIdle()
    const detail = await h.service.get(runId)
    const q = detail.quality as { activation: number; rank: number; of: number; spectrum_slope: number | null; held_out: unknown }
    expect(q.activation).toBeCloseTo(detail.best!.obj, 3)
    expect(q.of).toBe(10)
    expect(q.rank).toBeGreaterThanOrEqual(1)
    expect(q.rank).toBeLessThanOrEqual(10)
    // a majority success means the unit is the arg-max of its layer at the best image: rank 1
    if (detail.majority) expect(q.rank).toBe(1)
    expect(Number.isFinite(q.spectrum_slope)).toBe(true)
    expect(q.held_out).toBeNull()
  })

  it('scores the best image with a second model when asked, and refuses one of other classes up front', async () => {
    const h = await harness()
    const runId = await h.service.start(spec({ max_iter: 12, push_channel: 7 }, { checkModel: DEFAULT_MODEL_DIR }))
    await h.service.whenIdle()
    const q = (await h.service.get(runId)).quality as { held_out: { probability: number; rank: number; views: number } }
    expect(q.held_out.views).toBeGreaterThan(1)
    expect(q.held_out.probability).toBeGreaterThanOrEqual(0)
    expect(q.held_out.probability).toBeLessThanOrEqual(1)
    // conv3 has 32 units; the check model classifies 10 classes.
    await expect(h.service.start(spec({ push_layer: 'conv3', push_channel: 1 }, { checkModel: DEFAULT_MODEL_DIR })))
      .rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringContaining('same classes') })
    await expect(h.service.start(spec({}, { checkModel: path.join(root, 'no-such-model') })))
      .rejects.toMatchObject({ code: 'BAD_MODEL' })
    h.service.dispose()
  })
})
