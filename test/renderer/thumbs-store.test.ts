// @vitest-environment happy-dom
/**
 * Thumbs store: render asks main for the layer and tracks the job per layer; units:thumb events add
 * thumbnails and advance only their own job; units:done ends it (failed → error under the layer);
 * events that beat the units:render answer are matched by layer and a job that already ended is not
 * revived; a refused request leaves an error and no job; cancel sends the job id; model:changed clears.
 */
import { describe, expect, it, vi } from 'vitest'
import { useThumbsStore } from '../../src/renderer/src/stores/thumbs'
import type { IpcResult, ThumbProgress, UnitThumb, VisApi } from '../../src/shared/ipc-contract'
import { fakeVisApi, installPinia } from './fake-vis-api'

type RenderAnswer = IpcResult<{ jobId: string; total: number; cached: number }>

const thumb = (channel: number): UnitThumb => ({ channel, image: `data:image/png;base64,T${channel}`, obj: channel })
const progress = (done: number, over: Partial<ThumbProgress> = {}): ThumbProgress => ({
  jobId: 'job-1', layer: 'conv1', done, total: 4, thumb: thumb(done - 1), ...over,
})
const ANSWER: RenderAnswer = { ok: true, value: { jobId: 'job-1', total: 4, cached: 1 } }

function setup(overrides: Partial<VisApi> = {}) {
  const fake = fakeVisApi({ 'units:render': vi.fn(async () => ANSWER), ...overrides })
  installPinia(fake.api)
  return { ...fake, store: useThumbsStore() }
}

/** A units:render whose answer the test releases. */
function deferredRender() {
  let release: (a: RenderAnswer) => void = () => undefined
  const fn = vi.fn(() => new Promise<RenderAnswer>((resolve) => { release = resolve }))
  return { fn, release: (a: RenderAnswer) => release(a) }
}

describe('useThumbsStore', () => {
  it('render tracks the job of the layer; its events advance it and add thumbnails; done ends it', async () => {
    const { api, emit, store } = setup()
    await store.render('conv1')
    expect(api['units:render']).toHaveBeenCalledWith({ layer: 'conv1' })
    expect(store.jobs).toMatchObject({ conv1: { jobId: 'job-1', done: 0, total: 4 } })
    emit('units:thumb', progress(1))
    emit('units:thumb', progress(2))
    expect(store.jobs.conv1).toMatchObject({ jobId: 'job-1', done: 2, total: 4 })
    expect(store.thumbOf('conv1', 1)).toEqual(thumb(1))
    expect(store.thumbOf('logits', 1)).toBeUndefined()
    emit('units:done', { jobId: 'job-1', layer: 'conv1', status: 'done', done: 4, total: 4 })
    expect(store.jobs).toEqual({})
    expect(store.errors).toEqual({})
  })

  it('a second render of a layer with a job does not ask main again', async () => {
    const { api, store } = setup()
    await store.render('conv1')
    await store.render('conv1')
    expect(api['units:render']).toHaveBeenCalledTimes(1)
  })

  it('keeps jobs of several layers apart; progress of another job of the layer is not taken for ours', async () => {
    const { emit, store } = setup()
    await store.render('conv1')
    emit('units:thumb', progress(1, { jobId: 'other', layer: 'conv1', done: 3, total: 9 }))
    expect(store.jobs.conv1).toMatchObject({ jobId: 'job-1', done: 0, total: 4 })
    expect(store.thumbOf('conv1', 0)).toEqual(thumb(0))
    emit('units:thumb', progress(1, { jobId: 'job-2', layer: 'logits', total: 3 }))
    expect(store.jobs.logits).toMatchObject({ jobId: 'job-2', done: 1, total: 3 })
    emit('units:done', { jobId: 'job-2', layer: 'logits', status: 'cancelled', done: 1, total: 3 })
    expect(Object.keys(store.jobs)).toEqual(['conv1'])
  })

  it('events before the units:render answer count, and a job that ended before it is not revived', async () => {
    const render = deferredRender()
    const { emit, store } = setup({ 'units:render': render.fn })
    const pending = store.render('conv1')
    expect(store.jobs.conv1).toMatchObject({ jobId: null, done: 0, total: 0 })
    emit('units:thumb', progress(1))
    expect(store.jobs.conv1).toMatchObject({ jobId: 'job-1', done: 1, total: 4 })
    emit('units:done', { jobId: 'job-1', layer: 'conv1', status: 'done', done: 4, total: 4 })
    render.release(ANSWER)
    await pending
    expect(store.jobs).toEqual({})
  })

  it('a refused request leaves its error under the layer and no job', async () => {
    const { store } = setup({
      'units:render': vi.fn(async (): Promise<RenderAnswer> => ({ ok: false, code: 'BAD_LAYER', message: "no layer 'x'" })),
    })
    await store.render('x')
    expect(store.jobs).toEqual({})
    expect(store.errors).toEqual({ x: { code: 'BAD_LAYER', message: "no layer 'x'" } })
    store.clearError('x')
    expect(store.errors).toEqual({})
  })

  it('a failed job leaves its message; a new render clears it', async () => {
    const { emit, store } = setup()
    await store.render('conv1')
    emit('units:done', { jobId: 'job-1', layer: 'conv1', status: 'failed', done: 1, total: 4, error: 'unit 1: NaN' })
    expect(store.errors.conv1).toEqual({ code: 'INTERNAL', message: 'unit 1: NaN' })
    await store.render('conv1')
    expect(store.errors.conv1).toBeUndefined()
  })

  it('cancel sends the job id of the layer; nothing to cancel without a job', async () => {
    const { api, store } = setup()
    await store.cancel('conv1')
    expect(api['units:cancel']).not.toHaveBeenCalled()
    await store.render('conv1')
    await store.cancel('conv1')
    expect(api['units:cancel']).toHaveBeenCalledWith('job-1')
  })

  it('load adds the cached thumbnails of a layer', async () => {
    const { api, store } = setup({ 'units:thumbs': vi.fn(async () => ({ ok: true as const, value: [thumb(0), thumb(3)] })) })
    await store.load('conv1')
    expect(api['units:thumbs']).toHaveBeenCalledWith('conv1')
    expect([0, 1, 2, 3].map((c) => store.thumbOf('conv1', c)?.image ?? null)).toEqual([thumb(0).image, null, null, thumb(3).image])
  })

  it('model:changed drops the thumbnails, jobs and errors of the old model and bumps the generation', async () => {
    const { emit, store } = setup()
    await store.render('conv1')
    emit('units:thumb', progress(1))
    emit('units:thumb', progress(1, { jobId: 'x', layer: 'logits', total: 2 }))
    emit('units:done', { jobId: 'x', layer: 'logits', status: 'failed', done: 1, total: 2, error: 'e' })
    expect(store.errors.logits).toBeDefined()
    const before = store.generation
    emit('model:changed', {} as never)
    expect(store.thumbs).toEqual({})
    expect(store.jobs).toEqual({})
    expect(store.errors).toEqual({})
    expect(store.generation).toBe(before + 1)
    // The old model's job ends as failed in main; that is not an error of the new model.
    emit('units:done', { jobId: 'job-1', layer: 'conv1', status: 'failed', done: 1, total: 4, error: 'another model was loaded' })
    expect(store.errors).toEqual({})
  })
})
