/**
 * One run pipeline (src/engine/node/run-pipeline.ts): the app's run service and the CLI write the SAME
 * result files for the same preset, unit and seed (embedded model, cpu backend): every PNG and .npy
 * byte for byte, info.txt without its timing lines, and info.json without what is volatile (creation
 * time, wall times) or host-specific by design (`extra`: the CLI records the model path and backend
 * detail, the app its run id). A DVT preset and a general method's preset (lucid) are compared.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { DEFAULT_PARAMS, PRESETS, resolveParams } from '../../src/engine/params.ts'
import { createRunService, RUN_JSON, type RunService } from '../../src/host/run-service.ts'
import { METHOD_PRESETS } from '../../src/shared/method-params.ts'
import type { RunSummary } from '../../src/shared/run-types.ts'
import { cli } from '../helpers/cli.ts'

const SEED = 5
const MAX_ITER = 6
const LAYER = 'logits'
const CHANNEL = 2

let loaded: LoadedModel
let root: string
let service: RunService
const done: RunSummary[] = []

beforeAll(async () => {
  await initBackend('cpu')
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  root = await mkdtemp(path.join(tmpdir(), 'deepvis-parity-'))
  service = createRunService({
    historyDir: path.join(root, 'history'),
    engine: async () => ({ model: loaded.model, inputSpec: loaded.inputSpec, backend: 'cpu', modelName: loaded.name, modelKey: 'parity' }),
    emit: (channel, payload) => { if (channel === 'run:done') done.push(payload as RunSummary) },
  })
}, 120_000)

afterAll(async () => {
  service?.dispose()
  loaded?.model.dispose()
  await rm(root, { recursive: true, force: true })
})

const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex')

/** The files of one result folder by suffix (the CLI's names carry the template before it): digests of what must match. */
function digest(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(dir).sort()) {
    if (name === RUN_JSON) continue
    const suffix = name.replace(/^[^_]+_\d+_\d+_/, '')
    const bytes = readFileSync(path.join(dir, name))
    if (suffix === 'info.txt') {
      out[suffix] = sha(bytes.toString('utf8').split('\n').filter((l) => !/^\s*(total_ms|wall_ms):/.test(l)).join('\n'))
    } else if (suffix === 'info.json') {
      const { created: _c, total_ms: _t, extra: _e, files, ...rest } = JSON.parse(bytes.toString('utf8'))
      const { wall_ms: _w, ...series } = rest.series
      out[suffix] = JSON.stringify({ ...rest, series, files: (files as string[]).map((f) => f.replace(/^[^_]+_\d+_\d+_/, '')) })
    } else {
      out[suffix] = sha(bytes)
    }
  }
  return out
}

/** Run the service on `spec` and return its stored folder. */
async function serviceRun(spec: Parameters<RunService['start']>[0]): Promise<string> {
  const runId = await service.start(spec)
  await service.whenIdle()
  const summary = done.find((d) => d.runId === runId)
  expect(summary?.status, summary?.error).toBe('done')
  return path.join(root, 'history', runId)
}

describe('the run service and the CLI run one pipeline', () => {
  it('DVT preset yosinski-3: the same files, byte for byte', async () => {
    const out = path.join(root, 'cli-dvt') + '/'
    const r = await cli('optimize', '--backend', 'cpu', '--preset', 'yosinski-3', '--rand-seed', String(SEED), '--max-iter', String(MAX_ITER),
      '--push-layer', LAYER, '--push-channel', String(CHANNEL), '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const params = resolveParams({ ...DEFAULT_PARAMS, push_layer: LAYER, push_channel: CHANNEL, ...PRESETS['yosinski-3'].params, rand_seed: SEED, max_iter: MAX_ITER })
    const folder = await serviceRun({ params, preset: 'yosinski-3' })
    const fromCli = digest(out)
    const fromApp = digest(folder)
    expect(Object.keys(fromCli)).toEqual(expect.arrayContaining(['best_X.png', 'best_Xpm.png', 'last_X.png', 'x0.npy', 'best.npy', 'info.txt', 'info.json']))
    expect(fromApp).toEqual(fromCli)
    // The comparison can fail: another seed gives other bytes.
    const other = digest(await serviceRun({ params: { ...params, rand_seed: SEED + 1 }, preset: 'yosinski-3' }))
    expect(other['x0.npy']).not.toBe(fromCli['x0.npy'])
    expect(other['best_X.png']).not.toBe(fromCli['best_X.png'])
  }, 300_000)

  it('general method preset lucid: the same files, byte for byte, the method record included', async () => {
    const out = path.join(root, 'cli-lucid') + '/'
    const r = await cli('optimize', '--backend', 'cpu', '--preset', 'lucid', '--rand-seed', String(SEED), '--max-iter', String(MAX_ITER),
      '--push-layer', LAYER, '--push-channel', String(CHANNEL), '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const params = resolveParams({ ...DEFAULT_PARAMS, push_layer: LAYER, push_channel: CHANNEL, rand_seed: SEED, max_iter: MAX_ITER })
    const folder = await serviceRun({ params, preset: 'lucid', method: { ...METHOD_PRESETS.lucid.params, method: METHOD_PRESETS.lucid.params.method ?? 'lucid' } })
    const fromCli = digest(out)
    const fromApp = digest(folder)
    expect(JSON.parse(fromApp['info.json']).method.name).toBe('lucid')
    expect(fromApp).toEqual(fromCli)
  }, 300_000)
})
