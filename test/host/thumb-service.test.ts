/**
 * The thumbnail service on the REAL embedded model (resources/models/deepvis-shapes, wasm backend) with
 * a tiny max_iter: one units:thumb per unit in order then units:done, PNGs of the thumbnail size, the
 * best objective, the on-disk cache (second visit runs no optimization; another model key or another
 * layer is not cached; a png without its json is not cached), cancel mid-unit and while queued,
 * one job per layer and queued layers, bad layer / unit refused up front, failures reported in
 * units:done, thumbs(layer) listing exactly the cached units, and dispose cancelling. Uncached units
 * are optimized THUMB_BATCH at a time (one optimizeBatch call per chunk) and equal single-unit runs.
 * Optimizations are counted by an injected optimizer that wraps the real one (no timing).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DeepVisError } from '../../src/shared/errors.ts'
import { initBackend } from '../../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { optimizeImage } from '../../src/engine/optimize.ts'
import { optimizeBatch } from '../../src/engine/optimize-batch.ts'
import type { DvtResult } from '../../src/engine/result.ts'
import { renderX } from '../../src/engine/node/save-results.ts'
import type { RunEngine } from '../../src/host/run-service.ts'
import {
  createThumbService, layerCacheHash, THUMB_BATCH, THUMB_JSON_FORMAT, THUMB_MAX_ITER, THUMB_PARAMS, THUMB_SIZE_PX,
  type ThumbParams, type ThumbService,
} from '../../src/host/thumb-service.ts'
import type { EventChannel, EventMap, ThumbDone, ThumbProgress } from '../../src/shared/ipc-contract.ts'
import { RUN_ID_PATTERN } from '../../src/shared/ipc-schemas.ts'

/** Iterations per thumbnail in these tests (>= 2, so that a cancel during iteration 0 interrupts). */
const MAX_ITER = 3
const PNG_PREFIX = 'data:image/png;base64,'
const LOGITS_UNITS = 10

let loaded: LoadedModel
let root: string
let backend: string

beforeAll(async () => {
  backend = (await initBackend('wasm')).name
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  root = await mkdtemp(path.join(tmpdir(), 'deepvis-thumbs-'))
})

afterAll(async () => {
  loaded?.model.dispose()
  await rm(root, { recursive: true, force: true })
})

type Event = { [K in EventChannel]: { channel: K; payload: EventMap[K] } }[EventChannel]

interface Harness {
  service: ThumbService
  events: Event[]
  cacheDir: string
  /** Channels optimized so far, in call order. */
  optimized: number[]
  /** The channels of each optimizer call, in call order. */
  batches: number[][]
  results: Map<number, DvtResult>
  thumbEvents(jobId?: string): ThumbProgress[]
  doneEvents(jobId?: string): ThumbDone[]
  /** The folder of a layer's cached units. */
  layerDir(layer: string, modelKey?: string): string
}

let harnessCount = 0

interface HarnessOptions {
  cacheDir?: string
  /** The engine's model key; a function is asked on every engine() call. Default 'model-a'. */
  modelKey?: string | (() => string)
  params?: Partial<ThumbParams>
  sizePx?: number
  onEvent?: (e: Event, h: Harness) => void
  /** Called before each optimizer call (with its chunk's channels), e.g. to cancel during it; may throw to fail the chunk. */
  beforeOptimize?: (channels: number[], h: Harness) => { onIteration?: (ii: number) => void } | void
}

