/**
 * Golden outputs: every preset on the embedded model through the CLI's whole pipeline (resolve, validate,
 * optimize, quality, save), fixed seed, short runs, on the cpu and wasm backends. What is compared: the
 * sha256 of every file written (PNGs, .npy arrays, info.txt without its timing lines) and of info.json
 * without its volatile fields (creation time, wall times, absolute paths), plus the objective
 * series in clear so that a difference shows how large it is.
 *
 * Recorded before the architecture refactor (issue 10) and kept: a refactor must leave them identical.
 * A change that means to change outputs updates them with `npx vitest run test/golden -u` and says why.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.ts'
import { writeGenerator } from '../fixtures/generator.ts'

/** One golden case: a preset and the flags that keep it short (a few iterations, few crops). */
interface GoldenCase {
  preset: string
  args: string[]
}

const SHORT = ['--max-iter', '6']
const FEW_CROPS = ['--max-iter', '4', '--crops', '2', '--canvas-scale', '1.25']

const CASES: GoldenCase[] = [
  { preset: 'yosinski-1', args: SHORT },
  { preset: 'yosinski-2', args: SHORT },
  { preset: 'yosinski-3', args: SHORT },
  { preset: 'yosinski-4', args: SHORT },
  { preset: 'lucid', args: SHORT },
  { preset: 'dnnbrain', args: SHORT },
  { preset: 'normstep', args: SHORT },
  { preset: 'seed004', args: SHORT },
  { preset: 'cnnpref-gd', args: SHORT },
  { preset: 'cnnpref-lbfgs', args: SHORT },
  { preset: 'cnnpref-dgn-gd', args: [...SHORT, '--generator', '<generator>', '--code-lower', '-2', '--code-upper', '2'] },
  { preset: 'maco', args: FEW_CROPS },
  { preset: 'maco-horama', args: FEW_CROPS },
  { preset: 'accentuation', args: [...FEW_CROPS, '--image', '<image>'] },
]

const BACKENDS = ['cpu', 'wasm'] as const

let tmp = ''
let generator = ''
let image = ''

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-golden-'))
  generator = path.join(tmp, 'generator')
  await writeGenerator(generator)
  image = path.join(tmp, 'seed.png')
  const rgb = Buffer.alloc(64 * 64 * 3)
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const i = (y * 64 + x) * 3
      rgb[i] = Math.round(128 + 100 * Math.sin((2 * Math.PI * x) / 8))
      rgb[i + 1] = Math.round(128 + 100 * Math.cos((2 * Math.PI * y) / 16))
      rgb[i + 2] = (x * 4 + y * 2) % 256
    }
  }
  await sharp(rgb, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(image)
}, 120_000)
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex').slice(0, 20)

/** info.json without what changes from run to run (time, wall clock, where the model lies). */
function stableInfo(info: Record<string, any>): Record<string, any> {
  const { created: _c, total_ms: _t, ...rest } = info
  const { wall_ms: _w, ...series } = rest.series
  const extra = { ...rest.extra, model: { ...rest.extra?.model, path: path.basename(String(rest.extra?.model?.path ?? '')) } }
  return { ...rest, series, extra }
}

/** Run one case and digest what it wrote. */
async function digest(c: GoldenCase, backend: string): Promise<Record<string, unknown>> {
  const out = path.join(tmp, `${c.preset}-${backend}`) + '/'
  const args = c.args.map((a) => (a === '<generator>' ? generator : a === '<image>' ? image : a))
  const r = await cli('optimize', '--backend', backend, '--preset', c.preset, '--rand-seed', '3', ...args, '--output-prefix', out)
  expect(r.code, r.err).toBe(0)
  const files: Record<string, string> = {}
  let info: Record<string, any> = {}
  for (const name of readdirSync(out).sort()) {
    const suffix = name.replace(/^[^_]+_\d+_\d+_/, '')
    const bytes = readFileSync(path.join(out, name))
    // The generator and seed image lie in this run's temporary folder: their paths are not outputs.
    const text = (): string => bytes.toString('utf8').replaceAll(tmp, '<tmp>')
    if (suffix === 'info.json') info = JSON.parse(text())
    else if (suffix === 'info.txt') files[suffix] = sha(text().split('\n').filter((l) => !/^\s*(total_ms|wall_ms):/.test(l)).join('\n'))
    else files[suffix] = sha(bytes)
  }
  return { files, info: sha(JSON.stringify(stableInfo(info))), obj: info.series.obj, best: info.best }
}

describe.each(BACKENDS)('golden outputs on %s', (backend) => {
  it(`every preset gives the recorded files on the embedded model (${CASES.length} presets)`, async () => {
    const got: Record<string, unknown> = {}
    for (const c of CASES) got[c.preset] = await digest(c, backend)
    await expect(JSON.stringify(got, null, 1) + '\n').toMatchFileSnapshot(`./__golden__/presets-${backend}.json`)
  }, 600_000)
})
