/**
 * DVT's parameter table is the one source of the engine's range checks, the IPC schema's bounds and the CLI's
 * flags: for every bounded row, a value just outside its range is refused by all three and the bound itself is
 * accepted by all three; every row has its flag (with its help) in `deepvis optimize --help`.
 */
import { describe, expect, it } from 'vitest'
import { DVT_PARAM_TABLE, resolveParams } from '../../src/engine/params.ts'
import { findParamsSchema } from '../../src/shared/ipc-schemas.ts'
import { infoParams, presetsSetting, rowRangeError, type ParamRow } from '../../src/shared/param-table.ts'
import { PRESETS } from '../../src/shared/dvt-params.ts'
import { main } from '../../src/cli/main.ts'
import { GENERAL_FLAG_TABLE } from '../../src/shared/general-param-table.ts'
import { DEFAULT_GENERAL_PARAMS } from '../../src/shared/method-params.ts'

const UNIT = { push_layer: 'conv1', push_channel: 0 }
const bounded = DVT_PARAM_TABLE.filter((r) => (r.kind === 'number' || r.kind === 'integer') && (r.min !== undefined || r.max !== undefined))

async function help(): Promise<string> {
  let out = ''
  await main(['optimize', '--help'], { stdout: (t) => { out += t }, stderr: () => {}, isTTY: false })
  return out.replace(/\s+/g, ' ')
}

describe('DVT_PARAM_TABLE', () => {
  it('has one row per FindParams field, in DVT order (then the fields added since), each with a flag and help', () => {
    expect(DVT_PARAM_TABLE.map((r) => r.key)).toEqual([
      'start_at', 'rand_seed', 'push_layer', 'push_channel', 'push_spatial', 'push_dir', 'decay', 'blur_radius', 'blur_every',
      'small_val_percentile', 'small_norm_percentile', 'px_benefit_percentile', 'px_abs_benefit_percentile', 'lr_policy', 'lr_params', 'max_iter', 'jitter_px',
    ])
    for (const r of DVT_PARAM_TABLE) expect(r.flag).toMatch(/^--[a-z][a-z-]+$/)
  })

  it.each(bounded.map((r) => [r.key, r] as [string, ParamRow]))('%s: engine, IPC schema and range agree at and beyond the bounds', (key, row) => {
    const step = row.kind === 'integer' ? 1 : 1e-6
    const cases: [number, boolean][] = []
    if (row.min !== undefined) cases.push([row.min, true], [row.min - step, false])
    if (row.max !== undefined) cases.push([row.max, true], [row.max + step, false])
    for (const [v, ok] of cases) {
      const engine = (() => { try { resolveParams({ ...UNIT, [key]: v }); return true } catch { return false } })()
      const ipc = findParamsSchema.safeParse({ ...UNIT, [key]: v }).success
      expect({ v, engine, ipc, range: rowRangeError(row, v) === null }).toEqual({ v, engine: ok, ipc: ok, range: ok })
    }
  })

  it('the IPC schema fills the table defaults and refuses unknown keys', () => {
    const r = findParamsSchema.safeParse(UNIT)
    expect(r.success).toBe(true)
    for (const row of DVT_PARAM_TABLE) if (row.default !== undefined) expect((r.data as unknown as Record<string, unknown>)[row.key]).toEqual(row.default)
    expect(findParamsSchema.safeParse({ ...UNIT, blur_sigma: 1 }).success).toBe(false)
  })

  it('every row is a flag of deepvis optimize, with its help text', async () => {
    const text = await help()
    for (const r of DVT_PARAM_TABLE) {
      expect(text).toContain(`${r.flag} <${r.valueName}>`)
      expect(text).toContain(r.help.replace(/\s+/g, ' ').slice(0, 40))
    }
  })

  it('which presets set a field is read from the presets', () => {
    expect(presetsSetting('small_norm_percentile', PRESETS)).toEqual(['yosinski-1', 'yosinski-2'])
    expect(presetsSetting('px_abs_benefit_percentile', PRESETS)).toEqual(['yosinski-4'])
  })

  it("'when-set' fields are written only when they differ from their default", () => {
    const table: ParamRow[] = [{ key: 'extra', kind: 'number', default: 0, label: 'x', help: 'x', flag: '--extra', valueName: 'n', info: 'when-set' }]
    expect(infoParams({ a: 1, extra: 0 }, table)).toEqual({ a: 1 })
    expect(infoParams({ a: 1, extra: 2 }, table)).toEqual({ a: 1, extra: 2 })
  })
})

describe('GENERAL_FLAG_TABLE', () => {
  it('names GeneralParams fields, and its flags never collide with DVT\'s', () => {
    for (const r of GENERAL_FLAG_TABLE) expect(Object.keys(DEFAULT_GENERAL_PARAMS), r.flag).toContain(r.key)
    const flags = [...DVT_PARAM_TABLE, ...GENERAL_FLAG_TABLE].map((r) => r.flag)
    expect(new Set(flags).size).toBe(flags.length)
  })

  it('every row is a flag of deepvis optimize, with its help text', async () => {
    const text = await help()
    for (const r of GENERAL_FLAG_TABLE) {
      expect(text).toContain(r.kind === 'boolean' ? r.flag : `${r.flag} <${r.valueName}>`)
      expect(text).toContain(r.help.replace(/\s+/g, ' ').slice(0, 40))
    }
  })
})
