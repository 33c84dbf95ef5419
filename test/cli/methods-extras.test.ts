/**
 * `deepvis optimize` flags of the general methods added with cnnpref-lbfgs, on the embedded model, in-process:
 * --preset cnnpref-lbfgs (bounded L-BFGS, info.json method.lbfgs); --print-every prints the activation and
 * penalty of the recorded iterations (equal to info.json's series) and --save-every writes iter_<ii>.png (the
 * last one equal to last_Xpm.png); --mask FILE (.npy weights) gives the same run as the equivalent weighted
 * objective; --generator DIR optimizes a generator's code within --code-lower/--code-upper.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { cli } from '../helpers/cli.ts'
import { writeGenerator } from '../fixtures/generator.ts'
import { decodeNpy, encodeNpy } from '../../src/engine/node/npy.ts'

let tmp = ''

beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-methods-extras-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

const info = (dir: string, stem: string): Record<string, any> => JSON.parse(readFileSync(path.join(dir, `${stem}_info.json`), 'utf8'))

describe('deepvis optimize: cnnpref-lbfgs, masks, progress outputs, generator', () => {
  it('--preset cnnpref-lbfgs writes the usual files with method.lbfgs; the run stays in the valid pixel range', async () => {
    const out = path.join(tmp, 'lbfgs') + '/'
    const r = await cli('optimize', '--backend', 'wasm', '--push-layer', 'logits', '--push-channel', '1', '--preset', 'cnnpref-lbfgs', '--max-iter', '8', '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const i = info(out, 'logits_0001_0')
    expect(i.method.name).toBe('cnnpref-lbfgs')
    expect(i.method.lbfgs.iterations).toBe(i.series.ii.length - 1)
    expect(i.best.obj).toBeGreaterThan(i.series.obj[0])
    // black start: x0 = 0 - mean everywhere (one value per channel for a per-channel mean)
    const x0 = decodeNpy(readFileSync(path.join(out, 'logits_0001_0_x0.npy'))).data
    expect(new Set(Array.from(x0)).size).toBeLessThanOrEqual(3)
    expect(Math.max(...x0)).toBeLessThan(0)
    const best = decodeNpy(readFileSync(path.join(out, 'logits_0001_0_best.npy'))).data
    expect(Math.min(...best)).toBeGreaterThanOrEqual(Math.min(...x0) - 1e-3)
    expect(Math.max(...best)).toBeLessThanOrEqual(Math.max(...x0) + 255 + 1e-3)
  })

  it('--print-every prints activation and penalty as recorded; --save-every writes iter_<ii>.png, the last equal to last_Xpm.png', async () => {
    const out = path.join(tmp, 'progress') + '/'
    const r = await cli('optimize', '--backend', 'wasm', '--push-layer', 'logits', '--push-channel', '2', '--preset', 'dnnbrain', '--penalty-weight', '0.01',
      '--max-iter', '7', '--print-every', '2', '--save-every', '3', '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const i = info(out, 'logits_0002_0')
    const lines = r.out.split('\n').filter((l) => l.startsWith('ii '))
    expect(lines.map((l) => Number(/^ii (\d+)/.exec(l)![1]))).toEqual([0, 2, 4, 6])
    for (const l of lines) {
      const [, ii, act, pen] = /^ii (\d+): activation ([-\d.e+]+), penalty ([-\d.e+]+), loss/.exec(l)!.map(Number)
      expect(act).toBeCloseTo(i.series.obj[ii], 2)
      expect(pen).toBeCloseTo(i.series.penalty[ii], 2)
      expect(pen).toBeGreaterThan(0)
    }
    for (const ii of [0, 3, 6]) expect(readFileSync(path.join(out, `logits_0002_0_iter_${String(ii).padStart(4, '0')}.png`)).length).toBeGreaterThan(0)
    const a = await sharp(path.join(out, 'logits_0002_0_iter_0006.png')).raw().toBuffer()
    const b = await sharp(path.join(out, 'logits_0002_0_last_Xpm.png')).raw().toBuffer()
    expect(a.equals(b)).toBe(true)
  })

  it('--mask FILE (.npy per-unit weights) runs exactly as the equivalent weighted objective', async () => {
    const w = new Float32Array(10)
    w[3] = 2
    w[5] = -1
    const file = path.join(tmp, 'mask.npy')
    await writeFile(file, encodeNpy(w, [10]))
    const outA = path.join(tmp, 'maskA') + '/'
    const outB = path.join(tmp, 'maskB') + '/'
    const a = await cli('optimize', '--backend', 'wasm', '--push-layer', 'logits', '--method', 'normstep', '--lr', '2', '--max-iter', '5', '--mask', file, '--output-prefix', outA)
    expect(a.code, a.err).toBe(0)
    const b = await cli('optimize', '--backend', 'wasm', '--method', 'normstep', '--lr', '2', '--max-iter', '5', '--objective', '2*logits:3 - logits:5', '--output-prefix', outB)
    expect(b.code, b.err).toBe(0)
    const ia = info(outA, 'logits_0000_0')
    const ib = info(outB, 'logits_0003_0')
    expect(ia.method.objective).toContain('mask(logits')
    ia.series.obj.forEach((v: number, k: number) => expect(v).toBeCloseTo(ib.series.obj[k], 3))
    expect(ia.best.obj).toBeGreaterThan(ia.series.obj[0])
    const bad = await cli('optimize', '--backend', 'wasm', '--push-layer', 'conv3', '--method', 'normstep', '--max-iter', '2', '--mask', file, '--output-prefix', path.join(tmp, 'maskC') + '/')
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/mask .* has shape \[10\]; layer 'conv3' needs \[16, 16, 32\] or \[32\]/)
  })

  it('--generator DIR optimizes the code within --code-lower/--code-upper (DGN-GD)', async () => {
    const gen = path.join(tmp, 'gen')
    await writeGenerator(gen)
    const out = path.join(tmp, 'dgn') + '/'
    const r = await cli('optimize', '--backend', 'wasm', '--push-layer', 'logits', '--push-channel', '4', '--preset', 'cnnpref-dgn-gd', '--generator', gen,
      '--code-lower', '-2', '--code-upper', '2', '--max-iter', '8', '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const i = info(out, 'logits_0004_0')
    expect(i.method.params.param).toBe('generator')
    expect(i.method.code).toHaveLength(8)
    expect(Math.max(...i.method.code.map(Math.abs))).toBeLessThanOrEqual(2)
    expect(i.best.obj).toBeGreaterThan(i.series.obj[0])
    const missing = await cli('optimize', '--backend', 'wasm', '--push-layer', 'logits', '--preset', 'cnnpref-dgn-gd', '--generator', path.join(tmp, 'nope'), '--max-iter', '2', '--output-prefix', path.join(tmp, 'dgn2') + '/')
    expect(missing.code).toBe(2)
    expect(missing.err).toMatch(/generator folder '.*nope' does not exist/)
  })
})
