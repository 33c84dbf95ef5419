/**
 * normstep (seed 003's VGG16 blog ascent) on the [0, 1] pixel image: x <- x + (lr / 255) g / max|g| (lr is the
 * largest pixel change in 0..255 units; seed 003 divides by max(g), which flips or blows up the step when
 * max(g) < 0), clipped to [0, 1].
 */
import * as tf from '@tensorflow/tfjs'
import { normalizedStep } from '../cnnpref.ts'
import type { GeneralMethod } from '../method.ts'
import { PIXEL_SCALE, pixelImageOf } from './pixel-image.ts'

export const normstep: GeneralMethod = {
  name: 'normstep',
  family: 'general',
  source: "seed 003 (VGG16 filter-visualization blog)",
  summary: 'normstep (seed 003: x += lr*g/max|g|)',
  reads: [],
  create(ctx) {
    const param = pixelImageOf(ctx)
    const v = param.variables[0]
    return {
      param,
      step() {
        tf.tidy(() => {
          const img = v as unknown as tf.Tensor4D
          const { grads } = tf.variableGrads(() => tf.sum(ctx.objectiveOf(img)) as tf.Scalar, [v])
          v.assign(tf.clipByValue(normalizedStep(img, grads[v.name] as tf.Tensor4D, ctx.params.lr / PIXEL_SCALE), 0, 1))
        })
      },
    }
  },
}
