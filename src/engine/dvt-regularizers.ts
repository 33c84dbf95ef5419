/**
 * DVT's regularizers as composable parts, one entry per row of DVT_PARAM_TABLE that regularizes, applied by
 * DVT's loops (optimize.ts, optimize-batch.ts) in the order listed. Two phases:
 * - 'step': x <- R(x) after x += lr g (DVT's order: decay -> blur -> small_val -> small_norm -> px_benefit ->
 *   px_abs_benefit); may read the gradient g.
 * - 'view': the gradient is taken at a view V(x) of the cropped image and mapped back (g <- V^-1(g_view)); each
 *   iteration's view is drawn from the run's view generator (MT19937 seeded with rand_seed XOR VIEW_STREAM, a
 *   stream apart from x0's) and recorded as series of the names `draw` returns. Without an active view the
 *   gradient is the plain one (no draw is made).
 * Adding a regularizer: a row in DVT_PARAM_TABLE (shared/dvt-params.ts) and an entry here.
 * Shape: `dvtStep(xc, g, lr, params, ii) => new x`; `new ViewChain(params)`: draw(), view(x), unview(g), record(series).
 */
import * as tf from '@tensorflow/tfjs'
import type { FindParams } from './params.ts'
import { Rng } from './rng.ts'
import { drawJitter, rollImage, unrollImage } from './methods/cnnpref.ts'
import { blursAt, clipPxAbsBenefit, clipPxBenefit, clipSmallNorm, clipSmallVal, decay, gaussianBlur } from './regularizers.ts'

/** Mixed into rand_seed for the view generator, so that its draws are not x0's. */
export const VIEW_STREAM = 0x6a09e667

export interface StepRegularizer {
  key: string
  phase: 'step'
  active(p: FindParams, ii: number): boolean
  /** The regularized image (a new tensor; x and g stay the caller's). */
  apply(x: tf.Tensor4D, g: tf.Tensor4D, p: FindParams, ii: number): tf.Tensor4D | Promise<tf.Tensor4D>
}

export interface ViewRegularizer<D extends Record<string, number> = Record<string, number>> {
  key: string
  phase: 'view'
  active(p: FindParams): boolean
  /** This iteration's seeded draw; its fields are recorded as series of the same names. */
  draw(p: FindParams, rng: Rng): D
  /** The view of x ([1, H, W, C]) the gradient is taken at, and the gradient mapped back to x. Called in tf.tidy. */
  view(x: tf.Tensor4D, d: D): tf.Tensor4D
  unview(g: tf.Tensor4D, d: D): tf.Tensor4D
}

export type DvtRegularizer = StepRegularizer | ViewRegularizer

const percentileClip = (key: 'small_val_percentile' | 'small_norm_percentile' | 'px_benefit_percentile' | 'px_abs_benefit_percentile',
  clip: (x: tf.Tensor4D, g: tf.Tensor4D, pct: number) => Promise<tf.Tensor4D>): StepRegularizer => ({
  key, phase: 'step', active: (p) => p[key] > 0, apply: (x, g, p) => clip(x, g, p[key]),
})

/** The regularizers, in the order DVT applies them. */
export const DVT_REGULARIZERS: readonly DvtRegularizer[] = [
  { key: 'decay', phase: 'step', active: (p) => p.decay !== 0, apply: (x, _g, p) => tf.tidy(() => decay(x, p.decay)) },
  { key: 'blur_radius', phase: 'step', active: (p, ii) => blursAt(ii, p.blur_every, p.blur_radius), apply: (x, _g, p) => gaussianBlur(x, p.blur_radius) },
  percentileClip('small_val_percentile', (x, _g, pct) => clipSmallVal(x, pct)),
  percentileClip('small_norm_percentile', (x, _g, pct) => clipSmallNorm(x, pct)),
  percentileClip('px_benefit_percentile', clipPxBenefit),
  percentileClip('px_abs_benefit_percentile', clipPxAbsBenefit),
  {
    // Jitter: the gradient at x rolled by (dy, dx) ~ U{-J..J}^2 (circularly), rolled back onto x.
    key: 'jitter_px', phase: 'view', active: (p) => (p.jitter_px ?? 0) > 0,
    draw: (p, rng) => { const { ox, oy } = drawJitter(rng, p.jitter_px ?? 0); return { jitter_dy: oy, jitter_dx: ox } },
    view: (x, d) => rollImage(x, { oy: d.jitter_dy, ox: d.jitter_dx }),
    unview: (g, d) => unrollImage(g, { oy: d.jitter_dy, ox: d.jitter_dx }),
  },
]

/**
 * DVT's update of one image after its gradient: x += lr g, then every active step regularizer in order.
 * Returns the new x (owned by the caller); xc and g stay owned by the caller.
 */
export async function dvtStep(xc: tf.Tensor4D, g: tf.Tensor4D, lr: number, params: FindParams, ii: number): Promise<tf.Tensor4D> {
  let next = tf.tidy(() => tf.add(xc, tf.mul(g, lr)) as tf.Tensor4D)
  for (const r of DVT_REGULARIZERS) {
    if (r.phase !== 'step' || !r.active(params, ii)) continue
    const out = await r.apply(next, g, params, ii)
    if (out !== next) { next.dispose(); next = out }
  }
  return next
}

/** The active view regularizers of one image's run, with their generator and the draws of the current iteration. */
export class ViewChain {
  private readonly views: ViewRegularizer[]
  private readonly rng: Rng | null
  private draws: Record<string, number>[] = []

  constructor(private readonly params: FindParams) {
    this.views = DVT_REGULARIZERS.filter((r): r is ViewRegularizer => r.phase === 'view' && r.active(params))
    this.rng = this.views.length > 0 ? new Rng((params.rand_seed ^ VIEW_STREAM) >>> 0) : null
  }

  /** Draw this iteration's views (before view / unview). */
  draw(): void {
    this.draws = this.views.map((v) => v.draw(this.params, this.rng!))
  }

  /** The image the gradient is taken at (x itself without views). */
  view(x: tf.Tensor4D): tf.Tensor4D {
    return this.views.reduce((t, v, k) => v.view(t, this.draws[k]), x)
  }

  /** The gradient mapped back to x (g itself without views). */
  unview(g: tf.Tensor4D): tf.Tensor4D {
    return this.views.reduceRight((t, v, k) => v.unview(t, this.draws[k]), g)
  }

  /** Append this iteration's draws to the result's series. */
  record(series: Record<string, unknown>): void {
    for (const d of this.draws) for (const [name, value] of Object.entries(d)) ((series[name] ??= []) as number[]).push(value)
  }
}
