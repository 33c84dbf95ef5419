/**
 * A unit's top images in the atlas, when the sweep is given a top-k index (`deepvis sweep --index DIR`,
 * an index from `deepvis index` of the same model): per unit of every swept layer the index holds,
 * `units/<layer>/<unit>/top_montage.png` (the receptive-field crops of its top-k images, as
 * `deepvis top-images` draws them) and `top.json` (rank, image, score, box); the manifest lists them
 * under `tops`. Written again only when the index changed (its key is in top.json).
 * Shape: `await writeTops(atlas, index, indexDir, layers) => Record<"layer:unit", AtlasTop>`
 */
import { existsSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../engine/node/index.ts'
import { topEntries, type TopKIndexFile } from '../engine/node/index.ts'
import { topkMontage } from '../engine/node/index.ts'
import { layerSegment, UNITS_DIR } from './plan.ts'

export const TOP_MONTAGE = 'top_montage.png'
export const TOP_JSON = 'top.json'

/** A unit's top images as the manifest lists them (paths relative to the atlas). */
export interface AtlasTop {
  montage: string
  /** The indexed folder (on the machine that ran the sweep) and how many images it held. */
  indexDir: string
  images: number
  entries: { rank: number; image: string; score: number }[]
}

export async function writeTops(atlas: string, index: TopKIndexFile, indexDir: string, layers: { name: string; units: number[] }[]): Promise<Record<string, AtlasTop>> {
  const tops: Record<string, AtlasTop> = {}
  for (const layer of layers) {
    if (!index.layers.some((l) => l.name === layer.name)) continue
    for (const unit of layer.units) {
      const dir = path.join(atlas, UNITS_DIR, layerSegment(layer.name), String(unit))
      const rel = path.relative(atlas, dir).split(path.sep).join('/')
      const entries = topEntries(index, layer.name, unit)
      const jsonFile = path.join(dir, TOP_JSON)
      let fresh = false
      try {
        fresh = existsSync(path.join(dir, TOP_MONTAGE)) && JSON.parse(readFileSync(jsonFile, 'utf8')).key === index.key
      } catch { /* rewritten below */ }
      if (!fresh) {
        await mkdir(dir, { recursive: true })
        await writeFileAtomic(path.join(dir, TOP_MONTAGE), await topkMontage(entries, index))
        const list = { key: index.key, index: indexDir, layer: layer.name, unit, inputSize: index.inputSize, entries }
        await writeFileAtomic(jsonFile, new TextEncoder().encode(JSON.stringify(list, null, 1) + '\n'))
      }
      tops[`${layer.name}:${unit}`] = {
        montage: `${rel}/${TOP_MONTAGE}`, indexDir, images: index.images.length,
        entries: entries.map((e) => ({ rank: e.rank, image: e.image, score: e.score })),
      }
    }
  }
  return tops
}
