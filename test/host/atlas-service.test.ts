/**
 * The Atlas view's host side on a real atlas (`deepvis sweep` of the embedded model: logits and conv3,
 * units 0-2, two presets): the summary matches manifest.json, grid pages slice the layer's units and
 * carry each preset's best image (pixel for pixel, or scaled to ATLAS_THUMB_PX keeping its aspect),
 * a unit page carries the info.json values, failed and pending jobs say so; and an atlas from
 * elsewhere is read as untrusted (images outside the folder or links out of it shown as missing, a
 * FIFO manifest, a wrong format, a malformed or oversized manifest, /proc refused with a clear message).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { atlasHandlers, createAtlasService, qualityRows } from '../../src/host/atlas-service.ts'
import { ATLAS_THUMB_PX } from '../../src/shared/atlas-types.ts'
import { cli } from '../helpers/cli.ts'

const PRESETS = ['yosinski-1', 'yosinski-3']
const ITERS = 6

async function pixels(dataUrlOrFile: string): Promise<{ data: Buffer; width: number; height: number }> {
  const input = dataUrlOrFile.startsWith('data:') ? Buffer.from(dataUrlOrFile.split(',')[1], 'base64') : readFileSync(dataUrlOrFile)
  const { data, info } = await sharp(input).raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height }
}

function readManifest(atlas: string): Record<string, any> {
  return JSON.parse(readFileSync(path.join(atlas, 'manifest.json'), 'utf8'))
}

/** A copy of the atlas whose manifest is changed by `edit` (the images stay where they were). */
function variant(src: string, dest: string, edit: (m: Record<string, any>) => void): string {
  cpSync(src, dest, { recursive: true })
  const m = readManifest(dest)
  edit(m)
  writeFileSync(path.join(dest, 'manifest.json'), JSON.stringify(m))
  return dest
}

