/**
 * How an image of any size becomes the model's input size: which part of the source is kept, then
 * resized to exactly the input's height x width. Shared by the engine's file reader (sharp), the
 * renderer (a canvas for camera frames and dropped images) and the index builder, so that every path
 * feeds the network the same crop.
 * - 'center-crop' (default, DVT's live view and the usual ImageNet evaluation): the largest centred
 *   box with the input's aspect ratio, resized; nothing is distorted, the edges of the longer side are cut.
 * - 'squash': the whole image resized to the input size; nothing is cut, the aspect ratio is not kept.
 * Shape: `fitBox(srcW, srcH, dstW, dstH, policy) => {left, top, width, height}` (integer source pixels).
 * Plain data and arithmetic only: imported by main, the engine and the renderer.
 */

export const FIT_POLICIES = ['center-crop', 'squash'] as const
export type FitPolicy = (typeof FIT_POLICIES)[number]
export const DEFAULT_FIT_POLICY: FitPolicy = 'center-crop'

/** One line per policy, shown next to the input. */
export const FIT_POLICY_TEXT: Readonly<Record<FitPolicy, string>> = {
  'center-crop': 'centre crop to the input aspect ratio, then resize',
  squash: 'resize the whole image (aspect ratio not kept)',
}

/** A box of source pixels: left/top corner and size, integers, inside the source. */
export interface SourceBox {
  left: number
  top: number
  width: number
  height: number
}

/**
 * The part of a srcW x srcH image that is resized to dstW x dstH under `policy`.
 * @example fitBox(640, 480, 224, 224, 'center-crop') // {left: 80, top: 0, width: 480, height: 480}
 */
export function fitBox(srcW: number, srcH: number, dstW: number, dstH: number, policy: FitPolicy = DEFAULT_FIT_POLICY): SourceBox {
  if (!(srcW >= 1 && srcH >= 1 && dstW >= 1 && dstH >= 1)) throw new RangeError(`image sizes must be positive; got ${srcW}x${srcH} -> ${dstW}x${dstH}`)
  if (policy === 'squash') return { left: 0, top: 0, width: srcW, height: srcH }
  // Largest box of aspect dstW/dstH inside the source, centred (rounded to whole pixels, at least 1).
  const scale = Math.min(srcW / dstW, srcH / dstH)
  const width = Math.max(1, Math.min(srcW, Math.round(dstW * scale)))
  const height = Math.max(1, Math.min(srcH, Math.round(dstH * scale)))
  return { left: Math.floor((srcW - width) / 2), top: Math.floor((srcH - height) / 2), width, height }
}
