/**
 * `deepvis optimize --method lucid` on the embedded model, in-process: it writes DVT's files (with the
 * method recorded in info.json), batches write one result per image, --preset lucid implies the method,
 * and bad input (expressions, layers, units, flags of the other method) gets one line and exit code 2
 * with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { cli } from '../helpers/cli.ts'

let tmp = ''

beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-lucid-cli-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

const base = (): string[] => ['optimize', '--backend', 'wasm']

describe('deepvis optimize --method lucid', () => {
  it('runs on the embedded model and writes the same files as DVT, with the method in info.json', async () => {
    const out = path.join(tmp, 'r1') + '/'
    const r = await cli(...base(), '--method', 'lucid', '--objective', 'logits:2 - 0.5*logits:3', '--max-iter', '12', '--lr', '0.08', '--output-prefix', out)
    expect(r.err).not.toMatch(/error/)
    expect(r.code).toBe(0)
    const prefix = 'logits_0002_0_'
    const files = readdirSync(out)
    for (const f of ['best_X.png', 'best_Xpm.png', 'last_X.png', 'last_Xpm.png', 'info.txt', 'info.json', 'x0.npy', 'best.npy', 'last.npy']) {
      expect(files).toContain(prefix + f)
    }
    const info = JSON.parse(readFileSync(path.join(out, prefix + 'info.json'), 'utf8'))
    expect(info.method).toMatchObject({ name: 'lucid', objective: 'logits:2 - 0.5 * logits:3', params: { lr: 0.08, max_iter: 12, param: 'fft' } })
    expect(info.series.obj).toHaveLength(12)
    expect(info.series.obj[11]).toBeGreaterThan(info.series.obj[0])
  })

  it('--preset lucid implies the method; a batch writes one result per image', async () => {
    const out = path.join(tmp, 'r2') + '/'
    const r = await cli(...base(), '--preset', 'lucid', '--push-channel', '8', '--max-iter', '3', '--batch-size', '2', '--diversity', '10',
      '--diversity-layer', 'conv3', '--param', 'pixel', '--no-decorrelate', '--transforms', 'none', '--skipbig', '--output-prefix', out)
    expect(r.err).not.toMatch(/error/)
    expect(r.code).toBe(0)
    for (const i of [0, 1]) {
      const info = JSON.parse(readFileSync(path.join(out, `logits_0008_0_img${i}_info.json`), 'utf8'))
      expect(info.method).toMatchObject({ image_index: i, batch_size: 2, params: { param: 'pixel', decorrelate: false, transforms: 'none', diversity: 10 } })
      expect(info.extra.preset).toBe('lucid')
    }
  })

  it.each([
    [['--method', 'lucid', '--objective', 'logits:'], /bad objective "logits:": expected a channel index .* at position 8/],
    [['--method', 'lucid', '--objective', 'logits:1 * logits:2'], /two objectives cannot be multiplied/],
    [['--method', 'lucid', '--objective', 'logitz:1'], /no layer named 'logitz'.*did you mean 'logits'/],
    [['--method', 'lucid', '--objective', 'logits:10'], /channel 10 is out of range: layer 'logits' has 10 units/],
    [['--method', 'lucid', '--decay', '0.1'], /--decay is a DVT flag; --method lucid does not use it/],
    [['--preset', 'lucid', '--blur-radius', '1'], /--blur-radius is a DVT flag/],
    [['--objective', 'logits:1'], /--objective applies to the general methods only/],
    [['--preset', 'yosinski-3', '--lr', '0.1'], /--lr applies to the general methods only/],
    [['--preset', 'lucid', '--method', 'dvt'], /--preset lucid is a lucid preset but --method is dvt/],
    [['--preset', 'lucidd'], /unknown preset 'lucidd'; available: yosinski-1, .*, lucid/],
    [['--method', 'lucid', '--diversity', '1'], /diversity 1 needs batch_size >= 2/],
  ])('%j: one line, exit 2, nothing written', async (args, re) => {
    const out = path.join(tmp, `bad-${Math.abs(JSON.stringify(args).split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7))}`) + '/'
    const r = await cli(...base(), ...args, '--max-iter', '2', '--output-prefix', out)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(re)
    expect(r.err.trim().split('\n')).toHaveLength(1)
    expect(existsSync(out)).toBe(false)
  })
})
