/**
 * Generator parameterization (cnnpref's DGN-GD, prefer_img_dgn_gd.py): the trainable variable is the
 * input code z of a user-supplied generator (any TensorFlow.js model mapping [batch, D] to an image
 * [batch, H', W', 3]) instead of the pixels; the code is clamped to [lower, upper] after each step.
 *
 * The generator's image, in its declared value range ([0,1], [-1,1] or [0,255]), is mapped to RGB
 * [0, 1] and centre-cropped to the classifier's input size (cnnpref crops 256 -> 227) or, when it is
 * smaller, bilinearly resized; render() then has exactly image-param's contract, so the general loop
 * maps it to the classifier's DVT pixel space (x = 255 * rgb in the model's channel order - mean) as
 * for any other parameterization.
 *
 * Shape: `await loadGenerator(artifacts, {range}) => Generator` (async: builds the model once);
 *        `generatorParam({generator, batch, height, width, lower, upper}, rng) => GeneratorParam`,
 *        `param.render() => tf.Tensor4D [N, H, W, 3] RGB in [0, 1]` (call inside tf.tidy),
 *        `param.project()` after each optimizer step (clamps the code), `param.dispose()`.
 *
 * Wiring into methods/general.ts (`param: 'generator'`): load the generator once before the loop,
 * build `generatorParam(...)` where imageParam is built (its `variables`/`render`/`dispose` are used
 * unchanged), and call `param.project()` right after every `optimizer.minimize(...)`. The caller owns
 * and disposes the Generator after the run.
 */
import * as tf from '@tensorflow/tfjs'
import { DeepVisError } from '../../shared/errors.ts'
import type { Rng } from '../rng.ts'
import { compileLayersModel, type CompiledLayersModel } from '../model/layers-executor.ts'
import { unfuseGraph, type GraphTopology } from '../model/graph-rewrite.ts'

/** Value range of the generator's output image. */
export type GeneratorRange = '0,1' | '-1,1' | '0,255'
export const GENERATOR_RANGES: readonly GeneratorRange[] = ['0,1', '-1,1', '0,255']

/** cnnpref's initial code: relu(N(0, 1)) * INIT_CODE_SCALE (prefer_img_dgn_gd.py L123-126). */
export const INIT_CODE_SCALE = 10
/** cnnpref's default code bounds (prefer_img_dgn_gd.py: lower 0, upper 100). */
export const DEFAULT_CODE_LOWER = 0
export const DEFAULT_CODE_UPPER = 100

const RGB = 3
const MAX_8BIT = 255

export interface GeneratorOptions {
  /** Value range of the generator's output. Default '0,1'. */
  range?: GeneratorRange
}

/** A loaded generator: code [N, D] -> RGB image [N, H', W', 3] in [0, 1]. */
export interface Generator {
  /** Code length D. */
  readonly codeSize: number
  /** Output image size [H', W']. */
  readonly outputSize: [number, number]
  /** RGB image in [0, 1] (clipped), [N, H', W', 3]. Call inside tf.tidy. */
  generate(code: tf.Tensor2D): tf.Tensor4D
  dispose(): void
}

function toUnit(range: GeneratorRange): (t: tf.Tensor) => tf.Tensor {
  switch (range) {
    case '0,1': return (t) => t
    case '-1,1': return (t) => tf.div(tf.add(t, 1), 2)
    case '0,255': return (t) => tf.div(t, MAX_8BIT)
  }
}

/**
 * Load a generator from in-memory artifacts (LayersModel or GraphModel; e.g. node/load-model.ts
 * readArtifacts). LayersModels run through the plain-op executor, GraphModels with their fused nodes
 * split, so only the code's gradient is computed. Throws BAD_MODEL when the input is not [batch, D] or
 * the output is not [batch, H', W', 3].
 */
export async function loadGenerator(artifacts: tf.io.ModelArtifacts, opts: GeneratorOptions = {}): Promise<Generator> {
  const range = opts.range ?? '0,1'
  if (!GENERATOR_RANGES.includes(range)) {
    throw new DeepVisError('BAD_PARAM', `generator range must be one of ${GENERATOR_RANGES.join(', ')}; got '${String(range)}'`)
  }
  const topo = artifacts.modelTopology as Record<string, unknown> | undefined
  if (!topo || typeof topo !== 'object') throw new DeepVisError('BAD_MODEL', 'generator model.json has no modelTopology')
  let run: (z: tf.Tensor2D) => tf.Tensor
  let dispose: () => void
  let codeSize: number
  try {
    if (Array.isArray((topo as { node?: unknown }).node)) {
      const { topology } = unfuseGraph(topo as unknown as GraphTopology)
      const model = await tf.loadGraphModel(tf.io.fromMemory({ ...artifacts, modelTopology: topology }))
      if (model.inputs.length !== 1 || model.outputs.length !== 1) {
        model.dispose()
        throw new DeepVisError('BAD_MODEL', 'a generator needs exactly one input (the code) and one output (the image)')
      }
      const inName = model.inputs[0].name.replace(/:0$/, '')
      codeSize = model.inputs[0].shape?.[1] ?? -1
      const outName = model.outputs[0].name.replace(/:0$/, '')
      run = (z) => model.execute({ [inName]: z }, outName) as tf.Tensor
      dispose = () => model.dispose()
    } else {
      const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts))
      let compiled: CompiledLayersModel
      try { compiled = compileLayersModel(model) } catch (err) { model.dispose(); throw err }
      codeSize = model.inputs[0].shape[1] ?? -1
      const out = model.outputs[0].sourceLayer.name
      run = (z) => compiled.run(z, out)
      dispose = () => { compiled.dispose(); model.dispose() }
    }
  } catch (err) {
    if (err instanceof DeepVisError) throw err
    throw new DeepVisError('BAD_MODEL', `cannot build the generator: ${(err as Error).message}`)
  }
  if (!(codeSize > 0)) {
    dispose()
    throw new DeepVisError('BAD_MODEL', 'the generator input must be a code vector [batch, D] with a fixed D')
  }
  // One probe forward pass gives the output shape (and checks it).
  const outShape = tf.tidy(() => run(tf.zeros([1, codeSize])).shape)
  if (outShape.length !== 4 || outShape[3] !== RGB) {
    dispose()
    throw new DeepVisError('BAD_MODEL', `the generator must output an RGB image [batch, height, width, 3]; got shape ${JSON.stringify(outShape)}`)
  }
  const unit = toUnit(range)
  return {
    codeSize,
    outputSize: [outShape[1], outShape[2]],
    generate: (code) => tf.clipByValue(unit(run(code)), 0, 1) as tf.Tensor4D,
    dispose,
  }
}

