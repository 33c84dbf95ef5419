/**
 * The pixel image of the pixel methods: one variable, the RGB image in [0, 1] times `scale` (1; cnnpref-lbfgs: 255,
 * pixel units as scipy sees them in cnnpref), initialized to `base` (mid-grey, or 0 = black) plus seeded
 * N(0, sd^2) noise, clipped to the valid range (dnnbrain starts from unseeded U[0, 1) noise; we seed and centre it).
 * Shape: `plainPixelImage(n, h, w, sd, base, rng, scale?) => ImageParameterization`; `pixelImageOf(ctx, scale?)`.
 */
import * as tf from '@tensorflow/tfjs'
import type { Rng } from '../../rng.ts'
import type { ImageParameterization, MethodContext } from '../method.ts'

/** Mid-grey (0.5) of the [0, 1] image the pixel methods start from. */
export const MID_GREY = 0.5
/** 0..255 pixel scale of the [0, 1] image. */
export const PIXEL_SCALE = 255

export function plainPixelImage(n: number, h: number, w: number, sd: number, base: number, rng: Rng, scale = 1): ImageParameterization {
  const init = rng.fill(n * h * w * 3, (r) => Math.min(1, Math.max(0, base + r.normal(0, sd))) * scale)
  const variable = tf.tidy(() => tf.variable(tf.tensor4d(init, [n, h, w, 3])))
  return { variables: [variable], render: () => (scale === 1 ? variable as unknown as tf.Tensor4D : tf.div(variable, scale) as tf.Tensor4D), dispose: () => variable.dispose() }
}

/** The run's pixel image from its params (init_image, init_sd). */
export function pixelImageOf(ctx: MethodContext, scale = 1): ImageParameterization {
  const [h, w] = ctx.size
  return plainPixelImage(ctx.n, h, w, ctx.params.init_sd, ctx.params.init_image === 'black' ? 0 : MID_GREY, ctx.rng, scale)
}
