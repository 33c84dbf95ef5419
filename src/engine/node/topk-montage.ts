/**
 * Pictures of a unit's top-k entries: each image fitted to the model's input exactly as the index saw
 * it, cut to the receptive-field box of the unit's maximum (conv units; the whole image for dense ones
 * or where the field is not known) and scaled to a tile; tiles in a grid for the CLI's montage.
 * Shape: `await entryCrop(entry, index) => PNG`; `await topkMontage(entries, index, tilePx) => PNG`.
 */
import sharp from 'sharp'
import type { TopImage, TopKIndexFile } from './topk-index.ts'
import { readImageFile } from './image-file.ts'

/** Tile side of a montage, pixels. */
export const DEFAULT_TILE_PX = 128
const GAP_PX = 4
const BACKGROUND = { r: 40, g: 40, b: 40 }

/** The entry's image fitted to the model input and cut to its box, as raw RGB. */
async function cropRaw(e: TopImage, index: TopKIndexFile): Promise<{ data: Buffer; width: number; height: number }> {
  const [h, w] = index.inputSize
  const img = await readImageFile(e.file, { width: w, height: h }, index.fit)
  const b = e.clipped ?? { top: 0, left: 0, bottom: h, right: w }
  const cw = b.right - b.left, ch = b.bottom - b.top
  const out = Buffer.alloc(cw * ch * 3)
  for (let y = 0; y < ch; y++) {
    const src = ((b.top + y) * w + b.left) * 3
    out.set(img.data.subarray(src, src + cw * 3), y * cw * 3)
  }
  return { data: out, width: cw, height: ch }
}

/** One entry's receptive-field crop, scaled to fit `tilePx` (small crops are enlarged with sharp edges). */
export async function entryCrop(e: TopImage, index: TopKIndexFile, tilePx = DEFAULT_TILE_PX): Promise<Buffer> {
  const c = await cropRaw(e, index)
  return sharp(c.data, { raw: { width: c.width, height: c.height, channels: 3 } })
    .resize(tilePx, tilePx, { fit: 'contain', background: BACKGROUND, kernel: Math.max(c.width, c.height) < tilePx ? 'nearest' : 'lanczos3' })
    .png().toBuffer()
}

/** The entries' crops in a grid of ceil(sqrt(n)) columns, best first, row by row. */
export async function topkMontage(entries: TopImage[], index: TopKIndexFile, tilePx = DEFAULT_TILE_PX): Promise<Buffer> {
  const n = Math.max(1, entries.length)
  const cols = Math.ceil(Math.sqrt(n))
  const rows = Math.ceil(n / cols)
  const tiles = await Promise.all(entries.map((e) => entryCrop(e, index, tilePx)))
  return sharp({ create: { width: cols * tilePx + (cols + 1) * GAP_PX, height: rows * tilePx + (rows + 1) * GAP_PX, channels: 3, background: BACKGROUND } })
    .composite(tiles.map((t, i) => ({ input: t, left: GAP_PX + (i % cols) * (tilePx + GAP_PX), top: GAP_PX + Math.floor(i / cols) * (tilePx + GAP_PX) })))
    .png().toBuffer()
}
