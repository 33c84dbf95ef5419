/**
 * The stored runs of the history folder, read-only: list them and read one with its series and
 * images. No TensorFlow.js here, so the main thread can answer `runs:list` / `runs:get` itself
 * while the engine worker is busy with an iteration (the run service, in the worker, writes them).
 * A run folder counts only once its run.json (written last, atomically) is there, so a reader never
 * sees a run that is still being written.
 * Shape: `listStoredRuns(historyDir) => RunSummary[]`, `getStoredRun(historyDir, runId) => RunDetail`
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { DeepVisError } from '../shared/errors.ts'
import { ALPHA_SUFFIX, GIF_SUFFIX, INFO_JSON, SNAPSHOT_SLOTS } from '../engine/node/tf-free.ts'
import type { FindParams } from '../engine/node/tf-free.ts'
import type { GeneralParams } from '../shared/method-params.ts'
import { RUN_ID_PATTERN } from '../shared/ipc-schemas.ts'
import type { RunDetail, RunSummary, SnapshotImages } from '../shared/run-types.ts'

/** The summary file of a stored run, written last: its presence marks a complete entry. */
export const RUN_JSON = 'run.json'
/** `format` tag of run.json; bump the number on an incompatible change. */
export const RUN_JSON_FORMAT = 'deepvis-run@1'
export const PNG_DATA_URL_PREFIX = 'data:image/png;base64,'

/** run.json: the summary plus the resolved parameters. */
export interface StoredRun extends RunSummary {
  format: typeof RUN_JSON_FORMAT
  params: FindParams
  /** The general method's full parameters; absent or null for DVT runs. */
  method?: GeneralParams | null
}

/** The optimization animation a run may write (RunSpec.gifEvery; saveResults' GIF_SUFFIX after the run folder). */
export const GIF_FILE = GIF_SUFFIX
/** Data URL prefix of a GIF. */
export const GIF_DATA_URL_PREFIX = 'data:image/gif;base64,'

/** Throws BAD_PARAM unless `runId` matches RUN_ID_PATTERN (so it cannot name a path outside the history). */
export function checkRunId(runId: string): void {
  if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId)) {
    throw new DeepVisError('BAD_PARAM', `invalid run id ${JSON.stringify(runId)}: 1-64 characters of A-Z, a-z, 0-9, _ and -`)
  }
}

async function fileDataUrl(file: string, prefix = PNG_DATA_URL_PREFIX): Promise<string | null> {
  try {
    return prefix + (await readFile(file)).toString('base64')
  } catch {
    return null
  }
}

function isStoredRun(value: unknown, runId: string): value is StoredRun {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Partial<StoredRun>
  return v.format === RUN_JSON_FORMAT && v.runId === runId && typeof v.createdAt === 'string' && typeof v.status === 'string'
}

/** The summary part of a stored run (without format and params). */
function toSummary(stored: StoredRun): RunSummary {
  const { format: _format, params: _params, method: _method, ...summary } = stored
  return summary
}

/** JSON number arrays of info.json hold null for non-finite values; bring them back as NaN. */
function numbers(value: unknown): number[] {
  return Array.isArray(value) ? value.map((v) => (typeof v === 'number' ? v : NaN)) : []
}

/** A run's run.json, or null when it is missing, unreadable or not ours. */
export async function readStoredRun(historyDir: string, runId: string): Promise<StoredRun | null> {
  try {
    const value: unknown = JSON.parse(await readFile(path.join(historyDir, runId, RUN_JSON), 'utf8'))
    return isStoredRun(value, runId) ? value : null
  } catch {
    return null
  }
}

/** Stored runs (folders with a readable run.json), newest first; [] when the folder does not exist yet. */
export async function listStoredRuns(historyDir: string): Promise<RunSummary[]> {
  let entries
  try {
    entries = await readdir(historyDir, { withFileTypes: true })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const stored = await Promise.all(entries
    .filter((e) => e.isDirectory() && RUN_ID_PATTERN.test(e.name))
    .map((e) => readStoredRun(historyDir, e.name)))
  return stored
    .filter((s): s is StoredRun => s !== null)
    .map(toSummary)
    .sort((a, b) => (a.createdAt === b.createdAt ? b.runId.localeCompare(a.runId) : b.createdAt.localeCompare(a.createdAt)))
}

/** One stored run with its series and images; BAD_PARAM when there is none. */
export async function getStoredRun(historyDir: string, runId: string): Promise<RunDetail> {
  checkRunId(runId)
  const stored = await readStoredRun(historyDir, runId)
  if (!stored) throw new DeepVisError('BAD_PARAM', `no stored run '${runId}'`)
  const dir = path.join(historyDir, runId)
  let series: Record<string, unknown> = {}
  let quality: Record<string, unknown> | null = null
  try {
    const info: unknown = JSON.parse(await readFile(path.join(dir, INFO_JSON), 'utf8'))
    if (typeof info === 'object' && info !== null && 'series' in info && typeof info.series === 'object' && info.series !== null) {
      series = info.series as Record<string, unknown>
    }
    if (typeof info === 'object' && info !== null && 'quality' in info && typeof info.quality === 'object' && info.quality !== null) {
      quality = info.quality as Record<string, unknown>
    }
  } catch {
    // A run.json without a readable info.json: the summary is still worth showing.
  }
  const images = {} as RunDetail['images']
  for (const slot of SNAPSHOT_SLOTS) {
    const x = stored[slot] ? await fileDataUrl(path.join(dir, `${slot}_X.png`)) : null
    const xpm = stored[slot] ? await fileDataUrl(path.join(dir, `${slot}_Xpm.png`)) : null
    images[slot] = x && xpm ? ({ x, xpm } satisfies SnapshotImages) : null
  }
  return {
    ...toSummary(stored),
    params: stored.params,
    series: {
      obj: numbers(series['obj']), norm: numbers(series['norm']), std: numbers(series['std']),
      lr: numbers(series['lr']), wall_ms: numbers(series['wall_ms']),
    },
    images,
    folder: dir,
    method: stored.method ?? null,
    quality,
    gif: await fileDataUrl(path.join(dir, GIF_FILE), GIF_DATA_URL_PREFIX),
    alpha: await fileDataUrl(path.join(dir, ALPHA_SUFFIX)),
  }
}
