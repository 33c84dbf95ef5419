/**
 * cnnpref-gd (KamitaniLab/cnnpref prefer_img_gd; with a generator, prefer_img_dgn_gd).
 * Pixels (see cnnpref.ts for the order), on the [0, 1] image variable in centred pixel units c = 255 (x - 0.5):
 * roll c and δ by a seeded jitter; g = d obj / dc, g / mean|g|; δ <- m_t δ + g; c <- c + lr_t δ (ascent);
 * clip_small_norm / clip_small_contribution (norm of c*g) at (t+1) mod clip_every == 0; un-roll c and δ (the whole
 * buffer: cnnpref keeps g rolled); c <- (1 - decay_t) c; blur with sigma_t; x = c / 255 + 0.5 clipped to [0, 1].
 * Code (prefer_img_dgn_gd.py L189-207) z [N, D]: g = d obj / dz, g / mean|g| per image; δ <- m_t δ + g;
 * z <- (1 - decay_t) (z + lr_t δ); z clamped to its bounds.
 * Schedules are linear start -> end over max_iter (cnnpref: the end value is never quite reached); the scheduled
 * momentum, decay and blur sigma are recorded per iteration.
 */
import * as tf from '@tensorflow/tfjs'
import { gaussianBlur } from '../../regularizers.ts'
import { clipExtreme, clipSmallNorm, clipSmallContribution, drawJitter, GRADIENT_EPSILON, isClipIteration, momentumUpdate, normalizeGradient, rollImage, unrollImage } from '../cnnpref.ts'
import { linearScheduleAt } from '../schedules.ts'
import type { GeneralParams } from '../../../shared/method-params.ts'
import type { GeneralMethod, MethodContext } from '../method.ts'
import { MID_GREY, PIXEL_SCALE, pixelImageOf } from './pixel-image.ts'

const lrAt = (p: GeneralParams, ii: number): number => linearScheduleAt(p.lr, p.lr_end, ii, p.max_iter)

async function pixelStep(ctx: MethodContext, ii: number, v: tf.Variable, delta: tf.Tensor4D | null): Promise<tf.Tensor4D> {
  const p = ctx.params
  const at = (a: number, b: number): number => linearScheduleAt(a, b, ii, p.max_iter)
  const offset = drawJitter(ctx.rng, p.jitter_px)
  const { c, g, d } = tf.tidy(() => {
    const c0 = rollImage(tf.mul(tf.sub(v, MID_GREY), PIXEL_SCALE) as tf.Tensor4D, offset)
    const d0 = delta ? rollImage(delta, offset) : tf.zerosLike(c0)
    const grad = tf.grad((cc: tf.Tensor) => tf.sum(ctx.objectiveOf(tf.add(tf.div(cc, PIXEL_SCALE), MID_GREY) as tf.Tensor4D)))(c0) as tf.Tensor4D
    const g = normalizeGradient(grad)
    const d = momentumUpdate(d0 as tf.Tensor4D, g, at(p.momentum, p.momentum_end))
    const c = tf.add(c0, tf.mul(d, lrAt(p, ii))) as tf.Tensor4D
    return { c, g, d }
  })
  let cur = c
  const replace = (next: tf.Tensor4D): void => { if (next !== cur) { cur.dispose(); cur = next } }
  try {
    if (isClipIteration(ii, p.clip_every)) {
      // cnnpref's order: extremes, small norm, small contribution.
      if (p.clip_extreme_pct > 0) replace(await clipExtreme(cur, p.clip_extreme_pct))
      if (p.clip_small_norm_pct > 0) replace(await clipSmallNorm(cur, p.clip_small_norm_pct))
      if (p.clip_small_contribution_pct > 0) replace(await clipSmallContribution(cur, g, p.clip_small_contribution_pct))
    }
    const nextDelta = tf.tidy(() => unrollImage(d, offset))
    tf.tidy(() => {
      let x = tf.mul(unrollImage(cur, offset), 1 - at(p.decay, p.decay_end)) as tf.Tensor4D
      const sigma = at(p.blur_radius, p.blur_radius_end)
      if (sigma > 0) x = gaussianBlur(x, sigma)
      v.assign(tf.clipByValue(tf.add(tf.div(x, PIXEL_SCALE), MID_GREY), 0, 1))
    })
    if (delta) delta.dispose()
    return nextDelta
  } finally {
    cur.dispose()
    g.dispose()
    d.dispose()
  }
}

function codeStep(ctx: MethodContext, ii: number, v: tf.Variable, delta: tf.Tensor | null, render: () => tf.Tensor4D): tf.Tensor {
  const p = ctx.params
  const at = (a: number, b: number): number => linearScheduleAt(a, b, ii, p.max_iter)
  const next = tf.tidy(() => {
    const { grads } = tf.variableGrads(() => tf.sum(ctx.objectiveOf(render())) as tf.Scalar, [v])
    const g = grads[v.name]
    const gn = tf.div(g, tf.maximum(tf.mean(tf.abs(g), 1, true), GRADIENT_EPSILON))
    const d = delta ? tf.add(tf.mul(delta, at(p.momentum, p.momentum_end)), gn) : gn
    v.assign(tf.mul(tf.add(v, tf.mul(d, lrAt(p, ii))), 1 - at(p.decay, p.decay_end)))
    return d
  })
  delta?.dispose()
  return next
}

export const cnnprefGd: GeneralMethod = {
  name: 'cnnpref-gd',
  family: 'general',
  source: 'KamitaniLab/cnnpref prefer_img_gd, prefer_img_dgn_gd',
  summary: 'cnnpref-gd (KamitaniLab/cnnpref gradient descent)',
  reads: ['blur_radius', 'decay', 'lr_end', 'momentum', 'momentum_end', 'decay_end', 'blur_radius_end', 'jitter_px', 'clip_every', 'clip_extreme_pct', 'clip_small_norm_pct', 'clip_small_contribution_pct'],
  acceptsGenerator: true,
  tapsAlpha: false,
  lrAt,
  create(ctx, generatorParam) {
    const p = ctx.params
    const param = generatorParam ?? pixelImageOf(ctx)
    const v = param.variables[0]
    /** The momentum buffer (pixel units, or code units with a generator). */
    let delta: tf.Tensor | null = null
    const at = (ii: number, a: number, b: number): number => linearScheduleAt(a, b, ii, p.max_iter)
    return {
      param,
      async step(ii) {
        if (generatorParam) {
          delta = codeStep(ctx, ii, v, delta, param.render)
          param.project!()
        } else {
          delta = await pixelStep(ctx, ii, v, delta as tf.Tensor4D | null)
        }
      },
      scheduled: (ii) => ({ momentum: at(ii, p.momentum, p.momentum_end), decay: at(ii, p.decay, p.decay_end), blur_sigma: at(ii, p.blur_radius, p.blur_radius_end) }),
      dispose: () => { delta?.dispose() },
    }
  },
}
