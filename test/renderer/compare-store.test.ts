// @vitest-environment happy-dom
/**
 * Compare store: the Table-1 shortcut gives the four presets' parameters; run() sends one run:start per
 * column with the same unit, seed and start (one x0) and one compare group; events reach the column of
 * their runId; differingKeys names exactly the parameters that differ; fewer than 2 or more than 6
 * columns cannot run; stop() stops every active run; a failing run:start marks only its column.
 */
import { describe, expect, it, vi } from 'vitest'
import { DEFAULT_PARAMS, PRESETS as TABLE1, type FindParams } from '../../src/shared/dvt-params'
import { RUN_ID_PATTERN } from '../../src/shared/ipc-schemas'
import type { PresetInfo, RunProgress, RunSpec } from '../../src/shared/run-types'
import type { IpcResult, VisApi } from '../../src/shared/ipc-contract'
import { MAX_COMPARE_COLUMNS, newCompareGroupId, TABLE1_PRESETS, useCompareStore } from '../../src/renderer/src/stores/compare'
import { useModelStore } from '../../src/renderer/src/stores/model'
import { useParamsStore } from '../../src/renderer/src/stores/params'
import { useUnitsStore } from '../../src/renderer/src/stores/units'
import { detail, fakeVisApi, installPinia, summary } from './fake-vis-api'

/** The four Table-1 presets as main serves them (presets:list). */
const ALL_PRESETS: PresetInfo[] = Object.entries(TABLE1).map(([name, p]) => ({ name, description: p.description, params: p.params }))

const prog = (runId: string, ii: number, over: Partial<RunProgress> = {}): RunProgress => ({
  runId, ii, maxIter: 10, obj: ii + 1, lr: 100, norm: 10, std: 2, wallMs: ii, ...over,
})

/** A fake api whose run:start answers r1, r2, … in call order (or what `startAnswer` says). */
async function setup(overrides: Partial<VisApi> = {}) {
  let n = 0
  const fake = fakeVisApi({
    'presets:list': async () => ({ ok: true, value: ALL_PRESETS }),
    'run:start': vi.fn(async () => ({ ok: true as const, value: { runId: `r${++n}` } })),
    ...overrides,
  })
  installPinia(fake.api)
  const params = useParamsStore()
  await params.loadPresets()
  await useModelStore().load()
  const units = useUnitsStore()
  units.selectLayer('conv1')
  units.selectUnit(7)
  return { ...fake, params, units, compare: useCompareStore() }
}

const sentSpecs = (api: VisApi): RunSpec[] => vi.mocked(api['run:start']).mock.calls.map((c) => c[0])

