/**
 * FindParams: the optimization parameters of DVT's `optimize_image.py`, with DVT's field names kept
 * verbatim (snake_case) so that info.txt / info.json read like DVT's and a researcher can map flags 1:1.
 * Shape: `resolveParams(partial) => FindParams` (defaults + validation); `PRESETS[name]` partial params.
 */
import JSON5 from 'json5'
import { check, DeepVisError } from '../shared/errors.ts'
import {
  DEFAULT_PARAMS, LR_POLICIES, LR_POLICY_KEYS, PRESETS, START_MODES,
  type FindParams, type LrParams, type Preset,
} from '../shared/dvt-params.ts'

export {
  DEFAULT_PARAMS, LR_POLICIES, LR_POLICY_KEYS, PRESETS, START_MODES,
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

const PERCENTILE_FIELDS = [
  'small_val_percentile', 'small_norm_percentile', 'px_benefit_percentile', 'px_abs_benefit_percentile',
] as const

/** Fill defaults and validate every field; throws DeepVisError('BAD_PARAM') naming the bad value. */
/** Largest blur radius (sigma, pixels) accepted: its kernel (8 sigma + 1 wide) still fits a 4096-pixel image. */
export const MAX_BLUR_RADIUS = 500

export function resolveParams(partial: Partial<FindParams> & Pick<FindParams, 'push_layer' | 'push_channel'>): FindParams {
  const p: FindParams = { ...DEFAULT_PARAMS, ...partial, lr_params: { ...(partial.lr_params ?? DEFAULT_PARAMS.lr_params) } }
  check((START_MODES as readonly string[]).includes(p.start_at), () => `start_at must be one of ${START_MODES.join(', ')}; got '${p.start_at}'`)
  check(Number.isInteger(p.rand_seed) && p.rand_seed >= 0 && p.rand_seed <= 0xffffffff, () => `rand_seed must be an integer in 0..4294967295; got ${p.rand_seed}`)
  check(typeof p.push_layer === 'string' && p.push_layer.length > 0, () => 'push_layer must be a non-empty layer name')
  check(Number.isInteger(p.push_channel) && p.push_channel >= 0, () => `push_channel must be a non-negative integer; got ${p.push_channel}`, 'BAD_UNIT')
  if (p.push_spatial !== null) {
    check(
      Array.isArray(p.push_spatial) && p.push_spatial.length === 2 && p.push_spatial.every((v) => Number.isInteger(v) && v >= 0),
      () => `push_spatial must be two non-negative integers (y, x); got ${JSON.stringify(p.push_spatial)}`,
      'BAD_UNIT',
    )
  }
  check(Number.isFinite(p.push_dir) && p.push_dir !== 0, () => `push_dir must be a non-zero number (1 maximizes, -1 minimizes); got ${p.push_dir}`)
  check(Number.isFinite(p.decay) && p.decay >= 0 && p.decay <= 1, () => `decay must be in [0, 1]; got ${p.decay}`)
  check(Number.isFinite(p.blur_radius) && p.blur_radius >= 0 && p.blur_radius <= MAX_BLUR_RADIUS,
    () => `blur_radius must be in [0, ${MAX_BLUR_RADIUS}] pixels; got ${p.blur_radius}`)
  check(Number.isInteger(p.blur_every) && p.blur_every >= 0, () => `blur_every must be a non-negative integer; got ${p.blur_every}`)
  for (const f of PERCENTILE_FIELDS) {
    check(Number.isFinite(p[f]) && p[f] >= 0 && p[f] <= 100, () => `${f} must be in [0, 100]; got ${p[f]}`)
  }
  check((LR_POLICIES as readonly string[]).includes(p.lr_policy), () => `lr_policy must be one of ${LR_POLICIES.join(', ')}; got '${p.lr_policy}'`)
  const required = LR_POLICY_KEYS[p.lr_policy]
  const keys = Object.keys(p.lr_params)
  for (const k of required) {
    check(k in p.lr_params, () => `lr_policy '${p.lr_policy}' requires lr_params keys ${required.join(', ')}; missing '${k}' in ${JSON.stringify(p.lr_params)}`)
    check(p.lr_params[k] > 0, () => `lr_params '${k}' must be > 0; got ${p.lr_params[k]}`)
  }
  for (const k of keys) {
    check(required.includes(k), () => `lr_params key '${k}' is not used by lr_policy '${p.lr_policy}' (allowed: ${required.join(', ')})`)
  }
  check(Number.isInteger(p.max_iter) && p.max_iter >= 1, () => `max_iter must be an integer >= 1; got ${p.max_iter}`)
  return p
}
