/**
 * A queued run is validated by the run pipeline at start against the model loaded then; if another model
 * is loaded before it executes, it is validated again against that one and runs on it (never on the
 * model it was started with). Embedded model loaded twice (two distinct model objects), cpu backend.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { initBackend } from '../../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { DEFAULT_PARAMS, resolveParams } from '../../src/engine/params.ts'
import { createRunService } from '../../src/host/run-service.ts'
import type { RunSummary } from '../../src/shared/run-types.ts'

let a: LoadedModel
let b: LoadedModel
let root: string

beforeAll(async () => {
  await initBackend('cpu')
  a = await loadModelFolder(DEFAULT_MODEL_DIR)
  b = await loadModelFolder(DEFAULT_MODEL_DIR)
  root = await mkdtemp(path.join(tmpdir(), 'deepvis-swap-'))
}, 120_000)

afterAll(async () => {
  a?.model.dispose()
  b?.model.dispose()
  await rm(root, { recursive: true, force: true })
})

it('a run queued before a model change is validated again and runs on the new model', async () => {
  let current = a
  const forwardCalls = { a: 0, b: 0 }
  for (const [name, m] of [['a', a], ['b', b]] as const) {
    const forward = m.model.forward.bind(m.model)
    m.model.forward = ((...args: Parameters<typeof forward>) => { forwardCalls[name]++; return forward(...args) }) as typeof forward
  }
  const bLayerInfo = b.model.layerInfo.bind(b.model)
  let bValidations = 0
  b.model.layerInfo = ((...args: Parameters<typeof bLayerInfo>) => { bValidations++; return bLayerInfo(...args) }) as typeof bLayerInfo
  const done: RunSummary[] = []
  const service = createRunService({
    historyDir: path.join(root, 'history'),
    engine: async () => ({ model: current.model, inputSpec: current.inputSpec, backend: 'cpu', modelName: current.name, modelKey: current === a ? 'a' : 'b' }),
    emit: (channel, payload) => { if (channel === 'run:done') done.push(payload as RunSummary) },
  })
  const params = resolveParams({ ...DEFAULT_PARAMS, push_layer: 'logits', push_channel: 1, max_iter: 3 })
  // Both started (validated) against model a; the second one waits in the queue behind the first.
  const first = await service.start({ params })
  const second = await service.start({ params: { ...params, push_channel: 2 } })
  expect(bValidations).toBe(0)
  current = b
  await service.whenIdle()
  service.dispose()
  expect(done.map((d) => [d.runId, d.status])).toEqual([[first, 'done'], [second, 'done']])
  // The second run was validated against b and ran on it: b's forward passes happened, and each run ran on one model only.
  expect(bValidations).toBeGreaterThan(0)
  expect(forwardCalls.b).toBeGreaterThan(0)
}, 120_000)
