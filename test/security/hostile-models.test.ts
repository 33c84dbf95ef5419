/**
 * Fuzz suite of hostile model folders (test/fixtures/hostile-models.ts: mutants of a Layers and a
 * Graph model) through the three ways a model is opened: `deepvis layers`, `deepvis optimize` and the
 * app's `model:open` (the engine host the web server and Electron run). Each mutant gets one line with
 * a BAD_* code, exit 2, writes nothing, echoes no file contents and reads nothing outside its folder;
 * the loaded model still answers and still optimizes afterwards; memory stays bounded.
 */
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DeepVisError } from '../../src/shared/errors.ts'
import { loadModelFolder } from '../../src/engine/node/load-model.ts'
import { createEngineHost, type EngineHost } from '../../src/host/engine-host.ts'
import type { EventMap } from '../../src/shared/ipc-contract.ts'
import { cli } from '../helpers/cli.ts'
import { useBackend } from '../helpers/tf-backend.ts'
import { SECRET, writeHostileModels, type Mutant } from '../fixtures/hostile-models.ts'
import { TINY_SIDECAR, writeModelFolder } from '../fixtures/model-folder.ts'
import { tinyCnnArtifacts } from '../fixtures/tiny-cnn.ts'
import { writeFile } from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import { readMasks } from '../../src/engine/node/method-files.ts'

let tmp: string
let mutants: Mutant[]
let goodDir: string

beforeAll(async () => {
  await useBackend('cpu')
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-hostile-'))
  const artifacts = await tinyCnnArtifacts()
  goodDir = path.join(tmp, 'good')
  await writeModelFolder(goodDir, artifacts, TINY_SIDECAR)
  await writeFile(path.join(goodDir, 'labels.txt'), 'zero\none\ntwo\nthree\nfour\n')
  mutants = await writeHostileModels(path.join(tmp, 'hostile'), artifacts)
}, 60_000)

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true })
})

/** One line, no file contents. */
function expectOneCleanLine(text: string, name: string): void {
  expect(text.trim().split('\n'), `${name}: ${text}`).toHaveLength(1)
  expect(text, name).not.toContain(SECRET)
  expect(text, name).not.toMatch(/\bat .*\.ts:\d+/) // no stack trace
}

describe('mask files a user names', () => {
  it('a FIFO, a device or a /proc entry as a mask file is refused at once (it used to hang the engine thread)', () => {
    // Mask names in an objective are plain file names, read from the working folder.
    const cwd = process.cwd()
    process.chdir(tmp)
    execFileSync('mkfifo', ['maskfifo.npy'])
    symlinkSync('/dev/zero', 'devzero.npy')
    symlinkSync('/proc/self/environ', 'environ.npy')
    try {
      for (const [file, why] of [['maskfifo.npy', /FIFO/], ['devzero.npy', /\/proc, \/sys, \/dev/], ['environ.npy', /\/proc, \/sys, \/dev/]] as const) {
        const t0 = Date.now()
        let err: unknown = null
        try { readMasks(`mask(conv3, ${file})`) } catch (e) { err = e }
        expect(err, file).toBeInstanceOf(DeepVisError)
        expect((err as DeepVisError).code).toBe('BAD_PARAM')
        expect((err as Error).message).toMatch(why)
        expect(Date.now() - t0).toBeLessThan(2000)
      }
    } finally {
      process.chdir(cwd)
    }
  })
})

