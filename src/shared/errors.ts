/**
 * Typed, actionable errors. Every error a user can cause carries a stable `code` so that the CLI
 * (exit code 2, one line) and IPC (an error code in the result) can report it without parsing text.
 */

export type ErrorCode =
  | 'BAD_PARAM' // a flag or parameter value is out of range or malformed
  | 'BAD_LAYER' // the layer does not exist in the model
  | 'BAD_UNIT' // channel or spatial position out of range
  | 'BAD_MODEL' // the model folder is missing, malformed or incomplete
  | 'BAD_INPUT_SPEC' // the input spec (size, mean, scale...) is inconsistent with the model
  | 'OUTPUT_EXISTS' // refusing to overwrite an existing result without --brave
  | 'BAD_IMAGE' // an input image is missing, unreadable, not an image, or too large
  | 'BACKEND' // the requested backend is not available
  | 'INTERNAL'

export class DeepVisError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string) {
    super(message)
    this.name = 'DeepVisError'
    this.code = code
  }
}

/** Throw a BAD_PARAM error unless `cond` holds; the message is built lazily. */
export function check(cond: boolean, message: () => string, code: ErrorCode = 'BAD_PARAM'): asserts cond {
  if (!cond) throw new DeepVisError(code, message())
}
