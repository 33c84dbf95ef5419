/**
 * `npm start`'s choice between the Electron window, a download and the web mode (src/launcher),
 * with every fact faked: binary present / absent, download refused / failed / timed out / ok,
 * display present / absent, `--web` / `--electron` forced; the download is asked for at most once.
 * Also the facts themselves from faked environments: display, Electron's binary, the shared data
 * folder, the browser opener and the command line.
 */
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  decideLaunch, fallbackLine, NO_DISPLAY_REASON, resolveLaunch,
  type DownloadOutcome, type ForcedMode, type LaunchFacts, type LaunchStep,
} from '../../src/launcher/decide-launch.ts'
import {
  browserCommand, DEFAULT_DOWNLOAD_TIMEOUT_S, downloadDisabled, electronBinaryPath, electronUserDataDir, hasDisplay, parseLaunchArgs,
  type BinaryFs,
} from '../../src/launcher/environment.ts'

const base: LaunchFacts = { forced: null, display: true, binary: true, downloadAllowed: true, download: null }
const facts = (over: Partial<LaunchFacts>): LaunchFacts => ({ ...base, ...over })
const FAILED: DownloadOutcome = { ok: false, reason: 'TypeError: fetch failed' }
const TIMED_OUT: DownloadOutcome = { ok: false, reason: 'timed out after 180 s' }

describe('decideLaunch', () => {
  it('opens the window where a display and the binary are there', () => {
    expect(decideLaunch(facts({}))).toEqual({ kind: 'electron' })
    expect(decideLaunch(facts({ forced: 'electron' }))).toEqual({ kind: 'electron' })
  })

  it('asks for a download when the binary is absent and none was tried', () => {
    expect(decideLaunch(facts({ binary: false }))).toEqual({ kind: 'download' })
    expect(decideLaunch(facts({ binary: false, forced: 'electron' }))).toEqual({ kind: 'download' })
  })

  it('opens the window after a download that brought the binary', () => {
    expect(decideLaunch(facts({ binary: true, download: { ok: true } }))).toEqual({ kind: 'electron' })
  })

  it('falls back to the web mode, with the reason, when the download failed or timed out', () => {
    const failed = decideLaunch(facts({ binary: false, download: FAILED }))
    expect(failed).toEqual({ kind: 'web', reason: "Electron's binary could not be downloaded: TypeError: fetch failed" })
    const slow = decideLaunch(facts({ binary: false, download: TIMED_OUT }))
    expect(slow.kind).toBe('web')
    expect((slow as { reason: string }).reason).toContain('timed out after 180 s')
    // A download that "succeeded" without a binary is no reason to open a window.
    expect(decideLaunch(facts({ binary: false, download: { ok: true } })).kind).toBe('web')
  })

  it('does not download where the download is turned off', () => {
    const step = decideLaunch(facts({ binary: false, downloadAllowed: false }))
    expect(step.kind).toBe('web')
    expect((step as { reason: string }).reason).toContain('ELECTRON_SKIP_BINARY_DOWNLOAD')
  })

  it('serves the web mode without downloading where there is no display, binary or not', () => {
    for (const binary of [true, false]) {
      expect(decideLaunch(facts({ display: false, binary }))).toEqual({ kind: 'web', reason: NO_DISPLAY_REASON })
    }
  })

  it('--web always serves the web mode, with no reason line', () => {
    for (const display of [true, false]) for (const binary of [true, false]) {
      expect(decideLaunch(facts({ forced: 'web', display, binary }))).toEqual({ kind: 'web', reason: null })
    }
  })

  it('--electron fails with the reason instead of falling back', () => {
    const cases: Partial<LaunchFacts>[] = [
      { display: false },
      { binary: false, download: FAILED },
      { binary: false, download: TIMED_OUT },
      { binary: false, downloadAllowed: false },
    ]
    for (const c of cases) {
      const step = decideLaunch(facts({ ...c, forced: 'electron' }))
      expect(step.kind).toBe('fail')
      expect((step as { message: string }).message).toMatch(/^cannot open the Electron window \(.+\)$/)
    }
  })

  it('over every combination of facts: at most one download, web only when forced or Electron cannot start', () => {
    const forcedModes: ForcedMode[] = [null, 'web', 'electron']
    const downloads: (DownloadOutcome | null)[] = [null, { ok: true }, FAILED]
    let n = 0
    for (const forced of forcedModes) for (const display of [true, false]) for (const binary of [true, false])
      for (const downloadAllowed of [true, false]) for (const download of downloads) {
        const f: LaunchFacts = { forced, display, binary, downloadAllowed, download }
        const step: LaunchStep = decideLaunch(f)
        n++
        if (download !== null) expect(step.kind).not.toBe('download')
        if (step.kind === 'download') expect(downloadAllowed && display && !binary && forced !== 'web').toBe(true)
        if (step.kind === 'electron') expect(display && binary && forced !== 'web').toBe(true)
        if (step.kind === 'fail') expect(forced).toBe('electron')
        if (step.kind === 'web') {
          expect(forced).not.toBe('electron')
          // A reason whenever Electron was not refused by the user.
          expect(step.reason === null).toBe(forced === 'web')
        }
      }
    expect(n).toBe(72)
  })

  it('the fallback is one line naming the reason', () => {
    const line = fallbackLine(NO_DISPLAY_REASON)
    expect(line).not.toContain('\n')
    expect(line).toBe('Electron cannot start here (no display: DISPLAY and WAYLAND_DISPLAY are unset); starting the web mode instead.')
  })
})

