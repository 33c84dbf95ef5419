/**
 * Atomic, durable file writes: each file goes to a hidden temporary name in its folder
 * (`.<name>.tmp-<pid>-<8 hex>`), is flushed, then renamed; temporaries of this process are removed on a
 * fatal signal, and those a killed process left are swept (only our own pattern, only when that process
 * is gone).
 * Shape: `await writeFileAtomic(file, bytes)`; `tempNameFor(final)`, `await writeDurably(temp, bytes)`,
 *   `markDone(temp)`, `await removeQuietly(file)` (saveResults' multi-file commit);
 *   `removeTempFilesSync()`; `await sweepStaleTempFiles(dir) => names removed`.
 */
import { randomBytes } from 'node:crypto'
import { unlinkSync } from 'node:fs'
import { lstat, open, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'

/** The hidden temporary name `finalPath` is written under first. */
export function tempNameFor(finalPath: string): string {
  const rand = randomBytes(4).toString('hex')
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.tmp-${process.pid}-${rand}`)
}

/** Our temporary files' names: `.<final name>.tmp-<pid>-<8 hex>` (nothing else is ever swept). */
const TEMP_NAME = /^\..+\.tmp-(\d+)-[0-9a-f]{8}$/

/** Temporary files this process is writing now: removed by `removeTempFilesSync` on a fatal signal. */
const liveTemps = new Set<string>()

/**
 * Remove this process's temporary files at once (synchronously: for a signal handler that then exits).
 * @example process.on('SIGTERM', () => { removeTempFilesSync(); process.exit(143) })
 */
export function removeTempFilesSync(): void {
  for (const f of liveTemps) {
    try { unlinkSync(f) } catch { /* already renamed or gone */ }
  }
  liveTemps.clear()
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Remove the temporary files that a killed writer (its process gone: kill -9, a crash) left in `dir`.
 * Only names of our own pattern whose process no longer runs are removed; returns their names.
 */
export async function sweepStaleTempFiles(dir: string): Promise<string[]> {
  let names: string[]
  try { names = await readdir(dir) } catch { return [] }
  const removed: string[] = []
  for (const name of names) {
    const m = TEMP_NAME.exec(name)
    if (!m || processAlive(Number(m[1]))) continue
    const file = path.join(dir, name)
    try {
      if (!(await lstat(file)).isFile()) continue
      await rm(file, { force: true })
      removed.push(name)
    } catch { /* raced with another sweeper */ }
  }
  return removed
}

/** Write and flush `file` (a temporary name, which must not exist), tracked until renamed or removed. */
export async function writeDurably(file: string, bytes: Uint8Array): Promise<void> {
  liveTemps.add(file)
  const fh = await open(file, 'wx')
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/**
 * Write one file atomically: a hidden temporary name in the same folder, flushed, then renamed;
 * the temporary file is removed on failure.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const temp = tempNameFor(file)
  try {
    await writeDurably(temp, bytes)
    await rename(temp, file)
    liveTemps.delete(temp)
  } catch (e) {
    await removeQuietly(temp)
    throw e
  }
}

/** Remove a file, ignoring errors, and forget it as a temporary. */
export async function removeQuietly(file: string): Promise<void> {
  await rm(file, { force: true }).catch(() => undefined)
  liveTemps.delete(file)
}

/** A temporary file was renamed to its final name: no longer ours to remove. */
export function markDone(temp: string): void {
  liveTemps.delete(temp)
}
