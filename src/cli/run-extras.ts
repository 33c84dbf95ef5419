/**
 * Extras of a CLI run that apply to every method (DVT and the general ones): what info.json's `extra`
 * records, and the quality readouts' one-line summary (the readouts and the GIF are the run pipeline's,
 * src/engine/node/run-pipeline.ts; re-exported here).
 * Also dnnbrain's progress outputs for every general method: the loss printed and the image saved every N iterations.
 * Shape: `cliExtra(loaded, backend, preset)` (info.json's extra of a CLI run);
 *   `new IterationLog({printEvery, saveEvery, prefixes, spec, stdout})` → `await .onIteration(event)`;
 *   `await qualityOf(model, spec, result, {check?, seed}) => Quality`; `formatQuality(q) => string`.
 */
import { check } from '../shared/errors.ts'
import type { InputSpec } from '../engine/index.ts'
import { GifFrames } from '../engine/node/index.ts'
import type { LoadedModel } from '../engine/node/index.ts'
import { renderXpm, writeFileAtomic } from '../engine/node/index.ts'
import { CHECK_AUGMENTATIONS, qualityOf, type HeldOut, type Quality } from '../engine/node/index.ts'
import sharp from 'sharp'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { formatMagnitude } from '../shared/format.ts'

/** The quality readouts live in the engine (the app computes them too); re-exported for the CLI. */
export { CHECK_AUGMENTATIONS, qualityOf, type HeldOut, type Quality }
/** The GIF recorder lives in the engine (the run pipeline records it); re-exported for the CLI's tests. */
export { GifFrames }

/** An event of any loop (DVT's IterationEvent, or the general loop's with imageIndex). */
type FrameEvent = Parameters<GifFrames['onIteration']>[0]

/** What every CLI run records in info.json's `extra`: the model, the backend's detail and the preset. */
export function cliExtra(loaded: LoadedModel, backend: { detail: string }, preset: string | undefined): Record<string, unknown> {
  return {
    model: { path: loaded.modelJsonPath, name: loaded.name, format: loaded.model.format, notes: loaded.model.notes },
    backend_detail: backend.detail,
    preset: preset ?? null,
  }
}

/** Options of {@link IterationLog}. */
export interface IterationLogOptions {
  /** Print the loss every this many iterations (ii % n == 0); undefined = never. */
  printEvery?: number
  /** Write `<prefix>iter_<ii>.png` (the image plus the mean) every this many iterations; undefined = never. */
  saveEvery?: number
  /** Output prefix of each image of the batch. */
  prefixes: string[]
  spec: InputSpec
  stdout: (text: string) => void
}

/** Width of the zero-padded iteration number in `iter_<ii>.png`. */
const ITER_DIGITS = 4

/**
 * dnnbrain's progress outputs (save_step / print of activ_loss and regular_loss), for every general method:
 * at ii % printEvery == 0 a line `ii <ii> [image <i>] activation <obj> penalty <p> loss <-obj + p>`, and at
 * ii % saveEvery == 0 the image as `<prefix>iter_<ii, 4 digits>.png`.
 */
export class IterationLog {
  /** Files written so far. */
  readonly written: string[] = []

  constructor(private readonly opts: IterationLogOptions) {
    for (const [flag, v] of [['--print-every', opts.printEvery], ['--save-every', opts.saveEvery]] as const) {
      check(v === undefined || (Number.isInteger(v) && v >= 1), () => `${flag} must be a positive integer; got ${v}`)
    }
  }

  /** Pass to the general loop's onIteration. */
  async onIteration(e: FrameEvent & { obj: number; penalty?: number }): Promise<void> {
    const { printEvery, saveEvery, prefixes, spec, stdout } = this.opts
    const i = e.imageIndex ?? 0
    if (printEvery !== undefined && e.ii % printEvery === 0) {
      const pen = e.penalty ?? 0
      const who = prefixes.length > 1 ? ` image ${i}` : ''
      stdout(`ii ${e.ii}${who}: activation ${fmt(e.obj)}, penalty ${fmt(pen)}, loss ${fmt(-e.obj + pen)}\n`)
    }
    if (saveEvery !== undefined && e.ii % saveEvery === 0) {
      const file = `${prefixes[i]}iter_${String(e.ii).padStart(ITER_DIGITS, '0')}.png`
      const rgb = renderXpm(await e.image(), spec)
      const png = await sharp(Buffer.from(rgb), { raw: { width: spec.width, height: spec.height, channels: 3 } }).png().toBuffer()
      await mkdir(path.dirname(file), { recursive: true })
      await writeFileAtomic(file, png)
      this.written.push(file)
    }
  }
}

const fmt = (v: number): string => formatMagnitude(v)

/** One line for the CLI. */
export function formatQuality(q: Quality): string {
  const slope = q.spectrum_slope === null ? 'n/a' : q.spectrum_slope.toFixed(2)
  const held = q.held_out ? `; check model: p ${fmt(q.held_out.probability)}, rank ${q.held_out.rank} (${q.held_out.views} views)` : ''
  return `quality: activation ${fmt(q.activation)}, rank ${q.rank}/${q.of} in its layer, spectrum slope ${slope}${held}`
}
