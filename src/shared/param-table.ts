/**
 * A method's parameters as one table of plain data: the single source for validation (engine), the CLI's flags
 * and --help (cli), the IPC schema's bounds (ipc-schemas.ts), the info.txt / info.json keys and the app's fields.
 * Pure data with no imports, so that the engine, the hosts and the renderer can all read it.
 * Shape: `ParamRow`; `rowRangeError(row, value) => string | null`; `presetsSetting(key, presets)`.
 */

/** boolean: a '--no-x' flag that turns x off; numbers: one number or a comma-separated list. */
export type ParamKind = 'number' | 'integer' | 'choice' | 'string' | 'spatial' | 'dict' | 'boolean' | 'numbers'

export interface ParamRow {
  /** Field name in the params object (DVT's names verbatim), and in info.txt / info.json. */
  key: string
  kind: ParamKind
  /** Default value; undefined = comes from the model (the unit). */
  default?: unknown
  /** Inclusive bounds (number, integer). */
  min?: number
  max?: number
  /** Refuse 0 (push_dir). */
  nonZero?: boolean
  /** The values a choice takes. */
  choices?: readonly string[]
  /** Unit of the value, written after the range in messages ('pixels', '%'). */
  unit?: string
  /** Short label for the app's field. */
  label: string
  /** One line for --help and the app's tooltip. */
  help: string
  /** CLI flag, e.g. '--blur-radius', and its value placeholder. */
  flag: string
  valueName: string
  /** Other flag spellings accepted for the same field (another tool's name for it). */
  aliases?: readonly string[]
  /** The general methods read it too (the unit, the seed, the iterations): not refused for them. */
  shared?: boolean
  /** Error code of a bad value (default BAD_PARAM). */
  code?: 'BAD_PARAM' | 'BAD_UNIT'
  /** Regularizers: the app's regularizer panel lists them. */
  regularizer?: boolean
  /**
   * 'when-set': written to info.txt / info.json only when it differs from its default. For fields added after
   * DVT's own set, so that DVT-compatible results (and results written before the field existed) read the same.
   */
  info?: 'always' | 'when-set'
}

/** The message for a number or integer outside its row's range (null when fine, or when the row has no range). */
export function rowRangeError(row: ParamRow, value: unknown): string | null {
  if (row.kind !== 'number' && row.kind !== 'integer') return null
  const v = value as number
  const lo = row.min ?? -Infinity
  const hi = row.max ?? Infinity
  const ok = typeof v === 'number' && Number.isFinite(v) && (row.kind === 'number' || Number.isInteger(v)) && v >= lo && v <= hi && !(row.nonZero && v === 0)
  if (ok) return null
  const unit = row.unit ? ` ${row.unit}` : ''
  if (row.kind === 'integer') {
    if (row.min !== undefined && row.max !== undefined) return `${row.key} must be an integer in ${row.min}..${row.max}${unit}; got ${v}`
    if (row.min === 0) return `${row.key} must be a non-negative integer${unit}; got ${v}`
    return `${row.key} must be an integer >= ${lo}${unit}; got ${v}`
  }
  if (row.nonZero) return `${row.key} must be a non-zero number (${row.help}); got ${v}`
  if (row.min !== undefined && row.max !== undefined) return `${row.key} must be in [${row.min}, ${row.max}]${unit}; got ${v}`
  return `${row.key} must be a number >= ${lo}${unit}; got ${v}`
}

/** Names of the presets that set `key`. */
export function presetsSetting(key: string, presets: Record<string, { params: object }>): string[] {
  return Object.entries(presets).filter(([, p]) => Object.hasOwn(p.params, key)).map(([name]) => name)
}

/** Drop the 'when-set' fields that are at their default (what info.txt / info.json write). */
export function infoParams<T extends object>(params: T, table: readonly ParamRow[]): T {
  const out = { ...params } as Record<string, unknown>
  for (const row of table) {
    if (row.info === 'when-set' && JSON.stringify(out[row.key]) === JSON.stringify(row.default)) delete out[row.key]
  }
  return out as T
}
