/**
 * Size limits for what a model folder, an upload or a message may make the engine read or allocate,
 * each with an environment variable to raise it for a real, big model. The defaults hold every
 * ImageNet classifier we know (VGG-16's 528 MB of weights, 224-1024 px inputs) with room to spare.
 * Shape: `limits()` reads the environment each call (tests set variables per case).
 */

export interface Limits {
  /** model.json / deepvis.json / index.json, bytes. */
  modelJsonBytes: number
  /** All weight shards of a model together, bytes. */
  weightBytes: number
  /** A labels file, mean image or mask file, bytes. */
  auxFileBytes: number
  /** Input height x width, pixels. */
  inputPixels: number
  /** Largest dimension a model may ask for (a padding, a tile count, a resize target). */
  dimension: number
  /** Elements of one layer's output for one image (float32: 4 bytes each). */
  activationElements: number
  /** Pixels of an image file read as an input (a photo, a camera frame), before it is fitted. */
  imagePixels: number
}

const MB = 1 << 20

/** Environment variable per limit, and its unit. */
export const LIMIT_ENV: Readonly<Record<keyof Limits, { name: string; unit: number; unitName: string; fallback: number }>> = {
  modelJsonBytes: { name: 'DEEPVIS_MAX_MODEL_JSON_MB', unit: MB, unitName: 'MB', fallback: 64 },
  weightBytes: { name: 'DEEPVIS_MAX_WEIGHTS_MB', unit: MB, unitName: 'MB', fallback: 4096 },
  auxFileBytes: { name: 'DEEPVIS_MAX_FILE_MB', unit: MB, unitName: 'MB', fallback: 256 },
  inputPixels: { name: 'DEEPVIS_MAX_INPUT_PIXELS', unit: 1, unitName: 'pixels', fallback: 4096 * 4096 },
  dimension: { name: 'DEEPVIS_MAX_DIMENSION', unit: 1, unitName: '', fallback: 16384 },
  activationElements: { name: 'DEEPVIS_MAX_ACTIVATION_MB', unit: MB / 4, unitName: 'MB', fallback: 1024 },
  imagePixels: { name: 'DEEPVIS_MAX_IMAGE_PIXELS', unit: 1, unitName: 'pixels', fallback: 8192 * 8192 },
}

/** The limits in force: each from its environment variable when that is a positive number, else the default. */
export function limits(env: Readonly<Record<string, string | undefined>> = process.env): Limits {
  const out = {} as Limits
  for (const [key, spec] of Object.entries(LIMIT_ENV) as [keyof Limits, (typeof LIMIT_ENV)[keyof Limits]][]) {
    const raw = Number(env[spec.name])
    out[key] = (Number.isFinite(raw) && raw > 0 ? raw : spec.fallback) * spec.unit
  }
  return out
}

/** "set DEEPVIS_MAX_WEIGHTS_MB (now 4096) to raise it", for a limit's message. */
export function raiseHint(key: keyof Limits, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const spec = LIMIT_ENV[key]
  const now = limits(env)[key] / spec.unit
  return `set ${spec.name} (now ${now}${spec.unitName ? ' ' + spec.unitName : ''}) to raise the limit for a real, big model`
}
