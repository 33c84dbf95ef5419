/**
 * Facts about a loaded model that the engine host answers from and checks against: its identity key,
 * the user-facing summary of its input spec, the loader overrides for a user's input-spec correction
 * (and whether the model can take the corrected size), what reopens it, and its layers with labels.
 * Split out of src/host/engine-host.ts (which re-exports what the tests use): pure helpers, no state.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { DeepVisError } from '../shared/errors.ts'
import { meanIsImage, type InputSpec, type VisModel } from '../engine/index.ts'
import type { InputSpecOverrides, LoadedModel } from '../engine/node/index.ts'
import type { InputSpecOverride } from '../shared/app-types.ts'
import type { InputSpecSummary, LayerInfo } from '../shared/ipc-contract.ts'

/**
 * The loader's overrides for a user correction: a size given on one side only keeps the model's own
 * other side, and may differ from a LayersModel's fixed input size; a single mean value applies to
 * every channel.
 */
export function correctionOverrides(c: InputSpecOverride, ownSize: [number, number], channels: number): InputSpecOverrides {
  const out: InputSpecOverrides = {}
  if (c.height !== undefined || c.width !== undefined) {
    out.size = [c.height ?? ownSize[0], c.width ?? ownSize[1]]
    // A fixed-size LayersModel may take another size on its fully convolutional part (checkSizeFits);
    // its own size keeps it as it is (a flatten layer, say, needs the fixed size to be built).
    if (out.size[0] !== ownSize[0] || out.size[1] !== ownSize[1]) out.freeSize = true
  }
  if (c.channelOrder !== undefined) out.channelOrder = c.channelOrder
  if (c.mean !== undefined) out.mean = c.mean.length === 1 ? new Array<number>(channels).fill(c.mean[0]) : [...c.mean]
  return out
}

/**
 * Throw BAD_INPUT_SPEC unless every layer of `model` has a real output at input `size`: a size too
 * small for the kernels (tfjs then reports a negative map size) or one a dense layer after a flatten
 * cannot take is refused here, not in the middle of a run.
 */
export async function checkSizeFits(model: VisModel, size: [number, number]): Promise<void> {
  const what = `the model cannot take a ${size[0]}x${size[1]} input`
  let layers: Awaited<ReturnType<VisModel['catalog']>>
  try {
    layers = await model.catalog(size)
  } catch (e) {
    throw new DeepVisError('BAD_INPUT_SPEC', `${what}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const empty = layers.find((l) => l.shape.some((d) => d <= 0))
  if (empty) throw new DeepVisError('BAD_INPUT_SPEC', `${what}: layer '${empty.name}' would have no output (shape ${empty.shape.join('x')}); choose a larger size`)
}

/** Whether a correction changes anything (an empty one is the same as none). */
export function isCorrection(c: InputSpecOverride | null): c is InputSpecOverride {
  return c !== null && Object.values(c).some((v) => v !== undefined)
}

/** A model's identity: sha256 of its model.json bytes and its effective input spec. */
export async function modelKeyOf(loaded: LoadedModel): Promise<string> {
  const h = createHash('sha256')
  h.update(await readFile(loaded.modelJsonPath))
  h.update(JSON.stringify(summarizeInputSpec(loaded.inputSpec)))
  return h.digest('hex').slice(0, 24)
}

/** The user-facing part of the engine's input spec. */
export function summarizeInputSpec(spec: InputSpec): InputSpecSummary {
  return {
    height: spec.height,
    width: spec.width,
    channelOrder: spec.channelOrder,
    mean: meanIsImage(spec) ? 'image' : Array.from(spec.mean),
    source: spec.source,
  }
}

/** The input size [height, width] of a loaded model's spec. */
export function sizeOf(loaded: LoadedModel): [number, number] {
  return [loaded.inputSpec.height, loaded.inputSpec.width]
}

/** What opens `loaded` again: its folder, or its .onnx file (a folder may hold several). */
export function reopenPath(loaded: LoadedModel): string {
  return loaded.model.format === 'onnx' ? loaded.modelJsonPath : path.dirname(loaded.modelJsonPath)
}

/** Attach the class labels to every layer with exactly one unit per label. */
export function attachLabels(layers: readonly Omit<LayerInfo, 'labels'>[], labels: readonly string[] | null): LayerInfo[] {
  return layers.map((l) => {
    const base: LayerInfo = { name: l.name, type: l.type, shape: [...l.shape], units: l.units }
    if (l.module !== undefined) base.module = l.module
    if (l.plumbing) base.plumbing = true
    return labels && labels.length > 0 && l.units === labels.length ? { ...base, labels: [...labels] } : base
  })
}
