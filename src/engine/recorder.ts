/**
 * FindResults: what DVT's `FindResults.update` records (GO L98-126), generalized to minimization.
 * Recording happens BEFORE the step; `best` uses a strict comparison (ties keep the earliest iterate);
 * `majority` is the FIRST iteration at which the unit is the extreme of its whole layer;
 * `last` is overwritten every iteration. Snapshots are opaque values of type T: the recorder takes its
 * own reference with `retain` and gives it back with `release` (tf.clone / dispose for tensors).
 * Shape: new Recorder({pushDir, retain, release}); record(step, x); finish(); dispose()
 */

export type MetaResult = 'Metaresult: grad 0 failure' | 'Metaresult: majority success' | 'Metaresult: majority failure'

export interface StepRecord {
  ii: number
  /** Raw activation of the target unit. */
  obj: number
  /** Index (c, y, x) of the layer's extreme in the push direction (argmax; argmin when minimizing). */
  idxmax: [number, number, number]
  /** Whether idxmax is the target unit. */
  ismax: boolean
  /** ||x||_2 over all entries of the cropped x. */
  norm: number
  /** ||x - x0||_2, x0 unclipped. */
  dist: number
  /** Population standard deviation of x. */
  std: number
  /** Learning rate used for the step after this record (NaN if not stepped). */
  lr: number
  /** Wall time of this iteration in ms. */
  wall_ms: number
}

export interface Snapshot<T> {
  ii: number
  obj: number
  x: T
}

export interface RecorderOptions<T> {
  /** > 0 maximizes (best = highest obj), < 0 minimizes (best = lowest obj). */
  pushDir: number
  retain: (x: T) => T
  release: (x: T) => void
}

export class Recorder<T> {
  readonly series: {
    ii: number[]; obj: number[]; idxmax: [number, number, number][]; ismax: boolean[]
    norm: number[]; dist: number[]; std: number[]; lr: number[]; wall_ms: number[]
  } = { ii: [], obj: [], idxmax: [], ismax: [], norm: [], dist: [], std: [], lr: [], wall_ms: [] }

  best: Snapshot<T> | null = null
  last: Snapshot<T> | null = null
  majority: Snapshot<T> | null = null
  metaResult: MetaResult | null = null
  private readonly opts: RecorderOptions<T>

  constructor(opts: RecorderOptions<T>) {
    if (!(opts.pushDir !== 0 && Number.isFinite(opts.pushDir))) throw new RangeError('pushDir must be non-zero')
    this.opts = opts
  }

  /** Record one iteration (before its step). `x` stays owned by the caller. */
  record(step: StepRecord, x: T): void {
    const s = this.series
    s.ii.push(step.ii); s.obj.push(step.obj); s.idxmax.push(step.idxmax); s.ismax.push(step.ismax)
    s.norm.push(step.norm); s.dist.push(step.dist); s.std.push(step.std); s.lr.push(step.lr); s.wall_ms.push(step.wall_ms)

    if (step.ismax && this.majority === null) this.majority = this.snap(step, x)
    if (this.best === null || this.better(step.obj, this.best.obj)) {
      this.replace('best', step, x)
    }
    this.replace('last', step, x)
  }

  /** Set the learning rate of the latest record once it is known (it depends on the gradient). */
  setLastLr(lr: number): void {
    this.series.lr[this.series.lr.length - 1] = lr
  }

  /** Mark the early stop DVT performs when the gradient is exactly zero. */
  gradZero(): void {
    this.metaResult = 'Metaresult: grad 0 failure'
  }

  /** After the loop: set meta_result as DVT (GO L348-352) unless already set. */
  finish(): MetaResult {
    if (this.metaResult === null) {
      this.metaResult = this.majority !== null ? 'Metaresult: majority success' : 'Metaresult: majority failure'
    }
    return this.metaResult
  }

  /** Release every snapshot. */
  dispose(): void {
    for (const slot of ['best', 'last', 'majority'] as const) {
      const snap = this[slot]
      if (snap) this.opts.release(snap.x)
      this[slot] = null
    }
  }

  private better(obj: number, current: number): boolean {
    return this.opts.pushDir > 0 ? obj > current : obj < current
  }

  private snap(step: StepRecord, x: T): Snapshot<T> {
    return { ii: step.ii, obj: step.obj, x: this.opts.retain(x) }
  }

  private replace(slot: 'best' | 'last', step: StepRecord, x: T): void {
    const old = this[slot]
    this[slot] = this.snap(step, x)
    if (old) this.opts.release(old.x)
  }
}
