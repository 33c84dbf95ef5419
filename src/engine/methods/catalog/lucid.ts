/**
 * lucid (Olah et al. 2017, tensorflow/lucid render_vis): FFT or pixel image (optional colour decorrelation,
 * sigmoid), seeded transforms before each forward pass, one Adam step on -(sum obj) + diversity x lucid's
 * diversity, with the ReLU gradient redirected while ii < relu_override_steps. Also steps a generator's code.
 */
import * as tf from '@tensorflow/tfjs'
import { imageParam } from '../image-param.ts'
import { applyTransforms, drawTransforms, resolveTransforms } from '../transforms.ts'
import { withReluOverride } from '../relu-override.ts'
import { diversity as diversityOf } from '../objectives.ts'
import type { GeneralMethod, ImageParameterization } from '../method.ts'

export const lucid: GeneralMethod = {
  name: 'lucid',
  family: 'general',
  source: 'Olah et al. 2017, tensorflow/lucid render_vis',
  summary: 'lucid (Olah et al. 2017)',
  reads: ['diversity'],
  acceptsGenerator: true,
  create(ctx, generatorParam) {
    const p = ctx.params
    const [h, w] = ctx.size
    const param: ImageParameterization = generatorParam ?? imageParam({ kind: p.param as 'fft' | 'pixel', batch: ctx.n, height: h, width: w, sd: p.init_sd, decay: p.fft_decay, decorrelate: p.decorrelate }, ctx.rng)
    const transformSpec = resolveTransforms(p.transforms)
    const divLayer = ctx.diversityLayer
    return {
      param,
      step(ii) {
        const draw = transformSpec ? drawTransforms(transformSpec, ctx.rng) : null
        withReluOverride(ii < p.relu_override_steps, () => {
          ctx.optimizer.minimize(() => {
            const rgb = ctx.tap(param.render())
            const seen = transformSpec && draw ? applyTransforms(rgb, transformSpec, draw, [h, w]) : rgb
            const act = ctx.activations(seen, divLayer ? [divLayer] : [])
            let loss = tf.neg(tf.sum(ctx.objectiveValue(act))) as tf.Scalar
            if (divLayer) loss = tf.add(loss, tf.mul(diversityOf(act(divLayer)), p.diversity)) as tf.Scalar
            return loss
          }, false, param.variables)
        })
        param.project?.()
      },
    }
  },
}
