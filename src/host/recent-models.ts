/**
 * Recent models: the model folders the user opened (or uploaded), newest first, de-duplicated by
 * folder, at most RECENT_MODELS_MAX, persisted as JSON in one file (`<dataDir>/recent-models.json`)
 * so the list survives a restart. An unreadable or corrupt file reads as an empty list (and is
 * rewritten on the next opening), never as an error: the list is a convenience.
 * Writes are atomic (temporary file + rename) and serialized, so two openings in a row both land.
 * Shape: `createRecentModels(file, {now?}) => { list(), add({path, name}) }`
 */
import { mkdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../engine/node/tf-free.ts'
import type { RecentModel } from '../shared/app-types.ts'

/** Most entries kept. */
export const RECENT_MODELS_MAX = 10
/** File name of the list inside the data folder. */
export const RECENT_MODELS_FILE = 'recent-models.json'
/** `format` tag of the file; bump the number on an incompatible change. */
export const RECENT_MODELS_FORMAT = 'deepvis-recent-models@1'

export interface RecentModels {
  /** The stored entries, newest first (a copy). */
  list(): Promise<RecentModel[]>
  /** Put a folder at the top (replacing an older entry for the same folder); resolves once written. */
  add(entry: { path: string; name: string }): Promise<RecentModel[]>
}

function isRecentModel(v: unknown): v is RecentModel {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Partial<RecentModel>
  return typeof r.path === 'string' && r.path.length > 0 && typeof r.name === 'string' && typeof r.openedAt === 'string'
}

/** Parse the file's text; anything unexpected gives the valid entries only (or none). */
export function parseRecentModels(text: string): RecentModel[] {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return []
  }
  const models = typeof value === 'object' && value !== null ? (value as { models?: unknown }).models : undefined
  if (!Array.isArray(models)) return []
  const seen = new Set<string>()
  const out: RecentModel[] = []
  for (const m of models) {
    if (!isRecentModel(m) || seen.has(path.resolve(m.path))) continue
    seen.add(path.resolve(m.path))
    out.push({ path: m.path, name: m.name, openedAt: m.openedAt })
    if (out.length === RECENT_MODELS_MAX) break
  }
  return out
}

/**
 * The recent-models list stored in `file`.
 * @example const recent = createRecentModels(path.join(dataDir, RECENT_MODELS_FILE)); await recent.add({ path: dir, name: 'VGG16' })
 */
export function createRecentModels(file: string, { now = () => new Date() }: { now?: () => Date } = {}): RecentModels {
  /** The chain of writes: each `add` reads after the previous one landed. */
  let chain: Promise<unknown> = Promise.resolve()

  async function read(): Promise<RecentModel[]> {
    try {
      return parseRecentModels(await readFile(file, 'utf8'))
    } catch {
      return []
    }
  }

  async function list(): Promise<RecentModel[]> {
    await chain.catch(() => undefined)
    return read()
  }

  function add({ path: folder, name }: { path: string; name: string }): Promise<RecentModel[]> {
    const next = chain.catch(() => undefined).then(async () => {
      const key = path.resolve(folder)
      const entries = [
        { path: folder, name, openedAt: now().toISOString() },
        ...(await read()).filter((m) => path.resolve(m.path) !== key),
      ].slice(0, RECENT_MODELS_MAX)
      const text = JSON.stringify({ format: RECENT_MODELS_FORMAT, models: entries }, null, 2) + '\n'
      await mkdir(path.dirname(file), { recursive: true })
      await writeFileAtomic(file, new TextEncoder().encode(text))
      return entries
    })
    chain = next
    return next
  }

  return { list, add }
}
