/**
 * `npm start` as a process, where Electron cannot open a window (no DISPLAY, no WAYLAND_DISPLAY, as
 * in CI): it prints the one fallback line and a 127.0.0.1 URL with its token within a bounded time
 * (the app is built first, into a temp folder so as not to race other tests building out/); the
 * page is served with the token and refused without; the engine behind the WebSocket uses Electron's
 * data folder (here under a temp XDG_CONFIG_HOME); Ctrl-C (SIGINT to the whole process group, as a
 * terminal sends it) stops it with exit 0 and no process of the group left.
 * Where a display is named but the binary is absent, one download by Electron's installer (from a
 * local mirror that never answers) is stopped at --download-timeout, and the web mode follows.
 * Two ways in: the launcher command of package.json's `start` script run directly (as bash, which
 * execs a script's single command, runs it: the exit status is the launcher's own), and `npm start`
 * itself (Debian's /bin/sh, dash, reports a SIGINT it received while waiting as its own death by
 * SIGINT, so npm ends by SIGINT there, 130 in a terminal, even though the launcher exited 0).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'

const ROOT = path.resolve(import.meta.dirname, '../..')
/** Bound on the build plus the server's start (the build alone takes ~5 s here, more on a busy CI). */
const URL_TIMEOUT_MS = 120_000
const EXIT_TIMEOUT_MS = 30_000
/** Bound on the last children (tsx's esbuild services) ending after the launcher: they exit when their stdin closes. */
const GROUP_GONE_TIMEOUT_MS = 15_000
const URL_LINE = /DeepVis Studio \(web\) at (http:\/\/127\.0\.0\.1:\d+\/s\/[\w-]+\/)/
const FALLBACK_LINE = 'Electron cannot start here (no display: DISPLAY and WAYLAND_DISPLAY are unset); starting the web mode instead.'

interface Started {
  child: ChildProcess
  /** Everything printed so far (stdout and stderr). */
  output: () => string
  waitFor(pattern: RegExp, ms: number): Promise<RegExpMatchArray>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

let tmp: string
let configHome: string

/** An environment without a display, with Electron's data folder under the temp folder. */
function headlessEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_CONFIG_HOME: configHome }
  delete env['DISPLAY']
  delete env['WAYLAND_DISPLAY']
  return env
}

/** Start a command in its own process group (so that a signal can reach the group, as from a terminal). */
function start(command: string, args: string[], env: NodeJS.ProcessEnv = headlessEnv()): Started {
  const child = spawn(command, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  const listeners = new Set<() => void>()
  const onData = (c: Buffer): void => {
    text += c.toString('utf8')
    for (const l of listeners) l()
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const l of listeners) l()
      resolve({ code, signal })
    })
  })
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, ms) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = text.match(pattern)
          if (m) {
            done()
            resolve(m)
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done()
            reject(new Error(`exited (${String(child.exitCode ?? child.signalCode)}) before ${String(pattern)}; output:\n${text}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`no ${String(pattern)} within ${ms} ms; output:\n${text}`))
        }, ms)
        const done = (): void => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      })
    },
  }
}

/** Whether any process of the group is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

async function waitGroupGone(pgid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (!groupAlive(pgid)) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return !groupAlive(pgid)
}

/** The processes of a group, for a failure message. */
function groupProcesses(pgid: number): string {
  try {
    return execFileSync('ps', ['-o', 'pid,stat,etime,args', '-g', String(pgid)], { encoding: 'utf8' })
  } catch {
    return '(none)'
  }
}

function killGroup(s: Started | undefined): void {
  const pid = s?.child.pid
  if (pid !== undefined && groupAlive(pid)) process.kill(-pid, 'SIGKILL')
}

/** `app:info` over the page's WebSocket. */
function appInfo(pageUrl: string): Promise<{ mode: string; dataDir: string }> {
  const u = new URL(pageUrl)
  // The page is /s/<token>/; its WebSocket is beside it.
  const ws = new WebSocket(`ws://${u.host}${u.pathname}ws`)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no app:info answer')), 30_000)
    ws.on('error', reject)
    ws.on('open', () => ws.send(JSON.stringify({ id: 1, channel: 'app:info', payload: undefined })))
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as { id?: number; result?: { ok: boolean; value?: { mode: string; dataDir: string } } }
      if (msg.id !== 1) return
      clearTimeout(timer)
      ws.close()
      if (msg.result?.ok && msg.result.value) resolve(msg.result.value)
      else reject(new Error(`app:info failed: ${JSON.stringify(msg.result)}`))
    })
  })
}

/** The launcher's command from package.json's `start` script, with `node` as this Node. */
function launcherCommand(): string[] {
  const script = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['start']
  const [program, ...args] = (script ?? '').split(/\s+/)
  expect(program).toBe('node')
  return args
}

