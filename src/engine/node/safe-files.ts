/**
 * Reading the files a model folder (or a user) names, safely:
 * - `resolveInside(root, name, what)`: the real path of `name` (relative to `root`), refused unless it
 *   stays inside `root` once every symbolic link is followed (a shard `../../../../dev/zero`, a labels
 *   file `/etc/hostname`, a link out of the folder are all refused with one line naming the file).
 * - `readRegularFile(file, {what, maxBytes, expectBytes})`: the bytes of a regular file, refused for a
 *   FIFO, socket, device or folder (opened non-blocking, then checked on the open handle, so a FIFO can
 *   never hang the reader), for anything under /proc, /sys or /dev, and for a size over `maxBytes` or
 *   other than `expectBytes`, each before a byte is read.
 * - `refuseSpecialRoot(p)`: a path under /proc, /sys or /dev (after links) is refused.
 * Errors are DeepVisErrors with the given code; messages name the file and never echo its contents.
 * Shape: `await readRegularFile(await resolveInside(dir, rel, 'weight file'), {what, maxBytes})`
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs'
import { open, realpath } from 'node:fs/promises'
import path from 'node:path'
import { DeepVisError, type ErrorCode } from '../../shared/errors.ts'
import { limits, raiseHint } from './limits.ts'

/** Kernel and device trees: never a model file, an export destination or a mask. */
export const SPECIAL_ROOTS = ['/proc', '/sys', '/dev'] as const

function under(p: string, root: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep)
}

/** Whether `p` (already absolute and resolved) lies in /proc, /sys or /dev. */
export function isSpecialPath(p: string): boolean {
  return SPECIAL_ROOTS.some((r) => under(p, r))
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (for files to be created). */
export async function realpathLoose(p: string): Promise<string> {
  const abs = path.resolve(p)
  const rest: string[] = []
  let cur = abs
  for (;;) {
    try {
      const real = await realpath(cur)
      return rest.length ? path.join(real, ...rest.reverse()) : real
    } catch {
      const up = path.dirname(cur)
      if (up === cur) return abs
      rest.push(path.basename(cur))
      cur = up
    }
  }
}

/** Throw `code` when `p` is (or resolves into) /proc, /sys or /dev. */
export async function refuseSpecialRoot(p: string, what: string, code: ErrorCode = 'BAD_PARAM'): Promise<void> {
  const abs = path.resolve(p)
  if (isSpecialPath(abs) || isSpecialPath(await realpathLoose(abs))) {
    throw new DeepVisError(code, `${what} ${p} is in ${SPECIAL_ROOTS.join(', ')}: not a place for model or result files`)
  }
}

/**
 * The real path of `name` resolved against `root`; throws `code` when it leaves `root` (after
 * following links) or does not exist.
 * @example const shard = await resolveInside(modelDir, 'group1-shard1of2.bin', 'weight file')
 */
export async function resolveInside(root: string, name: string, what: string, code: ErrorCode = 'BAD_MODEL'): Promise<string> {
  if (name.includes('\0')) throw new DeepVisError(code, `${what} name ${JSON.stringify(name.replace(/\0/g, '\\0'))} is not a file name`)
  const realRoot = await realpath(root).catch(() => path.resolve(root))
  const joined = path.resolve(realRoot, name)
  if (!under(joined, realRoot)) {
    throw new DeepVisError(code, `${what} '${name}' lies outside the model folder ${root}; files a model names must be inside its folder`)
  }
  let real: string
  try {
    real = await realpath(joined)
  } catch {
    throw new DeepVisError(code, `missing ${what} ${name} (looked for ${joined})`)
  }
  if (!under(real, realRoot)) {
    throw new DeepVisError(code, `${what} '${name}' is a link to ${real}, outside the model folder ${root}; files a model names must be inside its folder`)
  }
  return real
}

export interface ReadOptions {
  /** What the file is, for messages ("weight file", "labels file"). */
  what: string
  /** Largest size accepted, in bytes. */
  maxBytes: number
  /** How to raise maxBytes, appended to the "too large" message. */
  raiseHint?: string
  /** The exact size the file must have (e.g. what a manifest declares). */
  expectBytes?: number
  /** Error code. Default BAD_MODEL. */
  code?: ErrorCode
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder'
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device'
  return 'not a regular file'
}

/** Refuse an opened file that is not regular, or whose size is over the limit or not the expected one. */
function checkOpened(st: Stats, file: string, opts: ReadOptions, code: ErrorCode): void {
  if (!st.isFile()) throw new DeepVisError(code, `${opts.what} ${file} is ${kindOf(st)}, not a regular file`)
  if (st.size > opts.maxBytes) {
    throw new DeepVisError(code, `${opts.what} ${file} is ${st.size} bytes, over the limit of ${opts.maxBytes}${opts.raiseHint ? ` (${opts.raiseHint})` : ''}`)
  }
  if (opts.expectBytes !== undefined && st.size !== opts.expectBytes) {
    throw new DeepVisError(code, `${opts.what} ${file} is ${st.size} bytes but should be ${opts.expectBytes} (truncated or wrong file?)`)
  }
}

/**
 * The bytes of the regular file `file`; see the module header for what is refused.
 * @example const bytes = await readRegularFile(real, { what: 'labels file', maxBytes: 16 << 20 })
 */
export async function readRegularFile(file: string, opts: ReadOptions): Promise<Buffer> {
  const code = opts.code ?? 'BAD_MODEL'
  const abs = path.resolve(file)
  const real = await realpathLoose(abs)
  if (isSpecialPath(abs) || isSpecialPath(real)) {
    throw new DeepVisError(code, `${opts.what} ${file} is in ${SPECIAL_ROOTS.join(', ')}: not a regular file`)
  }
  let fh
  try {
    // O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
    fh = await open(abs, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code
    throw new DeepVisError(code, errno === 'ENOENT' ? `missing ${opts.what} ${file}` : `cannot read ${opts.what} ${file} (${errno ?? 'error'})`)
  }
  try {
    const st = await fh.stat()
    checkOpened(st, file, opts, code)
    const buf = Buffer.alloc(st.size)
    let off = 0
    while (off < st.size) {
      const { bytesRead } = await fh.read(buf, off, st.size - off, off)
      if (bytesRead === 0) break
      off += bytesRead
    }
    if (off !== st.size) throw new DeepVisError(code, `${opts.what} ${file} changed while it was read (${off} of ${st.size} bytes)`)
    return buf
  } finally {
    await fh.close().catch(() => undefined)
  }
}

/**
 * `readRegularFile` for synchronous callers (mask files read while a run is set up): the same checks,
 * realpath resolution without following into /proc, /sys or /dev.
 */
export function readRegularFileSync(file: string, opts: ReadOptions): Buffer {
  const code = opts.code ?? 'BAD_MODEL'
  const abs = path.resolve(file)
  let real = abs
  try { real = realpathSync(abs) } catch { /* missing: open reports it */ }
  if (isSpecialPath(abs) || isSpecialPath(real)) {
    throw new DeepVisError(code, `${opts.what} ${file} is in ${SPECIAL_ROOTS.join(', ')}: not a regular file`)
  }
  let fd: number
  try {
    fd = openSync(abs, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code
    throw new DeepVisError(code, errno === 'ENOENT' ? `missing ${opts.what} ${file}` : `cannot read ${opts.what} ${file} (${errno ?? 'error'})`)
  }
  try {
    const st = fstatSync(fd)
    checkOpened(st, file, opts, code)
    const buf = Buffer.alloc(st.size)
    let off = 0
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off)
      if (n === 0) break
      off += n
    }
    if (off !== st.size) throw new DeepVisError(code, `${opts.what} ${file} changed while it was read (${off} of ${st.size} bytes)`)
    return buf
  } finally {
    closeSync(fd)
  }
}

/**
 * Parse a JSON file's text. The message gives the position of the error, never the text itself
 * (JSON.parse's own message quotes the file, which may be any file on the machine).
 */
export function parseJsonText(text: string, file: string, what: string, code: ErrorCode = 'BAD_MODEL'): unknown {
  try { return JSON.parse(text) } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message)?.[1]
    throw new DeepVisError(code, `${what} ${file} is not valid JSON${pos ? ` (error at byte ${pos})` : ''}`)
  }
}

