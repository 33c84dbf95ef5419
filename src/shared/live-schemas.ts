/**
 * Payload schemas of the live view's channels (live:*, index:*), spread into ipc-schemas.ts's record,
 * which checks them against the contract's payload types.
 */
import { z } from 'zod'
import { FIT_POLICIES } from './fit-policy'
import type { PayloadOf } from './ipc-contract'
import {
  MAX_IMAGE_NAME_LENGTH, MAX_INPUT_SIDE, MAX_LAYER_NAME_LENGTH, MAX_LIVE_IMAGE_BASE64, MAX_PATH_LENGTH, MAX_TOP_K, MIN_INPUT_SIDE, RUN_ID_PATTERN,
} from './ipc-limits'
import { GRADIENT_VIEW_MODES, type LiveImage } from './live-types'

const layerName = z.string().min(1).max(MAX_LAYER_NAME_LENGTH)
const fsPath = z.string().min(1).max(MAX_PATH_LENGTH).refine((p) => !p.includes('\0'), 'a path cannot contain NUL')
const side = z.number().int().min(MIN_INPUT_SIDE).max(MAX_INPUT_SIDE)
const index = z.number().int().min(0)

/** An RGB image: its base64 holds exactly width x height x 3 bytes. */
export const liveImageSchema: z.ZodType<LiveImage> = z.strictObject({
  width: side,
  height: side,
  rgb: z.string().max(MAX_LIVE_IMAGE_BASE64, `the image is larger than ${MAX_LIVE_IMAGE_BASE64} base64 characters`)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'the image must be base64'),
}).refine((img) => Math.ceil((img.width * img.height * 3) / 3) * 4 === img.rgb.length, 'rgb must hold width x height x 3 bytes')

type LiveChannel = 'live:activations' | 'live:gradients' | 'live:folder' | 'live:image' | 'index:build' | 'index:cancel' | 'index:top'

export const liveSchemas: { readonly [K in LiveChannel]: z.ZodType<PayloadOf<K>> } = {
  'live:activations': z.strictObject({ image: liveImageSchema, layer: layerName }),
  'live:gradients': z.strictObject({
    image: liveImageSchema,
    layer: layerName,
    channel: index,
    spatial: z.tuple([index, index]).nullable(),
    modes: z.array(z.enum(GRADIENT_VIEW_MODES)).min(1).max(GRADIENT_VIEW_MODES.length),
  }),
  'live:folder': fsPath,
  'live:image': z.strictObject({
    folder: fsPath,
    image: z.string().min(1).max(MAX_IMAGE_NAME_LENGTH).refine((p) => !p.includes('\0'), 'a path cannot contain NUL'),
    fit: z.enum(FIT_POLICIES),
  }),
  'index:build': z.strictObject({ folder: fsPath, layer: layerName }),
  'index:cancel': z.string().regex(RUN_ID_PATTERN, 'job ids are 1-64 characters of A-Z, a-z, 0-9, _ and -'),
  'index:top': z.strictObject({ folder: fsPath, layer: layerName, unit: index, k: z.number().int().min(1).max(MAX_TOP_K) }),
}
