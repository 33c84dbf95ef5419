// @vitest-environment happy-dom
/**
 * Run store: start asks main, progress for the current run grows the trace (a new array each time),
 * events of other runs are ignored, done sets the status and records the run, stop calls run:stop.
 */
import { describe, expect, it, vi } from 'vitest'
import type { RunProgress, RunSpec } from '../../src/shared/run-types'
import { unitKey, useHistoryStore } from '../../src/renderer/src/stores/history'
import { useRunStore } from '../../src/renderer/src/stores/run'
import { fakeVisApi, installPinia, summary } from './fake-vis-api'

const SPEC = { params: { push_layer: 'logits', push_channel: 1 } } as RunSpec
const prog = (ii: number, over: Partial<RunProgress> = {}): RunProgress => ({
  runId: 'r1', ii, maxIter: 10, obj: ii * 0.5, lr: 100, norm: 10 + ii, std: 2, wallMs: ii, ...over,
})

function setup(overrides = {}) {
  const fake = fakeVisApi(overrides)
  installPinia(fake.api)
  return { ...fake, run: useRunStore() }
}

describe('useRunStore', () => {
  it('starts a run and grows the trace from its progress events', async () => {
    const { api, emit, run } = setup()
    await run.start(SPEC)
    expect(api['run:start']).toHaveBeenCalledWith(SPEC)
    expect(run.status).toBe('running')
    expect(run.runId).toBe('r1')
    emit('run:progress', prog(0, { preview: 'data:image/png;base64,P0' }))
    const first = run.trace
    emit('run:progress', prog(1))
    expect(run.trace).not.toBe(first)
    expect(run.trace.ii).toEqual([0, 1])
    expect(run.trace.obj).toEqual([0, 0.5])
    expect(run.trace.norm).toEqual([10, 11])
    expect(run.preview).toBe('data:image/png;base64,P0')
    expect(run.previewIi).toBe(0)
    expect(run.progress?.ii).toBe(1)
  })

  it('ignores progress and done events of another run', async () => {
    const { emit, run } = setup()
    await run.start(SPEC)
    emit('run:progress', prog(0, { runId: 'old' }))
    emit('run:done', summary({ runId: 'old', status: 'stopped' }))
    expect(run.trace.ii).toEqual([])
    expect(run.status).toBe('running')
  })

  it('replays events that arrive before run:start answers', async () => {
    let answer: () => void = () => undefined
    const fake = fakeVisApi({
      'run:start': () => new Promise((resolve) => { answer = () => resolve({ ok: true, value: { runId: 'r1' } }) }),
    })
    installPinia(fake.api)
    const run = useRunStore()
    const started = run.start(SPEC)
    expect(run.status).toBe('starting')
    fake.emit('run:progress', prog(0))
    fake.emit('run:progress', prog(0, { runId: 'other' }))
    answer()
    await started
    expect(run.trace.ii).toEqual([0])
  })

  it('done sets the status and records the run in the history', async () => {
    const { api, emit, run } = setup()
    await run.start(SPEC)
    emit('run:progress', prog(0, { preview: 'data:image/png;base64,P0' }))
    emit('run:done', summary({ status: 'done' }))
    expect(run.status).toBe('done')
    expect(run.summary?.runId).toBe('r1')
    const history = useHistoryStore()
    expect(history.runs.map((r) => r.runId)).toEqual(['r1'])
    await vi.waitFor(() => expect(history.current?.runId).toBe('r1'))
    expect(api['runs:get']).toHaveBeenCalledWith('r1')
    expect(history.thumbnails[unitKey('m', 'logits', 1)]).toBeDefined()
  })

  it('stop calls run:stop with the current runId', async () => {
    const { api, run } = setup()
    await run.stop()
    expect(api['run:stop']).not.toHaveBeenCalled()
    await run.start(SPEC)
    await run.stop()
    expect(api['run:stop']).toHaveBeenCalledWith('r1')
  })

  it('keeps a run:start failure as an error, never throws', async () => {
    const { run } = setup({ 'run:start': async () => ({ ok: false, code: 'BAD_PARAM', message: 'decay must be in [0, 1]' }) })
    await run.start(SPEC)
    expect(run.status).toBe('idle')
    expect(run.error).toEqual({ code: 'BAD_PARAM', message: 'decay must be in [0, 1]' })
  })
})
