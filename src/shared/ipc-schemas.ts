/**
 * Payload schemas for every IPC channel: main parses each incoming payload with the schema of its
 * channel before a handler sees it, so a compromised or buggy renderer cannot hand the engine
 * malformed input. The record is typed from the contract, so a missing channel or a schema whose
 * output differs from the channel's payload type is a compile error.
 * Shape: `ipcPayloadSchemas[channel].safeParse(payload)`
 *
 * The RunSpec schema checks every FindParams field with the bounds of its row in DVT_PARAM_TABLE, the rows
 * the engine's `resolveParams` checks (fields left out get their defaults); the run service still calls
 * `resolveParams` itself, so the engine stays the single authority and a BAD_PARAM travels as a result code.
 */
import { z } from 'zod'
import { DVT_PARAM_TABLE, LR_POLICY_KEYS, type FindParams } from './dvt-params'
import type { ParamRow } from './param-table'
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

/** A run id: see RUN_ID_PATTERN. */
export const runIdSchema = z.string().regex(RUN_ID_PATTERN, 'run ids are 1-64 characters of A-Z, a-z, 0-9, _ and -')

const nonNegativeInt = z.number().int().min(0)

/** The zod type of one parameter row: its kind and bounds; fields with a default may be omitted. */
function rowSchema(row: ParamRow): z.ZodType {
  let t: z.ZodType
  switch (row.kind) {
    case 'number':
    case 'integer': {
      let n = z.number().finite()
      if (row.kind === 'integer') n = n.int()
      if (row.min !== undefined) n = n.min(row.min)
      if (row.max !== undefined) n = n.max(row.max)
      t = row.nonZero ? n.refine((v) => v !== 0, `${row.key} must be non-zero (${row.help})`) : n
      break
    }
    case 'choice': t = z.enum(row.choices as [string, ...string[]]); break
    case 'string': t = z.string().min(1).max(MAX_LAYER_NAME_LENGTH); break
    case 'spatial': t = z.tuple([nonNegativeInt, nonNegativeInt]).nullable(); break
    case 'dict': t = z.record(z.string(), z.number().finite().positive()); break
    case 'boolean': t = z.boolean(); break
    case 'numbers': t = z.union([z.number().finite(), z.array(z.number().finite()).min(1).max(MAX_METHOD_KEYS)]); break
  }
  if (row.default === undefined) return t
  const d = row.default
  return t.default(() => (typeof d === 'object' && d !== null ? structuredClone(d) : d) as never)
}

/** FindParams with the ranges of DVT_PARAM_TABLE (the engine's resolveParams checks the same rows); omitted fields get their defaults. */
export const findParamsSchema: z.ZodType<FindParams> = z.strictObject(
  Object.fromEntries(DVT_PARAM_TABLE.map((row) => [row.key, rowSchema(row)])),
).superRefine((raw, ctx) => {
  const p = raw as unknown as FindParams
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
}) as unknown as z.ZodType<FindParams>

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
