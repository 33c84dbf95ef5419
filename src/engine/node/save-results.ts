/**
 * Saving one optimization result the way DVT's `save_results` does (GO L356-397), with open formats:
 * PNG instead of JPEG, `info.json` + `.npy` arrays instead of pickles, and atomic writes.
 * Shapes:
 *   resultPrefix(outputPrefix, outputTemplate, params) => string        "<output_prefix>_<template>_"
 *   checkCanWrite(prefix, brave) => void                                 throws DeepVisError('OUTPUT_EXISTS')
 *   saveResults(result, prefix, {brave, skipbig, extra?}) => Promise<string[]>   the final paths written
 *   renderX(x, spec) / renderXpm(x, spec) => Uint8Array                  RGB bytes of best_X / best_Xpm
 *   formatInfoTxt(result) => string;  buildInfoJson(result, files, opts) => object
 * Files, for each of best / last / majority that exists: `<prefix>best_X.png` (norm01c, mean at mid-grey),
 * `<prefix>best_Xpm.png` (x + mean, norm01-stretched); then `<prefix>info.txt` (DVT's text), unless skipbig
 * `<prefix>x0.npy`, `best.npy`, `last.npy`, `majority.npy` (float32 (C, H, W), model channel order, as
 * DVT's arrays; plus `mean.npy` when the mean is an image), and `<prefix>info.json` LAST: its presence
 * marks a complete result. Node-only (fs, sharp).
 */
import { randomBytes } from 'node:crypto'
import { existsSync, statSync, unlinkSync } from 'node:fs'
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { sprintf } from 'sprintf-js'
import { DeepVisError } from '../../shared/errors.ts'
import { DVT_PARAM_TABLE, type FindParams } from '../params.ts'
import { infoParams } from '../../shared/param-table.ts'
import type { ImageSnapshot, OptimizeResult } from '../result.ts'
import { channelSwapToRgb, meanIsImage, type InputSpec } from '../model/input-spec.ts'
import { encodeNpy, hwcToChw } from './npy.ts'

/** DVT's default `--output-prefix`. */
export const DEFAULT_OUTPUT_PREFIX = 'optimize_results/opt'
/** DVT's default `--output-template` (Python %-formatting over `p.<param>` keys). */
export const DEFAULT_OUTPUT_TEMPLATE = '%(p.push_layer)s_%(p.push_channel)04d_%(p.rand_seed)d'
/** The `format` tag of info.json; bump the number on an incompatible change. */
export const RESULT_FORMAT = 'deepvis-result@1'
/** Written last: a prefix with this file holds a complete result. */
export const INFO_JSON = 'info.json'
/** DVT's human-readable record (its presence also blocks an overwrite, as in DVT). */
export const INFO_TXT = 'info.txt'
/** File name (after the prefix) of the optimization's animated GIF. */
export const GIF_SUFFIX = 'optimization.gif'
/** How the `.npy` arrays are laid out (recorded in info.json as `array_layout`). */
export const ARRAY_LAYOUT = 'float32 (C, H, W), model channel order, mean-subtracted 0..255 pixel units (DVT layout)'

/** File name (after the prefix) of the transparency map (accumulated |gradient| over the run, up to the last image). */
export const ALPHA_SUFFIX = 'last_alpha.png'
/** The alpha PNG maps this percentile of the accumulated map to white (a few hot pixels would otherwise leave the rest black). */
export const ALPHA_WHITE_PERCENTILE = 99

/** The snapshots that get images and arrays, in the order they are written. */
export const SNAPSHOT_SLOTS = ['best', 'last', 'majority'] as const

