/**
 * What `npm start` does on this machine: open the Electron window, first download Electron's binary
 * (at most once per start), start the web mode instead, or stop with a reason. Pure: the launcher
 * (src/launcher/main.ts) gathers the facts, asks, acts, and asks again after a download; the tests
 * drive it with faked facts.
 * Shape: `decideLaunch(facts: LaunchFacts) => LaunchStep`,
 * `resolveLaunch(facts, tryDownload) => Promise<{step, facts}>` (decide, download at most once, decide again)
 */

/** `--web` / `--electron` on the command line; null lets the launcher choose. */
export type ForcedMode = 'web' | 'electron' | null

/** How this start's Electron download went; null while none was tried. */
export type DownloadOutcome = { ok: true } | { ok: false; reason: string }

/** Everything the decision depends on. */
export interface LaunchFacts {
  /** Mode forced by the user, or null. */
  forced: ForcedMode
  /** A display a window can open on (see `hasDisplay`). */
  display: boolean
  /** Electron's binary is installed (see `electronBinaryPath`). */
  binary: boolean
  /** A download may be tried (false when ELECTRON_SKIP_BINARY_DOWNLOAD is set). */
  downloadAllowed: boolean
  /** The download tried during this start, or null when none was. */
  download: DownloadOutcome | null
}

/** The launcher's next step. */
export type LaunchStep =
  /** Open the Electron window. */
  | { kind: 'electron' }
  /** Download Electron's binary, then decide again with `download` set. */
  | { kind: 'download' }
  /** Serve the app to a browser; `reason` says why Electron cannot start (null: `--web` asked for it). */
  | { kind: 'web'; reason: string | null }
  /** Stop with this message (`--electron` where Electron cannot start). */
  | { kind: 'fail'; message: string }

/** Why there is no window on a machine without a display. */
export const NO_DISPLAY_REASON = 'no display: DISPLAY and WAYLAND_DISPLAY are unset'

/**
 * The next step for these facts. Never asks for a download when one was already tried
 * (`facts.download !== null`), so a start downloads at most once.
 * @example decideLaunch({ forced: null, display: false, binary: true, downloadAllowed: true, download: null })
 *   // => { kind: 'web', reason: 'no display: …' }
 */
export function decideLaunch(facts: LaunchFacts): LaunchStep {
  const { forced, display, binary, downloadAllowed, download } = facts
  if (forced === 'web') return { kind: 'web', reason: null }
  const cannot = (reason: string): LaunchStep =>
    forced === 'electron' ? { kind: 'fail', message: `cannot open the Electron window (${reason})` } : { kind: 'web', reason }
  // No window can open: no point in downloading.
  if (!display) return cannot(NO_DISPLAY_REASON)
  if (binary) return { kind: 'electron' }
  if (download === null) {
    return downloadAllowed ? { kind: 'download' } : cannot("Electron's binary is not installed and ELECTRON_SKIP_BINARY_DOWNLOAD turns its download off")
  }
  if (!download.ok) return cannot(`Electron's binary could not be downloaded: ${download.reason}`)
  return cannot("Electron's download finished but its binary is still missing")
}

/** What a download attempt reports: its outcome and whether the binary is there now. */
export interface DownloadReport {
  download: DownloadOutcome
  binary: boolean
}

/**
 * Decide; when that asks for a download, run `tryDownload` (once) and decide again with its report.
 * The result is never `download`.
 * @example const { step } = await resolveLaunch(facts, async () => ({ download: await downloadElectron(…), binary: check() }))
 */
export async function resolveLaunch(
  facts: LaunchFacts,
  tryDownload: () => Promise<DownloadReport>,
): Promise<{ step: Exclude<LaunchStep, { kind: 'download' }>; facts: LaunchFacts }> {
  let step = decideLaunch(facts)
  if (step.kind === 'download') {
    const report = await tryDownload()
    facts = { ...facts, download: report.download, binary: report.binary }
    step = decideLaunch(facts)
  }
  if (step.kind === 'download') throw new Error('decideLaunch asked for a second download')
  return { step, facts }
}

/** The one line printed when `npm start` falls back to the web mode. */
export function fallbackLine(reason: string): string {
  return `Electron cannot start here (${reason}); starting the web mode instead.`
}
