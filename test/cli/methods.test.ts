/**
 * `deepvis optimize` extras shared by every method, and the pixel methods' flags, on the embedded model,
 * in-process: --gif-every writes <prefix>optimization.gif with one frame per N iterations (DVT and the
 * general methods), info.json carries `quality` (activation, rank in the layer, spectrum slope; with
 * --check-model the second model's score), the CLI prints it, and bad flags get one line and exit code 2.
 */
import { gridFileOf } from '../../src/cli/general-command.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { cli } from '../helpers/cli.ts'
import { DEFAULT_MODEL_DIR } from '../../src/engine/node/load-model.ts'

let tmp = ''

beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-methods-cli-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

const base = (): string[] => ['optimize', '--backend', 'wasm', '--push-layer', 'logits', '--push-channel', '3']

/** The one result's info.json under `dir`. */
function infoOf(dir: string): Record<string, any> {
  return JSON.parse(readFileSync(path.join(dir, 'logits_0003_0_info.json'), 'utf8'))
}

describe('deepvis optimize: GIF and quality for every method', () => {
  it.each([
    ['dvt', ['--preset', 'yosinski-3'], 11, 5],
    ['normstep', ['--method', 'normstep', '--lr', '2'], 12, 4],
    ['dnnbrain', ['--preset', 'dnnbrain', '--penalty-weight', '0.01'], 9, 3],
    ['seed004', ['--preset', 'seed004', '--lr', '0.5'], 8, 3],
    ['cnnpref-gd', ['--preset', 'cnnpref-gd', '--lr', '4', '--jitter', '4'], 7, 2],
  ])('%s: the GIF has one frame per N iterations; info.json has quality', async (name, args, iters, every) => {
    const out = path.join(tmp, `gif-${name}`) + '/'
    const r = await cli(...base(), ...args, '--max-iter', String(iters), '--gif-every', String(every), '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const gif = path.join(out, 'logits_0003_0_optimization.gif')
    const meta = await sharp(gif, { animated: true }).metadata()
    expect(meta.pages).toBe(Math.ceil(iters / every))
    expect(meta.pageHeight).toBe(64)
    const info = infoOf(out)
    expect(info.method?.name ?? 'dvt').toBe(name)
    expect(info.files).toContain('logits_0003_0_optimization.gif')
    const q = info.quality
    expect(q.of).toBe(10)
    expect(q.rank).toBeGreaterThanOrEqual(1)
    expect(q.rank).toBeLessThanOrEqual(10)
    // the activation is the target's value on the best image: the recorded best objective for a logit unit
    expect(q.activation).toBeCloseTo(info.best.obj, 2)
    expect(Number.isFinite(q.spectrum_slope)).toBe(true)
    expect(q.held_out).toBeNull()
    expect(r.out).toMatch(/quality: activation [-\d.e]+, rank \d+\/10 in its layer, spectrum slope -?[\d.]+/)
  })

  it('a majority-success class unit ranks 1 in its layer; --check-model adds a held-out score', async () => {
    const out = path.join(tmp, 'check') + '/'
    const r = await cli(...base(), '--method', 'normstep', '--lr', '2', '--max-iter', '20', '--check-model', DEFAULT_MODEL_DIR, '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const info = infoOf(out)
    expect(info.majority_reached).toBe(true)
    expect(info.quality.rank).toBe(1)
    const h = info.quality.held_out
    expect(h.views).toBe(8)
    expect(h.probability).toBeGreaterThan(0)
    expect(h.probability).toBeLessThanOrEqual(1)
    expect(h.rank).toBeGreaterThanOrEqual(1)
    expect(r.out).toMatch(/check model: p [\d.e-]+, rank \d+ \(8 views\)/)
    expect(existsSync(path.join(out, 'logits_0003_0_optimization.gif'))).toBe(false)
  })

  it('names the grid like its results: <prefix>_<layer>_grid.png, or <dir>/<layer>_grid.png for a folder prefix', () => {
    expect(gridFileOf('optimize_results/opt', 'conv3')).toBe('optimize_results/opt_conv3_grid.png')
    expect(gridFileOf(path.join(tmp, 'g') + '/', 'inception_4c/output')).toBe(path.join(tmp, 'g', 'inception_4c_output_grid.png'))
  })

  it('--grid-channels: the grid has one tile per channel, each equal to that channel\'s best_X.png', async () => {
    const out = path.join(tmp, 'grid') + '/'
    const r = await cli('optimize', '--backend', 'wasm', '--push-layer', 'conv3', '--method', 'normstep', '--lr', '2', '--max-iter', '4', '--grid-channels', '0-2,5', '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const tile = 64
    const gap = 1
    const grid = await sharp(path.join(out, 'conv3_grid.png')).raw().toBuffer({ resolveWithObject: true })
    expect([grid.info.width, grid.info.height]).toEqual([2 * tile + gap, 2 * tile + gap])
    for (const [i, c] of [0, 1, 2, 5].entries()) {
      const one = await sharp(path.join(out, `conv3_${String(c).padStart(4, '0')}_0_best_X.png`)).raw().toBuffer()
      const [y0, x0] = [Math.floor(i / 2) * (tile + gap), (i % 2) * (tile + gap)]
      const ch = grid.info.channels
      let same = true
      for (let y = 0; y < tile && same; y++) {
        for (let x = 0; x < tile; x++) {
          for (let k = 0; k < 3; k++) if (grid.data[((y0 + y) * grid.info.width + x0 + x) * ch + k] !== one[(y * tile + x) * 3 + k]) same = false
        }
      }
      expect(same, `tile ${i} (channel ${c})`).toBe(true)
    }
  })

  it.each([
    [['--method', 'normstep', '--gif-every', '0'], /--gif-every must be a positive integer; got 0/],
    [['--method', 'dnnbrain', '--penalty', 'tvv'], /--penalty.*tvv/],
    [['--method', 'normstep', '--gb-radius', '1'], /blur_radius applies to methods dnnbrain, seed004 and cnnpref-gd only \(method is normstep\)/],
    [['--method', 'dnnbrain', '--norm-crop', '30'], /norm_crop_pct and contrib_crop_pct apply to method seed004 only \(method is dnnbrain\)/],
    [['--method', 'normstep', '--grid-channels', '3-1'], /--grid-channels: range 3-1 is empty/],
    [['--preset', 'yosinski-3', '--grid-channels', '0-3'], /--grid-channels applies to the general methods only/],
    [['--preset', 'seed004', '--contrib-crop', '101'], /contrib_crop_pct must be a percentile in 0..100; got 101/],
    [['--preset', 'yosinski-3', '--penalty-weight', '1'], /--penalty-weight applies to the general methods only/],
    [['--method', 'dnnbrain', '--blur-radius', '1'], /--blur-radius is a DVT flag; --method dnnbrain does not use it/],
    [['--preset', 'dnnbrain', '--method', 'normstep'], /--preset dnnbrain is a dnnbrain preset but --method is normstep/],
  ])('%j: one line, exit 2, nothing written', async (args, re) => {
    const out = path.join(tmp, `bad-${Math.abs(JSON.stringify(args).split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7))}`) + '/'
    const r = await cli(...base(), ...args, '--max-iter', '2', '--output-prefix', out)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(re)
    expect(r.err.trim().split('\n')).toHaveLength(1)
    expect(existsSync(out)).toBe(false)
  })
})
