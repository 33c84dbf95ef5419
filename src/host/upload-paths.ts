/**
 * Where uploaded model files land before they are stored: `<uploadsDir>/.incoming-<uploadId>/`
 * (the web server streams them there; engine-host's `model:upload {uploadId}` stores and opens them).
 * No dependencies: the web server's thread imports it without loading the engine.
 * Shape: `incomingDir(uploadsDir, uploadId) => folder`
 */
import path from 'node:path'

/** Prefix of an incoming upload's folder. Only folders of this prefix are ever swept from the uploads folder. */
export const INCOMING_PREFIX = '.incoming-'

/** The folder of upload `uploadId` (its pattern, UPLOAD_ID_PATTERN, is checked by the caller). */
export function incomingDir(uploadsDir: string, uploadId: string): string {
  return path.join(uploadsDir, INCOMING_PREFIX + uploadId)
}