describe('resolveLaunch', () => {
  /** A fake download that counts its calls. */
  function fakeDownload(report: { download: DownloadOutcome; binary: boolean }): { calls: number; fn: () => Promise<typeof report> } {
    const d = { calls: 0, fn: async () => { d.calls++; return report } }
    return d
  }

  it('downloads once, then opens the window when the binary came', async () => {
    const d = fakeDownload({ download: { ok: true }, binary: true })
    const { step, facts: after } = await resolveLaunch(facts({ binary: false }), d.fn)
    expect(step).toEqual({ kind: 'electron' })
    expect(d.calls).toBe(1)
    expect(after.download).toEqual({ ok: true })
  })

  it('downloads once, then falls back when it failed', async () => {
    const d = fakeDownload({ download: TIMED_OUT, binary: false })
    const { step } = await resolveLaunch(facts({ binary: false }), d.fn)
    expect(step.kind).toBe('web')
    expect(d.calls).toBe(1)
  })

  it('never downloads when the binary is there, there is no display, or --web', async () => {
    for (const f of [facts({}), facts({ display: false, binary: false }), facts({ forced: 'web', binary: false }), facts({ binary: false, downloadAllowed: false })]) {
      const d = fakeDownload({ download: { ok: true }, binary: true })
      await resolveLaunch(f, d.fn)
      expect(d.calls).toBe(0)
    }
  })
})

