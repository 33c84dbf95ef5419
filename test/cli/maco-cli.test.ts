/**
 * `deepvis optimize` with maco, accentuation and the image objectives on the embedded model, in-process:
 * a maco run writes best/last and last_alpha.png with info.json recording the method and the alpha map;
 * accentuation starts from --image; invert reads the file its expression names; bad input gets one line and
 * exit code 2 (a maco flag with DVT, accentuation without --image, an image that is not one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { cli } from '../helpers/cli.ts'

let tmp = ''
let png = ''
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-maco-cli-'))
  png = path.join(tmp, 'seed.png')
  const rgb = Buffer.alloc(64 * 64 * 3)
  for (let i = 0; i < 64 * 64; i++) { const v = 128 + 100 * Math.sin((2 * Math.PI * (i % 64)) / 8); rgb.fill(Math.round(v), i * 3, i * 3 + 3) }
  await sharp(rgb, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(png)
})
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

const base = (): string[] => ['optimize', '--backend', 'wasm', '--push-layer', 'logits', '--push-channel', '0']

describe('deepvis optimize --preset maco / accentuation', () => {
  it('maco writes best, last and last_alpha.png; info.json records the method and the alpha map', async () => {
    const out = path.join(tmp, 'maco') + '/'
    const r = await cli(...base(), '--preset', 'maco', '--max-iter', '6', '--crops', '2', '--canvas-scale', '1.25', '--box-end', '0.6', '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const info = JSON.parse(readFileSync(path.join(out, 'logits_0000_0_info.json'), 'utf8'))
    expect(info.method.name).toBe('maco')
    expect(info.method.params).toMatchObject({ crops: 2, canvas_scale: 1.25, box_end: 0.6, lr: 1 })
    expect(info.alpha.evaluations).toBe(5)
    expect(info.files).toContain('logits_0000_0_last_alpha.png')
    const meta = await sharp(path.join(out, 'logits_0000_0_last_alpha.png')).metadata()
    expect([meta.width, meta.height]).toEqual([64, 64])
  }, 60_000)

  it('accentuation starts from --image; invert reads the file its expression names', async () => {
    const out = path.join(tmp, 'accent') + '/'
    const r = await cli(...base(), '--preset', 'accentuation', '--image', png, '--max-iter', '4', '--output-prefix', out)
    expect(r.code, r.err).toBe(0)
    const inv = path.join(tmp, 'inv') + '/'
    const r2 = await cli('optimize', '--backend', 'wasm', '--method', 'lucid', '--objective', `invert('@input', '${png}')`, '--max-iter', '4', '--output-prefix', inv)
    expect(r2.code, r2.err).toBe(0)
  }, 60_000)

  it.each([
    [['--noise', '0.1'], /--noise applies to the general methods only/],
    [['--preset', 'accentuation'], /give --image FILE/],
    [['--method', 'maco', '--box-end', '0.01'], /box_end must be/],
  ])('%j: one line, exit 2', async (args, re) => {
    const r = await cli(...base(), ...args, '--max-iter', '2', '--output-prefix', path.join(tmp, 'bad') + '/')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(re)
    expect(r.err.trim().split('\n')).toHaveLength(1)
  })

  it('an image that is not one: one line, exit 2', async () => {
    const bad = path.join(tmp, 'bad.png')
    writeFileSync(bad, 'not a png')
    const r = await cli(...base(), '--preset', 'accentuation', '--image', bad, '--max-iter', '2', '--output-prefix', path.join(tmp, 'bad2') + '/')
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/could not be decoded/)
  })
})
