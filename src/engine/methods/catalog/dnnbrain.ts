/**
 * dnnbrain (BNUCNL/dnnbrain SynthesisImage) on the [0, 1] pixel image: loss = -sum(obj) + penalty_weight x
 * sum(R(img)); gradient smoothed in the Fourier domain when smooth_factor > 0; Adam step; Gaussian blur of the
 * image (sigma blur_radius, per channel) when > 0; clip to [0, 1].
 * Difference from dnnbrain, on purpose: its code re-creates Adam every iteration when the blur is on (each step is
 * then Adam's first, ~ lr * sign(g)); we keep one Adam for the whole run, so its moments accumulate.
 */
import * as tf from '@tensorflow/tfjs'
import { gaussianBlur } from '../../regularizers.ts'
import { l1Penalty, l2Penalty, totalVariation } from '../penalties.ts'
import { smoothGradientFourier } from '../fourier-smooth.ts'
import type { GeneralParams } from '../../../shared/method-params.ts'
import type { GeneralMethod } from '../method.ts'
import { pixelImageOf } from './pixel-image.ts'

const penaltyFunction = (p: GeneralParams): ((img: tf.Tensor4D) => tf.Tensor1D) | null =>
  ({ none: null, tv: totalVariation, l1: l1Penalty, l2: l2Penalty }[p.penalty])

export const dnnbrain: GeneralMethod = {
  name: 'dnnbrain',
  family: 'general',
  source: 'BNUCNL/dnnbrain SynthesisImage',
  summary: 'dnnbrain (BNUCNL/dnnbrain SynthesisImage)',
  reads: ['penalty', 'penalty_weight', 'smooth_factor', 'blur_radius'],
  recordedPenalty: (p) => (p.penalty_weight > 0 ? penaltyFunction(p) : null),
  create(ctx) {
    const p = ctx.params
    const param = pixelImageOf(ctx)
    const v = param.variables[0]
    const penaltyOf = penaltyFunction(p)
    return {
      param,
      step() {
        tf.tidy(() => {
          const img = v as unknown as tf.Tensor4D
          const { grads } = tf.variableGrads(() => {
            let loss = tf.neg(tf.sum(ctx.objectiveOf(img))) as tf.Scalar
            if (penaltyOf && p.penalty_weight > 0) loss = tf.add(loss, tf.mul(tf.sum(penaltyOf(img)), p.penalty_weight)) as tf.Scalar
            return loss
          }, [v])
          let g = grads[v.name] as tf.Tensor4D
          if (p.smooth_factor > 0) g = smoothGradientFourier(g, p.smooth_factor)
          ctx.optimizer.applyGradients({ [v.name]: g })
          let next = v as unknown as tf.Tensor4D
          if (p.blur_radius > 0) next = gaussianBlur(next, p.blur_radius)
          v.assign(tf.clipByValue(next, 0, 1))
        })
      },
    }
  },
}
