/**
 * deepvis stimuli / index / top-images / activations on the embedded model, in-process: the files
 * they write and what is in them, a second index run that finds the index, and bad input as one line
 * with exit code 2 and nothing written.
 */
import { existsSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../helpers/cli.ts'
import { decodeNpy } from '../../src/engine/node/npy.ts'
import { drawGrating } from '../../src/engine/stimuli.ts'

let tmp = ''
let images = ''
let index = ''
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-inspect-cli-'))
  images = path.join(tmp, 'stimuli')
  index = path.join(tmp, 'idx')
})
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

const oneLine = (err: string): void => {
  expect(err.trim().split('\n')).toHaveLength(1)
  expect(err).toMatch(/^deepvis: /)
}

describe('deepvis stimuli + index + top-images', () => {
  it('writes a labelled folder, indexes it (then finds the index again), and the montage + list of a unit', async () => {
    const s = await cli('stimuli', '--out', images, '--per-class', '12', '--seed', '5')
    expect(s.code).toBe(0)
    expect(readdirSync(path.join(images, 'red_blob'))).toHaveLength(12)
    const r = await cli('index', '--images', images, '--layers', 'logits,conv3', '--out', index, '--backend', 'wasm')
    expect(r.err).not.toMatch(/error/)
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/indexed 120 images \(0 skipped\) .*images\/s/)
    expect(r.err).toMatch(/indexing 120\/120 images/)
    const again = await cli('index', '--images', images, '--layers', 'logits,conv3', '--out', index, '--backend', 'wasm')
    expect(again.code).toBe(0)
    expect(again.err).not.toMatch(/indexing/) // nothing left to do
    const t = await cli('top-images', '--index', index, '--layer', 'logits', '--unit', '7', '--k', '9', '--out', path.join(tmp, 'top', 'red'))
    expect(t.code).toBe(0)
    const list = JSON.parse(await readFile(path.join(tmp, 'top', 'red.json'), 'utf8'))
    expect(list.entries).toHaveLength(9)
    expect(list.entries.every((e: { image: string }) => e.image.startsWith('red_blob/'))).toBe(true)
    const meta = await sharp(path.join(tmp, 'top', 'red_montage.png')).metadata()
    expect([meta.width, meta.height]).toEqual([3 * 128 + 4 * 4, 3 * 128 + 4 * 4])
    const c = await cli('top-images', '--index', index, '--layer', 'conv3', '--unit', '0', '--k', '4', '--tile', '32', '--out', path.join(tmp, 'top', 'c3'))
    expect(c.code).toBe(0)
    expect(c.out).toMatch(/rf \[\d+:\d+, \d+:\d+\]/)
  })

  it('bad input: one line, exit 2, nothing written', async () => {
    const empty = path.join(tmp, 'empty')
    await mkdir(empty)
    let r = await cli('index', '--images', empty, '--layers', 'logits', '--out', path.join(tmp, 'x1'), '--backend', 'wasm')
    expect(r.code).toBe(2); oneLine(r.err); expect(r.err).toMatch(/no images/)
    expect(existsSync(path.join(tmp, 'x1'))).toBe(false)
    r = await cli('index', '--images', path.join(tmp, 'absent'), '--layers', 'logits', '--backend', 'wasm')
    expect(r.code).toBe(2); oneLine(r.err); expect(r.err).toMatch(/does not exist/)
    r = await cli('index', '--images', images, '--layers', 'logitz', '--backend', 'wasm')
    expect(r.code).toBe(2); oneLine(r.err); expect(r.err).toMatch(/no layer named 'logitz'.*did you mean 'logits'/)
    r = await cli('index', '--images', images, '--layers', 'logits', '--out', index, '--backend', 'wasm')
    expect(r.code).toBe(2); oneLine(r.err); expect(r.err).toMatch(/holds an index of another/)
    r = await cli('top-images', '--index', empty, '--layer', 'logits', '--unit', '0')
    expect(r.code).toBe(2); oneLine(r.err); expect(r.err).toMatch(/no index in/)
    r = await cli('top-images', '--index', index, '--layer', 'logits', '--unit', '10', '--out', path.join(tmp, 'x2'))
    expect(r.code).toBe(2); oneLine(r.err); expect(r.err).toMatch(/unit 10 is out of range/)
    r = await cli('top-images', '--index', index, '--layer', 'logits', '--unit', '7', '--out', path.join(tmp, 'top', 'red'))
    expect(r.code).toBe(2); oneLine(r.err); expect(r.err).toMatch(/exists; give --brave/)
    const notImage = path.join(tmp, 'fake.png')
    await writeFile(notImage, 'not a picture')
    r = await cli('activations', '--image', notImage, '--layer', 'conv1', '--out', path.join(tmp, 'a', 'x'), '--backend', 'wasm')
    expect(r.code).toBe(2); oneLine(r.err); expect(r.err).toMatch(/fake\.png is not an image/)
    expect(existsSync(path.join(tmp, 'a'))).toBe(false)
    expect(existsSync(path.join(tmp, 'x2_montage.png'))).toBe(false)
  })
})

describe('deepvis activations', () => {
  it('writes the grid PNG (one tile per unit, strongest framed) and the HWC values as .npy', async () => {
    const img = path.join(tmp, 'vertical.png')
    const g = Uint8Array.from(drawGrating(64, 90, 10), (v) => Math.round(v))
    await sharp(Buffer.from(g), { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(img)
    const r = await cli('activations', '--image', img, '--layer', 'conv2', '--out', path.join(tmp, 'act', 'v'), '--backend', 'wasm')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/conv2 \[32, 32, 32\].*strongest units:\n {2}unit \d+: max /)
    const { data, shape } = decodeNpy(new Uint8Array(await readFile(path.join(tmp, 'act', 'v_conv2.npy'))))
    expect(shape).toEqual([32, 32, 32])
    expect(data.every((v) => v >= 0)).toBe(true) // post-ReLU
    const meta = await sharp(path.join(tmp, 'act', 'v_conv2_grid.png')).metadata()
    // 32 channels -> 6 columns x 6 rows of 32 px tiles with 2 px gaps.
    expect([meta.width, meta.height]).toEqual([6 * 32 + 7 * 2, 6 * 32 + 7 * 2])
    const logits = await cli('activations', '--image', img, '--layer', 'logits', '--out', path.join(tmp, 'act', 'v'), '--backend', 'wasm')
    expect(logits.out).toMatch(/strongest units:\n {2}unit 0 "grating vertical"/)
  })
})