describe('hostile model folders', () => {
  it('the generator writes at least 40 mutants of Layers and Graph models', () => {
    expect(mutants.length).toBeGreaterThanOrEqual(40)
    expect(mutants.filter((m) => m.kind === 'layers').length).toBeGreaterThanOrEqual(20)
    expect(mutants.filter((m) => m.kind === 'graph').length).toBeGreaterThanOrEqual(8)
  })

  it('the loader refuses each with a BAD_* DeepVisError of one line, memory bounded', async () => {
    const rss0 = process.memoryUsage().rss
    for (const m of mutants) {
      const started = Date.now()
      let err: unknown = null
      try {
        const loaded = await loadModelFolder(m.modelPath)
        loaded.model.dispose()
      } catch (e) {
        err = e
      }
      expect(err, m.name).toBeInstanceOf(DeepVisError)
      expect((err as DeepVisError).code, `${m.name}: ${(err as Error).message}`).toMatch(/^BAD_(MODEL|INPUT_SPEC)$/)
      expectOneCleanLine((err as Error).message, m.name)
      // Refused before reading or allocating anything big: no mutant takes long.
      expect(Date.now() - started, m.name).toBeLessThan(10_000)
    }
    expect(process.memoryUsage().rss - rss0).toBeLessThan(400 * 2 ** 20)
  }, 300_000)

  it('deepvis layers and deepvis optimize: one line, exit 2, nothing written', async () => {
    for (const m of mutants) {
      const layers = await cli('layers', '--backend', 'cpu', '--model', m.modelPath)
      expect(layers.code, `${m.name}: ${layers.err}`).toBe(2)
      expectOneCleanLine(layers.err, m.name)
      expect(layers.out).toBe('')
      const outDir = path.join(tmp, 'cli-out', m.name)
      const opt = await cli('optimize', '--backend', 'cpu', '--model', m.modelPath, '--push-layer', 'logits', '--max-iter', '2', '--output-prefix', path.join(outDir, 'opt'))
      expect(opt.code, `${m.name}: ${opt.err}`).toBe(2)
      expectOneCleanLine(opt.err, m.name)
      expect(existsSync(outDir), m.name).toBe(false)
    }
  }, 300_000)

  it("model:open answers each with its code; the loaded model keeps answering and optimizing", async () => {
    const events: { channel: keyof EventMap; payload: unknown }[] = []
    const host: EngineHost = createEngineHost({
      modelDir: goodDir, backend: 'cpu', historyDir: path.join(tmp, 'data', 'runs'),
      emit: (channel, payload) => { events.push({ channel, payload }) },
    })
    await host.start()
    try {
      const before = await host.handlers['model:info'](undefined)
      for (const m of mutants) {
        const res = await Promise.resolve().then(() => host.handlers['model:open'](m.modelPath)).then(() => null, (e: unknown) => e)
        expect(res, m.name).toBeInstanceOf(DeepVisError)
        expect((res as DeepVisError).code, `${m.name}: ${(res as Error).message}`).toMatch(/^BAD_(MODEL|INPUT_SPEC)$/)
        expectOneCleanLine((res as Error).message, m.name)
        expect((await host.handlers['model:info'](undefined)).path, m.name).toBe(before.path)
      }
      // Not model folders at all: special files and kernel trees, refused without echoing a byte.
      for (const p of ['/proc/self/environ', '/dev/zero', '/proc/self', '/etc/hostname', path.join(tmp, 'hostile', 'outside.txt')]) {
        const res = await Promise.resolve().then(() => host.handlers['model:open'](p)).then(() => null, (e: unknown) => e)
        expect((res as DeepVisError).code, p).toBe('BAD_MODEL')
        expectOneCleanLine((res as Error).message, p)
        expect((res as Error).message).not.toMatch(/PATH=|HOME=/)
      }
      expect(events.filter((e) => e.channel === 'model:changed')).toHaveLength(0)
      expect((await host.handlers['model:layers'](undefined)).map((l) => l.name)).toContain('logits')
      const { runId } = await host.handlers['run:start']({ params: { push_layer: 'logits', push_channel: 1, max_iter: 3, rand_seed: 0 } as never })
      for (let i = 0; i < 600 && !events.some((e) => e.channel === 'run:done'); i++) await new Promise((r) => setTimeout(r, 50))
      const done = events.find((e) => e.channel === 'run:done')?.payload as { runId: string; status: string }
      expect(done).toMatchObject({ runId, status: 'done' })
      // The recent list names no mutant.
      expect((await host.handlers['model:recent'](undefined)).map((r) => r.path)).not.toContain(mutants[0].modelPath)
    } finally {
      host.dispose()
    }
  }, 300_000)
})
