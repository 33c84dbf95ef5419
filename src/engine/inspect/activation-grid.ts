/**
 * A layer's activations drawn as one picture (the CLI's grid PNG; the app draws its own on a canvas
 * with the same rules): one grey tile per channel in rows of `cols` (a conv unit: its map, a dense unit:
 * one flat tile), black = the scale's low end, white = its high end, where the scale is each tile's own
 * [min, max] ('tile') or the layer's ('shared'); the `mark` strongest channels (largest maximum) get an
 * orange frame.
 * Shape: `activationGridImage(values, shape, options) => {rgb, width, height, cols, rows, tile}`.
 */
import { channelStats } from './activations.ts'

export type GridScale = 'tile' | 'shared'

export interface GridOptions {
  scale?: GridScale
  /** Smallest tile side in pixels (maps are enlarged by whole factors up to it). Default 32. */
  minTilePx?: number
  /** Pixels between tiles. Default 2. */
  gap?: number
  /** How many of the strongest channels get a frame. Default 3. */
  mark?: number
}

export interface GridImage {
  rgb: Uint8Array
  width: number
  height: number
  cols: number
  rows: number
  /** Tile side in pixels (height, width). */
  tile: [number, number]
  /** Channels framed as the strongest, strongest first. */
  strongest: number[]
}

const GAP_GREY = 40
const MARK_RGB = [255, 140, 0]

/** Channel indices sorted by their maximum, largest first. */
export function strongestChannels(max: Float32Array, n: number): number[] {
  return Array.from(max.keys()).sort((a, b) => max[b] - max[a] || a - b).slice(0, n)
}

export function activationGridImage(values: Float32Array, shape: number[], o: GridOptions = {}): GridImage {
  const scale = o.scale ?? 'tile'
  const gap = o.gap ?? 2
  const c = shape[shape.length - 1]
  const [h, w] = shape.length === 3 ? [shape[0], shape[1]] : [1, 1]
  const zoom = Math.max(1, Math.ceil((o.minTilePx ?? 32) / Math.max(h, w)))
  const th = h * zoom, tw = w * zoom
  const cols = Math.ceil(Math.sqrt(c))
  const rows = Math.ceil(c / cols)
  const width = cols * tw + (cols + 1) * gap
  const height = rows * th + (rows + 1) * gap
  const rgb = new Uint8Array(width * height * 3).fill(GAP_GREY)
  const stats = channelStats(values, shape)
  let lo = Infinity, hi = -Infinity
  for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v }
  const strongest = strongestChannels(stats.max, o.mark ?? 3)
  for (let k = 0; k < c; k++) {
    let tlo = lo, thi = hi
    if (scale === 'tile') {
      tlo = Infinity; thi = stats.max[k]
      for (let p = 0; p < h * w; p++) tlo = Math.min(tlo, values[p * c + k])
    }
    const span = thi - tlo
    const x0 = gap + (k % cols) * (tw + gap)
    const y0 = gap + Math.floor(k / cols) * (th + gap)
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const v = values[(Math.floor(y / zoom) * w + Math.floor(x / zoom)) * c + k]
        const g = span > 0 ? Math.round(((v - tlo) / span) * 255) : (scale === 'shared' && v > 0 ? 255 : 0)
        const o3 = ((y0 + y) * width + x0 + x) * 3
        rgb[o3] = rgb[o3 + 1] = rgb[o3 + 2] = g
      }
    }
    if (strongest.includes(k) && gap > 0) {
      for (let y = y0 - 1; y <= y0 + th; y++) {
        for (let x = x0 - 1; x <= x0 + tw; x++) {
          if (y > y0 - 1 && y < y0 + th && x > x0 - 1 && x < x0 + tw) continue
          const o3 = (y * width + x) * 3
          rgb.set(MARK_RGB, o3)
        }
      }
    }
  }
  return { rgb, width, height, cols, rows, tile: [th, tw], strongest }
}