/** A JSON file (model.json, a sidecar, an index), a regular file within the model-file limit. */
export async function readJsonFile(file: string, what: string, code: ErrorCode = 'BAD_MODEL'): Promise<unknown> {
  const bytes = await readRegularFile(file, { what, maxBytes: limits().modelJsonBytes, raiseHint: raiseHint('modelJsonBytes'), code })
  return parseJsonText(bytes.toString('utf8'), file, what, code)
}

/** A file a sidecar or index names (relative to the model folder `dir`), checked to stay inside `root`. */
export async function namedFile(dir: string, root: string, name: string, what: string): Promise<string> {
  if (typeof name !== 'string' || name.length === 0) throw new DeepVisError('BAD_INPUT_SPEC', `${what} must be a file name`)
  const abs = path.resolve(dir, name)
  return resolveInside(root, path.relative(root, abs), what, 'BAD_INPUT_SPEC')
}

/** `resolveInside` for synchronous callers (an ONNX model's external data, read while it is parsed). */
export function resolveInsideSync(root: string, name: string, what: string, code: ErrorCode = 'BAD_MODEL'): string {
  if (name.includes('\0')) throw new DeepVisError(code, `${what} name is not a file name`)
  let realRoot = path.resolve(root)
  try { realRoot = realpathSync(root) } catch { /* checked below */ }
  const joined = path.resolve(realRoot, name)
  if (!under(joined, realRoot)) {
    throw new DeepVisError(code, `${what} '${name}' lies outside the model folder ${root}; files a model names must be inside its folder`)
  }
  let real: string
  try { real = realpathSync(joined) } catch { throw new DeepVisError(code, `missing ${what} ${name} (looked for ${joined})`) }
  if (!under(real, realRoot)) {
    throw new DeepVisError(code, `${what} '${name}' is a link to ${real}, outside the model folder ${root}; files a model names must be inside its folder`)
  }
  return real
}
