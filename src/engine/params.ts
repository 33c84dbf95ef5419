/**
 * FindParams: the optimization parameters of DVT's `optimize_image.py`, with DVT's field names kept
 * verbatim (snake_case) so that info.txt / info.json read like DVT's and a researcher can map flags 1:1.
 * Shape: `resolveParams(partial) => FindParams` (defaults + validation); `PRESETS[name]` partial params.
 */
import JSON5 from 'json5'
import { check, DeepVisError } from '../shared/errors.ts'
import {
  DEFAULT_PARAMS, DVT_PARAM_TABLE, LR_POLICIES, LR_POLICY_KEYS, MAX_BLUR_RADIUS, PRESETS, START_MODES,
  type FindParams, type LrParams, type Preset,
} from '../shared/dvt-params.ts'
import { rowRangeError } from '../shared/param-table.ts'

export {
  DEFAULT_PARAMS, DVT_PARAM_TABLE, LR_POLICIES, LR_POLICY_KEYS, PRESETS, START_MODES,
}
export type { FindParams, LrParams, LrPolicy, Preset, StartAt } from '../shared/dvt-params.ts'

export function presetNames(): string[] {
  return Object.keys(PRESETS)
}

export function getPreset(name: string): Preset {
  const preset = PRESETS[name]
  if (!preset) {
    throw new DeepVisError('BAD_PARAM', `unknown preset '${name}'; available: ${presetNames().join(', ')}`)
  }
  return preset
}

/**
 * Parse `--lr-params`: JSON, or the Python-dict spelling of the DVT docs ("{'lr': 100.0}").
 * Parsed as data (JSON5), never evaluated.
 */
export function parseLrParams(text: string): LrParams {
  let value: unknown
  try {
    value = JSON5.parse(text.trim())
  } catch {
    throw new DeepVisError(
      'BAD_PARAM',
      `cannot parse --lr-params ${JSON.stringify(text)}: expected a dict such as "{'lr': 100.0}" or '{"max_lr": 100, "desired_prog": 2}'`,
    )
  }
  check(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    () => `--lr-params ${JSON.stringify(text)} must be a dict of numbers, e.g. "{'lr': 100.0}"`,
  )
  const out: LrParams = {}
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    check(typeof v === 'number' && Number.isFinite(v), () => `--lr-params: '${key}' must be a finite number, got ${JSON.stringify(v)}`)
    out[key] = v as number
  }
  return out
}

/** Largest blur radius (sigma, pixels) accepted: its kernel (8 sigma + 1 wide) still fits a 4096-pixel image. */
export { MAX_BLUR_RADIUS }

/**
 * Fill defaults and validate every field; throws DeepVisError('BAD_PARAM') naming the bad value (BAD_UNIT for
 * the unit). Ranges come from DVT_PARAM_TABLE (the same rows bound the IPC schema and make the CLI flags).
 */
export function resolveParams(partial: Partial<FindParams> & Pick<FindParams, 'push_layer' | 'push_channel'>): FindParams {
  const p: FindParams = { ...DEFAULT_PARAMS, ...partial, lr_params: { ...(partial.lr_params ?? DEFAULT_PARAMS.lr_params) } }
  const values = p as unknown as Record<string, unknown>
  for (const row of DVT_PARAM_TABLE) {
    if (row.kind === 'choice') check((row.choices ?? []).includes(values[row.key] as string), () => `${row.key} must be one of ${row.choices!.join(', ')}; got '${values[row.key]}'`)
    const bad = rowRangeError(row, values[row.key])
    if (bad) throw new DeepVisError(row.code ?? 'BAD_PARAM', bad)
  }
  check(typeof p.push_layer === 'string' && p.push_layer.length > 0, () => 'push_layer must be a non-empty layer name')
  if (p.push_spatial !== null) {
    check(
      Array.isArray(p.push_spatial) && p.push_spatial.length === 2 && p.push_spatial.every((v) => Number.isInteger(v) && v >= 0),
      () => `push_spatial must be two non-negative integers (y, x); got ${JSON.stringify(p.push_spatial)}`,
      'BAD_UNIT',
    )
  }
  const required = LR_POLICY_KEYS[p.lr_policy]
  const keys = Object.keys(p.lr_params)
  for (const k of required) {
    check(k in p.lr_params, () => `lr_policy '${p.lr_policy}' requires lr_params keys ${required.join(', ')}; missing '${k}' in ${JSON.stringify(p.lr_params)}`)
    check(p.lr_params[k] > 0, () => `lr_params '${k}' must be > 0; got ${p.lr_params[k]}`)
  }
  for (const k of keys) {
    check(required.includes(k), () => `lr_params key '${k}' is not used by lr_policy '${p.lr_policy}' (allowed: ${required.join(', ')})`)
  }
  return p
}