describe('useCompareStore', () => {
  it('the Table-1 shortcut makes 4 columns with exactly those presets\' parameters', async () => {
    const { compare } = await setup()
    compare.addFromCurrent()
    expect(compare.addTable1Presets()).toBe(true)
    expect(compare.columns.map((c) => c.preset)).toEqual([...TABLE1_PRESETS])
    expect(compare.labels).toEqual([...TABLE1_PRESETS])
    compare.columns.forEach((c, i) => {
      const preset = TABLE1[TABLE1_PRESETS[i]].params
      for (const [k, v] of Object.entries(preset)) expect(c.params[k as keyof typeof c.params]).toEqual(v)
      // Everything the preset leaves out is DVT's default.
      expect(c.params.small_val_percentile).toBe(DEFAULT_PARAMS.small_val_percentile)
    })
  })

  it('run() sends one run:start per column, in order, all with the same unit, seed, start and group', async () => {
    const { api, params, compare } = await setup()
    params.setSpatial([2, 3], [8, 6])
    compare.setSeed(42)
    compare.setStartAt('randu')
    compare.addTable1Presets()
    await compare.run()
    const specs = sentSpecs(api)
    expect(specs).toHaveLength(4)
    expect(specs.map((s) => s.params.decay)).toEqual(TABLE1_PRESETS.map((n) => TABLE1[n].params.decay))
    for (const s of specs) {
      expect(s.params).toMatchObject({ rand_seed: 42, start_at: 'randu', push_layer: 'conv1', push_channel: 7, push_spatial: [2, 3] })
      expect(s.compareGroup).toBe(specs[0].compareGroup)
    }
    expect(specs[0].compareGroup).toMatch(RUN_ID_PATTERN)
    expect(specs.map((s) => s.preset)).toEqual([...TABLE1_PRESETS])
    expect(compare.columns.map((c) => c.run.runId)).toEqual(['r1', 'r2', 'r3', 'r4'])
    expect(compare.columns.map((c) => c.run.status)).toEqual(['queued', 'queued', 'queued', 'queued'])
  })

  it('a column with its own seed still runs from the shared seed (same x0 everywhere)', async () => {
    const { api, params, compare } = await setup()
    params.applyPreset('yosinski-3')
    params.setNumber('rand_seed', 99)
    compare.addFromCurrent()
    compare.addPreset('yosinski-1')
    compare.setSeed(5)
    await compare.run()
    expect(sentSpecs(api).map((s) => s.params.rand_seed)).toEqual([5, 5])
    expect(compare.differingKeys).not.toContain('rand_seed')
  })

  it('routes progress and done events to the column of their runId, then loads the stored images', async () => {
    const { api, emit, compare } = await setup()
    compare.addPreset('yosinski-1')
    compare.addPreset('yosinski-2')
    await compare.run()
    emit('run:progress', prog('r2', 0, { obj: 7, preview: 'data:image/png;base64,R2' }))
    emit('run:progress', prog('r1', 0, { obj: 3 }))
    emit('run:progress', prog('r1', 1, { obj: 4 }))
    emit('run:progress', prog('elsewhere', 0, { obj: 99 }))
    const [c1, c2] = compare.columns
    expect(c1.run.trace.obj).toEqual([3, 4])
    expect(c2.run.trace.obj).toEqual([7])
    expect(c2.run.preview).toBe('data:image/png;base64,R2')
    expect(c1.run.preview).toBeNull()
    expect([c1.run.status, c2.run.status]).toEqual(['running', 'running'])

    emit('run:done', summary({ runId: 'r2', status: 'done', majority: null, best: { ii: 4, obj: 9 } }))
    expect(c2.run.status).toBe('done')
    expect(c2.run.summary?.best).toEqual({ ii: 4, obj: 9 })
    expect(c2.run.summary?.majority).toBeNull()
    expect(c1.run.status).toBe('running')
    await vi.waitFor(() => expect(compare.columns[1].run.images?.best?.xpm).toBeDefined())
    expect(api['runs:get']).toHaveBeenCalledWith('r2')
    expect(compare.columns[0].run.images).toBeNull()
  })

  it('replays events that arrive before run:start has answered', async () => {
    let answer: (id: string) => void = () => undefined
    const { emit, compare } = await setup({
      'run:start': () => new Promise((resolve) => { answer = (runId) => resolve({ ok: true, value: { runId } }) }),
    })
    compare.addPreset('yosinski-1')
    compare.addPreset('yosinski-2')
    const running = compare.run()
    emit('run:progress', prog('a', 0, { obj: 1 }))
    answer('a')
    await vi.waitFor(() => expect(compare.columns[0].run.runId).toBe('a'))
    answer('b')
    await running
    expect(compare.columns[0].run.trace.obj).toEqual([1])
    expect(compare.columns[1].run.trace.obj).toEqual([])
  })

  it('differingKeys lists exactly the parameters that differ (deep compare, lr_params included)', async () => {
    const { compare } = await setup()
    compare.addPreset('yosinski-3')
    compare.addPreset('yosinski-3')
    expect(compare.differingKeys).toEqual([])
    compare.editNumber(1, 'decay', 0.1)
    expect(compare.differingKeys).toEqual(['decay'])
    expect(compare.labels).toEqual(['yosinski-3', 'yosinski-3 · decay 0.1'])
    compare.editLrParam(0, 'lr', 50)
    expect(compare.differingKeys).toEqual(['decay', 'lr_params'])
    compare.editLrParam(0, 'lr', 100)
    compare.editNumber(1, 'decay', TABLE1['yosinski-3'].params.decay as number)
    expect(compare.differingKeys).toEqual([])
    expect(compare.labels[1]).toBe('yosinski-3')
  })

  it('differingKeys over the Table-1 presets names the parameters the paper varies, not the shared ones', async () => {
    const { compare } = await setup()
    compare.addTable1Presets()
    const keys = new Set<keyof FindParams>()
    for (const n of TABLE1_PRESETS) for (const k of Object.keys(TABLE1[n].params)) keys.add(k as keyof FindParams)
    const varying = [...keys].filter((k) => new Set(TABLE1_PRESETS.map((n) => JSON.stringify(TABLE1[n].params[k] ?? DEFAULT_PARAMS[k as keyof typeof DEFAULT_PARAMS]))).size > 1)
    expect([...compare.differingKeys].sort()).toEqual(varying.sort())
  })

  it('cannot run with 1 or with 7 columns, and adding a 7th is refused', async () => {
    const { api, compare } = await setup()
    compare.addPreset('yosinski-1')
    expect(compare.runBlockedReason).toMatch(/at least 2/)
    await compare.run()
    expect(api['run:start']).not.toHaveBeenCalled()

    for (let i = 1; i < MAX_COMPARE_COLUMNS; i++) expect(compare.addPreset('yosinski-2')).toBe(true)
    expect(compare.runBlockedReason).toBeNull()
    expect(compare.addPreset('yosinski-2')).toBe(false)
    expect(compare.columns).toHaveLength(MAX_COMPARE_COLUMNS)
    expect(compare.error?.message).toMatch(/At most 6/)

    compare.columns = [...compare.columns, { ...compare.columns[0], key: 999 }]
    expect(compare.runBlockedReason).toMatch(/At most 6/)
    await compare.run()
    expect(api['run:start']).not.toHaveBeenCalled()
  })

  it('cannot run without a unit', async () => {
    const { api, units, compare } = await setup()
    units.selectLayer(null)
    compare.addTable1Presets()
    expect(compare.runBlockedReason).toMatch(/layer/)
    await compare.run()
    expect(api['run:start']).not.toHaveBeenCalled()
  })

  it('stop() calls run:stop for each queued or running run, not for finished ones', async () => {
    const { api, emit, compare } = await setup()
    compare.addTable1Presets()
    await compare.run()
    emit('run:progress', prog('r1', 0))
    emit('run:done', summary({ runId: 'r2', status: 'done' }))
    await compare.stop()
    const stopped = vi.mocked(api['run:stop']).mock.calls.map((c) => c[0])
    expect(stopped.sort()).toEqual(['r1', 'r3', 'r4'])
  })

  it('stop() while run:start requests are on their way stops the started runs and starts no more', async () => {
    const answers: ((id: string) => void)[] = []
    const { api, compare } = await setup({
      'run:start': vi.fn(() => new Promise<IpcResult<{ runId: string }>>((resolve) => { answers.push((runId) => resolve({ ok: true, value: { runId } })) })),
    })
    compare.addTable1Presets()
    const running = compare.run()
    answers[0]('a')
    await vi.waitFor(() => expect(answers).toHaveLength(2))
    const stopping = compare.stop()
    answers[1]('b')
    await Promise.all([running, stopping])
    expect(api['run:start']).toHaveBeenCalledTimes(2)
    expect(vi.mocked(api['run:stop']).mock.calls.map((c) => c[0]).sort()).toEqual(['a', 'b'])
    expect(compare.columns.map((c) => c.run.status)).toEqual(['queued', 'queued', 'idle', 'idle'])
  })

  it('a failing run:start marks only its column; the others run', async () => {
    let n = 0
    const { compare } = await setup({
      'run:start': vi.fn(async () => (++n === 2
        ? { ok: false as const, code: 'BAD_PARAM' as const, message: 'push_channel 7 is out of range' }
        : { ok: true as const, value: { runId: `r${n}` } })),
    })
    compare.addTable1Presets()
    await compare.run()
    expect(compare.columns.map((c) => c.run.status)).toEqual(['queued', 'idle', 'queued', 'queued'])
    expect(compare.columns.map((c) => c.run.error?.message ?? null)).toEqual([null, 'push_channel 7 is out of range', null, null])
    expect(compare.columns.map((c) => c.run.runId)).toEqual(['r1', null, 'r3', 'r4'])
  })

  it('a run that fails in the engine shows its error in its column only', async () => {
    const { api, emit, compare } = await setup()
    compare.addPreset('yosinski-1')
    compare.addPreset('yosinski-2')
    await compare.run()
    emit('run:done', summary({ runId: 'r1', status: 'failed', error: 'out of memory' }))
    expect(compare.columns[0].run.error?.message).toBe('out of memory')
    expect(compare.columns[1].run.error).toBeNull()
    expect(api['runs:get']).not.toHaveBeenCalled()
  })

  it('an unknown preset is refused with a message naming the known ones', async () => {
    const { compare } = await setup()
    expect(compare.addPreset('yosinski-9')).toBe(false)
    expect(compare.columns).toHaveLength(0)
    expect(compare.error?.message).toMatch(/yosinski-9.*yosinski-1/)
  })

  it('builds compare-group ids that the IPC schema accepts', () => {
    const a = newCompareGroupId(new Date('2026-11-23T15:17:35Z'))
    expect(a).toMatch(RUN_ID_PATTERN)
    expect(a).toContain('20261123-151735')
    expect(newCompareGroupId()).not.toBe(newCompareGroupId())
  })

  it('uses the stored series once a run ended', async () => {
    const series = { obj: [1, 2, 3], norm: [4, 5, 6], std: [1, 1, 1], lr: [9, 9, 9], wall_ms: [0, 1, 2] }
    const { emit, compare } = await setup({ 'runs:get': async (runId: string) => ({ ok: true, value: detail({ runId, series }) }) })
    compare.addPreset('yosinski-1')
    compare.addPreset('yosinski-2')
    await compare.run()
    emit('run:progress', prog('r1', 0))
    emit('run:done', summary({ runId: 'r1' }))
    await vi.waitFor(() => expect(compare.columns[0].run.trace.obj).toEqual([1, 2, 3]))
    expect(compare.columns[0].run.trace.ii).toEqual([0, 1, 2])
  })
})