/** A service over its own cache folder, recording every event and every optimization. */
function harness(opts: HarnessOptions = {}): Harness {
  const cacheDir = opts.cacheDir ?? path.join(root, `c${harnessCount++}`)
  const keyOf = typeof opts.modelKey === 'function' ? opts.modelKey : () => (opts.modelKey as string | undefined) ?? 'model-a'
  const modelKey = keyOf()
  const params = { max_iter: MAX_ITER, ...opts.params }
  const sizePx = opts.sizePx ?? THUMB_SIZE_PX
  const engine = async (): Promise<RunEngine> => ({ model: loaded.model, inputSpec: loaded.inputSpec, backend, modelName: loaded.name, modelKey: keyOf() })
  const h: Harness = {
    service: undefined as unknown as ThumbService,
    events: [],
    cacheDir,
    optimized: [],
    batches: [],
    results: new Map(),
    thumbEvents: (jobId) => h.events.flatMap((e) => (e.channel === 'units:thumb' && (!jobId || e.payload.jobId === jobId) ? [e.payload] : [])),
    doneEvents: (jobId) => h.events.flatMap((e) => (e.channel === 'units:done' && (!jobId || e.payload.jobId === jobId) ? [e.payload] : [])),
    layerDir: (layer, key = modelKey) => path.join(cacheDir, key, layerCacheHash(layer, { ...THUMB_PARAMS, ...params }, sizePx)),
  }
  h.service = createThumbService({
    cacheDir,
    engine,
    params,
    sizePx: opts.sizePx,
    emit: (channel, payload) => {
      const e = { channel, payload } as Event
      h.events.push(e)
      opts.onEvent?.(e, h)
    },
    optimizeBatch: async (model, spec, list, o) => {
      const channels = list.map((p) => p.push_channel)
      h.optimized.push(...channels)
      h.batches.push(channels)
      const hook = opts.beforeOptimize?.(channels, h)
      const results = await optimizeBatch(model, spec, list, {
        ...o,
        onIteration: async (ev) => {
          await o?.onIteration?.(ev)
          if (ev.imageIndex === 0) hook?.onIteration?.(ev.ii)
        },
      })
      for (const [i, r] of results.entries()) h.results.set(channels[i], r)
      return results
    },
  })
  return h
}

