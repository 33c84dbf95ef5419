/**
 * A crashed engine worker is replaced at once on the model that was loaded (the user's, with its
 * input-spec correction), and the pages are told why (`engine:restarted`); the failures that make a
 * worker stop itself (a wasm trap, out of memory) are recognised. (A file of its own: it builds the
 * tiny model with TensorFlow.js in this thread, which worker-engine-host.test.ts checks never happens.)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Worker, WorkerOptions } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { poisonsEngine } from '../../src/host/engine-poison.ts'
import { createSourceEngineWorker } from '../../src/host/source-engine-worker.ts'
import { createWorkerEngineHost } from '../../src/host/worker-engine-host.ts'
import type { EventChannel, EventMap } from '../../src/shared/ipc-contract.ts'
import { TINY_SIDECAR, writeModelFolder } from '../fixtures/model-folder.ts'
import { tinyCnnArtifacts } from '../fixtures/tiny-cnn.ts'
import { useBackend } from '../helpers/tf-backend.ts'

const MODEL_DIR = path.resolve(import.meta.dirname, '../../resources/models/deepvis-shapes')
type Seen = { event: EventChannel; payload: unknown }

function makeHost(historyDir: string) {
  const workers: Worker[] = []
  const events: Seen[] = []
  const host = createWorkerEngineHost({
    modelDir: MODEL_DIR, backend: 'cpu', historyDir,
    createWorker: (options: WorkerOptions) => { const w = createSourceEngineWorker(options); workers.push(w); return w },
    emit: <K extends EventChannel>(event: K, payload: EventMap[K]) => { events.push({ event, payload }) },
  })
  const next = async (pred: (e: Seen) => boolean, ms = 60_000): Promise<Seen> => {
    const deadline = Date.now() + ms
    for (;;) {
      const hit = events.find(pred)
      if (hit) return hit
      if (Date.now() > deadline) throw new Error('event not seen in time')
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return { host, workers, events, next }
}

const exited = (w: Worker): Promise<number> => new Promise((resolve) => w.once('exit', resolve))

let tmp: string
beforeAll(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-restore-')) })
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('a worker that dies with a user model loaded', () => {
  it('is replaced at once on that model (with its input-spec correction), and the pages are told why', async () => {
    await useBackend('cpu')
    const tinyDir = await writeModelFolder(path.join(tmp, 'tiny-model'), await tinyCnnArtifacts(), TINY_SIDECAR)
    await writeFile(path.join(tinyDir, 'labels.txt'), 'zero\none\ntwo\nthree\nfour\n')
    const h = makeHost(path.join(tmp, 'history-restore'))
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    try {
      const opened = await h.host.handlers['model:open'](tinyDir)
      expect(opened.name).toBe('tiny test cnn')
      const corrected = await h.host.handlers['model:setInputSpec']({ channelOrder: 'BGR' })
      expect(corrected.inputSpec.channelOrder).toBe('BGR')
      const dead = exited(h.workers[0])
      void h.workers[0].terminate()
      await dead
      const restarted = await h.next((e) => e.event === 'engine:restarted')
      const payload = restarted.payload as EventMap['engine:restarted']
      expect(payload.reason).toContain('stopped unexpectedly')
      expect(payload.model).toMatchObject({ name: 'tiny test cnn', path: tinyDir, inputSpec: { channelOrder: 'BGR' } })
      expect(h.workers).toHaveLength(2)
      const info = await h.host.handlers['model:info'](undefined)
      expect(info).toMatchObject({ name: 'tiny test cnn', path: tinyDir, inputSpecCorrected: true })
      expect((await h.host.handlers['model:layers'](undefined)).map((l) => l.name)).toContain('logits')
    } finally {
      log.mockRestore()
      h.host.dispose()
    }
  }, 120_000)

  it('recognises the failures after which a runtime cannot be trusted', () => {
    expect(poisonsEngine('RuntimeError: memory access out of bounds')).toBe(true)
    expect(poisonsEngine('Aborted(). Build with -sASSERTIONS for more info.')).toBe(true)
    expect(poisonsEngine('RangeError: Array buffer allocation failed')).toBe(true)
    expect(poisonsEngine("no layer named 'x' in this model")).toBe(false)
    expect(poisonsEngine('blur radius 400 needs a 3201-pixel kernel, larger than the 64x64 image')).toBe(false)
  })
})

