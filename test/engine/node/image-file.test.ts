/**
 * Images from disk: the fit policy's crop box, decoding and fitting (centre crop keeps the middle,
 * squash keeps everything), EXIF orientation, greyscale and transparent images, and every kind of bad
 * input as a one-line BAD_IMAGE / BAD_PARAM error that names the file.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import sharp, { type Sharp } from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fitBox } from '../../../src/shared/fit-policy.ts'
import { listImages, readImageFile } from '../../../src/engine/node/image-file.ts'

let tmp = ''
beforeAll(async () => { tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-img-')) })
afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

/** A W x H image: left third red, middle third green, right third blue. */
async function thirds(file: string, w: number, h: number, extra?: (s: Sharp) => Sharp): Promise<void> {
  const data = Buffer.alloc(w * h * 3)
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(y * w + x) * 3 + Math.min(2, Math.floor((3 * x) / w))] = 255
  let s = sharp(data, { raw: { width: w, height: h, channels: 3 } })
  if (extra) s = extra(s)
  await s.toFile(file)
}

const pixel = (img: { data: ArrayLike<number>; width: number }, x: number, y: number): number[] =>
  [0, 1, 2].map((k) => img.data[(y * img.width + x) * 3 + k])

describe('fitBox', () => {
  it('centre crop keeps the largest centred box of the target aspect; squash keeps all', () => {
    expect(fitBox(640, 480, 224, 224, 'center-crop')).toEqual({ left: 80, top: 0, width: 480, height: 480 })
    expect(fitBox(480, 640, 64, 32, 'center-crop')).toEqual({ left: 0, top: 200, width: 480, height: 240 })
    expect(fitBox(640, 480, 224, 224, 'squash')).toEqual({ left: 0, top: 0, width: 640, height: 480 })
    expect(fitBox(1, 1000, 224, 224)).toEqual({ left: 0, top: 499, width: 1, height: 1 })
    expect(() => fitBox(0, 10, 5, 5)).toThrow(RangeError)
  })
})

describe('readImageFile', () => {
  it('centre crop of a wide image: only green at both ends; squash: red at the left, blue at the right', async () => {
    const f = path.join(tmp, 'wide.png')
    await thirds(f, 300, 100)
    const c = await readImageFile(f, { width: 32, height: 32 }, 'center-crop')
    expect(c.data).toHaveLength(32 * 32 * 3)
    expect(pixel(c, 0, 16)).toEqual([0, 255, 0])
    expect(pixel(c, 31, 16)).toEqual([0, 255, 0])
    const s = await readImageFile(f, { width: 32, height: 32 }, 'squash')
    expect(pixel(s, 1, 16)).toEqual([255, 0, 0])
    expect(pixel(s, 30, 16)).toEqual([0, 0, 255])
  })

  it('turns an EXIF-rotated JPEG upright, expands greyscale to RGB, flattens transparency on white', async () => {
    // Stored 300x100 with orientation 6 (rotate 90° clockwise to view): upright it is 100x300, red on top.
    const f = path.join(tmp, 'rot.jpg')
    await thirds(f, 300, 100, (s) => s.jpeg({ quality: 100 }).withMetadata({ orientation: 6 }))
    const r = await readImageFile(f, { width: 10, height: 30 }, 'squash')
    const top = pixel(r, 5, 1), bottom = pixel(r, 5, 28)
    expect(top[0]).toBeGreaterThan(200)
    expect(bottom[2]).toBeGreaterThan(200)
    const g = path.join(tmp, 'grey.png')
    await sharp(Buffer.alloc(20 * 20, 77), { raw: { width: 20, height: 20, channels: 1 } }).png().toFile(g)
    expect(pixel(await readImageFile(g, { width: 8, height: 8 }), 3, 3)).toEqual([77, 77, 77])
    const t = path.join(tmp, 'clear.png')
    await sharp(Buffer.alloc(10 * 10 * 4, 0), { raw: { width: 10, height: 10, channels: 4 } }).png().toFile(t)
    expect(pixel(await readImageFile(t, { width: 4, height: 4 }), 1, 1)).toEqual([255, 255, 255])
  })

  it('bad input: missing, not an image, a folder, a FIFO-like special path, over the pixel limit', async () => {
    await expect(readImageFile(path.join(tmp, 'nope.png'), { width: 8, height: 8 })).rejects.toMatchObject({ code: 'BAD_IMAGE', message: expect.stringMatching(/missing image .*nope\.png/) })
    const txt = path.join(tmp, 'notes.jpg')
    await writeFile(txt, 'hello, not a jpeg')
    await expect(readImageFile(txt, { width: 8, height: 8 })).rejects.toMatchObject({ code: 'BAD_IMAGE', message: expect.stringMatching(/notes\.jpg is not an image that can be read/) })
    await mkdir(path.join(tmp, 'dir.png'))
    await expect(readImageFile(path.join(tmp, 'dir.png'), { width: 8, height: 8 })).rejects.toMatchObject({ code: 'BAD_IMAGE', message: expect.stringMatching(/is a folder/) })
    await expect(readImageFile('/dev/zero', { width: 8, height: 8 })).rejects.toMatchObject({ code: 'BAD_IMAGE' })
    const big = path.join(tmp, 'big.png')
    await thirds(big, 200, 100)
    process.env.DEEPVIS_MAX_IMAGE_PIXELS = '10000'
    try {
      await expect(readImageFile(big, { width: 8, height: 8 })).rejects.toMatchObject({ code: 'BAD_IMAGE', message: expect.stringMatching(/200x100 = 20000 pixels, over the limit of 10000 \(set DEEPVIS_MAX_IMAGE_PIXELS/) })
    } finally {
      delete process.env.DEEPVIS_MAX_IMAGE_PIXELS
    }
  })
})

describe('listImages', () => {
  it('lists image files under sub-folders, sorted, skipping hidden names, other files and links to folders', async () => {
    const d = path.join(tmp, 'set')
    await mkdir(path.join(d, 'b', 'deep'), { recursive: true })
    await mkdir(path.join(d, '.hidden'))
    for (const f of ['z.png', 'a.JPG', 'b/deep/c.webp', 'b/readme.txt', '.hidden/x.png', '.dot.png']) await writeFile(path.join(d, f), 'x')
    await symlink(path.join(d, 'b'), path.join(d, 'loop'))
    expect(await listImages(d)).toEqual(['a.JPG', 'b/deep/c.webp', 'z.png'])
    await mkdir(path.join(tmp, 'none'))
    await expect(listImages(path.join(tmp, 'none'))).rejects.toThrow(/no images \(\.jpg/)
    await expect(listImages(path.join(tmp, 'absent'))).rejects.toThrow(/does not exist/)
    await expect(listImages(path.join(d, 'z.png'))).rejects.toThrow(/not a folder of images/)
  })
})
