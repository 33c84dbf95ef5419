/**
 * Batched DVT optimization: N images of one model, each with its own FindParams (seed/x0, unit,
 * regularizers, lr policy, max_iter), in ONE forward/backward per iteration.
 *
 * Why it is exact: in inference every batch item goes through the network independently, so the
 * gradient of sum_i push_dir_i * a_i(x_i) with respect to x_i is image i's own DVT gradient. Images
 * are stacked into a batch per target layer (images whose units lie in different layers are forwarded
 * in one sub-batch per layer, all inside the same backward pass). Everything else is per image and
 * shared with `optimizeImage` (optimize.ts): crop, statistics, recorder, lr policy, and the DVT step
 * (decay, blur, the four percentile clips, each on that image alone).
 *
 * Finished images drop out: an image whose max_iter is reached (or whose gradient is exactly 0)
 * leaves the batch, so the batch shrinks and no work is spent on it. An abort (`signal`) stops every
 * image still running after the current iteration; a per-image abort (`signals[i]`) stops only image
 * i after the current iteration, and the others go on. Stopped results are marked interrupted.
 * `onImageDone` hands out each image's result as soon as it finishes (a host can store and report it
 * while the rest of the batch runs); the same objects are returned at the end.
 * wall_ms of an image's iteration is the wall time of the whole batched iteration it took part in.
 * Shape: `await optimizeBatch(model, inputSpec, paramsList, {backend, signal, onIteration}) => DvtResult[]`
 */
import * as tf from '@tensorflow/tfjs'
import { check, DeepVisError } from '../shared/errors.ts'
import type { FindParams } from './params.ts'
import type { Recorder } from './recorder.ts'
import { ViewChain } from './dvt-regularizers.ts'
import { learningRate } from './lr-policies.ts'
import {
  cropToPixels, dvtStep, imageStats, networkInput, prepareProblem, readResult, readStats, specTensors, STAT_COUNT,
  tensorRecorder, topDiffTensor, type ImageProblem, type IterationEvent,
} from './optimize.ts'
import type { InputSpec } from './model/input-spec.ts'
import type { VisModel } from './model/vis-model.ts'
import type { DvtResult } from './result.ts'

/** One iteration of one image of the batch. */
export interface BatchIterationEvent extends IterationEvent {
  /** Index of the image in `paramsList`. */
  imageIndex: number
}

export interface OptimizeBatchOptions {
  /** Name of the tfjs backend in use, recorded with every result. */
  backend?: string
  /** Stops every running image after the current iteration; their results are marked interrupted. */
  signal?: AbortSignal
  /**
   * Per-image stops, by index in `paramsList` (missing or undefined: none): image i stops after the
   * current iteration, marked interrupted, and leaves the batch; the other images go on.
   */
  signals?: readonly (AbortSignal | undefined)[]
  /** Called after each image's iteration is recorded (images in index order within an iteration). */
  onIteration?: (event: BatchIterationEvent) => void | Promise<void>
  /**
   * Called once per image as soon as it finishes (max_iter reached, gradient 0, or stopped), after its
   * last onIteration, with its final result; awaited before the next iteration. A batch that throws
   * later (e.g. another image's objective turns NaN) does not take back results already handed out.
   */
  onImageDone?: (imageIndex: number, result: DvtResult) => void | Promise<void>
}

/** The state of one image of the batch. Tensors are kept (outside any tidy) and disposed by the loop. */
interface Lane {
  index: number
  problem: ImageProblem
  x0: tf.Tensor4D
  /** Top diff, flattened: [layer size]. */
  topDiff: tf.Tensor1D
  x: tf.Tensor4D
  recorder: Recorder<tf.Tensor4D>
  done: boolean
  interrupted: boolean
  totalMs: number
  /** Transparency map: Σ over iterations of Σ_channels |g|, as optimizeImage's. */
  alpha: tf.Tensor | null
  alphaCount: number
  /** The image's view regularizers (dvt-regularizers.ts) and their draws. */
  views: ViewChain
  /** The final result, read as soon as the image is done. */
  result?: DvtResult
}

/** Active lanes grouped by target layer, in first-appearance order (one sub-batch per layer). */
function groupByLayer(lanes: Lane[]): Lane[][] {
  const groups = new Map<string, Lane[]>()
  for (const lane of lanes) {
    const key = lane.problem.params.push_layer
    const g = groups.get(key)
    if (g) g.push(lane)
    else groups.set(key, [lane])
  }
  return [...groups.values()]
}

/**
 * Optimize N units at once (see the header). Every FindParams is validated before any work; a bad one
 * throws DeepVisError naming its index. A non-finite objective throws (as optimizeImage does) and
 * stops the whole batch. Results come back in the order of `paramsList`, each exactly what
 * optimizeImage returns for the same params (up to float rounding of batched kernels).
 */