/** Stop with SIGINT to the group and expect exit 0 with no process left. */
async function interruptCleanly(s: Started, url: string): Promise<void> {
  const pid = s.child.pid!
  process.kill(-pid, 'SIGINT')
  const exit = await Promise.race([s.exited, new Promise<null>((r) => setTimeout(() => r(null), EXIT_TIMEOUT_MS))])
  expect(exit, `no exit within ${EXIT_TIMEOUT_MS} ms; output:\n${s.output()}`).toEqual({ code: 0, signal: null })
  expect(await waitGroupGone(pid, GROUP_GONE_TIMEOUT_MS), groupProcesses(pid)).toBe(true)
  await expect(fetch(url)).rejects.toThrow()
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-start-'))
  configHome = path.join(tmp, 'config')
})
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe.skipIf(process.platform === 'win32')('npm start without a display', () => {
  it("the launcher (package.json's start command) falls back to the web mode, serves with the token only, and stops on Ctrl-C with 0", async () => {
    const args = launcherCommand()
    let s: Started | undefined
    try {
      const t0 = Date.now()
      s = start(process.execPath, [...args, '--build-dir', path.join(tmp, 'build-a')])
      const [, url] = await s.waitFor(URL_LINE, URL_TIMEOUT_MS)
      console.log(`[start] URL after ${((Date.now() - t0) / 1000).toFixed(1)} s`)
      const out = s.output()
      expect(out).toContain(FALLBACK_LINE)
      expect(out.indexOf(FALLBACK_LINE)).toBeLessThan(out.indexOf(url!))
      // No download was tried (no display: no window to open anyway).
      expect(out).not.toContain('downloading')

      const page = await fetch(url!)
      expect(page.status).toBe(200)
      expect(page.headers.get('content-type')).toMatch(/text\/html/)
      expect(await page.text()).toContain('<title>DeepVis Studio</title>')
      const origin = new URL(url!).origin
      expect((await fetch(`${origin}/`)).status).toBe(403)
      expect((await fetch(`${origin}/?token=wrong`)).status).toBe(403)

      // The same data folder as the Electron window: <XDG_CONFIG_HOME>/<app name>.
      const dataDir = path.join(configHome, 'deepvis-studio')
      await s.waitFor(/History and settings: .+/, 5000)
      expect(s.output()).toContain(`History and settings: ${dataDir}`)
      expect(await appInfo(url!)).toMatchObject({ mode: 'web', dataDir })

      await interruptCleanly(s, url!)
    } finally {
      killGroup(s)
    }
  }, URL_TIMEOUT_MS + 60_000)

  it('`npm start` itself prints the fallback line and the URL, and Ctrl-C leaves no process', async () => {
    let s: Started | undefined
    try {
      s = start('npm', ['start', '--', '--build-dir', path.join(tmp, 'build-b')])
      const [, url] = await s.waitFor(URL_LINE, URL_TIMEOUT_MS)
      expect(s.output()).toContain(FALLBACK_LINE)
      expect((await fetch(url!)).status).toBe(200)
      expect((await fetch(new URL(url!).origin)).status).toBe(403)

      const pid = s.child.pid!
      process.kill(-pid, 'SIGINT')
      const exit = await Promise.race([s.exited, new Promise<null>((r) => setTimeout(() => r(null), EXIT_TIMEOUT_MS))])
      expect(exit, `no exit within ${EXIT_TIMEOUT_MS} ms; output:\n${s.output()}`).not.toBeNull()
      // npm re-raises a signal its script's shell died of: dash dies of the SIGINT it got while
      // waiting for the launcher, so npm ends by SIGINT there (a terminal shows 130).
      const dash = realpathSync('/bin/sh').endsWith('dash')
      expect(exit).toEqual(dash ? { code: null, signal: 'SIGINT' } : { code: 0, signal: null })
      expect(s.output()).toContain('stopping…')
      expect(s.output()).not.toMatch(/deepvis start:/)
      expect(await waitGroupGone(pid, GROUP_GONE_TIMEOUT_MS), groupProcesses(pid)).toBe(true)
    } finally {
      killGroup(s)
    }
  }, URL_TIMEOUT_MS + 60_000)

  // Electron's own installer (node_modules/electron/install.js) pointed, through ELECTRON_MIRROR, at
  // a local server that accepts the request and never answers: the download hangs, as on a slow or
  // filtered network, and nothing can be downloaded (the cache is a fresh temp folder).
  const binaryInstalled = existsSync(path.join(ROOT, 'node_modules', 'electron', 'path.txt'))
  if (binaryInstalled) console.warn("[start] Electron's binary is installed here: skipping the download-timeout test (it needs a machine without it)")
  it.skipIf(binaryInstalled)('with a display but no binary: one download by Electron\'s installer, stopped at the time limit, then the web mode', async () => {
    const requests: string[] = []
    const mirror = http.createServer((req) => {
      requests.push(req.url ?? '')
    })
    await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve))
    const port = (mirror.address() as AddressInfo).port
    let s: Started | undefined
    try {
      const env: NodeJS.ProcessEnv = {
        ...headlessEnv(),
        DISPLAY: ':99',
        ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
        electron_config_cache: path.join(tmp, 'electron-cache'),
      }
      delete env['ELECTRON_EXEC_PATH']
      delete env['ELECTRON_SKIP_BINARY_DOWNLOAD']
      s = start(process.execPath, [...launcherCommand(), '--no-browser', '--download-timeout', '3', '--build-dir', path.join(tmp, 'build-c')], env)
      const [, url] = await s.waitFor(URL_LINE, URL_TIMEOUT_MS)
      const out = s.output()
      expect(out.match(/downloading it/g)).toHaveLength(1)
      expect(out).toContain("Electron cannot start here (Electron's binary could not be downloaded: timed out after 3 s); starting the web mode instead.")
      // Electron's installer asked the mirror once, for this version's zip.
      expect(requests).toHaveLength(1)
      expect(requests[0]).toMatch(/electron-v[\d.]+-linux-\w+\.zip$/)
      expect(existsSync(path.join(ROOT, 'node_modules', 'electron', 'path.txt'))).toBe(false)
      expect((await fetch(url!)).status).toBe(200)
      await interruptCleanly(s, url!)
    } finally {
      killGroup(s)
      mirror.closeAllConnections()
      mirror.close()
    }
  }, URL_TIMEOUT_MS + 60_000)
})
