/**
 * cnnpref-lbfgs (prefer_img_lbfgs.py / prefer_img_dgn_lbfgs.py): scipy-style bounded L-BFGS (lbfgs.ts) on the
 * parameterization's one variable, the RGB pixels in 0..255 (bounds [0, 255], i.e. DVT's [-mean, 255 - mean]
 * shifted by the mean, which L-BFGS is invariant to) or the generator code (bounds code_lower..code_upper).
 * Each function evaluation is one forward/backward of -Σ obj; the initial point is recorded as ii 0 and every
 * accepted iterate as ii 1, 2, ... (at most max_iter - 1 L-BFGS iterations, so at most max_iter records as the
 * other methods). It stops early at scipy's tolerances (recorded as method.lbfgs.stop) or on the abort signal.
 */
import * as tf from '@tensorflow/tfjs'
import { minimizeLbfgsB } from '../lbfgs.ts'
import type { DriveReport, GeneralMethod } from '../method.ts'
import { PIXEL_SCALE, pixelImageOf } from './pixel-image.ts'

/** Lower / upper bound of the pixel variable (RGB, 0..255 units: DVT's [-mean, 255 - mean] shifted by the mean). */
const PIXEL_MIN = 0
const PIXEL_MAX = 255

export const cnnprefLbfgs: GeneralMethod = {
  name: 'cnnpref-lbfgs',
  family: 'general',
  source: 'KamitaniLab/cnnpref prefer_img_lbfgs, prefer_img_dgn_lbfgs',
  summary: 'cnnpref-lbfgs (cnnpref bounded L-BFGS)',
  reads: [],
  acceptsGenerator: true,
  create(ctx, generatorParam) {
    return { param: generatorParam ?? pixelImageOf(ctx, PIXEL_SCALE), step() { throw new Error('cnnpref-lbfgs drives its own iterations') } }
  },
  async drive(ctx, run, driver): Promise<DriveReport> {
    const params = ctx.params
    const n = ctx.n
    const bounds = ctx.generator ? { lower: params.code_lower, upper: params.code_upper } : { lower: PIXEL_MIN, upper: PIXEL_MAX }
    const v = run.param.variables[0]
    const perImage = v.size / n
    const expand = (b: number | number[]): number | Float64Array => typeof b === 'number' ? b : Float64Array.from({ length: v.size }, (_, k) => b[k % perImage])
    /** The latest evaluation's image and statistics (the accepted iterate is always the latest evaluation). */
    let latest: { x: tf.Tensor4D; s: Float32Array } | null = null
    let pending: Promise<void> = Promise.resolve()
    let tIter = performance.now()
    let evaluations = 0
    const record = (ii: number): void => {
      const { x, s } = latest!
      const wall = performance.now() - tIter
      tIter = performance.now()
      pending = pending.then(async () => driver.notify(ii, wall, await driver.recordAll(ii, x, s, NaN)))
    }
    const f = async (vec: Float64Array): Promise<{ value: number; grad: Float32Array }> => {
      await pending
      tf.tidy(() => { v.assign(tf.tensor(Float32Array.from(vec), v.shape)) })
      let kept: { x: tf.Tensor4D; stats: tf.Tensor2D } | null = null
      const { value, grads } = tf.variableGrads(() => {
        const r = driver.evaluate()
        kept = { x: tf.keep(r.x), stats: tf.keep(r.stats) }
        return r.loss
      }, [v])
      const k = kept as unknown as { x: tf.Tensor4D; stats: tf.Tensor2D }
      const s = (await k.stats.data()) as Float32Array
      k.stats.dispose()
      const loss = (await value.data())[0]
      const grad = (await grads[v.name].data()) as Float32Array
      tf.dispose([value, grads[v.name]])
      latest?.x.dispose()
      latest = { x: k.x, s }
      if (evaluations++ === 0) record(0)
      return { value: loss, grad }
    }
    try {
      const start = Float64Array.from(await v.data())
      const r = await minimizeLbfgsB(f, start, {
        lower: expand(bounds.lower), upper: expand(bounds.upper), maxIter: params.max_iter - 1,
        onIteration: (iteration) => { record(iteration); return driver.signal?.aborted === true },
      })
      await pending
      return { stop: r.stop, iterations: r.iterations, evaluations: r.evaluations, interrupted: r.stop === 'callback' }
    } finally {
      await pending.catch(() => undefined)
      ;(latest as { x: tf.Tensor4D } | null)?.x.dispose()
    }
  },
}