/** Denominator guard of DVT's norm01 / norm01c (image_misc.py). */
const NORM_EPS = 1e-10
const UINT8_MAX = 255
/** Width of DVT's right-aligned keys: `'%30s: %s'` (gradient_optimizer.py `__str__`). */
const INFO_KEY_WIDTH = 30
/** DVT prints lists longer than this as `[a, b, ..., y, z]`. */
const INFO_LIST_MAX = 4
/** Significant digits of Python 2 `str(float)` (float64 values: norm, dist, std). */
const PY_STR_DIGITS = 12
/** Significant digits of old numpy `str(float32)` (activations: obj, best_obj...). */
const FLOAT32_STR_DIGITS = 6
/** Python's repr switches to exponent notation from 1e16 on. */
const PY_REPR_EXP_MAX = 16
/** %g and repr switch to exponent notation below 1e-4. */
const PY_EXP_MIN = -4
/** Enough significant digits to round-trip any float32. */
const FLOAT32_MAX_DIGITS = 9
/** Characters kept in values substituted into the file-name template; others become '_'. */
const UNSAFE_FILENAME_CHARS = /[^A-Za-z0-9._-]/g
/** Nesting indent of info.json. */
const JSON_INDENT = '  '

/** Every FindParams key, from DVT's parameter table: the allowed `p.<key>` template keys and info.txt's FindParams block. */
const FIND_PARAM_KEYS = DVT_PARAM_TABLE.map((r) => r.key) as (keyof FindParams)[]
const FIND_PARAM_KEY_SET = new Set<string>(FIND_PARAM_KEYS)

// ---------------------------------------------------------------------------------------------------------
// Prefix and overwrite protection

/** A value as Python's `str()` would print it (tuples for arrays, None for null, dict repr for objects). */
function pyStr(value: unknown): string {
  if (typeof value === 'string') return value
  return pyRepr(value)
}

/** A value as Python's `repr()` would print it. Integral numbers print as ints, others as float repr. */
function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None'
  if (typeof value === 'boolean') return value ? 'True' : 'False'
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloat(value, 'repr')
  if (typeof value === 'string') return `'${value}'`
  if (Array.isArray(value)) return pyTuple(value.map(pyRepr))
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `'${k}': ${pyRepr(v)}`).join(', ')}}`
  }
  return String(value)
}

function pyTuple(items: string[]): string {
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`
}

/**
 * A float formatted as Python prints it: `'repr'` = shortest round-trip (Python 2.7 repr),
 * `'float32'` = shortest string that round-trips as float32, a number = `'%.<n>g'` (Python 2 str uses 12).
 * Integral values keep a trailing '.0'; exponents have at least two digits (`1e-05`).
 */
