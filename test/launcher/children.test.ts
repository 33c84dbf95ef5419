/**
 * The launcher's child processes (src/launcher/children.ts) with fake Electron installers (small
 * Node scripts): a refused download reports the installer's error line, a hanging one is stopped at
 * the time limit with a clear reason and leaves no process behind, a successful one reports ok, and
 * Ctrl-C (the abort signal) stops it. Never runs Electron's real installer (it would download
 * ~110 MB into node_modules where the network allows).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { downloadElectron, downloadFailureReason, runChild } from '../../src/launcher/children.ts'

let tmp: string
/** Write a fake installer script and return its path. */
function installer(name: string, code: string): string {
  const file = path.join(tmp, name)
  writeFileSync(file, code)
  return file
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-launcher-'))
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('downloadElectron', () => {
  it("reports a refused download by the installer's first error line", async () => {
    // What Electron's installer prints where GitHub is unreachable (err.stack, then exit 1).
    const refused = installer('refused.cjs', "console.error('TypeError: fetch failed\\n    at node:internal/deps/undici'); process.exit(1)")
    expect(await downloadElectron({ installer: refused, timeoutMs: 30_000 })).toEqual({ ok: false, reason: 'TypeError: fetch failed' })
  })

  it('stops a hanging download at the time limit, with a clear reason, and leaves no process', async () => {
    const pidFile = path.join(tmp, 'hang.pid')
    const hanging = installer('hang.cjs', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`)
    const t0 = Date.now()
    const outcome = await downloadElectron({ installer: hanging, timeoutMs: 1500 })
    const elapsed = Date.now() - t0
    expect(outcome).toEqual({ ok: false, reason: 'timed out after 1.5 s' })
    expect(elapsed).toBeGreaterThanOrEqual(1400)
    expect(elapsed).toBeLessThan(10_000)
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false)
  })

  it('kills an installer that ignores SIGTERM after the grace period', async () => {
    const stubborn = installer('stubborn.cjs', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)")
    const t0 = Date.now()
    expect(await downloadElectron({ installer: stubborn, timeoutMs: 500 })).toEqual({ ok: false, reason: 'timed out after 0.5 s' })
    expect(Date.now() - t0).toBeLessThan(10_000)
  })

  it("leaves no temp folder behind, though a stopped installer leaves its own", async () => {
    const marker = path.join(tmp, 'tmpdir.txt')
    const leaky = installer('leaky.cjs', `const fs = require('fs'), os = require('os'), path = require('path');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'electron-download-'));
      fs.writeFileSync(${JSON.stringify(marker)}, dir); setInterval(() => {}, 1000)`)
    expect((await downloadElectron({ installer: leaky, timeoutMs: 1000 })).ok).toBe(false)
    const dir = readFileSync(marker, 'utf8')
    expect(dir.startsWith(os.tmpdir())).toBe(true)
    expect(existsSync(dir)).toBe(false)
    expect(existsSync(path.dirname(dir))).toBe(false)
  })

  it('reports ok when the installer succeeds', async () => {
    const ok = installer('ok.cjs', "console.log('Downloaded'); process.exit(0)")
    expect(await downloadElectron({ installer: ok, timeoutMs: 30_000 })).toEqual({ ok: true })
  })

  it('stops at once on Ctrl-C (the abort signal)', async () => {
    const hanging = installer('hang2.cjs', 'setInterval(() => {}, 1000)')
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 300)
    const t0 = Date.now()
    expect(await downloadElectron({ installer: hanging, timeoutMs: 60_000, signal: controller.signal })).toEqual({ ok: false, reason: 'interrupted' })
    expect(Date.now() - t0).toBeLessThan(10_000)
  })
})

describe('runChild', () => {
  it('a command that cannot start ends with 127 and the reason, without throwing', async () => {
    const r = await runChild(path.join(tmp, 'no-such-command'), [])
    expect(r.code).toBe(127)
    expect(r.output).toMatch(/ENOENT/)
  })

  it('collects the output and the exit code', async () => {
    const r = await runChild(process.execPath, ['-e', "process.stdout.write('out'); process.stderr.write('err'); process.exit(3)"])
    expect(r.code).toBe(3)
    expect(r.output).toContain('out')
    expect(r.output).toContain('err')
  })

  it('a failure reason is one bounded line, with a fallback when the installer says nothing', () => {
    expect(downloadFailureReason({ code: 1, signal: null, output: '\n\n  Error: 404 Not Found\nmore' })).toBe('Error: 404 Not Found')
    expect(downloadFailureReason({ code: 1, signal: null, output: '' })).toBe('installer exited with code 1')
    expect(downloadFailureReason({ code: null, signal: 'SIGKILL', output: '' })).toBe('installer killed by SIGKILL')
    expect(downloadFailureReason({ code: 1, signal: null, output: 'x'.repeat(500) }).length).toBeLessThanOrEqual(201)
  })
})
