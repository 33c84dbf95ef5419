/**
 * Frames of an optimization's animated GIF, recorded through a loop's onIteration hook: the current
 * image (centred x, as best_X shows it) at ii = 0, N, 2N, ..., per image of a batch, and optionally
 * the last iteration's too (the app's runs end their GIF on the final image; the CLI's does not).
 * Shape: `new GifFrames(every, spec, {withLast?})` → `await .onIteration(event)`, `await .encode(imageIndex)`.
 */
import { check } from '../../shared/errors.ts'
import type { InputSpec } from '../model/input-spec.ts'
import { encodeGif } from './gif.ts'
import { renderX } from './render-image.ts'

/** One event of any loop (DVT's IterationEvent, the batch's or the general loop's with imageIndex). */
export interface FrameEvent {
  ii: number
  maxIter?: number
  imageIndex?: number
  image: () => Promise<Float32Array>
}

export class GifFrames {
  private readonly frames = new Map<number, Uint8Array[]>()

  /**
   * @param every record a frame every `every` iterations (a positive integer).
   * @param opts.withLast also record the frame of the last iteration (ii = maxIter - 1).
   */
  constructor(readonly every: number, private readonly spec: InputSpec, private readonly opts: { withLast?: boolean } = {}) {
    check(Number.isInteger(every) && every >= 1, () => `--gif-every must be a positive integer; got ${every}`)
  }

  /** Whether the frame of iteration `ii` is recorded. */
  wants(e: { ii: number; maxIter?: number }): boolean {
    return e.ii % this.every === 0 || (Boolean(this.opts.withLast) && e.maxIter !== undefined && e.ii === e.maxIter - 1)
  }

  /** Pass to the loop's onIteration (chain with other hooks). `rgb`: the frame when the caller rendered it already. */
  async onIteration(e: FrameEvent, rgb?: Uint8Array): Promise<void> {
    if (!this.wants(e)) return
    const i = e.imageIndex ?? 0
    const list = this.frames.get(i) ?? []
    list.push(rgb ?? renderX(await e.image(), this.spec))
    this.frames.set(i, list)
  }

  /** Number of frames recorded for image `i`. */
  count(i = 0): number {
    return this.frames.get(i)?.length ?? 0
  }

  /** The GIF of image `i` (undefined when no frame was recorded); its frames are released. */
  async encode(i = 0): Promise<Uint8Array | undefined> {
    const list = this.frames.get(i)
    this.frames.delete(i)
    return list && list.length ? encodeGif(list, { width: this.spec.width, height: this.spec.height }) : undefined
  }
}
