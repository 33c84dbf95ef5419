/**
 * Images in the page as model inputs: any drawable source (a decoded file, a video frame) drawn into
 * a canvas of the model's input size by the shared fit policy, read back as RGB bytes in base64 (the
 * `LiveImage` of the live channels), plus a PNG of what the model sees for display.
 * Shape: `fitToInput(source, srcW, srcH, width, height, fit) => {image, url}`; `decodeFile(file) => ImageBitmap`.
 */
import { fitBox, type FitPolicy } from '../../../shared/fit-policy'
import type { LiveImage } from '../../../shared/live-types'

/** Largest image file read in the page (bytes). */
export const MAX_IMAGE_FILE_BYTES = 256 * 2 ** 20
/** Largest decoded image (pixels). */
export const MAX_IMAGE_PIXELS = 8192 * 8192

/** Base64 of bytes, in chunks (String.fromCharCode has an argument limit). */
export function bytesToBase64(bytes: Uint8Array): string {
  let text = ''
  const CHUNK = 0x8000
  for (let i = 0; i < bytes.length; i += CHUNK) text += String.fromCharCode(...bytes.subarray(i, i + CHUNK))
  return btoa(text)
}

/** RGB bytes from canvas RGBA pixels. */
export function rgbaToRgb(rgba: Uint8ClampedArray): Uint8Array {
  const n = rgba.length / 4
  const out = new Uint8Array(n * 3)
  for (let i = 0; i < n; i++) {
    out[3 * i] = rgba[4 * i]
    out[3 * i + 1] = rgba[4 * i + 1]
    out[3 * i + 2] = rgba[4 * i + 2]
  }
  return out
}

/** Draw `source` (srcW x srcH) fitted into width x height; the fitted image as a LiveImage and a data URL. */
export function fitToInput(source: CanvasImageSource, srcW: number, srcH: number, width: number, height: number, fit: FitPolicy, canvas?: HTMLCanvasElement): { image: LiveImage; url: string } {
  const c = canvas ?? document.createElement('canvas')
  c.width = width
  c.height = height
  const ctx = c.getContext('2d', { willReadFrequently: true })
  if (!ctx) throw new Error('no 2-D canvas in this page')
  const box = fitBox(srcW, srcH, width, height, fit)
  ctx.imageSmoothingQuality = 'high'
  ctx.fillStyle = '#fff' // transparent pixels on white, as the engine's file reader does
  ctx.fillRect(0, 0, width, height)
  ctx.drawImage(source, box.left, box.top, box.width, box.height, 0, 0, width, height)
  const rgb = rgbaToRgb(ctx.getImageData(0, 0, width, height).data)
  return { image: { width, height, rgb: bytesToBase64(rgb) }, url: c.toDataURL('image/png') }
}

/** Decode an image file in the page, with a clear error for what is not a (readable, not huge) image. */
export async function decodeFile(file: File): Promise<ImageBitmap> {
  if (file.size > MAX_IMAGE_FILE_BYTES) throw new Error(`${file.name} is ${file.size} bytes, over the limit of ${MAX_IMAGE_FILE_BYTES}`)
  let bmp: ImageBitmap
  try {
    bmp = await createImageBitmap(file, { imageOrientation: 'from-image' })
  } catch {
    throw new Error(`${file.name} is not an image this browser can read (or it is damaged)`)
  }
  if (bmp.width * bmp.height > MAX_IMAGE_PIXELS) {
    bmp.close()
    throw new Error(`${file.name} is ${bmp.width}x${bmp.height} pixels, over the limit of ${MAX_IMAGE_PIXELS}`)
  }
  return bmp
}
