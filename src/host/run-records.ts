/**
 * The parts of an app run that are not the run pipeline's: its id (run ids name the history folders),
 * a method run's parameters from the run spec, the GIF option of a run spec, and the preview and
 * history-thumbnail images. Pure Node (sharp), used by the run service.
 * Shape: `makeRunId(now, layer, channel)`; `methodParams(method, params) => GeneralParams`;
 *   `gifOptions(spec) => RunOptions`; `await pngDataUrl(rgb, spec)`; `await runThumb(result)`.
 */
import { randomBytes } from 'node:crypto'
import sharp from 'sharp'
import { DeepVisError } from '../shared/errors.ts'
import type { InputSpec } from '../engine/index.ts'
import { encodePng, renderX } from '../engine/node/index.ts'
import { defaultObjectiveText, resolveGeneralParams } from '../engine/index.ts'
import type { RunOptions } from '../engine/node/index.ts'
import type { FindParams } from '../engine/index.ts'
import type { OptimizeResult } from '../engine/index.ts'
import type { GeneralParams } from '../shared/method-params.ts'
import type { RunSpec } from '../shared/run-types.ts'
import { PNG_DATA_URL_PREFIX } from './run-store.ts'

/** Longest run id (see RUN_ID_PATTERN). */
const MAX_RUN_ID_LENGTH = 64
/** Random hex characters ending a run id (2 bytes). */
const RUN_ID_RANDOM_BYTES = 2
/** Digits the channel is zero-padded to in a run id, as in the CLI's default template (%04d). */
const CHANNEL_DIGITS = 4
/** Characters of a layer name kept in a run id; others become '_'. */
const UNSAFE_ID_CHARS = /[^A-Za-z0-9_-]/g

/** A run id: `YYYYMMDD-HHMMSS-<layer>-<channel %04d>-<4 hex>` (UTC), at most 64 characters. */
export function makeRunId(now: Date, layer: string, channel: number): string {
  const iso = now.toISOString() // 2026-11-23T14:22:33.000Z
  const stamp = `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 19).replaceAll(':', '')}`
  const unit = String(channel).padStart(CHANNEL_DIGITS, '0')
  const rand = randomBytes(RUN_ID_RANDOM_BYTES).toString('hex')
  const room = MAX_RUN_ID_LENGTH - stamp.length - unit.length - rand.length - 3
  const layerPart = (layer.replace(UNSAFE_ID_CHARS, '_').slice(0, Math.max(room, 0)) || 'unit')
  return `${stamp}-${layerPart}-${unit}-${rand}`.slice(0, MAX_RUN_ID_LENGTH)
}

/** PNG data URL of RGB bytes (HWC) of the input's size. */
export async function pngDataUrl(rgb: Uint8Array, spec: InputSpec): Promise<string> {
  return PNG_DATA_URL_PREFIX + Buffer.from(await encodePng(rgb, spec)).toString('base64')
}

/** Side of the history thumbnail stored in run.json (RunSummary.thumb), in pixels. */
const RUN_THUMB_PX = 64

/** A small PNG data URL of the best (else last) image as best_X shows it, for the history list. */
export async function runThumb(result: OptimizeResult): Promise<string | undefined> {
  const snap = result.best ?? result.last
  if (!snap) return undefined
  const spec = result.inputSpec
  const rgb = renderX(snap.x, spec)
  const png = await sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width: spec.width, height: spec.height, channels: 3 } })
    .resize({ width: RUN_THUMB_PX, height: RUN_THUMB_PX, fit: 'inside' }).png().toBuffer()
  return PNG_DATA_URL_PREFIX + png.toString('base64')
}

/**
 * A general method's parameters for one run: `method`'s own fields, with rand_seed and max_iter from
 * the DVT params and an empty objective meaning the unit (a neuron when push_spatial is set). One image
 * per run (batch_size 1). Throws DeepVisError('BAD_PARAM') from the engine's validator.
 */
export function methodParams(method: Partial<GeneralParams>, params: FindParams): GeneralParams {
  if (method.batch_size !== undefined && method.batch_size !== 1) {
    throw new DeepVisError('BAD_PARAM', `batch_size ${method.batch_size}: the app runs one image per run (batch_size 1); use the CLI for batches`)
  }
  const unit = defaultObjectiveText(params.push_layer, params.push_channel)
  const objective = method.objective?.trim()
    ? method.objective
    : params.push_spatial ? `${unit}@${params.push_spatial[0]},${params.push_spatial[1]}` : unit
  return resolveGeneralParams({ ...method, objective, rand_seed: params.rand_seed, max_iter: params.max_iter, batch_size: 1 })
}

/** The pipeline's GIF option of a run: a frame every gifEvery iterations and the last (the previews' view). */
export function gifOptions(spec: RunSpec): RunOptions {
  return spec.gifEvery && spec.gifEvery > 0 ? { gif: { every: spec.gifEvery, withLast: true } } : {}
}