describe('launch facts from the environment', () => {
  it('a display: DISPLAY or WAYLAND_DISPLAY on Linux, always on macOS and Windows', () => {
    expect(hasDisplay('linux', {})).toBe(false)
    expect(hasDisplay('linux', { DISPLAY: '' })).toBe(false)
    expect(hasDisplay('linux', { DISPLAY: ':0' })).toBe(true)
    expect(hasDisplay('linux', { WAYLAND_DISPLAY: 'wayland-0' })).toBe(true)
    expect(hasDisplay('freebsd', {})).toBe(false)
    expect(hasDisplay('darwin', {})).toBe(true)
    expect(hasDisplay('win32', {})).toBe(true)
  })

  /** A fake file system holding `files` (path → text; null: exists but unreadable as text). */
  function fakeFs(files: Record<string, string | null>): BinaryFs {
    return { exists: (f) => f in files, readText: (f) => files[f] ?? null }
  }
  const E = '/app/node_modules/electron'

  it("Electron's binary: absent without path.txt, absent when path.txt names a missing file, else its path", () => {
    expect(electronBinaryPath(E, {}, fakeFs({}))).toBeNull()
    expect(electronBinaryPath(E, {}, fakeFs({ [path.join(E, 'path.txt')]: 'electron' }))).toBeNull()
    const bin = path.join(E, 'dist', 'electron')
    expect(electronBinaryPath(E, {}, fakeFs({ [path.join(E, 'path.txt')]: 'electron', [bin]: null }))).toBe(bin)
    // ELECTRON_EXEC_PATH (electron-vite's override) wins, when it exists.
    expect(electronBinaryPath(E, { ELECTRON_EXEC_PATH: '/opt/electron' }, fakeFs({ '/opt/electron': null }))).toBe('/opt/electron')
    expect(electronBinaryPath(E, { ELECTRON_EXEC_PATH: '/opt/electron' }, fakeFs({ [path.join(E, 'path.txt')]: 'electron', [bin]: null }))).toBeNull()
  })

  it('ELECTRON_SKIP_BINARY_DOWNLOAD turns the download off', () => {
    expect(downloadDisabled({})).toBe(false)
    expect(downloadDisabled({ ELECTRON_SKIP_BINARY_DOWNLOAD: '0' })).toBe(false)
    expect(downloadDisabled({ ELECTRON_SKIP_BINARY_DOWNLOAD: 'false' })).toBe(false)
    expect(downloadDisabled({ ELECTRON_SKIP_BINARY_DOWNLOAD: '1' })).toBe(true)
    expect(downloadDisabled({ ELECTRON_SKIP_BINARY_DOWNLOAD: 'true' })).toBe(true)
  })

  it("the data folder is Electron's userData on each platform", () => {
    const appName = 'deepvis-studio'
    expect(electronUserDataDir({ platform: 'linux', env: {}, home: '/home/a', appName })).toBe('/home/a/.config/deepvis-studio')
    expect(electronUserDataDir({ platform: 'linux', env: { XDG_CONFIG_HOME: '/x/cfg' }, home: '/home/a', appName })).toBe('/x/cfg/deepvis-studio')
    expect(electronUserDataDir({ platform: 'darwin', env: {}, home: '/Users/a', appName })).toBe('/Users/a/Library/Application Support/deepvis-studio')
    expect(electronUserDataDir({ platform: 'win32', env: { APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, home: 'C:\\Users\\a', appName }))
      .toBe('C:\\Users\\a\\AppData\\Roaming\\deepvis-studio')
  })

  it('the browser: none without a display or xdg-open, else xdg-open from the PATH, open on macOS', () => {
    const url = 'http://127.0.0.1:1234/?token=abc'
    const has = (f: string): boolean => f === '/usr/bin/xdg-open'
    expect(browserCommand(url, 'linux', { PATH: '/usr/bin' }, has)).toBeNull()
    expect(browserCommand(url, 'linux', { DISPLAY: ':0', PATH: '/bin' }, has)).toBeNull()
    expect(browserCommand(url, 'linux', { DISPLAY: ':0', PATH: '/bin:/usr/bin' }, has)).toEqual({ command: '/usr/bin/xdg-open', args: [url] })
    expect(browserCommand(url, 'darwin', {}, () => false)).toEqual({ command: 'open', args: [url] })
    expect(browserCommand(url, 'win32', {}, () => false)?.args).toContain(url)
  })
})

describe('parseLaunchArgs', () => {
  it('defaults: the launcher chooses, opens a browser, 180 s download limit', () => {
    expect(parseLaunchArgs([])).toEqual({
      ok: true,
      options: { forced: null, browser: true, buildDir: null, downloadTimeoutS: DEFAULT_DOWNLOAD_TIMEOUT_S, help: false },
    })
  })

  it('--web / --electron force the mode; --no-browser, --download-timeout, --build-dir', () => {
    const web = parseLaunchArgs(['--web', '--no-browser', '--build-dir', '/tmp/b'])
    expect(web.ok && web.options).toMatchObject({ forced: 'web', browser: false, buildDir: '/tmp/b' })
    const electron = parseLaunchArgs(['--electron', '--download-timeout', '2.5'])
    expect(electron.ok && electron.options).toMatchObject({ forced: 'electron', downloadTimeoutS: 2.5 })
  })

  it('refuses contradictions and bad values with a one-line error', () => {
    for (const argv of [['--web', '--electron'], ['--download-timeout', '0'], ['--download-timeout', 'soon'], ['--electron', '--build-dir', 'x'], ['--bogus'], ['extra']]) {
      const r = parseLaunchArgs(argv)
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error).not.toContain('\n')
    }
  })
})
