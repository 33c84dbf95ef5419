/**
 * seed004 (Nguyen-Hoa/Activation-Maximization act_max) on the [0, 1] image: x += lr * g (raw gradient), then on
 * the image centred at mid-grey c = x - 0.5: c *= 1 - decay; Gaussian blur (sigma blur_radius) when
 * ii mod blur_every == 0; zero pixels whose channel norm is below the norm_crop_pct percentile; zero pixels whose
 * |contribution| |sum_c c*g| is below the contrib_crop_pct percentile (percentiles over the whole batch); clip to [0, 1].
 * Differences from seed 004, on purpose: its "contrib crop" zeroes small |x| and never uses the gradient (we use the
 * contribution, as named); its best image is stored after the update but scored before it (our recorder scores
 * the image it stores); it does not clip (we clip to the valid pixel range); zero is mid-grey here (its zero is
 * the ImageNet mean of its normalized space), and lr applies to the [0, 1] image.
 */
import * as tf from '@tensorflow/tfjs'
import { clipPxAbsBenefit, clipSmallNorm, gaussianBlur } from '../../regularizers.ts'
import type { GeneralMethod } from '../method.ts'
import { MID_GREY, pixelImageOf } from './pixel-image.ts'

export const seed004: GeneralMethod = {
  name: 'seed004',
  family: 'general',
  source: 'Nguyen-Hoa/Activation-Maximization act_max (seed 004)',
  summary: 'seed004 (act_max: x += lr*g, decay, blur, crops)',
  reads: ['blur_radius', 'blur_every', 'decay', 'norm_crop_pct', 'contrib_crop_pct'],
  create(ctx) {
    const params = ctx.params
    const param = pixelImageOf(ctx)
    const v = param.variables[0]
    return {
      param,
      async step(ii) {
        const { c, g } = tf.tidy(() => {
          const img = v as unknown as tf.Tensor4D
          const { grads } = tf.variableGrads(() => tf.neg(tf.sum(ctx.objectiveOf(img))) as tf.Scalar, [v])
          const g = tf.neg(grads[v.name]) as tf.Tensor4D
          let c = tf.sub(tf.add(img, tf.mul(g, params.lr)), MID_GREY) as tf.Tensor4D
          if (params.decay > 0) c = tf.mul(c, 1 - params.decay) as tf.Tensor4D
          if (params.blur_radius > 0 && ii % params.blur_every === 0) c = gaussianBlur(c, params.blur_radius)
          return { c, g }
        })
        let cur = c
        const replace = (next: tf.Tensor4D): void => { if (next !== cur) { cur.dispose(); cur = next } }
        try {
          if (params.norm_crop_pct > 0) replace(await clipSmallNorm(cur, params.norm_crop_pct))
          if (params.contrib_crop_pct > 0) replace(await clipPxAbsBenefit(cur, g, params.contrib_crop_pct))
          tf.tidy(() => { v.assign(tf.clipByValue(tf.add(cur, MID_GREY), 0, 1)) })
        } finally {
          cur.dispose()
          g.dispose()
        }
      },
    }
  },
}
