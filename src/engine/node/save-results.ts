/**
 * Saving one optimization result the way DVT's `save_results` does (GO L356-397), with open formats:
 * PNG instead of JPEG, `info.json` + `.npy` arrays instead of pickles, and atomic writes.
 * Shapes:
 *   resultPrefix(outputPrefix, outputTemplate, params) => string        "<output_prefix>_<template>_"
 *   checkCanWrite(prefix, brave) => void                                 throws DeepVisError('OUTPUT_EXISTS')
 *   saveResults(result, prefix, {brave, skipbig, extra?}) => Promise<string[]>   the final paths written
 *   renderX(x, spec) / renderXpm(x, spec) => Uint8Array                  RGB bytes of best_X / best_Xpm
 *   formatInfoTxt(result) => string;  buildInfoJson(result, files, opts) => object
 * Files, for each of best / last / majority that exists: `<prefix>best_X.png` (norm01c, mean at mid-grey),
 * `<prefix>best_Xpm.png` (x + mean, norm01-stretched); then `<prefix>info.txt` (DVT's text), unless skipbig
 * `<prefix>x0.npy`, `best.npy`, `last.npy`, `majority.npy` (float32 (C, H, W), model channel order, as
 * DVT's arrays; plus `mean.npy` when the mean is an image), and `<prefix>info.json` LAST: its presence
 * marks a complete result. Node-only (fs, sharp).
 * Split by concern: py-str.ts (Python str emulation), result-prefix.ts (prefix template, overwrite
 * refusal), render-image.ts (images), info-files.ts (info.txt, info.json), atomic-write.ts (durable
 * writes); this module assembles one result's files and commits them, and re-exports the rest.
 */
import { mkdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { DeepVisError } from '../../shared/errors.ts'
import type { OptimizeResult } from '../result.ts'
import { meanIsImage, type InputSpec } from '../model/input-spec.ts'
import { encodeNpy, hwcToChw } from './npy.ts'
import { markDone, removeQuietly, sweepStaleTempFiles, tempNameFor, writeDurably } from './atomic-write.ts'
import { ALPHA_SUFFIX, buildInfoJson, formatInfoTxt, SNAPSHOT_SLOTS, toJsonText, type SaveResultsOptions } from './info-files.ts'
import { encodePng, renderAlpha, renderX, renderXpm } from './render-image.ts'
import { checkCanWrite, INFO_JSON, INFO_TXT } from './result-prefix.ts'

export { pyFloat } from './py-str.ts'
export { checkCanWrite, DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE, INFO_JSON, INFO_TXT, isDirectoryPrefix, resultPrefix } from './result-prefix.ts'
export { ALPHA_WHITE_PERCENTILE, encodePng, norm01, norm01c, renderAlpha, renderX, renderXpm } from './render-image.ts'
export { ALPHA_SUFFIX, ARRAY_LAYOUT, buildInfoJson, dvtParamsOf, formatInfoTxt, RESULT_FORMAT, SNAPSHOT_SLOTS, type SaveResultsOptions } from './info-files.ts'
export { removeTempFilesSync, sweepStaleTempFiles, writeFileAtomic } from './atomic-write.ts'

/** File name (after the prefix) of the optimization's animated GIF. */
export const GIF_SUFFIX = 'optimization.gif'

interface PendingFile {
  /** Appended to the prefix: `best_X.png`, `info.json`... */
  suffix: string
  bytes: Uint8Array
}

/** Every file name a result may have, so that leftovers of an earlier result at the prefix can be removed. */
const KNOWN_SUFFIXES: readonly string[] = [
  ...SNAPSHOT_SLOTS.flatMap((s) => [`${s}_X.png`, `${s}_Xpm.png`]),
  INFO_TXT, GIF_SUFFIX, ALPHA_SUFFIX, 'x0.npy', ...SNAPSHOT_SLOTS.map((s) => `${s}.npy`), 'mean.npy', INFO_JSON,
]

function chwNpy(x: Float32Array, spec: InputSpec): Uint8Array {
  return encodeNpy(hwcToChw(x, spec.height, spec.width, spec.channels), [spec.channels, spec.height, spec.width])
}

function outputDir(prefix: string): string {
  return prefix.endsWith('/') || prefix.endsWith(path.sep) ? prefix : path.dirname(prefix)
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

/**
 * Write one result under `prefix` (see the module header for the file list) and return the final paths,
 * info.json last. Refuses an existing result unless `brave` (DeepVisError 'OUTPUT_EXISTS'). Every file is
 * first written to a hidden temporary name in the same folder, then renamed; an existing info.json is
 * removed before the first rename and the new one renamed last, so a folder with info.json always holds
 * a complete, consistent result. Files of an earlier result at this prefix that this result does not
 * have (e.g. majority_X.png, or .npy under skipbig) are removed. On failure nothing of the new result is
 * left (temporary and already-renamed files are removed) and a DeepVisError names the prefix and cause.
 * @example await saveResults(result, resultPrefix(DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE, result.params), {brave: false, skipbig: false})
 */
export async function saveResults(result: OptimizeResult, prefix: string, opts: SaveResultsOptions): Promise<string[]> {
  checkCanWrite(prefix, opts.brave)
  const spec = result.inputSpec
  const pending: PendingFile[] = []
  for (const slot of SNAPSHOT_SLOTS) {
    const snap = result[slot]
    if (!snap) continue
    pending.push({ suffix: `${slot}_X.png`, bytes: await encodePng(renderX(snap.x, spec), spec) })
    pending.push({ suffix: `${slot}_Xpm.png`, bytes: await encodePng(renderXpm(snap.x, spec), spec) })
  }
  if (result.alpha) pending.push({ suffix: ALPHA_SUFFIX, bytes: await encodePng(renderAlpha(result.alpha.data), spec) })
  pending.push({ suffix: INFO_TXT, bytes: Buffer.from(formatInfoTxt(result), 'utf8') })
  if (opts.gif) pending.push({ suffix: GIF_SUFFIX, bytes: opts.gif })
  let meanFile: string | null = null
  if (!opts.skipbig) {
    pending.push({ suffix: 'x0.npy', bytes: chwNpy(result.x0, spec) })
    for (const slot of SNAPSHOT_SLOTS) {
      const snap = result[slot]
      if (snap) pending.push({ suffix: `${slot}.npy`, bytes: chwNpy(snap.x, spec) })
    }
    if (meanIsImage(spec)) {
      pending.push({ suffix: 'mean.npy', bytes: chwNpy(spec.mean, spec) })
      meanFile = path.basename(`${prefix}mean.npy`)
    }
  }
  const names = [...pending.map((f) => path.basename(prefix + f.suffix)), path.basename(prefix + INFO_JSON)]
  const info = buildInfoJson(result, names, opts, meanFile, new Date())
  pending.push({ suffix: INFO_JSON, bytes: Buffer.from(toJsonText(info) + '\n', 'utf8') })

  try {
    await mkdir(outputDir(prefix), { recursive: true })
  } catch (err) {
    throw new DeepVisError('BAD_PARAM', `cannot create the output folder for '${prefix}': ${errorText(err)}`)
  }
  // What an earlier, killed writer left here goes first.
  await sweepStaleTempFiles(outputDir(prefix))

  const temps = pending.map((f) => ({ final: prefix + f.suffix, temp: tempNameFor(prefix + f.suffix), bytes: f.bytes }))
  const renamed: string[] = []
  try {
    for (const t of temps) await writeDurably(t.temp, t.bytes)
    // From here on the old result (if any, under --brave) is being replaced: unmark it as complete first.
    await rm(prefix + INFO_JSON, { force: true })
    const infoJson = temps[temps.length - 1]
    for (const t of temps.slice(0, -1)) {
      await rename(t.temp, t.final)
      markDone(t.temp)
      renamed.push(t.final)
    }
    const written = new Set(temps.map((t) => t.final))
    for (const suffix of KNOWN_SUFFIXES) {
      if (!written.has(prefix + suffix)) await rm(prefix + suffix, { force: true })
    }
    await rename(infoJson.temp, infoJson.final)
    markDone(infoJson.temp)
    renamed.push(infoJson.final)
  } catch (err) {
    await Promise.all([...temps.map((t) => removeQuietly(t.temp)), ...renamed.map(removeQuietly)])
    throw new DeepVisError('INTERNAL', `could not save the result '${prefix}' (nothing was kept): ${errorText(err)}`)
  }
  return renamed
}
