/**
 * One IPC call as the stores make it: the value on success; otherwise the error (the host's code and
 * message, or INTERNAL for a call that threw, e.g. a closed connection) goes to `onError` and the
 * answer is null. Errors never propagate as exceptions into the components.
 * Shape: `await callIpc(() => api['runs:list'](), (e) => { error.value = e }) => T | null`
 */
import type { ErrorCode, IpcResult } from '../../../shared/ipc-contract'

export async function callIpc<T>(fn: () => Promise<IpcResult<T>>, onError: (e: { code: ErrorCode; message: string }) => void): Promise<T | null> {
  try {
    const res = await fn()
    if (res.ok) return res.value
    onError({ code: res.code, message: res.message })
  } catch (e) {
    onError({ code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) })
  }
  return null
}
