/**
 * Animated GIF of an optimization: equally sized RGB frames (HWC bytes) → GIF bytes, with a per-frame
 * delay and looping. Encoded by sharp (libvips' cgif): the frames are stacked vertically into one raw
 * image whose `pageHeight` is the frame height, which sharp writes as an animation.
 * Shape: await encodeGif(frames, {width, height, delayMs, loop}) => Uint8Array.
 */
import sharp from 'sharp'
import { check } from '../../shared/errors.ts'

/** RGB: three bytes per pixel. */
const RGB_CHANNELS = 3
/** Default delay between frames, ms. */
export const DEFAULT_GIF_DELAY_MS = 100
/** GIF stores delays in centiseconds; below 20 ms many viewers substitute 100 ms. */
const MIN_DELAY_MS = 20

export interface GifOptions {
  width: number
  height: number
  /** Delay of every frame in ms (or one per frame); default 100. Values below 20 are raised to 20. */
  delayMs?: number | number[]
  /** Number of loops, 0 = forever (default). */
  loop?: number
}

/**
 * Encodes frames as an animated GIF.
 * @param frames each width·height·3 bytes, RGB, row-major HWC.
 * @example const gif = await encodeGif([f0, f1, f2], { width: 64, height: 64, delayMs: 80 })
 */
export async function encodeGif(frames: readonly Uint8Array[], options: GifOptions): Promise<Uint8Array> {
  const { width, height, delayMs = DEFAULT_GIF_DELAY_MS, loop = 0 } = options
  check(frames.length > 0, () => 'a GIF needs at least one frame')
  check(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0,
    () => `GIF size must be positive integers; got ${width}x${height}`)
  check(Number.isInteger(loop) && loop >= 0, () => `GIF loop count must be an integer >= 0; got ${loop}`)
  const frameBytes = width * height * RGB_CHANNELS
  frames.forEach((f, i) => check(f.length === frameBytes,
    () => `frame ${i} has ${f.length} bytes; a ${width}x${height} RGB frame has ${frameBytes}`))
  const delays = typeof delayMs === 'number' ? frames.map(() => delayMs) : delayMs
  check(delays.length === frames.length, () => `${delays.length} delays for ${frames.length} frames`)
  check(delays.every((d) => Number.isFinite(d) && d >= 0), () => `GIF delays must be finite and >= 0; got ${JSON.stringify(delays)}`)

  const stacked = new Uint8Array(frameBytes * frames.length)
  frames.forEach((f, i) => stacked.set(f, i * frameBytes))
  const out = await sharp(stacked, {
    raw: { width, height: height * frames.length, channels: RGB_CHANNELS, pageHeight: height },
  })
    .gif({ delay: delays.map((d) => Math.round(Math.max(MIN_DELAY_MS, d))), loop })
    .toBuffer()
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}
