/**
 * Payload schemas for every IPC channel: main parses each incoming payload with the schema of its
 * channel before a handler sees it, so a compromised or buggy renderer cannot hand the engine
 * malformed input. The record is typed from the contract, so a missing channel or a schema whose
 * output differs from the channel's payload type is a compile error.
 * Shape: `ipcPayloadSchemas[channel].safeParse(payload)`
 *
 * The RunSpec schema checks every FindParams field with the ranges of the engine's `resolveParams`
 * (fields left out get DVT's defaults); the run service still calls `resolveParams` itself, so the
 * engine stays the single authority and a BAD_PARAM from it travels as a result code.
 */
import { z } from 'zod'
import { DEFAULT_PARAMS, LR_POLICIES, LR_POLICY_KEYS, START_MODES, type FindParams } from './dvt-params'
import type { InvokeChannel, PayloadOf } from './ipc-contract'
import {
  MAX_INPUT_SIDE, MAX_LABEL_LENGTH, MAX_METHOD_JSON_LENGTH, MAX_METHOD_KEY_LENGTH, MAX_METHOD_KEYS, MAX_LAYER_NAME_LENGTH, MAX_PATH_LENGTH, MAX_PREVIEW_EVERY, MAX_THUMB_CHANNELS, MAX_UPLOAD_BASE64,
  MAX_UPLOAD_FILES, MIN_INPUT_SIDE, RUN_ID_PATTERN, UPLOAD_ID_PATTERN, UPLOAD_NAME_PATTERN,
} from './ipc-limits'

import type { RunSpec } from './run-types'
import type { ExportRequest, InputSpecOverride, ThumbRequest, UploadedFile } from './app-types'
import { MAX_ATLAS_PAGE } from './atlas-types'
import { liveSchemas } from './live-schemas'

/** The limits, re-exported for main-side users. */
export {
  MAX_INPUT_SIDE, MAX_LABEL_LENGTH, MAX_LAYER_NAME_LENGTH, MAX_PATH_LENGTH, MAX_PREVIEW_EVERY, MAX_THUMB_CHANNELS, MAX_UPLOAD_BASE64,
  MAX_UPLOAD_FILES, MIN_INPUT_SIDE, RUN_ID_PATTERN, UPLOAD_ID_PATTERN, UPLOAD_NAME_PATTERN,
}

/** Largest seed of the MT19937 generator (uint32). */
const MAX_SEED = 0xffffffff
const PERCENT_MAX = 100

/** A run id: see RUN_ID_PATTERN. */
export const runIdSchema = z.string().regex(RUN_ID_PATTERN, 'run ids are 1-64 characters of A-Z, a-z, 0-9, _ and -')

const percentile = z.number().finite().min(0).max(PERCENT_MAX)
const nonNegativeInt = z.number().int().min(0)

/** FindParams with the ranges of `resolveParams`; omitted fields get DEFAULT_PARAMS. */
export const findParamsSchema: z.ZodType<FindParams> = z.strictObject({
  start_at: z.enum(START_MODES).default(DEFAULT_PARAMS.start_at),
  rand_seed: nonNegativeInt.max(MAX_SEED).default(DEFAULT_PARAMS.rand_seed),
  push_layer: z.string().min(1).max(MAX_LAYER_NAME_LENGTH),
  push_channel: nonNegativeInt,
  push_spatial: z.tuple([nonNegativeInt, nonNegativeInt]).nullable().default(DEFAULT_PARAMS.push_spatial),
  push_dir: z.number().finite().refine((v) => v !== 0, 'push_dir must be non-zero (1 maximizes, -1 minimizes)')
    .default(DEFAULT_PARAMS.push_dir),
  decay: z.number().finite().min(0).max(1).default(DEFAULT_PARAMS.decay),
  blur_radius: z.number().finite().min(0).default(DEFAULT_PARAMS.blur_radius),
  blur_every: nonNegativeInt.default(DEFAULT_PARAMS.blur_every),
  small_val_percentile: percentile.default(DEFAULT_PARAMS.small_val_percentile),
  small_norm_percentile: percentile.default(DEFAULT_PARAMS.small_norm_percentile),
  px_benefit_percentile: percentile.default(DEFAULT_PARAMS.px_benefit_percentile),
  px_abs_benefit_percentile: percentile.default(DEFAULT_PARAMS.px_abs_benefit_percentile),
  lr_policy: z.enum(LR_POLICIES).default(DEFAULT_PARAMS.lr_policy),
  lr_params: z.record(z.string(), z.number().finite().positive()).default(() => ({ ...DEFAULT_PARAMS.lr_params })),
  max_iter: z.number().int().min(1).default(DEFAULT_PARAMS.max_iter),
}).superRefine((p, ctx) => {
  // The keys each lr policy takes, exactly (resolveParams rejects missing and unused keys alike).
  const required = LR_POLICY_KEYS[p.lr_policy]
  const keys = Object.keys(p.lr_params)
  const missing = required.filter((k) => !keys.includes(k))
  const unused = keys.filter((k) => !required.includes(k))
  if (missing.length > 0 || unused.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['lr_params'],
      message: `lr_policy '${p.lr_policy}' takes exactly the keys ${required.join(', ')}; got ${JSON.stringify(keys)}`,
    })
  }
})

