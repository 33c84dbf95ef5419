/**
 * A sweep worker's model from a URL (`deepvis worker --model https://host/models/googlenet/`): the
 * files are downloaded once into a fresh private folder, which the worker loads and checks by hash
 * like any local copy, and removes when it stops (also on SIGTERM/SIGINT, through process 'exit').
 *
 * - A URL ending in `.onnx`: that file, plus every external-data file its tensors name.
 * - Otherwise a TF.js model: `model.json` (the URL itself when it ends in .json, else `<url>/model.json`)
 *   and every weight file its manifest names.
 * - For both, `deepvis.json` and `labels.txt` beside it when the server has them (404 is fine).
 * The files a model names must be plain relative names that stay beside it (no `..`, no absolute
 * path, no other host), as for a folder on disk; every download has a size limit (the model-file
 * limits, checked on Content-Length and while streaming) and a time limit. Credentials in the URL are
 * used, never printed.
 * Shape: `const { dir, cleanup } = await fetchModel(url)`; `isModelUrl(s) => boolean`
 */
import { rmSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { DeepVisError } from '../shared/errors.ts'
import { limits, raiseHint } from '../engine/node/index.ts'
import { SIDECAR_NAME } from '../engine/node/index.ts'
import { parseJsonText } from '../engine/node/index.ts'
import { externalLocations } from './model-hash.ts'

/** Longest a single file may take to download. */
const FILE_TIMEOUT_MS = 10 * 60_000
/** A file name a model may name: no folders above, nothing absolute, no scheme. */
const SAFE_NAME = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^\\:\0?#]+$/

export function isModelUrl(s: string): boolean {
  return /^https?:\/\//i.test(s)
}

/** The URL without user and password, for messages. */
export function displayUrl(u: URL | string): string {
  const url = new URL(String(u))
  url.username = ''
  url.password = ''
  return url.href
}

async function download(url: URL, what: string, maxBytes: number, hint: string, optional = false): Promise<Buffer | null> {
  let res: Response
  try {
    const headers: Record<string, string> = {}
    if (url.username || url.password) headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
    const bare = new URL(url.href)
    bare.username = ''
    bare.password = ''
    res = await fetch(bare, { headers, redirect: 'follow', signal: AbortSignal.timeout(FILE_TIMEOUT_MS) })
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause
    throw new DeepVisError('BAD_MODEL', `could not download ${what} from ${displayUrl(url)}: ${cause?.code ?? cause?.message ?? (e as Error).message}`)
  }
  if (optional && res.status === 404) {
    await res.body?.cancel()
    return null
  }
  if (!res.ok) {
    await res.body?.cancel()
    throw new DeepVisError('BAD_MODEL', `could not download ${what} from ${displayUrl(url)}: HTTP ${res.status} ${res.statusText}`)
  }
  const declared = Number(res.headers.get('content-length'))
  const tooBig = (n: number) => new DeepVisError('BAD_MODEL', `${what} at ${displayUrl(url)} is ${n} bytes or more, over the limit of ${maxBytes} (${hint})`)
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel()
    throw tooBig(declared)
  }
  const chunks: Buffer[] = []
  let total = 0
  if (res.body) {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length
      if (total > maxBytes) throw tooBig(total)
      chunks.push(Buffer.from(chunk))
    }
  }
  return Buffer.concat(chunks)
}

/** A file the model names, as a URL beside the model; refused when it would leave that place. */
function beside(base: URL, name: string, what: string): URL {
  if (typeof name !== 'string' || !SAFE_NAME.test(name)) {
    throw new DeepVisError('BAD_MODEL', `${what} '${String(name).slice(0, 200)}' is not a plain file name beside the model; files a model names must be inside its folder`)
  }
  const url = new URL(name, base)
  const folder = new URL('.', base)
  if (url.origin !== folder.origin || !url.pathname.startsWith(folder.pathname)) {
    throw new DeepVisError('BAD_MODEL', `${what} '${name}' lies outside the model's folder`)
  }
  return url
}

/** Download the model at `urlText` into a fresh folder; `cleanup` removes that folder. */
export async function fetchModel(urlText: string): Promise<{ dir: string; file: string; cleanup: () => Promise<void> }> {
  let url: URL
  try {
    url = new URL(urlText)
  } catch {
    throw new DeepVisError('BAD_PARAM', '--model is not a valid URL')
  }
  const lim = limits()
  const weights = { max: lim.weightBytes, hint: raiseHint('weightBytes') }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'deepvis-model-'))
  // Removed however the process ends (a signal's handler calls process.exit, which runs 'exit' listeners).
  const onExit = (): void => rmSync(dir, { recursive: true, force: true })
  process.once('exit', onExit)
  const cleanup = async (): Promise<void> => {
    process.off('exit', onExit)
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const isOnnx = url.pathname.toLowerCase().endsWith('.onnx')
    const mainUrl = isOnnx || url.pathname.endsWith('.json') ? url : new URL('model.json', url.href.endsWith('/') ? url : new URL(`${url.href}/`))
    const mainName = isOnnx ? path.posix.basename(decodeURIComponent(url.pathname)) : 'model.json'
    if (!SAFE_NAME.test(mainName)) throw new DeepVisError('BAD_MODEL', `the model's file name in ${displayUrl(url)} is not a plain file name`)
    let total = 0
    const main = (await download(mainUrl, isOnnx ? 'the ONNX model' : 'model.json', isOnnx ? weights.max : lim.modelJsonBytes, isOnnx ? weights.hint : raiseHint('modelJsonBytes')))!
    if (isOnnx) total += main.length
    await writeFile(path.join(dir, mainName), main)
    let named: string[]
    if (isOnnx) {
      named = externalLocations(main, displayUrl(url))
    } else {
      const parsed = parseJsonText(main.toString('utf8'), displayUrl(mainUrl), 'model.json') as { weightsManifest?: { paths?: unknown }[] }
      named = (parsed.weightsManifest ?? []).flatMap((g) => (Array.isArray(g.paths) ? g.paths as string[] : []))
    }
    for (const name of named) {
      const fileUrl = beside(mainUrl, name, isOnnx ? 'external data file' : 'weight file')
      const bytes = (await download(fileUrl, `weight file '${name}'`, weights.max - total, weights.hint))!
      total += bytes.length
      const target = path.join(dir, ...name.split('/'))
      if (path.relative(dir, target).startsWith('..')) throw new DeepVisError('BAD_MODEL', `weight file '${name}' lies outside the model's folder`)
      await mkdir(path.dirname(target), { recursive: true })
      await writeFile(target, bytes)
    }
    for (const extra of [SIDECAR_NAME, 'labels.txt']) {
      const bytes = await download(beside(mainUrl, extra, extra), extra, lim.auxFileBytes, raiseHint('auxFileBytes'), true)
      if (bytes) await writeFile(path.join(dir, extra), bytes)
    }
    return { dir, file: path.join(dir, mainName), cleanup }
  } catch (e) {
    await cleanup()
    throw e
  }
}
