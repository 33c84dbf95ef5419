/**
 * The child processes of `npm start`: Electron's installer (the binary download, with a time
 * limit), electron-vite (build, preview) and the browser opener. Each child is stopped when the
 * launcher's AbortSignal fires (Ctrl-C), so none outlives the launcher.
 * Shape: `downloadElectron({installer, timeoutMs, signal}) => Promise<DownloadOutcome>`,
 * `runChild(command, args, options) => Promise<ChildResult>`, `openDetached(command, args)`
 */
import { spawn, type StdioOptions } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { DownloadOutcome } from './decide-launch.ts'

/** How long a child may take to go after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 2000
/** Longest reason quoted from a failed download. */
const MAX_REASON_CHARS = 200

/** How a child ended. */
export interface ChildResult {
  /** Exit code; null when a signal ended it. */
  code: number | null
  signal: NodeJS.Signals | null
  /** Its stdout and stderr, when piped (not with 'inherit'). */
  output: string
  /** It was stopped by the time limit. */
  timedOut: boolean
  /** It was stopped because `signal` (the launcher's abort) fired. */
  aborted: boolean
}

export interface RunChildOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** 'pipe' (default) collects the output; 'inherit' shows it. */
  stdio?: 'pipe' | 'inherit'
  /** Stop the child (SIGTERM, then SIGKILL) after this many ms. */
  timeoutMs?: number
  /** Stop the child when this fires. */
  signal?: AbortSignal
  /** Send these signals on to the child as they reach this process (the Electron app). */
  forwardSignals?: readonly NodeJS.Signals[]
}

/**
 * Run a command to its end. Never rejects: a command that cannot start ends with code 127 and the
 * reason in `output`.
 * @example const r = await runChild(process.execPath, ['-e', '1']) // => { code: 0, … }
 */
export function runChild(command: string, args: readonly string[], options: RunChildOptions = {}): Promise<ChildResult> {
  const { cwd, env, stdio = 'pipe', timeoutMs, signal, forwardSignals = [] } = options
  return new Promise((resolve) => {
    const io: StdioOptions = stdio === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe']
    const child = spawn(command, [...args], { cwd, env, stdio: io })
    const chunks: Buffer[] = []
    child.stdout?.on('data', (c: Buffer) => chunks.push(c))
    child.stderr?.on('data', (c: Buffer) => chunks.push(c))
    let timedOut = false
    let aborted = false
    let killTimer: NodeJS.Timeout | undefined
    let spawnError: Error | null = null

    const stop = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      killTimer ??= setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS)
    }
    const limit = timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true
      stop()
    }, timeoutMs)
    const onAbort = (): void => {
      aborted = true
      stop()
    }
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    const forward = (sig: NodeJS.Signals): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig)
    }
    for (const sig of forwardSignals) process.on(sig, forward)

    child.on('error', (e) => {
      spawnError = e
    })
    child.on('close', (code, sig) => {
      clearTimeout(limit)
      clearTimeout(killTimer)
      signal?.removeEventListener('abort', onAbort)
      for (const s of forwardSignals) process.off(s, forward)
      const output = Buffer.concat(chunks).toString('utf8') + (spawnError ? `${spawnError.message}\n` : '')
      resolve({ code: spawnError ? 127 : code, signal: sig, output, timedOut, aborted })
    })
  })
}

/** The line of a failed installer's output that says what went wrong (its first non-blank line). */
export function downloadFailureReason(result: Pick<ChildResult, 'code' | 'signal' | 'output'>): string {
  const line = result.output.split('\n').map((l) => l.trim()).find((l) => l.length > 0)
  const reason = line ?? (result.signal ? `installer killed by ${result.signal}` : `installer exited with code ${String(result.code)}`)
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}…` : reason
}

export interface DownloadOptions {
  /** Electron's installer script (node_modules/electron/install.js). */
  installer: string
  timeoutMs: number
  signal?: AbortSignal
  env?: NodeJS.ProcessEnv
}

/**
 * Run Electron's installer once, with a time limit. A download that hangs or is slow is stopped at
 * the limit and reported as timed out; a refused one reports the installer's first error line.
 * @example await downloadElectron({ installer: require.resolve('electron/install.js'), timeoutMs: 180_000 })
 *   // => { ok: false, reason: 'TypeError: fetch failed' } where GitHub is unreachable
 */
export async function downloadElectron({ installer, timeoutMs, signal, env = process.env }: DownloadOptions): Promise<DownloadOutcome> {
  // The installer downloads into a temp folder of its own that a stopped installer leaves behind:
  // give it one inside ours, removed here whatever happens.
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-electron-'))
  let result: ChildResult
  try {
    result = await runChild(process.execPath, [installer], { timeoutMs, signal, env: { ...env, TMPDIR: tmp, TMP: tmp, TEMP: tmp } })
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
  if (result.aborted) return { ok: false, reason: 'interrupted' }
  if (result.timedOut) return { ok: false, reason: `timed out after ${formatSeconds(timeoutMs)} s` }
  if (result.code === 0) return { ok: true }
  return { ok: false, reason: downloadFailureReason(result) }
}

function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10)
}

/**
 * Start a command that outlives nothing of ours (a browser opener): detached, no output, errors
 * ignored (the URL is printed anyway).
 */
export function openDetached(command: string, args: readonly string[]): void {
  try {
    const child = spawn(command, [...args], { detached: true, stdio: 'ignore' })
    child.on('error', () => undefined)
    child.unref()
  } catch {
    // No browser: the printed URL is enough.
  }
}
