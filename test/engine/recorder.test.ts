import { describe, expect, it } from 'vitest'
import { Recorder, type StepRecord } from '../../src/engine/recorder.ts'

/** A recorder over string snapshots that counts live references, so ownership can be checked. */
function makeRecorder(pushDir: number) {
  const live = new Map<string, number>()
  const rec = new Recorder<string>({
    pushDir,
    retain: (x) => { live.set(x, (live.get(x) ?? 0) + 1); return x },
    release: (x) => { const n = (live.get(x) ?? 0) - 1; if (n === 0) live.delete(x); else live.set(x, n) },
  })
  return { rec, live }
}

function step(ii: number, obj: number, ismax = false): StepRecord {
  return { ii, obj, idxmax: ismax ? [7, 0, 0] : [1, 0, 0], ismax, norm: ii, dist: ii, std: ii, lr: NaN, wall_ms: 1 }
}

function feed(rec: Recorder<string>, objs: number[], maxAt: number[] = []): void {
  objs.forEach((o, ii) => rec.record(step(ii, o, maxAt.includes(ii)), `x${ii}`))
}

describe('Recorder (DVT FindResults)', () => {
  it('best uses strict >, so the first of equal maxima is kept', () => {
    const { rec } = makeRecorder(1)
    feed(rec, [1, 5, 3, 5, 4])
    expect(rec.best).toMatchObject({ ii: 1, obj: 5, x: 'x1' })
  })
  it('iteration 0 is always the first best, even with a negative objective', () => {
    const { rec } = makeRecorder(1)
    feed(rec, [-3])
    expect(rec.best).toMatchObject({ ii: 0, obj: -3 })
  })
  it('last is overwritten every iteration', () => {
    const { rec } = makeRecorder(1)
    feed(rec, [1, 5, 3])
    expect(rec.last).toMatchObject({ ii: 2, obj: 3, x: 'x2' })
  })
  it('majority is the FIRST iteration at which the unit is the layer extreme, never overwritten', () => {
    const { rec } = makeRecorder(1)
    feed(rec, [1, 2, 3, 4, 5], [2, 3, 4])
    expect(rec.majority).toMatchObject({ ii: 2, obj: 3, x: 'x2' })
    expect(rec.finish()).toBe('Metaresult: majority success')
  })
  it('meta_result is majority failure when the unit never became the extreme', () => {
    const { rec } = makeRecorder(1)
    feed(rec, [1, 2, 3])
    expect(rec.majority).toBeNull()
    expect(rec.finish()).toBe('Metaresult: majority failure')
  })
  it('grad 0 failure is kept by finish()', () => {
    const { rec } = makeRecorder(1)
    feed(rec, [1], [0])
    rec.gradZero()
    expect(rec.finish()).toBe('Metaresult: grad 0 failure')
  })
  it('minimization: best is the lowest objective, first of ties', () => {
    const { rec } = makeRecorder(-1)
    feed(rec, [3, -2, 0, -2, 1])
    expect(rec.best).toMatchObject({ ii: 1, obj: -2 })
  })
  it('appends every per-iteration series', () => {
    const { rec } = makeRecorder(1)
    feed(rec, [1, 2, 3], [1])
    expect(rec.series.ii).toEqual([0, 1, 2])
    expect(rec.series.obj).toEqual([1, 2, 3])
    expect(rec.series.ismax).toEqual([false, true, false])
    expect(rec.series.idxmax[1]).toEqual([7, 0, 0])
    rec.setLastLr(100)
    expect(rec.series.lr[2]).toBe(100)
  })
  it('holds exactly one reference per occupied slot and releases all on dispose', () => {
    const { rec, live } = makeRecorder(1)
    feed(rec, [1, 9, 3, 4], [2])
    // best=x1, majority=x2, last=x3
    expect([...live.keys()].sort()).toEqual(['x1', 'x2', 'x3'])
    rec.dispose()
    expect(live.size).toBe(0)
  })
})
