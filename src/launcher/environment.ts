/**
 * The facts `npm start` decides on, each read from an environment passed in (so that the tests can
 * fake it): a display, Electron's binary, the app's data folder, a browser to open, and the command
 * line. No side effects.
 */
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { ForcedMode } from './decide-launch.ts'

/** The environment variables read here. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Whether a window can open: on Linux and the BSDs an X11 or Wayland display must be named; macOS
 * and Windows always have one.
 */
export function hasDisplay(platform: NodeJS.Platform, env: Env): boolean {
  if (platform === 'darwin' || platform === 'win32') return true
  return Boolean(env['DISPLAY'] || env['WAYLAND_DISPLAY'])
}

/** The file-system reads `electronBinaryPath` needs. */
export interface BinaryFs {
  exists(file: string): boolean
  /** A file's text, or null when it cannot be read. */
  readText(file: string): string | null
}

/**
 * Electron's executable as electron-vite finds it (ELECTRON_EXEC_PATH, else
 * `<electronDir>/dist/<path.txt>`), or null when it is not there. `path.txt` is written by Electron's
 * installer after a successful download, so a fresh install without the download has none.
 * @example electronBinaryPath('node_modules/electron', process.env, nodeFs) // => '…/dist/electron' | null
 */
export function electronBinaryPath(electronDir: string, env: Env, fs: BinaryFs): string | null {
  const exec = env['ELECTRON_EXEC_PATH']
  if (exec) return fs.exists(exec) ? exec : null
  const relative = fs.readText(path.join(electronDir, 'path.txt'))?.trim()
  if (!relative) return null
  const file = path.join(electronDir, 'dist', relative)
  return fs.exists(file) ? file : null
}

/** Whether Electron's binary download is turned off (the variable its installer and npm honour). */
export function downloadDisabled(env: Env): boolean {
  const v = env['ELECTRON_SKIP_BINARY_DOWNLOAD']
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false'
}

/** What decides the app's data folder. */
export interface DataDirEnv {
  platform: NodeJS.Platform
  env: Env
  /** The user's home folder. */
  home: string
  /** The app's name: package.json's productName, else its name (as Electron's app.getName()). */
  appName: string
}

/**
 * The app's per-user data folder, the one Electron's `app.getPath('userData')` names
 * (`<appData>/<appName>`): `$XDG_CONFIG_HOME` or `~/.config` on Linux, `~/Library/Application
 * Support` on macOS, `%APPDATA%` on Windows. The Electron window keeps its run history
 * (`runs/`), thumbnails (`thumbs/`), uploaded models and recent models there; the web fallback of
 * `npm start` uses the same folder, so both see the same history and settings.
 * @example electronUserDataDir({ platform: 'linux', env: {}, home: '/home/a', appName: 'deepvis-studio' }) // => '/home/a/.config/deepvis-studio'
 */
export function electronUserDataDir({ platform, env, home, appName }: DataDirEnv): string {
  const p = platform === 'win32' ? path.win32 : path.posix
  let appData: string
  if (platform === 'darwin') appData = p.join(home, 'Library', 'Application Support')
  else if (platform === 'win32') appData = env['APPDATA'] || p.join(home, 'AppData', 'Roaming')
  else appData = env['XDG_CONFIG_HOME'] || p.join(home, '.config')
  return p.join(appData, appName)
}

/** A command that opens a URL. */
export interface OpenCommand {
  command: string
  args: string[]
}

/**
 * How to open `url` in the default browser, or null when there is no way (no display, or on Linux
 * no `xdg-open` on the PATH).
 * @param isExecutable whether a file exists and can be run
 */
export function browserCommand(url: string, platform: NodeJS.Platform, env: Env, isExecutable: (file: string) => boolean): OpenCommand | null {
  if (!hasDisplay(platform, env)) return null
  if (platform === 'darwin') return { command: 'open', args: [url] }
  if (platform === 'win32') return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] }
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue
    const file = path.join(dir, 'xdg-open')
    if (isExecutable(file)) return { command: file, args: [url] }
  }
  return null
}

/** `npm start`'s options. */
export interface LaunchOptions {
  forced: ForcedMode
  /** Open the page in the default browser (web mode), where possible. */
  browser: boolean
  /** Web mode: build into this folder instead of `out/` and serve its `renderer/`. */
  buildDir: string | null
  /** Seconds an Electron download may take. */
  downloadTimeoutS: number
  help: boolean
}

/** Seconds an Electron download may take before the launcher gives up on it (about 110 MB). */
export const DEFAULT_DOWNLOAD_TIMEOUT_S = 180

/** The one-line synopsis (printed after a bad option). */
export const LAUNCH_SYNOPSIS = 'usage: npm start -- [--web | --electron] [--no-browser] [--download-timeout SECONDS] [--build-dir DIR] (--help for more)'

/** `--help`. */
export const LAUNCH_USAGE = 'usage: npm start -- [--web | --electron] [--no-browser] [--download-timeout SECONDS] [--build-dir DIR]\n' +
  '  --web                 serve the app to a browser on 127.0.0.1 (see `npm run web` for a remote server)\n' +
  '  --electron            open the Electron window or fail; never fall back to the web mode\n' +
  '  --no-browser          web mode: print the URL but do not open a browser\n' +
  `  --download-timeout S  give up on Electron's binary download after S seconds (default ${DEFAULT_DOWNLOAD_TIMEOUT_S})\n` +
  '  --build-dir DIR       web mode: build into DIR instead of out/'

/**
 * `npm start`'s command line, or a one-line error.
 * @example parseLaunchArgs(['--web', '--no-browser']) // => { ok: true, options: { forced: 'web', browser: false, … } }
 */
export function parseLaunchArgs(argv: readonly string[]): { ok: true; options: LaunchOptions } | { ok: false; error: string } {
  let values
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        web: { type: 'boolean', default: false },
        electron: { type: 'boolean', default: false },
        'no-browser': { type: 'boolean', default: false },
        'build-dir': { type: 'string' },
        'download-timeout': { type: 'string', default: String(DEFAULT_DOWNLOAD_TIMEOUT_S) },
        help: { type: 'boolean', short: 'h', default: false },
      },
      allowPositionals: false,
    }))
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) }
  }
  if (values.web && values.electron) return { ok: false, error: '--web and --electron exclude each other' }
  const timeout = Number(values['download-timeout'])
  if (!Number.isFinite(timeout) || timeout <= 0) {
    return { ok: false, error: `--download-timeout must be a positive number of seconds, got '${values['download-timeout']}'` }
  }
  const buildDir = values['build-dir'] ?? null
  if (buildDir !== null && values.electron) return { ok: false, error: '--build-dir applies to the web mode only' }
  return {
    ok: true,
    options: {
      forced: values.web ? 'web' : values.electron ? 'electron' : null,
      browser: !values['no-browser'],
      buildDir,
      downloadTimeoutS: timeout,
      help: values.help,
    },
  }
}
