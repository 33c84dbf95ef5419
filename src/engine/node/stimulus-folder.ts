/**
 * A folder of labelled images from the embedded model's stimulus generator (src/engine/stimuli.ts):
 * `<dir>/<class id>/<class id>_<n>.png`, `perClass` images of every class, drawn class after class from
 * one seeded generator (the seed is written to `<dir>/stimuli.json` with the rest of the recipe), so the
 * same arguments give the same files. Used as a labelled dataset for top-k indexes (every image's class
 * is its folder) and for the figures.
 * Shape: `await writeStimulusFolder(dir, {perClass, seed, size}) => {files, recipe}`.
 */
import { mkdir, readdir } from 'node:fs/promises'
import path from 'node:path'
import sharp from 'sharp'
import { DeepVisError } from '../../shared/errors.ts'
import { Rng, RNG_NAME } from '../rng.ts'
import { DEFAULT_STIMULUS_SIZE, drawStimulus, STIMULUS_CLASSES } from '../stimuli.ts'
import { writeFileAtomic } from './save-results.ts'

export interface StimulusFolderOptions {
  perClass: number
  seed: number
  /** Image side in pixels (default 64, the embedded model's input). */
  size?: number
}

export const STIMULUS_RECIPE_FILE = 'stimuli.json'

/** Write the folder (refused when `dir` exists and is not empty: nothing of the user's is overwritten). */
export async function writeStimulusFolder(dir: string, o: StimulusFolderOptions): Promise<{ files: string[]; recipe: object }> {
  const size = o.size ?? DEFAULT_STIMULUS_SIZE
  if (!Number.isInteger(o.perClass) || o.perClass < 1) throw new DeepVisError('BAD_PARAM', `--per-class must be a positive integer; got ${o.perClass}`)
  if (!Number.isInteger(size) || size < 8 || size > 4096) throw new DeepVisError('BAD_PARAM', `--size must be an integer 8..4096; got ${size}`)
  if (!Number.isInteger(o.seed) || o.seed < 0) throw new DeepVisError('BAD_PARAM', `--seed must be a non-negative integer; got ${o.seed}`)
  const existing = await readdir(dir).catch(() => null)
  if (existing && existing.length > 0) throw new DeepVisError('OUTPUT_EXISTS', `${dir} is not empty; give a new folder for the stimuli`)
  const rng = new Rng(o.seed)
  const files: string[] = []
  for (const [c, cls] of STIMULUS_CLASSES.entries()) {
    await mkdir(path.join(dir, cls.id), { recursive: true })
    for (let i = 0; i < o.perClass; i++) {
      const img = drawStimulus(c, rng, size)
      const bytes = Uint8Array.from(img, (v) => Math.round(v))
      const png = await sharp(Buffer.from(bytes.buffer), { raw: { width: size, height: size, channels: 3 } }).png().toBuffer()
      const rel = `${cls.id}/${cls.id}_${String(i).padStart(4, '0')}.png`
      await writeFileAtomic(path.join(dir, rel), png)
      files.push(rel)
    }
  }
  const recipe = { generator: 'src/engine/stimuli.ts drawStimulus', rng: RNG_NAME, seed: o.seed, perClass: o.perClass, size, classes: STIMULUS_CLASSES.map((c) => c.id) }
  await writeFileAtomic(path.join(dir, STIMULUS_RECIPE_FILE), new TextEncoder().encode(JSON.stringify(recipe, null, 2) + '\n'))
  return { files, recipe }
}
