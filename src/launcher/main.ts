/**
 * `npm start`: open DeepVis Studio in the Electron window where Electron can start, else serve it to
 * a browser (the web mode) on 127.0.0.1.
 * - The choice is `decideLaunch` (src/launcher/decide-launch.ts) over this machine's facts (display,
 *   Electron's binary, whether a download may be tried); `--web` / `--electron` force it.
 * - A missing binary is downloaded at most once per start, by Electron's own installer run as a child
 *   with a time limit (`--download-timeout`, default 180 s).
 * - Electron: `electron-vite preview` (builds, then opens the window), signals passed on to it.
 * - Web fallback: `electron-vite build`, then the web server in this process with the history and
 *   settings in the folder the Electron window uses (`electronUserDataDir`), so that both see the same
 *   runs, thumbnails and recent models; prints the URL with its token, opens it in the default browser
 *   where a display and a browser exist, and stays up until Ctrl-C (then closes and exits 0).
 * Run as `node --import tsx src/launcher/main.ts` (one process; tsx's esbuild service ends with it).
 */
import { existsSync, readFileSync, accessSync, constants as fsConstants } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { fallbackLine, resolveLaunch, type LaunchFacts } from './decide-launch.ts'
import { downloadElectron, openDetached, runChild } from './children.ts'
import {
  browserCommand, downloadDisabled, electronBinaryPath, electronUserDataDir, hasDisplay, LAUNCH_SYNOPSIS, LAUNCH_USAGE, parseLaunchArgs,
  type BinaryFs, type LaunchOptions,
} from './environment.ts'

/** The repository root (this file is src/launcher/main.ts). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const require = createRequire(import.meta.url)
/** The history folder inside the data folder (as src/main/index.ts). */
const HISTORY_SUBDIR = 'runs'
/** Exit status after Ctrl-C before the app was up (128 + SIGINT). */
const EXIT_INTERRUPTED = 130
/** Longest wait for the web server to close after Ctrl-C. */
const CLOSE_TIMEOUT_MS = 30_000
const STOP_SIGNALS: readonly NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP']

const nodeFs: BinaryFs = {
  exists: (file) => existsSync(file),
  readText: (file) => {
    try {
      return readFileSync(file, 'utf8')
    } catch {
      return null
    }
  },
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The app's name as Electron reads it: package.json's productName, else its name. */
function appName(): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name?: string; productName?: string }
  return pkg.productName ?? pkg.name ?? 'deepvis-studio'
}

/** electron-vite's command-line entry. */
function electronViteBin(): string {
  const pkgFile = require.resolve('electron-vite/package.json')
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { bin: Record<string, string> }
  return path.join(path.dirname(pkgFile), pkg.bin['electron-vite'] ?? 'bin/electron-vite.js')
}

/** Fires on the first Ctrl-C (or SIGTERM/SIGHUP); later ones are absorbed, so a stop is never cut short. */
function stopSignal(): AbortSignal {
  const controller = new AbortController()
  for (const sig of STOP_SIGNALS) process.on(sig, () => controller.abort(sig))
  return controller.signal
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseLaunchArgs(argv)
  if (!parsed.ok) {
    console.error(`deepvis start: ${parsed.error}\n${LAUNCH_SYNOPSIS}`)
    return 2
  }
  const options = parsed.options
  if (options.help) {
    console.log(LAUNCH_USAGE)
    return 0
  }
  const stop = stopSignal()
  const electronDir = path.dirname(require.resolve('electron/package.json'))
  const binaryNow = (): boolean => electronBinaryPath(electronDir, process.env, nodeFs) !== null
  const initial: LaunchFacts = {
    forced: options.forced,
    display: hasDisplay(process.platform, process.env),
    binary: binaryNow(),
    downloadAllowed: !downloadDisabled(process.env),
    download: null,
  }
  const { step, facts } = await resolveLaunch(initial, async () => {
    console.log(`Electron's binary is not installed: downloading it (once, at most ${options.downloadTimeoutS} s)…`)
    const download = await downloadElectron({
      installer: path.join(electronDir, 'install.js'),
      timeoutMs: options.downloadTimeoutS * 1000,
      signal: stop,
    })
    return { download, binary: binaryNow() }
  })
  if (stop.aborted) return EXIT_INTERRUPTED
  switch (step.kind) {
    case 'fail':
      console.error(`deepvis start: ${step.message}; 'npm start -- --web' serves the app to a browser instead`)
      return 1
    case 'electron':
      return runElectron(options, stop)
    case 'web':
      if (step.reason !== null) console.log(fallbackLine(step.reason))
      return runWeb(options, facts.display, stop)
  }
}

async function runElectron(options: LaunchOptions, stop: AbortSignal): Promise<number> {
  if (options.buildDir !== null) console.log('note: --build-dir is for the web mode; the Electron window runs from out/')
  if (stop.aborted) return EXIT_INTERRUPTED
  const result = await runChild(process.execPath, [electronViteBin(), 'preview'], {
    cwd: ROOT,
    stdio: 'inherit',
    forwardSignals: STOP_SIGNALS,
  })
  return result.code ?? (result.signal ? EXIT_INTERRUPTED : 0)
}

async function runWeb(options: LaunchOptions, display: boolean, stop: AbortSignal): Promise<number> {
  const buildDir = options.buildDir === null ? path.join(ROOT, 'out') : path.resolve(options.buildDir)
  console.log('Building the app…')
  const build = await runChild(process.execPath, [electronViteBin(), 'build', ...(options.buildDir === null ? [] : ['--outDir', buildDir])], {
    cwd: ROOT,
    signal: stop,
  })
  if (build.aborted || stop.aborted) return EXIT_INTERRUPTED
  const rendererDir = path.join(buildDir, 'renderer')
  if (build.code !== 0 || !existsSync(path.join(rendererDir, 'index.html'))) {
    process.stderr.write(build.output)
    console.error(`deepvis start: building the app failed (electron-vite build, exit ${String(build.code)})`)
    return 1
  }

  const dataDir = electronUserDataDir({ platform: process.platform, env: process.env, home: os.homedir(), appName: appName() })
  // Loaded only here: the Electron path never needs the web server.
  const { startWebServer } = await import('../web/server.ts')
  const server = await startWebServer({ historyDir: path.join(dataDir, HISTORY_SUBDIR), rendererDir })
  console.log(`DeepVis Studio (web) at ${server.url}`)
  console.log(`History and settings: ${dataDir}`)
  const opener = options.browser && display ? browserCommand(server.url, process.platform, process.env, isExecutable) : null
  if (opener) openDetached(opener.command, opener.args)
  console.log(opener ? 'Opening it in your browser. Ctrl-C to stop.' : 'Open that URL in a browser. Ctrl-C to stop.')

  if (!stop.aborted) await new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }))
  console.log('\nstopping…')
  const closed = await Promise.race([
    server.close().then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS).unref()),
  ])
  if (!closed) {
    console.error(`deepvis start: the server did not close within ${CLOSE_TIMEOUT_MS / 1000} s`)
    return 1
  }
  return 0
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error('deepvis start:', e instanceof Error ? e.message : e)
    process.exit(1)
  },
)