export function pyFloat(v: number, style: 'repr' | 'float32' | number): string {
  if (Number.isNaN(v)) return 'nan'
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf'
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0'
  let exp: string
  if (style === 'repr') exp = v.toExponential()
  else if (style === 'float32') {
    const f = Math.fround(v)
    exp = f.toExponential(FLOAT32_MAX_DIGITS - 1)
    for (let digits = 1; digits <= FLOAT32_MAX_DIGITS; digits++) {
      const candidate = f.toExponential(digits - 1)
      if (Math.fround(Number(candidate)) === f) { exp = candidate; break }
    }
  } else exp = v.toExponential(style - 1)
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp)
  if (!m) return String(v)
  const sign = m[1]
  const digits = (m[2] + (m[3] ?? '')).replace(/0+$/, '') || '0'
  const e = Number(m[4])
  const expMax = typeof style === 'number' ? style : PY_REPR_EXP_MAX
  if (e < PY_EXP_MIN || e >= expMax) {
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${sign}${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`
  }
  if (e >= 0) {
    const intPart = digits.slice(0, e + 1).padEnd(e + 1, '0')
    const frac = digits.slice(e + 1)
    return `${sign}${intPart}.${frac || '0'}`
  }
  return `${sign}0.${'0'.repeat(-e - 1)}${digits}`
}

/** A template value made safe for a file name: numbers stay numbers (for %d), the rest is sanitized text. */
function templateValue(value: unknown): string | number {
  if (typeof value === 'number') return value
  return pyStr(value).replace(UNSAFE_FILENAME_CHARS, '_')
}

function badTemplate(template: string, why: string): DeepVisError {
  const allowed = FIND_PARAM_KEYS.map((k) => `p.${k}`).join(', ')
  return new DeepVisError('BAD_PARAM', `bad --output-template ${JSON.stringify(template)}: ${why}; allowed keys: ${allowed}`)
}

/**
 * DVT's result prefix `<outputPrefix>_<template>_`, the template %-formatted with `p.<param>` keys
 * (sprintf-js named placeholders: `%(p.push_layer)s`, `%(p.push_channel)04d`). Substituted values are
 * sanitized for file names (any character outside [A-Za-z0-9._-] becomes '_', so `loss3/classifier`
 * gives `loss3_classifier`). If `outputPrefix` is an existing directory or ends with '/', the files go
 * inside it: `<dir>/<template>_`. DVT's `r.<result>` keys are not available: the prefix is fixed before
 * the run so that an overwrite can be refused up front.
 * Throws DeepVisError('BAD_PARAM') for an unknown key or bad syntax.
 * @example resultPrefix(DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE, params) // 'optimize_results/opt_fc8_0130_0_'
 */
export function resultPrefix(outputPrefix: string, outputTemplate: string, params: FindParams): string {
  const placeholders = /%%|%\(([^)]*)\)|%/g
  for (const m of outputTemplate.matchAll(placeholders)) {
    if (m[0] === '%%') continue
    if (m[1] === undefined) throw badTemplate(outputTemplate, `a bare '%' at offset ${m.index ?? 0} (use %(p.<param>)s, or %% for a literal %)`)
    const key = m[1]
    if (!(key.startsWith('p.') && FIND_PARAM_KEY_SET.has(key.slice(2)))) {
      throw badTemplate(outputTemplate, `unknown key '${key}'`)
    }
  }
  const p: Record<string, string | number> = {}
  for (const k of FIND_PARAM_KEYS) p[k] = templateValue(params[k])
  let name: string
  try {
    name = sprintf(outputTemplate, { p })
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/^\[sprintf\]\s*/, '') : String(err)
    throw badTemplate(outputTemplate, why)
  }
  if (isDirectoryPrefix(outputPrefix)) {
    // Strip trailing separators ('/' alone becomes '', giving '/<name>_').
    return `${outputPrefix.replace(/[\\/]+$/, '')}/${name}_`
  }
  return `${outputPrefix}_${name}_`
}

export function isDirectoryPrefix(outputPrefix: string): boolean {
  if (outputPrefix.endsWith('/') || outputPrefix.endsWith(path.sep)) return true
  try {
    return statSync(outputPrefix).isDirectory()
  } catch {
    return false
  }
}

/**
 * Refuse to overwrite an existing result (DVT: "Cowardly refusing to overwrite"): throws
 * DeepVisError('OUTPUT_EXISTS') when `<prefix>info.json` or `<prefix>info.txt` exists and not `brave`.
 * Hosts call it before optimizing so no time is wasted; `saveResults` calls it again.
 */
export function checkCanWrite(prefix: string, brave: boolean): void {
  if (brave) return
  for (const suffix of [INFO_JSON, INFO_TXT]) {
    const file = prefix + suffix
    if (existsSync(file)) {
      throw new DeepVisError('OUTPUT_EXISTS', `refusing to overwrite existing result ${file} (pass --brave to overwrite)`)
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Images

/** Round half to even, as OpenCV's saturate_cast (cvRound) does when DVT writes `255 * img`. */
function roundHalfEven(v: number): number {
  const r = Math.round(v)
  return Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : r
}

function toUint8(v: number): number {
  if (!Number.isFinite(v)) return 0
  return Math.min(UINT8_MAX, Math.max(0, roundHalfEven(v * UINT8_MAX)))
}

function finiteRange(v: Float32Array): { min: number; max: number } {
  let min = Infinity
  let max = -Infinity
  for (const x of v) {
    if (!Number.isFinite(x)) continue
    if (x < min) min = x
    if (x > max) max = x
  }
  return min <= max ? { min, max } : { min: 0, max: 0 }
}

/**
 * DVT's `norm01c(v, 0)` then ×255: v' = v / (max(2·max v, −2·min v) + 1e-10) + 0.5, so 0 (the mean) is
 * mid-grey (128) and the largest |v| reaches 0 or 255. Non-finite values become 0.
 */
export function norm01c(v: Float32Array): Uint8Array {
  const { min, max } = finiteRange(v)
  const scale = Math.max(2 * max, -2 * min) + NORM_EPS
  const out = new Uint8Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = toUint8(v[i] / scale + 0.5)
  return out
}

/** DVT's `norm01` then ×255: (v − min) / (max − min + 1e-10), a stretch (not a clip) to 0..255. */
export function norm01(v: Float32Array): Uint8Array {
  const { min, max } = finiteRange(v)
  const span = max - min + NORM_EPS
  const out = new Uint8Array(v.length)
  for (let i = 0; i < v.length; i++) out[i] = toUint8((v[i] - min) / span)
  return out
}

/** HWC model-order x (optionally + mean) → HWC RGB floats, with DVT's channel_swap_to_rgb. */
function toRgb(x: Float32Array, spec: InputSpec, addMean: boolean): Float32Array {
  const { height, width, channels } = spec
  if (channels !== 3) throw new DeepVisError('INTERNAL', `images need 3 channels; the input spec has ${channels}`)
  const pixels = height * width
  if (x.length !== pixels * channels) {
    throw new DeepVisError('INTERNAL', `image has ${x.length} values; the input spec ${height}x${width}x${channels} needs ${pixels * channels}`)
  }
  const swap = channelSwapToRgb(spec.channelOrder)
  const fullMean = meanIsImage(spec)
  const out = new Float32Array(pixels * 3)
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < 3; k++) {
      const src = p * channels + swap[k]
      out[p * 3 + k] = x[src] + (addMean ? spec.mean[fullMean ? src : swap[k]] : 0)
    }
  }
  return out
}

/** RGB bytes (HWC) of `best_X`: x in RGB order, centred-normalized by norm01c (the mean is mid-grey). */
export function renderX(x: Float32Array, spec: InputSpec): Uint8Array {
  return norm01c(toRgb(x, spec, false))
}

/** RGB bytes (HWC) of `best_Xpm`: x + mean (per channel or full image) in RGB order, stretched by norm01. */
export function renderXpm(x: Float32Array, spec: InputSpec): Uint8Array {
  return norm01(toRgb(x, spec, true))
}

/**
 * Grey RGB bytes of a transparency map (H*W): value / (its ALPHA_WHITE_PERCENTILE-th percentile, nearest rank),
 * clipped to 1, times 255; an all-zero map is black.
 */
export function renderAlpha(a: Float32Array): Uint8Array {
  const sorted = Float32Array.from(a).sort()
  const white = sorted[Math.min(sorted.length - 1, Math.floor((ALPHA_WHITE_PERCENTILE / 100) * sorted.length))]
  const out = new Uint8Array(a.length * 3)
  for (let i = 0; i < a.length; i++) {
    const v = white > 0 ? Math.round(Math.min(1, Math.max(0, a[i] / white)) * UINT8_MAX) : 0
    out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = v
  }
  return out
}

/** PNG bytes of RGB bytes (HWC) of the input's size. */
export async function encodePng(rgb: Uint8Array, spec: InputSpec): Promise<Uint8Array> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), {
    raw: { width: spec.width, height: spec.height, channels: 3 },
  }).png().toBuffer()
}

// ---------------------------------------------------------------------------------------------------------
// info.txt

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
 * The text of info.txt: DVT's `FindParams:` block, two blank lines (DVT prints str(params), an empty line,
 * then str(results)), DVT's `FindResults:` block, then a `DeepVisStudio:` block with what we record in
 * addition (backend, rng, input spec, target, lr and wall time per iteration). Keys right-aligned to 30.
 */
export function formatInfoTxt(result: OptimizeResult): string {
  const { target, inputSpec: spec } = result
  const params = infoParams(result.params, DVT_PARAM_TABLE)
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

// ---------------------------------------------------------------------------------------------------------
// info.json

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
    params: infoParams(result.params, DVT_PARAM_TABLE),
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
function toJsonText(value: unknown, indent = ''): string {
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

// ---------------------------------------------------------------------------------------------------------
// Atomic writing

interface PendingFile {
  /** Appended to the prefix: `best_X.png`, `info.json`... */
  suffix: string
  bytes: Uint8Array
}

/** Every file name a result may have, so that leftovers of an earlier result at the prefix can be removed. */
const KNOWN_SUFFIXES: readonly string[] = [
  ...SNAPSHOT_SLOTS.flatMap((s) => [`${s}_X.png`, `${s}_Xpm.png`]),
  INFO_TXT, GIF_SUFFIX, ALPHA_SUFFIX, 'x0.npy', ...SNAPSHOT_SLOTS.map((s) => `${s}.npy`), 'mean.npy', INFO_JSON,
]

function chwNpy(x: Float32Array, spec: InputSpec): Uint8Array {
  return encodeNpy(hwcToChw(x, spec.height, spec.width, spec.channels), [spec.channels, spec.height, spec.width])
}

function tempNameFor(finalPath: string): string {
  const rand = randomBytes(4).toString('hex')
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.tmp-${process.pid}-${rand}`)
}

