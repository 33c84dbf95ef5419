/** Tests for the animated GIF encoder (sharp): the GIF decodes with the right frames, size, delay, loop. */
import { describe, expect, it } from 'vitest'
import sharp from 'sharp'
import { encodeGif } from '../../src/engine/node/gif.ts'

const W = 12
const H = 8
/** Frame i: a solid colour, different per frame, with a white left half on odd frames. */
const COLOURS = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [40, 40, 40]]

function frame(i: number): Uint8Array {
  const f = new Uint8Array(W * H * 3)
  for (let p = 0; p < W * H; p++) {
    const white = i % 2 === 1 && p % W < W / 2
    f.set(white ? [255, 255, 255] : COLOURS[i], p * 3)
  }
  return f
}

describe('encodeGif', () => {
  it('writes an animated GIF whose pages, size, delay and loop are those asked for', async () => {
    const frames = COLOURS.map((_, i) => frame(i))
    const gif = await encodeGif(frames, { width: W, height: H, delayMs: 80, loop: 0 })
    const meta = await sharp(gif, { animated: true }).metadata()
    expect(meta.format).toBe('gif')
    expect(meta.pages).toBe(frames.length)
    expect(meta.width).toBe(W)
    expect(meta.pageHeight).toBe(H)
    expect(meta.delay).toEqual(frames.map(() => 80))
    expect(meta.loop).toBe(0)
  })

  it('keeps every frame in order (decoded pixels match the input colours)', async () => {
    const frames = COLOURS.map((_, i) => frame(i))
    const gif = await encodeGif(frames, { width: W, height: H })
    const { data, info } = await sharp(gif, { animated: true }).removeAlpha().raw().toBuffer({ resolveWithObject: true })
    expect(info.height).toBe(H * frames.length)
    for (let i = 0; i < frames.length; i++) {
      for (const p of [0, W - 1, W * H - 1]) {
        const at = (i * W * H + p) * 3
        const want = frames[i].subarray(p * 3, p * 3 + 3)
        for (let c = 0; c < 3; c++) expect(Math.abs(data[at + c] - want[c])).toBeLessThanOrEqual(8)
      }
    }
  })

  it('accepts per-frame delays and a loop count; rejects frames of the wrong size', async () => {
    const gif = await encodeGif([frame(0), frame(1)], { width: W, height: H, delayMs: [100, 500], loop: 3 })
    const meta = await sharp(gif, { animated: true }).metadata()
    expect(meta.delay).toEqual([100, 500])
    expect(meta.loop).toBe(3)
    await expect(encodeGif([frame(0), new Uint8Array(5)], { width: W, height: H })).rejects.toThrow(/frame 1 has 5 bytes/)
    await expect(encodeGif([], { width: W, height: H })).rejects.toThrow(/at least one frame/)
  })
})