export async function optimizeBatch(
  model: VisModel, spec: InputSpec, paramsList: FindParams[], opts: OptimizeBatchOptions = {},
): Promise<DvtResult[]> {
  check(Array.isArray(paramsList) && paramsList.length > 0, () => 'optimizeBatch needs at least one FindParams (paramsList is empty)')
  const problems: ImageProblem[] = []
  for (const [i, raw] of paramsList.entries()) {
    try {
      problems.push(await prepareProblem(model, spec, raw))
    } catch (e) {
      if (e instanceof DeepVisError) throw new DeepVisError(e.code, `image ${i}: ${e.message}`)
      throw e
    }
  }
  const shape4: [number, number, number, number] = [1, spec.height, spec.width, spec.channels]
  const backend = opts.backend ?? tf.getBackend()
  const t0 = performance.now()
  const st = specTensors(spec)
  const lanes: Lane[] = []
  try {
    for (const [index, problem] of problems.entries()) {
      const { x0, topDiff } = tf.tidy(() => ({
        x0: tf.tensor(problem.x0, shape4) as tf.Tensor4D,
        topDiff: topDiffTensor(problem).reshape([-1]) as tf.Tensor1D,
      }))
      lanes.push({
        index, problem, x0, topDiff, x: x0.clone(), recorder: tensorRecorder(problem.params.push_dir),
        done: false, interrupted: false, totalMs: 0, alpha: null, alphaCount: 0, views: new ViewChain(problem.params),
      })
    }

    for (let ii = 0; lanes.some((l) => !l.done); ii++) {
      const tIter = performance.now()
      const active = lanes.filter((l) => !l.done)
      const groups = groupByLayer(active)
      const order = groups.flat()
      // 1. crop each image (and take its view); one forward/backward over all of them; per-image statistics; one read-back.
      for (const l of order) l.views.draw()
      const { xcs, gs, stats } = tf.tidy(() => {
        const xcs = order.map((l) => cropToPixels(l.x, st))
        const dy = tf.concat(order.map((l) => l.topDiff))
        const f = (...xs: tf.Tensor[]): tf.Tensor => {
          let k = 0
          const blobs = groups.map((group) => {
            const batch = tf.concat(xs.slice(k, k + group.length) as tf.Tensor4D[]) as tf.Tensor4D
            k += group.length
            return model.forward(networkInput(batch, st), group[0].problem.params.push_layer).reshape([-1])
          })
          return blobs.length === 1 ? blobs[0] : tf.concat(blobs)
        }
        const { value, grads: viewGrads } = tf.valueAndGrads(f)(xcs.map((xc, j) => order[j].views.view(xc)), dy)
        const grads = viewGrads.map((g, j) => order[j].views.unview(g as tf.Tensor4D))
        let offset = 0
        const perImage = order.map((l, j) => {
          const size = l.topDiff.size
          const blob = value.slice([offset], [size]) as tf.Tensor1D
          offset += size
          return imageStats(xcs[j], grads[j] as tf.Tensor4D, blob, l.x0, l.problem)
        })
        return { xcs, gs: grads as tf.Tensor4D[], stats: tf.stack(perImage) }
      })
      const s = await stats.data()
      stats.dispose()
      try {
        // 2. per image: record, lr, DVT step.
        const events: (BatchIterationEvent | null)[] = []
        for (const [j, lane] of order.entries()) {
          const { params } = lane.problem
          const nextAlpha: tf.Tensor = tf.tidy(() => { const a = tf.sum(tf.abs(gs[j]), -1).reshape([spec.height, spec.width]); return lane.alpha ? tf.add(lane.alpha, a) : a })
          lane.alpha?.dispose()
          lane.alpha = nextAlpha
          lane.alphaCount++
          const { step, gradNormSq } = readStats(ii, s.subarray(j * STAT_COUNT, (j + 1) * STAT_COUNT), lane.problem, `image ${lane.index}: `)
          lane.recorder.record(step, xcs[j])
          lane.views.record(lane.recorder.series)
          if (gradNormSq === 0) {
            lane.recorder.gradZero()
            lane.done = true
            events.push(null)
            continue
          }
          const lr = learningRate(params.lr_policy, params.lr_params, { gradNormSq, obj: step.obj })
          lane.recorder.setLastLr(lr)
          if (ii === params.max_iter - 1) {
            lane.done = true
          } else {
            const next = await dvtStep(xcs[j], gs[j], lr, params, ii)
            lane.x.dispose()
            lane.x = next
          }
          const xc = xcs[j]
          events.push({ ...step, lr, wall_ms: 0, maxIter: params.max_iter, imageIndex: lane.index, image: () => xc.data() as Promise<Float32Array> })
        }
        const wall = performance.now() - tIter
        for (const lane of order) {
          lane.recorder.series.wall_ms[ii] = wall
          if (lane.done) lane.totalMs = performance.now() - t0
        }
        // 3. callbacks, in image order, after the iteration's wall time is taken (as optimizeImage).
        if (opts.onIteration) {
          const byIndex = order.map((l, j) => ({ l, e: events[j] })).sort((a, b) => a.l.index - b.l.index)
          for (const { e } of byIndex) if (e) await opts.onIteration({ ...e, wall_ms: wall })
        }
      } finally {
        tf.dispose([...xcs, ...gs])
      }
      for (const lane of lanes) {
        if (!lane.done && (opts.signal?.aborted || opts.signals?.[lane.index]?.aborted)) {
          lane.done = true
          lane.interrupted = true
          lane.totalMs = performance.now() - t0
        }
      }
      for (const lane of lanes) {
        if (!lane.done || lane.result) continue
        lane.result = await readResult(lane.problem, lane.recorder, spec, { backend, interrupted: lane.interrupted, totalMs: lane.totalMs }, lane.alpha ? { acc: lane.alpha, evaluations: lane.alphaCount } : null)
        await opts.onImageDone?.(lane.index, lane.result)
      }
    }
    return lanes.map((lane) => lane.result as DvtResult)
  } finally {
    for (const lane of lanes) {
      lane.recorder.dispose()
      tf.dispose([lane.x, lane.x0, lane.topDiff])
      lane.alpha?.dispose()
    }
    tf.dispose([st.mean, st.scale, st.offset])
  }
}
