/**
 * Real images from disk (or bytes from a drop / upload) as model inputs, with sharp: decoded, turned
 * upright by their EXIF orientation, flattened on white when transparent, cropped and resized to the
 * model's input size by the shared fit policy (src/shared/fit-policy.ts), as RGB bytes.
 * Files are read with safe-files' readRegularFile (no FIFOs or devices, a size limit); an image over
 * DEEPVIS_MAX_IMAGE_PIXELS, a file that is not an image, or a broken one is a BAD_IMAGE error naming
 * the file and never quoting its bytes.
 * Shape: `await readImageFile(file, {width, height}, fit) => RgbImage`, `await decodeImage(bytes, what, size, fit)`,
 *        `await listImages(dir) => relative paths`, `await decodeImageFull(bytes, what) => full-size RgbImage`.
 */
import { lstat, readdir } from 'node:fs/promises'
import path from 'node:path'
import sharp, { type Metadata } from 'sharp'
import { DeepVisError } from '../../shared/errors.ts'
import type { RgbImage } from '../inspect/network-input.ts'
import { DEFAULT_FIT_POLICY, fitBox, type FitPolicy } from '../../shared/fit-policy.ts'
import { limits, raiseHint } from './limits.ts'
import { readRegularFile } from './safe-files.ts'

/** File name endings read as images (what sharp decodes without extra libraries). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'] as const
/** Deepest folder level `listImages` walks into. */
const MAX_DEPTH = 8
/** Most images one folder listing returns. */
export const MAX_FOLDER_IMAGES = 1_000_000
/** Background of transparent pixels. */
const FLATTEN_BACKGROUND = { r: 255, g: 255, b: 255 }

export interface ImageSize {
  width: number
  height: number
}

/** Whether `name` ends in one of IMAGE_EXTENSIONS (case-insensitive). */
export function isImageName(name: string): boolean {
  const ext = path.extname(name).toLowerCase()
  return (IMAGE_EXTENSIONS as readonly string[]).includes(ext)
}

function notAnImage(what: string): DeepVisError {
  return new DeepVisError('BAD_IMAGE', `${what} is not an image that can be read (${IMAGE_EXTENSIONS.join(', ')}), or it is damaged`)
}

/** Width and height of the image upright (EXIF orientations 5-8 swap them); refuses too many pixels. */
async function uprightSize(bytes: Buffer, what: string): Promise<ImageSize> {
  let meta: Metadata
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata()
  } catch {
    throw notAnImage(what)
  }
  const { width, height } = meta
  if (!width || !height) throw notAnImage(what)
  const max = limits().imagePixels
  if (width * height > max) {
    throw new DeepVisError('BAD_IMAGE', `${what} is ${width}x${height} = ${width * height} pixels, over the limit of ${max} (${raiseHint('imagePixels')})`)
  }
  const swap = (meta.orientation ?? 1) >= 5
  return swap ? { width: height, height: width } : { width, height }
}

/** RGB bytes from sharp's raw output of 1 to 4 channels. */
function toRgb(data: Buffer, channels: number, pixels: number): Uint8Array {
  if (channels === 3) return new Uint8Array(data.buffer, data.byteOffset, pixels * 3)
  const out = new Uint8Array(pixels * 3)
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < 3; k++) out[p * 3 + k] = data[p * channels + (channels >= 3 ? k : 0)]
  }
  return out
}

/** Decode image bytes and fit them to `size` by `fit`. `what` names the image in errors. */
export async function decodeImage(bytes: Buffer, what: string, size: ImageSize, fit: FitPolicy = DEFAULT_FIT_POLICY): Promise<RgbImage> {
  const upright = await uprightSize(bytes, what)
  const box = fitBox(upright.width, upright.height, size.width, size.height, fit)
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits().imagePixels })
      .rotate()
      .extract(box)
      .resize(size.width, size.height, { fit: 'fill' })
      .flatten({ background: FLATTEN_BACKGROUND })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true })
    if (info.width !== size.width || info.height !== size.height) throw notAnImage(what)
    return { data: toRgb(data, info.channels, size.width * size.height), width: size.width, height: size.height }
  } catch (e) {
    if (e instanceof DeepVisError) throw e
    throw notAnImage(what)
  }
}

/** The whole image, upright, as RGB bytes at its own size (for crops and display). */
export async function decodeImageFull(bytes: Buffer, what: string): Promise<RgbImage> {
  await uprightSize(bytes, what)
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: limits().imagePixels })
      .rotate().flatten({ background: FLATTEN_BACKGROUND }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
    return { data: toRgb(data, info.channels, info.width * info.height), width: info.width, height: info.height }
  } catch {
    throw notAnImage(what)
  }
}

/** Read an image file (a regular file within the size limit) and fit it to `size`. */
export async function readImageFile(file: string, size: ImageSize, fit: FitPolicy = DEFAULT_FIT_POLICY): Promise<RgbImage> {
  const bytes = await readImageBytes(file)
  return decodeImage(bytes, `image ${file}`, size, fit)
}

/** The bytes of an image file: a regular file within DEEPVIS_MAX_FILE_MB. */
export async function readImageBytes(file: string): Promise<Buffer> {
  return readRegularFile(file, { what: 'image', maxBytes: limits().auxFileBytes, raiseHint: raiseHint('auxFileBytes'), code: 'BAD_IMAGE' })
}

/**
 * The image files under `dir` (IMAGE_EXTENSIONS; hidden names, links and folders deeper than 8 levels
 * skipped), as paths relative to `dir` with '/' separators, sorted. Throws BAD_PARAM for a missing
 * folder or one without images.
 */
export async function listImages(dir: string): Promise<string[]> {
  let st
  try { st = await lstat(dir) } catch { throw new DeepVisError('BAD_PARAM', `image folder ${dir} does not exist`) }
  if (!st.isDirectory()) throw new DeepVisError('BAD_PARAM', `${dir} is not a folder of images`)
  const found: string[] = []
  const walk = async (rel: string, depth: number): Promise<void> => {
    let entries
    try { entries = await readdir(path.join(dir, rel), { withFileTypes: true }) } catch { return }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue
      const child = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory() && depth < MAX_DEPTH) await walk(child, depth + 1)
      else if (e.isFile() && isImageName(e.name)) {
        if (found.length >= MAX_FOLDER_IMAGES) throw new DeepVisError('BAD_PARAM', `${dir} holds more than ${MAX_FOLDER_IMAGES} images; index a smaller folder`)
        found.push(child)
      }
    }
  }
  await walk('', 0)
  if (found.length === 0) throw new DeepVisError('BAD_PARAM', `no images (${IMAGE_EXTENSIONS.join(', ')}) in ${dir}`)
  return found.sort()
}
