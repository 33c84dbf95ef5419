/**
 * CLI flags from a parameter table (shared/param-table.ts): one commander option per row, with its help, parser,
 * choices and default, plus hidden options for the row's aliases. What the user gave is read back by row key.
 * Shape: `addRowOptions(cmd, table)`; `explicitRowValues(cmd, table) => {key: value}`; `optionKey(flag)`.
 */
import { Command, Option } from 'commander'
import type { ParamRow } from '../shared/param-table.ts'
import { parseLrParams } from '../engine/index.ts'
import { parseInteger, parseNumber, parseSpatial } from './parse-values.ts'

/** Commander's attribute name of a flag: '--blur-radius' -> 'blurRadius'. */
export function optionKey(flag: string): string {
  return flag.replace(/^--(no-)?/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
}

function optionOf(row: ParamRow, flag: string): Option {
  const opt = new Option(row.kind === 'boolean' ? flag : `${flag} <${row.valueName}>`, row.help)
  switch (row.kind) {
    case 'boolean': break
    case 'numbers': opt.argParser((v: string) => { const parts = v.split(',').map((t) => parseNumber(flag, t.trim())); return parts.length === 1 ? parts[0] : parts }); break
    case 'number': opt.argParser((v: string) => parseNumber(flag, v)); break
    case 'integer': opt.argParser((v: string) => parseInteger(flag, v)); break
    case 'choice': opt.choices([...(row.choices ?? [])]); break
    case 'spatial': opt.argParser(parseSpatial); break
    case 'dict': opt.argParser(parseLrParams); break
    case 'string': break
  }
  return opt
}

/** Add one option per row (and hidden ones for its aliases); `defaults: false` leaves the defaults to the engine. */
export function addRowOptions(cmd: Command, table: readonly ParamRow[], opts: { defaults?: boolean } = {}): Command {
  for (const row of table) {
    const opt = optionOf(row, row.flag)
    if (row.default !== undefined && opts.defaults !== false) opt.default(row.default)
    cmd.addOption(opt)
    for (const alias of row.aliases ?? []) cmd.addOption(optionOf(row, alias).hideHelp())
  }
  return cmd
}

/** The rows' values the command line gave explicitly (a flag or one of its aliases), by row key. */
export function explicitRowValues(cmd: Command, table: readonly ParamRow[]): Record<string, unknown> {
  const opts = cmd.opts()
  const out: Record<string, unknown> = {}
  for (const row of table) {
    for (const flag of [row.flag, ...(row.aliases ?? [])]) {
      const key = optionKey(flag)
      if (cmd.getOptionValueSource(key) === 'cli') out[row.key] = opts[key]
    }
  }
  return out
}

/** The flags (commander key -> flag) of the rows the general methods do not read. */
export function ownFlags(table: readonly ParamRow[]): Record<string, string> {
  return Object.fromEntries(table.filter((r) => !r.shared).flatMap((r) => [r.flag, ...(r.aliases ?? [])]).map((f) => [optionKey(f), f]))
}
