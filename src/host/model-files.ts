/**
 * Model and result files on the engine's machine, for the app's model and export channels:
 * - `storeUpload(uploadsDir, files)`: write an uploaded model (model.json, shards, sidecar, labels)
 *   into `<uploadsDir>/<hash>/`, named by the sha256 of the files, atomically: the files go into a
 *   hidden temporary folder that is renamed into place, so a folder under its final name is always
 *   complete. The same files uploaded again reuse the existing folder.
 * - `exportRun(runFolder, runId, destRoot)`: copy a stored run's images (best / last / majority,
 *   `_X.png` and `_Xpm.png`, those that exist), info.json, info.txt and optimization.gif (when present) into `<destRoot>/<runId>/`;
 *   `destRoot` must exist and lie outside /proc, /sys and /dev; only `<runId>/` is created in it; refuses a
 *   destination that exists and is not an empty folder; gives up after EXPORT_TIMEOUT_MS.
 * - `expandHome(p)`: `~` and `~/…` to the home folder, as a shell would.
 * File names of uploads are validated by the IPC schema (plain names); this module checks again.
 * Shape: `await storeUpload(dir, files) => folder`; `await exportRun(src, runId, dest) => ExportResult`
 */
import { createHash, randomBytes } from 'node:crypto'
import { constants as fsConstants, createReadStream } from 'node:fs'
import { copyFile, lstat, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { DeepVisError } from '../shared/errors.ts'
import { GIF_SUFFIX, INFO_JSON, INFO_TXT, SNAPSHOT_SLOTS } from '../engine/node/tf-free.ts'
import type { ExportResult, UploadedFile } from '../shared/app-types.ts'
import { UPLOAD_ID_PATTERN, UPLOAD_NAME_PATTERN } from '../shared/ipc-schemas.ts'
import { refuseSpecialRoot } from '../engine/node/tf-free.ts'
import { incomingDir } from './upload-paths.ts'

/** Hex characters of the sha256 naming an upload folder (96 bits: no accidental collisions). */
export const UPLOAD_HASH_CHARS = 24
/** Random bytes in the name of an upload's temporary folder. */
const TEMP_RANDOM_BYTES = 6
/** Image suffixes of a stored run, per snapshot slot. */
const IMAGE_SUFFIXES = ['_X.png', '_Xpm.png'] as const
/** An export that takes longer than this (a hung network mount, say) is abandoned. */
export const EXPORT_TIMEOUT_MS = 60_000

/** `~` or `~/rest` to the home folder; other paths unchanged. */
export function expandHome(p: string): string {
  if (p === '~') return os.homedir()
  if (p.startsWith('~/') || p.startsWith(`~${path.sep}`)) return path.join(os.homedir(), p.slice(2))
  return p
}

/** The decoded files, sorted by name, and the hash naming their folder (names and bytes both count). */
export function hashUpload(files: readonly UploadedFile[]): { hash: string; decoded: { name: string; bytes: Buffer }[] } {
  const decoded = files
    .map((f) => {
      if (!UPLOAD_NAME_PATTERN.test(f.name)) throw new DeepVisError('BAD_PARAM', `'${f.name}' is not a plain file name`)
      return { name: f.name, bytes: Buffer.from(f.base64, 'base64') }
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const h = createHash('sha256')
  for (const f of decoded) {
    // Name and length first, so that no two different uploads hash the same byte stream.
    h.update(`${f.name}\0${f.bytes.length}\0`)
    h.update(f.bytes)
  }
  return { hash: h.digest('hex').slice(0, UPLOAD_HASH_CHARS), decoded }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p)
    return true
  } catch {
    return false
  }
}

/**
 * Store uploaded model files under `<uploadsDir>/<hash>/` and return that folder.
 * @example const dir = await storeUpload(path.join(dataDir, 'uploads'), files); await loadModelFolder(dir)
 */
export async function storeUpload(uploadsDir: string, files: readonly UploadedFile[]): Promise<string> {
  if (files.length === 0) throw new DeepVisError('BAD_PARAM', 'no files uploaded: give model.json and its weight files')
  const { hash, decoded } = hashUpload(files)
  const folder = path.join(uploadsDir, hash)
  if (await exists(folder)) return folder
  await mkdir(uploadsDir, { recursive: true })
  const temp = path.join(uploadsDir, `.upload-${hash}-${randomBytes(TEMP_RANDOM_BYTES).toString('hex')}`)
  try {
    await mkdir(temp)
    for (const f of decoded) await writeFile(path.join(temp, f.name), f.bytes)
    try {
      await rename(temp, folder)
    } catch (e) {
      // The same upload landed meanwhile (rename onto a non-empty folder fails): use that one.
      if (!(await exists(folder))) throw e
      await rm(temp, { recursive: true, force: true })
    }
    return folder
  } catch (e) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined)
    throw new DeepVisError('INTERNAL', `could not store the uploaded model in ${uploadsDir}: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * Store a streamed upload like `storeUpload` stores sent files: its files (plain names, regular
 * files) are hashed from disk in chunks (names and lengths first, as `hashUpload`), and its incoming
 * folder renamed to `<uploadsDir>/<hash>/` (or removed, when the same upload is stored already).
 * @example const dir = await adoptStagedUpload(uploadsDir, 'k3j…'); await loadModelFolder(dir)
 */
export async function adoptStagedUpload(uploadsDir: string, uploadId: string): Promise<string> {
  if (!UPLOAD_ID_PATTERN.test(uploadId)) throw new DeepVisError('BAD_PARAM', 'malformed upload id')
  const incoming = incomingDir(uploadsDir, uploadId)
  let names: string[]
  try {
    names = (await readdir(incoming)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  } catch {
    throw new DeepVisError('BAD_PARAM', `no files were uploaded under id ${uploadId}: upload model.json and its weight files first`)
  }
  if (names.length === 0) throw new DeepVisError('BAD_PARAM', 'no files uploaded: give model.json and its weight files')
  const h = createHash('sha256')
  for (const name of names) {
    const file = path.join(incoming, name)
    const st = await lstat(file)
    if (!UPLOAD_NAME_PATTERN.test(name) || !st.isFile()) throw new DeepVisError('BAD_PARAM', `'${name}' is not a plain uploaded file`)
    h.update(`${name}\0${st.size}\0`)
    for await (const chunk of createReadStream(file)) h.update(chunk as Buffer)
  }
  const folder = path.join(uploadsDir, h.digest('hex').slice(0, UPLOAD_HASH_CHARS))
  if (await exists(folder)) {
    await rm(incoming, { recursive: true, force: true })
    return folder
  }
  try {
    await rename(incoming, folder)
  } catch (e) {
    if (!(await exists(folder))) throw new DeepVisError('INTERNAL', `could not store the uploaded model: ${e instanceof Error ? e.message : String(e)}`)
    await rm(incoming, { recursive: true, force: true })
  }
  return folder
}

/** The files of a stored run that an export copies, in a fixed order (those that exist). */
export async function exportableFiles(runFolder: string): Promise<string[]> {
  const wanted = [
    ...SNAPSHOT_SLOTS.flatMap((slot) => IMAGE_SUFFIXES.map((suffix) => `${slot}${suffix}`)),
    INFO_JSON,
    INFO_TXT,
    GIF_SUFFIX,
  ]
  const present = new Set(await readdir(runFolder))
  return wanted.filter((name) => present.has(name))
}

/**
 * Copy a stored run's result files into `<destRoot>/<runId>/` (created). `destRoot` must be an
 * absolute path (`~` allowed). BAD_PARAM when the destination exists and is not an empty folder;
 * on a failed copy the half-written destination is removed.
 * @example await exportRun(detail.folder, detail.runId, '/home/me/exports')
 */
export async function exportRun(runFolder: string, runId: string, destRoot: string, timeoutMs = EXPORT_TIMEOUT_MS): Promise<ExportResult> {
  const root = expandHome(destRoot)
  if (!path.isAbsolute(root)) {
    throw new DeepVisError('BAD_PARAM', `export folder '${destRoot}' is not an absolute path; give a full path such as /home/me/exports`)
  }
  await refuseSpecialRoot(root, 'export folder')
  const rootSt = await stat(root).catch(() => null)
  if (!rootSt) throw new DeepVisError('BAD_PARAM', `export folder ${root} does not exist; create it first (only the run's own folder is created inside it)`)
  if (!rootSt.isDirectory()) throw new DeepVisError('BAD_PARAM', `export folder ${root} is not a folder`)
  const dest = path.join(root, runId)
  let created = false
  const st = await lstat(dest).catch(() => null)
  if (st && !st.isDirectory()) throw new DeepVisError('BAD_PARAM', `cannot export to ${dest}: something that is not a folder has that name`)
  if (st && (await readdir(dest)).length > 0) {
    throw new DeepVisError('BAD_PARAM', `cannot export to ${dest}: the folder exists and is not empty (choose another folder, or empty it)`)
  }
  const files = await exportableFiles(runFolder)
  if (files.length === 0) throw new DeepVisError('BAD_PARAM', `run '${runId}' has no result files in ${runFolder}`)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it took longer than ${timeoutMs / 1000} s`)), timeoutMs)
  })
  const copy = (async () => {
    if (!st) {
      // Only the run's own folder is created: never a chain of parents.
      await mkdir(dest)
      created = true
    }
    // COPYFILE_EXCL: never write through a file (or a FIFO) that appeared in the folder meanwhile.
    for (const name of files) await copyFile(path.join(runFolder, name), path.join(dest, name), fsConstants.COPYFILE_EXCL)
  })()
  try {
    await Promise.race([copy, timeout])
  } catch (e) {
    // Only what this export created is removed: the files it copied, then its folder.
    await copy.catch(() => undefined)
    if (created) await rm(dest, { recursive: true, force: true }).catch(() => undefined)
    else await Promise.all(files.map((n) => rm(path.join(dest, n), { force: true }).catch(() => undefined)))
    throw new DeepVisError('BAD_PARAM', `could not export run '${runId}' to ${dest}: ${e instanceof Error ? e.message : String(e)}`)
  } finally {
    clearTimeout(timer)
  }
  return { folder: dest, files }
}