/** Our temporary files' names: `.<final name>.tmp-<pid>-<8 hex>` (nothing else is ever swept). */
const TEMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-f]{8}$/

/** Temporary files this process is writing now: removed by `removeTempFilesSync` on a fatal signal. */
const liveTemps = new Set<string>()

/**
 * Remove this process's temporary files at once (synchronously: for a signal handler that then exits).
 * @example process.on('SIGTERM', () => { removeTempFilesSync(); process.exit(143) })
 */
export function removeTempFilesSync(): void {
  for (const f of liveTemps) {
    try { unlinkSync(f) } catch { /* already renamed or gone */ }
  }
  liveTemps.clear()
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Remove the temporary files that a killed writer (its process gone: kill -9, a crash) left in `dir`.
 * Only names of our own pattern whose process no longer runs are removed; returns their names.
 */
export async function sweepStaleTempFiles(dir: string): Promise<string[]> {
  let names: string[]
  try { names = await readdir(dir) } catch { return [] }
  const removed: string[] = []
  for (const name of names) {
    const m = TEMP_NAME.exec(name)
    if (!m || processAlive(Number(m[1]))) continue
    const file = path.join(dir, name)
    try {
      if (!(await lstat(file)).isFile()) continue
      await rm(file, { force: true })
      removed.push(name)
    } catch { /* raced with another sweeper */ }
  }
  return removed
}

async function writeDurably(file: string, bytes: Uint8Array): Promise<void> {
  liveTemps.add(file)
  const fh = await open(file, 'wx')
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Write one file atomically: a hidden temporary name in the same folder, flushed, then renamed;
 * the temporary file is removed on failure.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const temp = tempNameFor(file)
  try {
    await writeDurably(temp, bytes)
    await rename(temp, file)
    liveTemps.delete(temp)
  } catch (e) {
    await removeQuietly(temp)
    throw e
  }
}

async function removeQuietly(file: string): Promise<void> {
  await rm(file, { force: true }).catch(() => undefined)
  liveTemps.delete(file)
}

function outputDir(prefix: string): string {
  return prefix.endsWith('/') || prefix.endsWith(path.sep) ? prefix : path.dirname(prefix)
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Write one result under `prefix` (see the module header for the file list) and return the final paths,
 * info.json last. Refuses an existing result unless `brave` (DeepVisError 'OUTPUT_EXISTS'). Every file is
 * first written to a hidden temporary name in the same folder, then renamed; an existing info.json is
 * removed before the first rename and the new one renamed last, so a folder with info.json always holds
 * a complete, consistent result. Files of an earlier result at this prefix that this result does not
 * have (e.g. majority_X.png, or .npy under skipbig) are removed. On failure nothing of the new result is
 * left (temporary and already-renamed files are removed) and a DeepVisError names the prefix and cause.
 * @example await saveResults(result, resultPrefix(DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE, result.params), {brave: false, skipbig: false})
 */
export async function saveResults(result: OptimizeResult, prefix: string, opts: SaveResultsOptions): Promise<string[]> {
  checkCanWrite(prefix, opts.brave)
  const spec = result.inputSpec
  const pending: PendingFile[] = []
  for (const slot of SNAPSHOT_SLOTS) {
    const snap = result[slot]
    if (!snap) continue
    pending.push({ suffix: `${slot}_X.png`, bytes: await encodePng(renderX(snap.x, spec), spec) })
    pending.push({ suffix: `${slot}_Xpm.png`, bytes: await encodePng(renderXpm(snap.x, spec), spec) })
  }
  if (result.alpha) pending.push({ suffix: ALPHA_SUFFIX, bytes: await encodePng(renderAlpha(result.alpha.data), spec) })
  pending.push({ suffix: INFO_TXT, bytes: Buffer.from(formatInfoTxt(result), 'utf8') })
  if (opts.gif) pending.push({ suffix: GIF_SUFFIX, bytes: opts.gif })
  let meanFile: string | null = null
  if (!opts.skipbig) {
    pending.push({ suffix: 'x0.npy', bytes: chwNpy(result.x0, spec) })
    for (const slot of SNAPSHOT_SLOTS) {
      const snap = result[slot]
      if (snap) pending.push({ suffix: `${slot}.npy`, bytes: chwNpy(snap.x, spec) })
    }
    if (meanIsImage(spec)) {
      pending.push({ suffix: 'mean.npy', bytes: chwNpy(spec.mean, spec) })
      meanFile = path.basename(`${prefix}mean.npy`)
    }
  }
  const names = [...pending.map((f) => path.basename(prefix + f.suffix)), path.basename(prefix + INFO_JSON)]
  const info = buildInfoJson(result, names, opts, meanFile, new Date())
  pending.push({ suffix: INFO_JSON, bytes: Buffer.from(toJsonText(info) + '\n', 'utf8') })

  try {
    await mkdir(outputDir(prefix), { recursive: true })
  } catch (err) {
    throw new DeepVisError('BAD_PARAM', `cannot create the output folder for '${prefix}': ${errorText(err)}`)
  }
  // What an earlier, killed writer left here goes first.
  await sweepStaleTempFiles(outputDir(prefix))

  const temps = pending.map((f) => ({ final: prefix + f.suffix, temp: tempNameFor(prefix + f.suffix), bytes: f.bytes }))
  const renamed: string[] = []
  try {
    for (const t of temps) await writeDurably(t.temp, t.bytes)
    // From here on the old result (if any, under --brave) is being replaced: unmark it as complete first.
    await rm(prefix + INFO_JSON, { force: true })
    const infoJson = temps[temps.length - 1]
    for (const t of temps.slice(0, -1)) {
      await rename(t.temp, t.final)
      liveTemps.delete(t.temp)
      renamed.push(t.final)
    }
    const written = new Set(temps.map((t) => t.final))
    for (const suffix of KNOWN_SUFFIXES) {
      if (!written.has(prefix + suffix)) await rm(prefix + suffix, { force: true })
    }
    await rename(infoJson.temp, infoJson.final)
    liveTemps.delete(infoJson.temp)
    renamed.push(infoJson.final)
  } catch (err) {
    await Promise.all([...temps.map((t) => removeQuietly(t.temp)), ...renamed.map(removeQuietly)])
    throw new DeepVisError('INTERNAL', `could not save the result '${prefix}' (nothing was kept): ${errorText(err)}`)
  }
  return renamed
}
