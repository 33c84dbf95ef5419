/**
 * Where a result goes and whether it may: DVT's `<output_prefix>_<template>_` result prefix (Python
 * %-formatting over `p.<param>` keys, values made safe for file names), folder prefixes, and the
 * overwrite refusal ("Cowardly refusing to overwrite") before any work.
 * Shape: `resultPrefix(outputPrefix, outputTemplate, params) => string`; `isDirectoryPrefix(p)`;
 *   `checkCanWrite(prefix, brave)` throws DeepVisError('OUTPUT_EXISTS').
 */
import { statSync, existsSync } from 'node:fs'
import path from 'node:path'
import { sprintf } from 'sprintf-js'
import { DeepVisError } from '../../shared/errors.ts'
import { DVT_PARAM_TABLE, type FindParams } from '../params.ts'
import { pyStr } from './py-str.ts'

/** DVT's default `--output-prefix`. */
export const DEFAULT_OUTPUT_PREFIX = 'optimize_results/opt'
/** DVT's default `--output-template` (Python %-formatting over `p.<param>` keys). */
export const DEFAULT_OUTPUT_TEMPLATE = '%(p.push_layer)s_%(p.push_channel)04d_%(p.rand_seed)d'
/** Written last: a prefix with this file holds a complete result. */
export const INFO_JSON = 'info.json'
/** DVT's human-readable record (its presence also blocks an overwrite, as in DVT). */
export const INFO_TXT = 'info.txt'
/** Characters kept in values substituted into the file-name template; others become '_'. */
const UNSAFE_FILENAME_CHARS = /[^A-Za-z0-9._-]/g

/** Every FindParams key, from DVT's parameter table, in its order: the allowed `p.<key>` template keys and info.txt's FindParams block. */
export const FIND_PARAM_KEYS = DVT_PARAM_TABLE.map((r) => r.key) as (keyof FindParams)[]
const FIND_PARAM_KEY_SET = new Set<string>(FIND_PARAM_KEYS)

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