async function pngSize(dataUrl: string): Promise<[number, number, string | undefined]> {
  expect(dataUrl.startsWith(PNG_PREFIX)).toBe(true)
  const meta = await sharp(Buffer.from(dataUrl.slice(PNG_PREFIX.length), 'base64')).metadata()
  return [meta.width, meta.height, meta.format]
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe('THUMB_PARAMS', () => {
  it("is yosinski-3's regularizers with a short run and the default seed", () => {
    expect(THUMB_PARAMS).toMatchObject({ decay: 0.0001, blur_radius: 1, blur_every: 4, lr_policy: 'constant', lr_params: { lr: 100 }, rand_seed: 0 })
    expect(THUMB_PARAMS.max_iter).toBe(THUMB_MAX_ITER)
    expect(THUMB_MAX_ITER).toBeLessThan(1000)
  })
})

describe('thumb service: rendering a layer', () => {
  let h: Harness
  let first: { jobId: string; total: number; cached: number }
  let tensorsBefore: number

  beforeAll(async () => {
    h = harness()
    tensorsBefore = tf.memory().numTensors
    first = await h.service.render({ layer: 'logits' })
    await h.service.whenIdle()
  })

  it('answers with a job id and the unit count, none cached', () => {
    expect(first.jobId).toMatch(RUN_ID_PATTERN)
    expect(first).toMatchObject({ total: LOGITS_UNITS, cached: 0 })
  })

  it('emits one units:thumb per unit, in order, with done counting up, then units:done', () => {
    const thumbs = h.thumbEvents(first.jobId)
    expect(thumbs.map((t) => t.thumb.channel)).toEqual(range(LOGITS_UNITS))
    expect(thumbs.map((t) => t.done)).toEqual(range(LOGITS_UNITS).map((i) => i + 1))
    for (const t of thumbs) expect(t).toMatchObject({ layer: 'logits', total: LOGITS_UNITS })
    expect(h.events.at(-1)).toEqual({ channel: 'units:done', payload: { jobId: first.jobId, layer: 'logits', status: 'done', done: LOGITS_UNITS, total: LOGITS_UNITS } })
    expect(h.doneEvents()).toHaveLength(1)
    expect(h.optimized).toEqual(range(LOGITS_UNITS))
    expect(h.batches).toHaveLength(Math.ceil(LOGITS_UNITS / THUMB_BATCH))
  })

  it('optimizes with the thumbnail parameters and reports the best objective', () => {
    for (const t of h.thumbEvents()) {
      const r = h.results.get(t.thumb.channel)!
      expect(r.params).toMatchObject({ ...THUMB_PARAMS, max_iter: MAX_ITER, push_layer: 'logits', push_channel: t.thumb.channel })
      expect(t.thumb.obj).toBe(r.best!.obj)
      expect(t.thumb.obj).toBeGreaterThanOrEqual(Math.max(...r.series.obj))
    }
  })

  it('sends PNGs of the input size when the input is smaller than the thumbnail size', async () => {
    expect(loaded.inputSpec.width).toBeLessThan(THUMB_SIZE_PX)
    for (const t of h.thumbEvents()) {
      expect(await pngSize(t.thumb.image)).toEqual([loaded.inputSpec.width, loaded.inputSpec.height, 'png'])
    }
    // Different units give different images.
    expect(new Set(h.thumbEvents().map((t) => t.thumb.image)).size).toBe(LOGITS_UNITS)
  })

  it('caches <channel>.png and <channel>.json per unit under <modelKey>/<layer hash>', async () => {
    const dir = h.layerDir('logits')
    expect((await readdir(dir)).sort()).toEqual(range(LOGITS_UNITS).flatMap((c) => [`${c}.json`, `${c}.png`]).sort())
    for (const t of h.thumbEvents()) {
      const json = JSON.parse(await readFile(path.join(dir, `${t.thumb.channel}.json`), 'utf8')) as Record<string, unknown>
      expect(json).toMatchObject({
        format: THUMB_JSON_FORMAT, layer: 'logits', channel: t.thumb.channel, obj: t.thumb.obj, ii: h.results.get(t.thumb.channel)!.best!.ii,
        paramsHash: path.basename(dir),
      })
      expect(PNG_PREFIX + (await readFile(path.join(dir, `${t.thumb.channel}.png`))).toString('base64')).toBe(t.thumb.image)
    }
  })

  it('leaks no tensors', () => {
    expect(tf.memory().numTensors).toBe(tensorsBefore)
  })

  it('a second render emits every unit from the cache and runs no optimization', async () => {
    const again = harness({ cacheDir: h.cacheDir })
    const res = await again.service.render({ layer: 'logits' })
    expect(res).toMatchObject({ total: LOGITS_UNITS, cached: LOGITS_UNITS })
    expect(res.jobId).not.toBe(first.jobId)
    await again.service.whenIdle()
    expect(again.optimized).toEqual([])
    expect(again.thumbEvents().map((t) => [t.done, t.thumb])).toEqual(h.thumbEvents().map((t) => [t.done, t.thumb]))
    expect(again.doneEvents()).toEqual([{ jobId: res.jobId, layer: 'logits', status: 'done', done: LOGITS_UNITS, total: LOGITS_UNITS }])
  })

  it('thumbs(layer) lists exactly the cached units, by channel', async () => {
    expect(await h.service.thumbs('logits')).toEqual(h.thumbEvents().map((t) => t.thumb))
    expect(await h.service.thumbs('conv1')).toEqual([])
  })

  it('another model key is not cached', async () => {
    const other = harness({ cacheDir: h.cacheDir, modelKey: 'model-b' })
    expect(await other.service.thumbs('logits')).toEqual([])
    const res = await other.service.render({ layer: 'logits', channels: [4, 1] })
    expect(res).toMatchObject({ total: 2, cached: 0 })
    await other.service.whenIdle()
    expect(other.optimized).toEqual([4, 1])
    expect(other.thumbEvents().map((t) => t.thumb.channel)).toEqual([4, 1])
    expect((await readdir(other.layerDir('logits'))).sort()).toEqual(['1.json', '1.png', '4.json', '4.png'])
  })

  it('other thumbnail parameters are not cached', async () => {
    const other = harness({ cacheDir: h.cacheDir, params: { max_iter: MAX_ITER + 1 } })
    expect(await other.service.thumbs('logits')).toEqual([])
    expect(other.layerDir('logits')).not.toBe(h.layerDir('logits'))
  })
})

describe('thumb service: cache details', () => {
  it('shrinks images larger than the thumbnail size to fit it', async () => {
    const size = 32
    const h = harness({ sizePx: size })
    await h.service.render({ layer: 'conv1', channels: [3, 0] })
    await h.service.whenIdle()
    expect(h.thumbEvents().map((t) => t.thumb.channel)).toEqual([3, 0])
    for (const t of h.thumbEvents()) expect(await pngSize(t.thumb.image)).toEqual([size, size, 'png'])
  })

  it('a png without its json is not cached: it is not listed, and rendering recomputes the unit', async () => {
    const h = harness()
    await h.service.render({ layer: 'logits', channels: [0] })
    await h.service.whenIdle()
    await rm(path.join(h.layerDir('logits'), '0.json'))
    expect(await h.service.thumbs('logits')).toEqual([])
    const res = await h.service.render({ layer: 'logits', channels: [0] })
    expect(res.cached).toBe(0)
    await h.service.whenIdle()
    expect(h.optimized).toEqual([0, 0])
    expect((await h.service.thumbs('logits')).map((t) => t.channel)).toEqual([0])
  })

  it('a json of other parameters is not taken for this cache', async () => {
    const h = harness()
    await h.service.render({ layer: 'logits', channels: [0] })
    await h.service.whenIdle()
    const file = path.join(h.layerDir('logits'), '0.json')
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    await writeFile(file, JSON.stringify({ ...json, paramsHash: 'something-else' }))
    expect(await h.service.thumbs('logits')).toEqual([])
  })
})

describe('thumb service: cancel', () => {
  it('cancel during a chunk stops after the current iteration and caches nothing of that chunk', async () => {
    const cancelAt = THUMB_BATCH // the first unit of the second chunk
    const chunk = range(THUMB_BATCH).map((i) => cancelAt + i)
    let jobId = ''
    const h = harness({
      beforeOptimize: (channels, hh) => (channels[0] === cancelAt ? { onIteration: (ii) => { if (ii === 0) hh.service.cancel(jobId) } } : undefined),
    })
    jobId = (await h.service.render({ layer: 'logits' })).jobId
    await h.service.whenIdle()
    for (const c of chunk) {
      expect(h.results.get(c)!.interrupted).toBe(true)
      expect(h.results.get(c)!.series.ii).toEqual([0])
    }
    expect(h.optimized).toEqual(range(2 * THUMB_BATCH))
    expect(h.thumbEvents().map((t) => t.thumb.channel)).toEqual(range(cancelAt))
    expect(h.doneEvents()).toEqual([{ jobId, layer: 'logits', status: 'cancelled', done: cancelAt, total: LOGITS_UNITS }])
    const dir = h.layerDir('logits')
    for (const c of chunk) {
      expect(existsSync(path.join(dir, `${c}.json`))).toBe(false)
      expect(existsSync(path.join(dir, `${c}.png`))).toBe(false)
    }
    expect((await h.service.thumbs('logits')).map((t) => t.channel)).toEqual(range(cancelAt))
    // The job is over: the layer can be rendered again, resuming from the cache.
    const again = await h.service.render({ layer: 'logits', channels: range(cancelAt + 1) })
    expect(again.jobId).not.toBe(jobId)
    expect(again.cached).toBe(cancelAt)
    await h.service.whenIdle()
    expect(h.batches.at(-1)).toEqual([cancelAt])
    expect(h.doneEvents(again.jobId)[0].status).toBe('done')
  })

  it('cancel between chunks stops before the next chunk; the finished chunk is emitted whole', async () => {
    let jobId = ''
    const h = harness({
      onEvent: (e, hh) => { if (e.channel === 'units:thumb' && e.payload.done === 1) hh.service.cancel(jobId) },
    })
    const channels = range(THUMB_BATCH + 2).map((i) => i + 2)
    jobId = (await h.service.render({ layer: 'logits', channels })).jobId
    await h.service.whenIdle()
    expect(h.optimized).toEqual(channels.slice(0, THUMB_BATCH))
    expect(h.thumbEvents().map((t) => t.thumb.channel)).toEqual(channels.slice(0, THUMB_BATCH))
    expect(h.doneEvents()).toEqual([{ jobId, layer: 'logits', status: 'cancelled', done: THUMB_BATCH, total: channels.length }])
  })

  it('jobs for different layers queue; a queued job cancels at once; unknown ids are ignored', async () => {
    const h = harness()
    const a = await h.service.render({ layer: 'logits', channels: [0, 1] })
    const b = await h.service.render({ layer: 'conv1', channels: [0] })
    const c = await h.service.render({ layer: 'pool3', channels: [2] })
    h.service.cancel(b.jobId)
    h.service.cancel('no-such-job')
    expect(h.doneEvents(b.jobId)).toEqual([{ jobId: b.jobId, layer: 'conv1', status: 'cancelled', done: 0, total: 1 }])
    await h.service.whenIdle()
    expect(h.optimized).toEqual([0, 1, 2])
    expect(h.thumbEvents().map((t) => [t.layer, t.thumb.channel])).toEqual([['logits', 0], ['logits', 1], ['pool3', 2]])
    const order = h.events.map((e) => `${e.channel} ${'jobId' in e.payload ? e.payload.jobId : ''}`)
    expect(order.indexOf(`units:done ${a.jobId}`)).toBeLessThan(order.indexOf(`units:thumb ${c.jobId}`))
    expect(h.doneEvents().map((d) => [d.jobId, d.status])).toEqual([[b.jobId, 'cancelled'], [a.jobId, 'done'], [c.jobId, 'done']])
    expect(await h.service.thumbs('conv1')).toEqual([])
  })

  it('a second render of a layer with a job returns that job', async () => {
    const h = harness()
    const a = await h.service.render({ layer: 'logits', channels: [0, 1] })
    const b = await h.service.render({ layer: 'logits', channels: [2] })
    expect(b).toEqual(a)
    await h.service.whenIdle()
    expect(h.optimized).toEqual([0, 1])
    expect(h.doneEvents()).toHaveLength(1)
  })

  it('dispose cancels the running and queued jobs, and refuses new ones', async () => {
    const h = harness({
      onEvent: (e, hh) => { if (e.channel === 'units:thumb' && e.payload.done === 1) hh.service.dispose() },
    })
    const a = await h.service.render({ layer: 'logits' })
    const b = await h.service.render({ layer: 'conv1', channels: [0] })
    await h.service.whenIdle()
    expect(h.doneEvents().map((d) => [d.jobId, d.status, d.done])).toEqual([[b.jobId, 'cancelled', 0], [a.jobId, 'cancelled', THUMB_BATCH]])
    expect(h.optimized).toEqual(range(THUMB_BATCH))
    await expect(h.service.render({ layer: 'logits' })).rejects.toMatchObject({ code: 'INTERNAL' })
  })
})

describe('thumb service: bad requests and failures', () => {
  it('refuses an unknown layer or an out-of-range unit up front, with no job and nothing written', async () => {
    const h = harness()
    const badLayer = h.service.render({ layer: 'no-such-layer' })
    await expect(badLayer).rejects.toBeInstanceOf(DeepVisError)
    await expect(badLayer).rejects.toMatchObject({ code: 'BAD_LAYER', message: expect.stringContaining('no-such-layer') })
    await expect(h.service.render({ layer: 'logits', channels: [0, LOGITS_UNITS] }))
      .rejects.toMatchObject({ code: 'BAD_UNIT', message: expect.stringContaining(`0..${LOGITS_UNITS - 1}`) })
    await expect(h.service.render({ layer: 'logits', channels: [] })).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await expect(h.service.render({ layer: 'logits', channels: [-1] })).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await h.service.whenIdle()
    expect(h.events).toEqual([])
    expect(h.optimized).toEqual([])
    expect(existsSync(h.cacheDir)).toBe(false)
  })

  it('a unit that fails during the job fails it with a message naming the unit; earlier chunks stay cached', async () => {
    const failing = THUMB_BATCH + 1 // image 1 of the second chunk
    const h = harness({
      beforeOptimize: (channels) => {
        if (channels.includes(failing)) throw new DeepVisError('INTERNAL', `image ${channels.indexOf(failing)}: the objective became NaN at iteration 0`)
      },
    })
    const channels = range(THUMB_BATCH + 2)
    const { jobId } = await h.service.render({ layer: 'logits', channels })
    await h.service.whenIdle()
    const [done] = h.doneEvents()
    expect(done).toMatchObject({ jobId, status: 'failed', done: THUMB_BATCH, total: channels.length })
    expect(done.error).toContain(`unit ${failing} of layer 'logits'`)
    expect(done.error).toContain('NaN')
    expect(h.optimized).toEqual(channels)
    expect((await h.service.thumbs('logits')).map((t) => t.channel)).toEqual(range(THUMB_BATCH))
  })

  it('an optimizer error from the engine (a blur too large for the input) fails the job; the service goes on', async () => {
    const h = harness({ params: { blur_radius: 100 } })
    await h.service.render({ layer: 'logits', channels: [0, 1] })
    await h.service.whenIdle()
    const [done] = h.doneEvents()
    expect(done).toMatchObject({ status: 'failed', done: 0, total: 2 })
    expect(done.error).toMatch(/unit 0 .*blur_radius 100 is too large/)
    expect(await h.service.thumbs('logits')).toEqual([])
    const next = await h.service.render({ layer: 'logits', channels: [0] })
    await h.service.whenIdle()
    expect(h.doneEvents(next.jobId)[0].status).toBe('failed')
  })

  it('a job whose model was replaced fails at the next chunk, naming the reason', async () => {
    let key = 'model-a'
    const h = harness({ modelKey: () => key, onEvent: (e) => { if (e.channel === 'units:thumb') key = 'model-b' } })
    await h.service.render({ layer: 'logits', channels: range(THUMB_BATCH + 1) })
    await h.service.whenIdle()
    expect(h.optimized).toEqual(range(THUMB_BATCH))
    const [done] = h.doneEvents()
    expect(done).toMatchObject({ status: 'failed', done: THUMB_BATCH, total: THUMB_BATCH + 1 })
    expect(done.error).toContain('another model was loaded')
  })

  it('refuses bad thumbnail parameters at creation', () => {
    expect(() => harness({ params: { max_iter: 0 } })).toThrow(/max_iter/)
    expect(() => harness({ sizePx: 0 })).toThrow(/thumbnail size/)
  })
})

/** Relative tolerance between batched and single-unit runs (as in test/engine/optimize-batch.test.ts). */
const REL_TOL = 1e-3

describe('thumb service: batched rendering', () => {
  it('a layer of 10 units with 2 cached renders in ceil(uncached / THUMB_BATCH) optimizer calls, emitting in channel order', async () => {
    const h = harness()
    const cachedFirst = [1, 6]
    await h.service.render({ layer: 'logits', channels: cachedFirst })
    await h.service.whenIdle()
    expect(h.batches).toEqual([cachedFirst])
    const res = await h.service.render({ layer: 'logits' })
    expect(res.cached).toBe(cachedFirst.length)
    await h.service.whenIdle()
    const uncached = range(LOGITS_UNITS).filter((c) => !cachedFirst.includes(c))
    const calls = h.batches.slice(1)
    expect(calls).toHaveLength(Math.ceil(uncached.length / THUMB_BATCH))
    expect(calls.flat()).toEqual(uncached)
    for (const call of calls) expect(call.length).toBeLessThanOrEqual(THUMB_BATCH)
    const thumbs = h.thumbEvents(res.jobId)
    expect(thumbs.map((t) => t.thumb.channel)).toEqual(range(LOGITS_UNITS))
    expect(thumbs.map((t) => t.done)).toEqual(range(LOGITS_UNITS).map((i) => i + 1))
    // The cached units come from the cache, unchanged.
    for (const c of cachedFirst) expect(thumbs[c].thumb).toEqual(h.thumbEvents()[cachedFirst.indexOf(c)].thumb)
  })

  it('thumbnails equal those of single-unit rendering with the same parameters and seed', async () => {
    const h = harness()
    const channels = range(THUMB_BATCH + 1).map((i) => i + 3)
    await h.service.render({ layer: 'logits', channels })
    await h.service.whenIdle()
    expect(h.batches).toHaveLength(2)
    const thumbs = h.thumbEvents()
    for (const [i, c] of channels.entries()) {
      const batched = h.results.get(c)!
      const single = await optimizeImage(loaded.model, loaded.inputSpec, { ...batched.params })
      expect(batched.best!.ii, `unit ${c}: best ii`).toBe(single.best!.ii)
      expect(Math.abs(thumbs[i].thumb.obj - single.best!.obj), `unit ${c}: obj`).toBeLessThanOrEqual(REL_TOL * Math.max(1, Math.abs(single.best!.obj)))
      let worst = 0
      let scale = 1e-6
      for (let k = 0; k < single.best!.x.length; k++) {
        scale = Math.max(scale, Math.abs(single.best!.x[k]))
        worst = Math.max(worst, Math.abs(batched.best!.x[k] - single.best!.x[k]))
      }
      expect(worst / scale, `unit ${c}: best image`).toBeLessThanOrEqual(REL_TOL)
      // The thumbnail PNG itself: 8-bit pixels within one level of the single run's.
      const png = Buffer.from(thumbs[i].thumb.image.slice(PNG_PREFIX.length), 'base64')
      const mine = await sharp(png).raw().toBuffer()
      const ref = await sharp(Buffer.from(renderX(single.best!.x, loaded.inputSpec)), {
        raw: { width: loaded.inputSpec.width, height: loaded.inputSpec.height, channels: 3 },
      }).png().toBuffer()
      const refRaw = await sharp(ref).raw().toBuffer()
      expect(mine.length).toBe(refRaw.length)
      let px = 0
      for (let k = 0; k < mine.length; k++) px = Math.max(px, Math.abs(mine[k] - refRaw[k]))
      expect(px, `unit ${c}: thumbnail pixels`).toBeLessThanOrEqual(1)
    }
  })
})