describe('atlas service on a real sweep', () => {
  let tmp = ''
  let atlas = ''
  const service = createAtlasService()

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-atlas-svc-'))
    atlas = path.join(tmp, 'atlas')
    const r = await cli('sweep', '--layers', 'logits,conv3', '--units', '0-2', '--preset', PRESETS[0], '--preset', PRESETS[1],
      '--max-iter', String(ITERS), '--backend', 'wasm', '--workers', '1', '--out', atlas)
    expect(r.code, r.err).toBe(0)
  }, 180_000)
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  it('summarizes the atlas as its manifest says', async () => {
    const m = readManifest(atlas)
    const info = await service.open(atlas)
    expect(info.model).toEqual(m.model)
    expect(info.presets).toEqual(PRESETS)
    expect(info.layers.map((l) => l.name)).toEqual(['logits', 'conv3'])
    for (const l of info.layers) {
      expect(l.units).toEqual([0, 1, 2])
      expect(l.done).toBe(6)
      expect(l.failed).toBe(0)
    }
    expect(info.layers[0].labels?.length).toBeGreaterThanOrEqual(3)
    expect(info.results).toBe(12)
    expect(info.planned).toBe(m.planned)
  })

  it('pages a layer grid: the requested slice, each preset\'s best image pixel for pixel and its value', async () => {
    const m = readManifest(atlas)
    const page = await service.thumbs({ path: atlas, layer: 'logits', offset: 1, limit: 2 })
    expect(page.total).toBe(3)
    expect(page.cells.map((c) => c.unit)).toEqual([1, 2])
    const labels = (await service.open(atlas)).layers[0].labels!
    expect(page.cells[0].label).toBe(labels[1])
    for (const cell of page.cells) {
      expect(cell.thumbs.map((t) => t.preset)).toEqual(PRESETS)
      for (const t of cell.thumbs) {
        const e = m.results[`logits:${cell.unit}:${t.preset}`]
        expect(t.status).toBe('done')
        expect(t.obj).toBe(e.best.obj)
        const got = await pixels(t.image!)
        const want = await pixels(path.join(atlas, e.images.best_X))
        expect([got.width, got.height]).toEqual([want.width, want.height]) // 64 px: sent as it is
        expect(got.data.equals(want.data)).toBe(true)
      }
    }
    expect((await service.thumbs({ path: atlas, layer: 'logits', offset: 3, limit: 5 })).cells).toEqual([])
  })

  it('scales an image larger than the thumbnail size down, keeping its aspect', async () => {
    const big = path.join(tmp, 'big')
    const dest = variant(atlas, big, (m) => { m.results['logits:0:yosinski-1'].images.best_X = 'wide.png' })
    await sharp({ create: { width: 300, height: 150, channels: 3, background: { r: 200, g: 30, b: 10 } } }).png().toFile(path.join(dest, 'wide.png'))
    const page = await service.thumbs({ path: dest, layer: 'logits', offset: 0, limit: 1 })
    const got = await pixels(page.cells[0].thumbs[0].image!)
    expect([got.width, got.height]).toEqual([ATLAS_THUMB_PX, ATLAS_THUMB_PX / 2])
    expect([...got.data.subarray(0, 3)]).toEqual([200, 30, 10])
  })

  it('keeps a page of big images to its byte budget: fewer cells, the next page starts after them', async () => {
    const dest = variant(atlas, path.join(tmp, 'noisy'), (m) => {
      for (const e of Object.values(m.results) as { images: Record<string, string> }[]) e.images.best_X = 'noise.png'
    })
    const noise = Buffer.from(Array.from({ length: 128 * 128 * 3 }, (_, i) => (i * 7919 + (i >> 3) * 104729) % 251))
    await sharp(noise, { raw: { width: 128, height: 128, channels: 3 } }).png().toFile(path.join(dest, 'noise.png'))
    const one = (await createAtlasService().thumbs({ path: dest, layer: 'logits', offset: 0, limit: 3 })).cells[0].thumbs[0].image!.length
    const small = createAtlasService({ pageBytes: one * 2 + 1 })
    const first = await small.thumbs({ path: dest, layer: 'logits', offset: 0, limit: 3 })
    expect(first.cells.map((c) => c.unit)).toEqual([0, 1]) // 2 images per cell: over budget after the second cell
    const rest = await small.thumbs({ path: dest, layer: 'logits', offset: first.cells.length, limit: 3 })
    expect(rest.cells.map((c) => c.unit)).toEqual([2])
    // A budget below one cell still answers one cell.
    expect((await createAtlasService({ pageBytes: 1 }).thumbs({ path: dest, layer: 'logits', offset: 0, limit: 3 })).cells).toHaveLength(1)
  })

  it('gives a unit page with every preset\'s snapshots and readouts from info.json, and its neighbours', async () => {
    const m = readManifest(atlas)
    const page = await service.unit({ path: atlas, layer: 'conv3', unit: 1 })
    expect([page.prev, page.next]).toEqual([0, 2])
    expect(page.presets.map((p) => p.preset)).toEqual(PRESETS)
    for (const p of page.presets) {
      const e = m.results[`conv3:1:${p.preset}`]
      expect(p.status).toBe('done')
      expect(p.iterations).toBe(e.iterations)
      expect(p.metaResult).toBe(e.meta_result)
      expect(p.snapshots.map((s) => s.kind)).toEqual(['best', 'last', 'majority'])
      const best = p.snapshots[0]
      expect([best.ii, best.obj]).toEqual([e.best.ii, e.best.obj])
      expect(Buffer.from(best.image!.split(',')[1], 'base64').equals(readFileSync(path.join(atlas, e.images.best_X)))).toBe(true)
      expect(p.snapshots[1].ii).toBe(e.last.ii)
      expect(p.quality).toEqual(qualityRows(e.quality))
      expect(p.quality.map((q) => q.key)).toContain('activation')
    }
    const first = await service.unit({ path: atlas, layer: 'conv3', unit: 0 })
    expect(first.prev).toBeNull()
    await expect(service.unit({ path: atlas, layer: 'conv3', unit: 7 })).rejects.toMatchObject({ code: 'BAD_UNIT' })
    await expect(service.thumbs({ path: atlas, layer: 'nope', offset: 0, limit: 1 })).rejects.toMatchObject({ code: 'BAD_LAYER', message: expect.stringContaining('logits, conv3') })
  })

  it('shows failed jobs with their error and missing ones as pending; re-reads a manifest that changed', async () => {
    const dest = variant(atlas, path.join(tmp, 'partial'), (m) => {
      delete m.results['logits:2:yosinski-3']
      delete m.results['logits:1:yosinski-1']
      m.failed = [{ id: 'logits:2:yosinski-3', error: 'BAD_PARAM: something went wrong' }]
    })
    const info = await service.open(dest)
    expect(info.layers[0]).toMatchObject({ done: 4, failed: 1 })
    const page = await service.thumbs({ path: dest, layer: 'logits', offset: 1, limit: 2 })
    expect(page.cells[0].thumbs[0]).toMatchObject({ status: 'pending', image: null, obj: null })
    expect(page.cells[1].thumbs[1]).toMatchObject({ status: 'failed', error: 'BAD_PARAM: something went wrong', image: null })
    const unit = await service.unit({ path: dest, layer: 'logits', unit: 2 })
    expect(unit.presets[1]).toMatchObject({ status: 'failed', snapshots: [] })
    // The sweep finishes the job: the next call sees it.
    const m = readManifest(dest)
    m.results['logits:2:yosinski-3'] = readManifest(atlas).results['logits:2:yosinski-3']
    m.failed = []
    m.updated = new Date(Date.now() + 1000).toISOString()
    writeFileSync(path.join(dest, 'manifest.json'), JSON.stringify(m, null, 2))
    expect((await service.open(dest)).layers[0]).toMatchObject({ done: 5, failed: 0 })
  })

  it('never reads an image outside the atlas folder: a path out of it or a link out of it is shown as missing', async () => {
    const secret = path.join(tmp, 'secret.png')
    cpSync(path.join(atlas, readManifest(atlas).results['logits:0:yosinski-1'].images.best_X), secret)
    const dest = variant(atlas, path.join(tmp, 'hostile'), (m) => {
      m.results['logits:0:yosinski-1'].images.best_X = '../secret.png'
      m.results['logits:0:yosinski-3'].images.best_X = 'link.png'
      m.results['logits:1:yosinski-1'].images.best_X = '/etc/hostname'
      m.results['logits:1:yosinski-3'].images.best_X = 'units'
    })
    symlinkSync(secret, path.join(dest, 'link.png'))
    const page = await service.thumbs({ path: dest, layer: 'logits', offset: 0, limit: 3 })
    expect(page.cells[0].thumbs.map((t) => t.image)).toEqual([null, null])
    expect(page.cells[1].thumbs.map((t) => t.image)).toEqual([null, null])
    expect(page.cells[2].thumbs.every((t) => t.image?.startsWith('data:image/png;base64,'))).toBe(true)
    const unit = await service.unit({ path: dest, layer: 'logits', unit: 0 })
    expect(unit.presets[0].snapshots[0].image).toBeNull()
    expect(unit.presets[0].snapshots[1].image).not.toBeNull() // the rest of the page still answers
  })

  it('refuses what is not an atlas with a clear message', async () => {
    const notAtlas = path.join(tmp, 'empty')
    mkdirSync(notAtlas)
    await expect(service.open(notAtlas)).rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringMatching(/holds no manifest\.json: not an atlas/) })
    await expect(service.open(path.join(tmp, 'missing'))).rejects.toMatchObject({ message: expect.stringMatching(/^no atlas folder/) })
    await expect(service.open(path.join(atlas, 'manifest.json'))).rejects.toMatchObject({ message: expect.stringMatching(/is not a folder/) })
    await expect(service.open('/proc/self')).rejects.toMatchObject({ message: expect.stringMatching(/is in \/proc/) })

    const fifo = path.join(tmp, 'fifo-atlas')
    mkdirSync(fifo)
    execFileSync('mkfifo', [path.join(fifo, 'manifest.json')])
    const t0 = Date.now()
    await expect(service.open(fifo)).rejects.toMatchObject({ message: expect.stringMatching(/FIFO/) })
    expect(Date.now() - t0).toBeLessThan(5000)

    const other = path.join(tmp, 'other-format')
    mkdirSync(other)
    writeFileSync(path.join(other, 'manifest.json'), JSON.stringify({ format: 'something-else@2', secret: 'SECRET' }))
    await expect(service.open(other)).rejects.toMatchObject({ message: expect.stringMatching(/not a DeepVis atlas manifest \(format "something-else@2"/) })

    const malformed = variant(atlas, path.join(tmp, 'malformed'), (m) => { m.layers = 'SECRET' })
    await expect(service.open(malformed)).rejects.toMatchObject({ message: expect.stringMatching(/malformed at layers/) })
    await expect(service.open(malformed)).rejects.not.toMatchObject({ message: expect.stringContaining('SECRET') })

    const junk = path.join(tmp, 'junk')
    mkdirSync(junk)
    writeFileSync(path.join(junk, 'manifest.json'), 'SECRET{not json')
    await expect(service.open(junk)).rejects.toMatchObject({ message: expect.stringMatching(/is not valid JSON/) })
    await expect(service.open(junk)).rejects.not.toMatchObject({ message: expect.stringContaining('SECRET') })
  })

  it('refuses a manifest over the JSON size limit before parsing it', async () => {
    const big = variant(atlas, path.join(tmp, 'huge'), (m) => { m.padding = 'x'.repeat(2 << 20) })
    const before = process.env.DEEPVIS_MAX_MODEL_JSON_MB
    process.env.DEEPVIS_MAX_MODEL_JSON_MB = '1'
    try {
      await expect(createAtlasService().open(big)).rejects.toMatchObject({ message: expect.stringMatching(/over the limit.*DEEPVIS_MAX_MODEL_JSON_MB/) })
    } finally {
      if (before === undefined) delete process.env.DEEPVIS_MAX_MODEL_JSON_MB
      else process.env.DEEPVIS_MAX_MODEL_JSON_MB = before
    }
  })

  it('the atlas channels expand ~ and refuse a folder dialog outside Electron', async () => {
    const h = atlasHandlers(service)
    expect(() => h['atlas:pick'](undefined)).toThrow(/no folder dialog here/)
    const rel = path.relative(os.homedir(), atlas)
    if (!rel.startsWith('..')) expect((await h['atlas:open'](`~/${rel}`)).path).toBe((await service.open(atlas)).path)
  })
})
