/**
 * Limits and patterns of IPC payloads, as plain constants (no schema library), so that the renderer
 * can check input before sending without bundling zod; src/shared/ipc-schemas.ts builds the
 * schemas main validates with from them.
 */

/**
 * What a run id may look like: letters, digits, '_' and '-', 1 to 64 characters. No '.', '/' or
 * '\\', so an id used as a folder name can never leave the history folder.
 * @example RUN_ID_PATTERN.test('20261123-142233-logits-0002-ab12') // true
 */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
/** Longest layer name accepted (real layer names are far shorter). */
export const MAX_LAYER_NAME_LENGTH = 256
/** Longest preset name / compare-group id accepted. */
export const MAX_LABEL_LENGTH = 64
/** Largest `previewEvery` accepted (iterations). */
export const MAX_PREVIEW_EVERY = 1_000_000
/** Most keys of a RunSpec's `method` object (GeneralParams has a few dozen fields). */
export const MAX_METHOD_KEYS = 128
/** Longest key of a RunSpec's `method` object. */
export const MAX_METHOD_KEY_LENGTH = 64
/** Longest JSON text of a RunSpec's `method` object (objective expressions, transform lists). */
export const MAX_METHOD_JSON_LENGTH = 65_536
/** Longest file-system path accepted. */
export const MAX_PATH_LENGTH = 4096
/** Most files in one model upload. */
export const MAX_UPLOAD_FILES = 256
/** Largest upload, summed over its files, in base64 characters (about 768 MiB of bytes). */
export const MAX_UPLOAD_BASE64 = 1024 * 1024 * 1024
/** The id of a streamed upload (web mode): letters, digits, '_' and '-', 16 to 64 characters. */
export const UPLOAD_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/
/** Largest streamed upload (web mode), bytes summed over its files. */
export const MAX_UPLOAD_BYTES = 768 * 1024 * 1024
/** An uploaded file's name: no folders, no leading dot. */
export const UPLOAD_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/
/** Smallest and largest input side a user may set. */
export const MIN_INPUT_SIDE = 8
export const MAX_INPUT_SIDE = 4096
/** Most units one thumbnail request may name. */
export const MAX_THUMB_CHANNELS = 100_000
/** Largest live image (RGB bytes at the model's input size) in base64 characters: a 1536x1536 input. */
export const MAX_LIVE_IMAGE_BASE64 = Math.ceil((1536 * 1536 * 3) / 3) * 4
/** Most images `live:folder` lists. */
export const MAX_LIVE_FOLDER_LIST = 20_000
/** Longest image path inside a folder. */
export const MAX_IMAGE_NAME_LENGTH = 1024
/** Most top images one `index:top` returns. */
export const MAX_TOP_K = 64
/** Deepest nesting of arrays/objects in any payload (the deepest real one, a RunSpec, has 4 levels). */
export const MAX_PAYLOAD_DEPTH = 32
/** Most values (array items, object fields, leaves) in any payload. */
export const MAX_PAYLOAD_NODES = 100_000

/**
 * Why a payload's shape is refused (too deep or too many values), or null when it is fine. Walks
 * the value with an explicit stack, so that no payload can overflow the call stack here; it runs
 * before schema validation (which recurses).
 * @example payloadShapeProblem(JSON.parse('[[[[1]]]]')) // null
 */
export function payloadShapeProblem(value: unknown, maxDepth = MAX_PAYLOAD_DEPTH, maxNodes = MAX_PAYLOAD_NODES): string | null {
  const stack: [unknown, number][] = [[value, 0]]
  let nodes = 0
  while (stack.length) {
    const [v, depth] = stack.pop()!
    if (++nodes > maxNodes) return `the payload has more than ${maxNodes} values`
    if (typeof v !== 'object' || v === null) continue
    if (depth >= maxDepth) return `the payload is nested deeper than ${maxDepth} levels`
    const children = Array.isArray(v) ? v : Object.values(v)
    for (const c of children) stack.push([c, depth + 1])
  }
  return null
}