/**
 * A general method's parameters: a bounded JSON object with a `method` name. Its fields are checked by
 * the engine's own validator (resolveGeneralParams) in the run service, so new methods need no change here.
 */
const methodSchema = z.record(z.string().min(1).max(MAX_METHOD_KEY_LENGTH), z.json())
  .refine((m) => Object.keys(m).length <= MAX_METHOD_KEYS, `a method has at most ${MAX_METHOD_KEYS} fields`)
  .refine((m) => typeof m.method === 'string', 'method.method must name the method (e.g. "lucid")')
  .refine((m) => JSON.stringify(m).length <= MAX_METHOD_JSON_LENGTH, `method parameters are limited to ${MAX_METHOD_JSON_LENGTH} characters of JSON`)

/** RunSpec: parameters plus the run's bookkeeping fields. Unknown keys are refused. */
export const runSpecSchema: z.ZodType<RunSpec> = z.strictObject({
  params: findParamsSchema,
  preset: z.string().max(MAX_LABEL_LENGTH).nullable().optional(),
  previewEvery: z.number().int().min(1).max(MAX_PREVIEW_EVERY).optional(),
  compareGroup: z.string().regex(RUN_ID_PATTERN).nullable().optional(),
  method: methodSchema.nullable().optional(),
  gifEvery: z.number().int().min(0).max(MAX_PREVIEW_EVERY).optional(),
  checkModel: z.string().min(1).max(MAX_PATH_LENGTH).nullable().optional(),
}) as z.ZodType<RunSpec>

const layerName = z.string().min(1).max(MAX_LAYER_NAME_LENGTH)
const fsPath = z.string().min(1).max(MAX_PATH_LENGTH).refine((p) => !p.includes('\0'), 'a path cannot contain NUL')

/** Uploaded model files: plain names, base64 bodies, bounded in count and total size. */
export const uploadSchema: z.ZodType<UploadedFile[]> = z.array(z.strictObject({
  name: z.string().regex(UPLOAD_NAME_PATTERN, 'file names are plain names (letters, digits, ., _, -), no folders'),
  base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'file contents must be base64'),
})).min(1).max(MAX_UPLOAD_FILES).superRefine((files, ctx) => {
  if (files.reduce((n, f) => n + f.base64.length, 0) > MAX_UPLOAD_BASE64) {
    ctx.addIssue({ code: 'custom', message: `the upload is larger than ${MAX_UPLOAD_BASE64 / 4 * 3 / 2 ** 20} MiB` })
  }
  const names = new Set<string>()
  for (const f of files) {
    if (names.has(f.name)) ctx.addIssue({ code: 'custom', message: `file '${f.name}' is uploaded twice` })
    names.add(f.name)
  }
})

const side = z.number().int().min(MIN_INPUT_SIDE).max(MAX_INPUT_SIDE)
/** An input-spec correction; null restores the model's own spec. */
export const inputSpecOverrideSchema: z.ZodType<InputSpecOverride | null> = z.strictObject({
  height: side.optional(),
  width: side.optional(),
  channelOrder: z.enum(['RGB', 'BGR']).optional(),
  mean: z.array(z.number().finite().min(0).max(255)).refine((m) => m.length === 1 || m.length === 3, 'mean takes 1 or 3 values')
    .optional(),
}).nullable()

export const exportRequestSchema: z.ZodType<ExportRequest> = z.strictObject({
  runId: runIdSchema,
  folder: fsPath.nullable(),
})

export const thumbRequestSchema: z.ZodType<ThumbRequest> = z.strictObject({
  layer: layerName,
  channels: z.array(nonNegativeInt).min(1).max(MAX_THUMB_CHANNELS).optional(),
})

/** One zod schema per channel; parameterless channels accept exactly `undefined`. */
export const ipcPayloadSchemas: { readonly [K in InvokeChannel]: z.ZodType<PayloadOf<K>> } = {
  'app:info': z.undefined(),
  'model:info': z.undefined(),
  'model:layers': z.undefined(),
  'model:open': fsPath,
  'model:pick': z.undefined(),
  'model:upload': z.union([uploadSchema, z.strictObject({ uploadId: z.string().regex(UPLOAD_ID_PATTERN, 'an upload id is 16 to 64 letters, digits, _ or -') })]),
  'model:recent': z.undefined(),
  'model:setInputSpec': inputSpecOverrideSchema,
  'presets:list': z.undefined(),
  'run:start': runSpecSchema,
  'run:stop': runIdSchema,
  'runs:list': z.undefined(),
  'runs:get': runIdSchema,
  'runs:delete': runIdSchema,
  'run:export': exportRequestSchema,
  'units:render': thumbRequestSchema,
  'units:cancel': runIdSchema,
  'units:thumbs': layerName,
  'atlas:open': fsPath,
  'atlas:pick': z.undefined(),
  'atlas:thumbs': z.strictObject({
    path: fsPath, layer: layerName, offset: nonNegativeInt.max(10_000_000), limit: z.number().int().min(1).max(MAX_ATLAS_PAGE),
  }),
  'atlas:unit': z.strictObject({ path: fsPath, layer: layerName, unit: nonNegativeInt.max(10_000_000) }),
  ...liveSchemas,
}