/** Per-dimension bound: a scalar for every dimension, or one value per code dimension. */
export type CodeBound = number | readonly number[]

export interface GeneratorParamOptions {
  generator: Generator
  batch: number
  /** Classifier input size: the rendered image is [batch, height, width, 3]. */
  height: number
  width: number
  /** Lower bound of the code (cnnpref default 0). */
  lower?: CodeBound
  /** Upper bound of the code (cnnpref default 100). */
  upper?: CodeBound
  /** 'crop' (centre crop; the generator's image must be at least the classifier's size) or 'resize' (bilinear). Default: crop when large enough, else resize. */
  fit?: 'crop' | 'resize'
}

export interface GeneratorParam {
  /** The trainable variables (one: the code z [N, D]). */
  readonly variables: tf.Variable[]
  /** The RGB image in [0, 1], [N, height, width, 3]. Call inside tf.tidy. */
  render(): tf.Tensor4D
  /** Clamp the code to [lower, upper] (cnnpref: after every step). */
  project(): void
  /** The current code (a copy), [N * D] row-major. */
  code(): Float32Array
  dispose(): void
}

function boundArray(b: CodeBound, d: number, which: string): Float32Array {
  const arr = typeof b === 'number' ? new Array<number>(d).fill(b) : [...b]
  if (arr.length !== d) throw new DeepVisError('BAD_PARAM', `the code's ${which} bound has ${arr.length} values; the generator's code has ${d} dimensions`)
  if (!arr.every(Number.isFinite)) throw new DeepVisError('BAD_PARAM', `the code's ${which} bound must be finite numbers`)
  return Float32Array.from(arr)
}

/**
 * The code parameterization. Initial code: relu(N(0, 1)) * 10 drawn from `rng` (cnnpref), clamped to
 * the bounds. Throws BAD_PARAM for bounds of the wrong length or lower > upper, or 'crop' with a
 * generator image smaller than the classifier's input.
 */
export function generatorParam(opts: GeneratorParamOptions, rng: Rng): GeneratorParam {
  const { generator: g, batch: n, height: h, width: w } = opts
  const d = g.codeSize
  const lo = boundArray(opts.lower ?? DEFAULT_CODE_LOWER, d, 'lower')
  const hi = boundArray(opts.upper ?? DEFAULT_CODE_UPPER, d, 'upper')
  const bad = lo.findIndex((v, i) => v > hi[i])
  if (bad >= 0) throw new DeepVisError('BAD_PARAM', `code bound ${bad}: lower ${lo[bad]} > upper ${hi[bad]}`)
  const [gh, gw] = g.outputSize
  const canCrop = gh >= h && gw >= w
  const fit = opts.fit ?? (canCrop ? 'crop' : 'resize')
  if (fit === 'crop' && !canCrop) {
    throw new DeepVisError('BAD_PARAM', `cannot centre-crop the generator's ${gh}x${gw} image to the classifier's ${h}x${w}; use fit 'resize'`)
  }
  const init = rng.fill(n * d, (r) => Math.max(0, r.normal(0, 1)) * INIT_CODE_SCALE)
  for (let i = 0; i < init.length; i++) init[i] = Math.min(hi[i % d], Math.max(lo[i % d], init[i]))
  const loT = tf.tensor2d(lo, [1, d])
  const hiT = tf.tensor2d(hi, [1, d])
  const z = tf.tidy(() => tf.variable(tf.tensor2d(init, [n, d])))
  const top = Math.floor((gh - h) / 2)
  const left = Math.floor((gw - w) / 2)
  return {
    variables: [z],
    render(): tf.Tensor4D {
      const img = g.generate(z as unknown as tf.Tensor2D)
      if (fit === 'crop') return gh === h && gw === w ? img : tf.slice(img, [0, top, left, 0], [n, h, w, RGB])
      return tf.image.resizeBilinear(img, [h, w], true)
    },
    project(): void {
      tf.tidy(() => { z.assign(tf.minimum(tf.maximum(z, loT), hiT)) })
    },
    code: () => z.dataSync().slice() as Float32Array,
    dispose(): void {
      z.dispose()
      loT.dispose()
      hiT.dispose()
    },
  }
}
