/**
 * `deepvis sweep --index DIR`: each swept unit's top images from a top-k index of the same model go
 * into the atlas (montage + list, the same as `deepvis top-images` draws and lists), the manifest lists
 * them, the app's atlas service serves them on the unit page, and a re-run keeps them untouched; an
 * index of another model, or without any swept layer, is refused before anything runs.
 */
import { readFileSync, statSync, writeFileSync, cpSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAtlasService } from '../../src/host/atlas-service.ts'
import { cli } from '../helpers/cli.ts'

let tmp = ''
let idx = ''
let atlas = ''
const UNITS = [0, 1, 2]

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-atlas-tops-'))
  const stim = path.join(tmp, 'stimuli')
  idx = path.join(tmp, 'index')
  atlas = path.join(tmp, 'atlas')
  let r = await cli('stimuli', '--out', stim, '--per-class', '3')
  expect(r.code, r.err).toBe(0)
  r = await cli('index', '--images', stim, '--layers', 'logits,conv3', '--out', idx, '--backend', 'wasm')
  expect(r.code, r.err).toBe(0)
  r = await cli('sweep', '--layers', 'logits', '--units', '0-2', '--preset', 'yosinski-3', '--max-iter', '5', '--workers', '1', '--backend', 'wasm',
    '--index', idx, '--out', atlas)
  expect(r.code, r.err).toBe(0)
}, 240_000)
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

describe('sweep --index', () => {
  it('writes each unit\'s top images as deepvis top-images does, and lists them in the manifest', async () => {
    const manifest = JSON.parse(readFileSync(path.join(atlas, 'manifest.json'), 'utf8'))
    expect(Object.keys(manifest.tops).sort()).toEqual(UNITS.map((u) => `logits:${u}`))
    for (const u of UNITS) {
      const prefix = path.join(tmp, 'top', `u${u}`)
      const r = await cli('top-images', '--index', idx, '--layer', 'logits', '--unit', String(u), '--out', prefix)
      expect(r.code, r.err).toBe(0)
      const top = manifest.tops[`logits:${u}`]
      expect(readFileSync(path.join(atlas, top.montage)).equals(readFileSync(`${prefix}_montage.png`))).toBe(true)
      const list = JSON.parse(readFileSync(`${prefix}.json`, 'utf8'))
      expect(top.entries).toEqual(list.entries.map((e: { rank: number; image: string; score: number }) => ({ rank: e.rank, image: e.image, score: e.score })))
      expect(top.images).toBe(30)
      expect(top.entries).toHaveLength(9)
    }
  })

  it('the atlas service serves them on the unit page; a re-run leaves them as they are', async () => {
    const page = await createAtlasService().unit({ path: atlas, layer: 'logits', unit: 1 })
    const manifest = JSON.parse(readFileSync(path.join(atlas, 'manifest.json'), 'utf8'))
    expect(page.top?.entries).toEqual(manifest.tops['logits:1'].entries)
    expect(Buffer.from(page.top!.montage!.split(',')[1], 'base64').equals(readFileSync(path.join(atlas, manifest.tops['logits:1'].montage)))).toBe(true)
    const mtime = statSync(path.join(atlas, manifest.tops['logits:1'].montage)).mtimeMs
    const r = await cli('sweep', '--layers', 'logits', '--units', '0-2', '--preset', 'yosinski-3', '--max-iter', '5', '--workers', '1', '--backend', 'wasm',
      '--index', idx, '--out', atlas)
    expect(r.code, r.err).toBe(0)
    expect(r.err).toMatch(/3 jobs, 3 already in the atlas/)
    expect(statSync(path.join(atlas, manifest.tops['logits:1'].montage)).mtimeMs).toBe(mtime)
    // An atlas swept without --index keeps the tops it has.
    expect((await cli('sweep', '--layers', 'logits', '--units', '0-2', '--preset', 'yosinski-3', '--max-iter', '5', '--workers', '1', '--backend', 'wasm', '--out', atlas)).code).toBe(0)
    expect(Object.keys(JSON.parse(readFileSync(path.join(atlas, 'manifest.json'), 'utf8')).tops)).toHaveLength(3)
  })

  it('refuses an index of another model, or without the swept layers, before running anything', async () => {
    const other = path.join(tmp, 'other-index')
    cpSync(idx, other, { recursive: true })
    const j = JSON.parse(readFileSync(path.join(other, 'index.json'), 'utf8'))
    j.model.key = 'not-this-model'
    writeFileSync(path.join(other, 'index.json'), JSON.stringify(j))
    const out = path.join(tmp, 'refused')
    let r = await cli('sweep', '--layers', 'logits', '--units', '0', '--preset', 'yosinski-3', '--index', other, '--out', out)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/was built for another model or input spec/)
    r = await cli('sweep', '--layers', 'pool1', '--units', '0', '--preset', 'yosinski-3', '--index', idx, '--out', out)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/holds none of the swept layers \(it has logits, conv3\)/)
    r = await cli('sweep', '--layers', 'logits', '--units', '0', '--preset', 'yosinski-3', '--index', path.join(tmp, 'nope'), '--out', out)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/no index in/)
    expect(() => statSync(out)).toThrow()
  })
})
