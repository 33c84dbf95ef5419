/**
 * The two records of a result: info.txt (DVT's `FindParams:` / `FindResults:` text, Python-printed,
 * plus a `DeepVisStudio:` block) and the info.json object (everything, machine-readable), with its JSON
 * layout (long numeric series on one line).
 * Shape: `formatInfoTxt(result) => string`; `buildInfoJson(result, files, opts, meanFile, created) => object`;
 *   `toJsonText(value) => string`.
 */
import path from 'node:path'
import { DEFAULT_PARAMS, DVT_PARAM_TABLE, type FindParams } from '../params.ts'
import { infoParams } from '../../shared/param-table.ts'
import type { ImageSnapshot, OptimizeResult, RunResult } from '../result.ts'
import { meanIsImage, type InputSpec } from '../model/input-spec.ts'
import { pyFloat, pyStr, pyTuple } from './py-str.ts'
import { ALPHA_WHITE_PERCENTILE } from './render-image.ts'
import { FIND_PARAM_KEYS } from './result-prefix.ts'

/** The `format` tag of info.json; bump the number on an incompatible change. */
export const RESULT_FORMAT = 'deepvis-result@1'
/** How the `.npy` arrays are laid out (recorded in info.json as `array_layout`). */
export const ARRAY_LAYOUT = 'float32 (C, H, W), model channel order, mean-subtracted 0..255 pixel units (DVT layout)'
/** File name (after the prefix) of the transparency map (accumulated |gradient| over the run, up to the last image). */
export const ALPHA_SUFFIX = 'last_alpha.png'
/** The snapshots that get images and arrays, in the order they are written. */
export const SNAPSHOT_SLOTS = ['best', 'last', 'majority'] as const
/** Width of DVT's right-aligned keys: `'%30s: %s'` (gradient_optimizer.py `__str__`). */
const INFO_KEY_WIDTH = 30
/** DVT prints lists longer than this as `[a, b, ..., y, z]`. */
const INFO_LIST_MAX = 4
/** Significant digits of Python 2 `str(float)` (float64 values: norm, dist, std). */
const PY_STR_DIGITS = 12
/** Significant digits of old numpy `str(float32)` (activations: obj, best_obj...). */
const FLOAT32_STR_DIGITS = 6
/** Nesting indent of info.json. */
const JSON_INDENT = '  '

function infoBlock(title: string, entries: Record<string, string>): string {
  const lines = [`${title}:`]
  for (const key of Object.keys(entries).sort()) lines.push(`${key.padStart(INFO_KEY_WIDTH)}: ${entries[key]}`)
  return lines.join('\n') + '\n'
}

/** DVT's list print: `[a, b, ..., y, z]` when longer than 4, else all items. */
function infoList<T>(items: readonly T[], fmt: (v: T) => string): string {
  if (items.length > INFO_LIST_MAX) {
    return `[${fmt(items[0])}, ${fmt(items[1])}, ..., ${fmt(items[items.length - 2])}, ${fmt(items[items.length - 1])}]`
  }
  return `[${items.map(fmt).join(', ')}]`
}

/** DVT's array print, over the CHW layout: `(3, 227, 227) array [v0, v1, ...]`. */
function infoArray(x: Float32Array, spec: InputSpec): string {
  const plane = spec.height * spec.width
  // Entry i of the flattened (C, H, W) array is channel floor(i / plane) of HWC pixel i mod plane.
  const chwAt = (i: number): string => pyFloat(x[(i % plane) * spec.channels + Math.floor(i / plane)], 'float32')
  const shape = pyTuple([spec.channels, spec.height, spec.width].map(String))
  return `${shape} array [${chwAt(0)}, ${chwAt(1)}, ...]`
}

/** Activations print like old numpy float32 scalars (`71.1864`). */
const fmtObj = (v: number): string => pyFloat(v, FLOAT32_STR_DIGITS)
/** float64 statistics print like Python 2 `str(float)` (`3413.05052366`). */
const fmtStat = (v: number): string => pyFloat(v, PY_STR_DIGITS)
const fmtTuple = (t: readonly number[]): string => pyTuple(t.map(String))
const fmtBool = (b: boolean): string => (b ? 'True' : 'False')
const fmtInt = (n: number): string => String(n)

function describeInputSpec(spec: InputSpec): string {
  const fmtList = (v: ArrayLike<number>): string => pyTuple(Array.from(v, (x) => pyFloat(x, 'float32')))
  const mean = meanIsImage(spec) ? `image ${spec.height}x${spec.width}x${spec.channels}` : fmtList(spec.mean)
  return `${spec.height}x${spec.width}x${spec.channels} ${spec.channelOrder}, mean ${mean}, ` +
    `scale ${fmtList(spec.scale)}, offset ${fmtList(spec.offset)}, source ${spec.source}`
}

/**
 * The run in DVT's terms, for the files whose format is DVT's (info.txt's `FindParams:` block, info.json's
 * and run.json's `params`): a DVT result's own FindParams; for a general method's result, the unit it
 * reached (the target), its seed, iterations and learning rate as a constant policy, the rest DVT's
 * defaults, from the mean (its own parameters are in `method`).
 */
export function dvtParamsOf(result: RunResult): FindParams {
  if (!result.method) return result.params
  const p = result.method.params
  const t = result.target
  return {
    ...DEFAULT_PARAMS, start_at: 'mean', rand_seed: p.rand_seed, push_layer: t.layer, push_channel: t.channel,
    push_spatial: t.spatial, push_dir: 1, lr_policy: 'constant', lr_params: { lr: p.lr }, max_iter: p.max_iter,
  }
}

/**
 * The text of info.txt: DVT's `FindParams:` block, two blank lines (DVT prints str(params), an empty line,
 * then str(results)), DVT's `FindResults:` block, then a `DeepVisStudio:` block with what we record in
 * addition (backend, rng, input spec, target, lr and wall time per iteration). Keys right-aligned to 30.
 */
export function formatInfoTxt(result: OptimizeResult): string {
  const { target, inputSpec: spec } = result
  const params = infoParams(dvtParamsOf(result), DVT_PARAM_TABLE)
  const p: Record<string, string> = {}
  for (const k of FIND_PARAM_KEYS) if (Object.hasOwn(params, k)) p[k] = pyStr(params[k])
  // DVT's float parameters print as floats; its lr_params dict as a Python dict of floats.
  p.decay = pyFloat(params.decay, 'repr')
  p.blur_radius = pyFloat(params.blur_radius, 'repr')
  p.lr_params = `{${Object.entries(params.lr_params).map(([k, v]) => `'${k}': ${pyFloat(v, 'repr')}`).join(', ')}}`
  // DVT stores the resolved position; dense layers use (0, 0).
  p.push_spatial = fmtTuple(target.spatial ?? [0, 0])
  p.push_unit = fmtTuple(target.pushUnit)

  const s = result.series
  const r: Record<string, string> = {
    dist: infoList(s.dist, fmtStat),
    idxmax: infoList(s.idxmax, fmtTuple),
    ii: infoList(s.ii, fmtInt),
    ismax: infoList(s.ismax, fmtBool),
    meta_result: result.metaResult,
    norm: infoList(s.norm, fmtStat),
    obj: infoList(s.obj, fmtObj),
    std: infoList(s.std, fmtStat),
    x0: infoArray(result.x0, spec),
  }
  for (const slot of SNAPSHOT_SLOTS) {
    const snap = result[slot]
    // As DVT: <slot>_ii is absent when the snapshot was never taken; _obj and _xx print None.
    if (snap) r[`${slot}_ii`] = fmtInt(snap.ii)
    r[`${slot}_obj`] = snap ? fmtObj(snap.obj) : 'None'
    r[`${slot}_xx`] = snap ? infoArray(snap.x, spec) : 'None'
  }

  const ours: Record<string, string> = {
    backend: result.backend,
    rng: `${result.rng.name} seed ${result.rng.seed}`,
    input_spec: describeInputSpec(spec),
    target_layer: `${target.layer} (${target.layerType}, shape ${pyTuple(target.layerShape.map(String))})`,
    target_label: target.label ?? 'None',
    lr: infoList(s.lr, (v) => pyFloat(v, PY_STR_DIGITS)),
    wall_ms: infoList(s.wall_ms, (v) => pyFloat(v, PY_STR_DIGITS)),
    interrupted: fmtBool(result.interrupted),
    total_ms: pyFloat(result.totalMs, PY_STR_DIGITS),
  }
  return `${infoBlock('FindParams', p)}\n\n${infoBlock('FindResults', r)}\n${infoBlock('DeepVisStudio', ours)}`
}

/** Options of `saveResults`. */
export interface SaveResultsOptions {
  /** Overwrite an existing result at the same prefix (DVT's --brave). */
  brave: boolean
  /** Skip the large `.npy` arrays (DVT's --skipbig skipped info_big.pkl). */
  skipbig: boolean
  /** Host data (e.g. the command line, model path, preset name), stored under "extra" in info.json. */
  extra?: Record<string, unknown>
  /** Quality readouts of the result (cli/run-extras.ts `qualityOf`), stored under "quality" in info.json. */
  quality?: Record<string, unknown>
  /** An animated GIF of the optimization (encodeGif), written as `<prefix>optimization.gif`. */
  gif?: Uint8Array
}

function snapshotSummary(snap: ImageSnapshot | null): { ii: number; obj: number } | null {
  return snap ? { ii: snap.ii, obj: snap.obj } : null
}

/**
 * The info.json object: format tag, all params, target, input spec (mean as a list, or "image HxWxC" with
 * `mean_file` naming mean.npy, null under skipbig), backend, rng, meta_result, best/last/majority {ii, obj}
 * (null when absent; `majority_reached`), every per-iteration series (non-finite numbers become null in
 * JSON), interrupted, total_ms, array_layout (null under skipbig), the file names written (relative to the
 * prefix's folder), the creation time and the host's `extra`.
 */
export function buildInfoJson(
  result: OptimizeResult, files: string[], opts: SaveResultsOptions, meanFile: string | null, created: Date,
): Record<string, unknown> {
  const spec = result.inputSpec
  const t = result.target
  return {
    format: RESULT_FORMAT,
    created: created.toISOString(),
    params: infoParams(dvtParamsOf(result), DVT_PARAM_TABLE),
    method: result.method,
    target: {
      layer: t.layer, layer_type: t.layerType, layer_shape: t.layerShape, channel: t.channel,
      spatial: t.spatial, push_unit: t.pushUnit, label: t.label,
    },
    input_spec: {
      height: spec.height, width: spec.width, channels: spec.channels, channel_order: spec.channelOrder,
      mean: meanIsImage(spec) ? `image ${spec.height}x${spec.width}x${spec.channels}` : Array.from(spec.mean),
      mean_file: meanFile,
      scale: spec.scale, offset: spec.offset, source: spec.source,
      label_count: spec.labels ? spec.labels.length : null,
    },
    backend: result.backend,
    rng: result.rng,
    meta_result: result.metaResult,
    majority_reached: result.majority !== null,
    best: snapshotSummary(result.best),
    last: snapshotSummary(result.last),
    majority: snapshotSummary(result.majority),
    series: result.series,
    interrupted: result.interrupted,
    total_ms: result.totalMs,
    ...(result.alpha ? { alpha: { file: path.basename(ALPHA_SUFFIX), evaluations: result.alpha.evaluations, white_percentile: ALPHA_WHITE_PERCENTILE, max: result.alpha.data.reduce((m, v) => Math.max(m, v), 0) } } : {}),
    array_layout: opts.skipbig ? null : ARRAY_LAYOUT,
    files,
    quality: opts.quality ?? null,
    extra: opts.extra ?? {},
  }
}

/** JSON with 2-space nesting, but arrays of numbers/booleans/short tuples kept on one line (long series). */
export function toJsonText(value: unknown, indent = ''): string {
  const inner = indent + JSON_INDENT
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((w) => typeof w !== 'object')))) {
      return JSON.stringify(value)
    }
    return `[\n${value.map((v) => inner + toJsonText(v, inner)).join(',\n')}\n${indent}]`
  }
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    if (entries.length === 0) return '{}'
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toJsonText(v, inner)}`).join(',\n')}\n${indent}}`
  }
  return JSON.stringify(value) ?? 'null'
}
