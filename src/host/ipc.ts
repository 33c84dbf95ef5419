/**
 * Main-process IPC wiring: one `ipcMain.handle` per channel of the contract, each wrapped so that
 * 1. a message from anything but the app's own window is refused (FORBIDDEN),
 * 2. the payload's nesting and size are checked without recursion (MAX_PAYLOAD_DEPTH / _NODES), then it
 *    is parsed with the channel's zod schema before the handler sees it (BAD_PAYLOAD),
 * 3. the handler's outcome becomes an `IpcResult`: success → `{ok: true, value}`, a DeepVisError →
 *    its code and message, anything else → INTERNAL. Nothing is ever thrown across the bridge,
 *    because Electron keeps only an error's `message` (electron/electron#24427).
 * Shape: `registerIpc(ipcMain, handlers, isTrustedSender) => unregister()`
 *
 * Electron is not imported here: `ipcMain` and the event are structural, so tests pass fakes.
 */
import type { z } from 'zod'
import { DeepVisError } from '../shared/errors.ts'
import {
  INVOKE_CHANNELS,
  type ErrorCode,
  type InvokeChannel,
  type IpcResult,
  type PayloadOf,
  type ResultOf,
} from '../shared/ipc-contract.ts'
import { ipcPayloadSchemas } from '../shared/ipc-schemas.ts'
import { payloadShapeProblem } from '../shared/ipc-limits.ts'

/** What the main process implements: one function per channel, taking the already-validated payload. */
export type IpcHandlers = {
  readonly [K in InvokeChannel]: (payload: PayloadOf<K>) => ResultOf<K> | Promise<ResultOf<K>>
}

/** The part of Electron's `ipcMain` this module uses; `E` is the invoke event type. */
export interface IpcMainLike<E> {
  handle(channel: string, listener: (event: E, ...args: unknown[]) => Promise<unknown>): void
  removeHandler(channel: string): void
}

function failure(code: ErrorCode, message: string): { ok: false; code: ErrorCode; message: string } {
  return { ok: false, code, message }
}

/**
 * Validate and run one call of `channel`. Exported for tests and for hosts that dispatch without
 * Electron (the same wrapping then applies everywhere).
 */
export async function invokeHandler<K extends InvokeChannel>(
  channel: K,
  handlers: IpcHandlers,
  args: readonly unknown[],
): Promise<IpcResult<ResultOf<K>>> {
  if (args.length > 1) return failure('BAD_PAYLOAD', `'${channel}' takes at most one payload argument; got ${args.length}`)
  const shapeProblem = payloadShapeProblem(args[0])
  if (shapeProblem) return failure('BAD_PAYLOAD', `bad payload for '${channel}': ${shapeProblem}`)
  const schema: z.ZodType<PayloadOf<K>> = ipcPayloadSchemas[channel]
  const parsed = schema.safeParse(args[0])
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ')
    return failure('BAD_PAYLOAD', `bad payload for '${channel}': ${issues}`)
  }
  try {
    const handler: (payload: PayloadOf<K>) => ResultOf<K> | Promise<ResultOf<K>> = handlers[channel]
    return { ok: true, value: await handler(parsed.data) }
  } catch (e) {
    if (e instanceof DeepVisError) return failure(e.code, e.message)
    // An unexpected failure is a bug: keep the stack in the main-process log, send only the message.
    console.error(`[ipc] '${channel}' failed:`, e)
    return failure('INTERNAL', `'${channel}' failed unexpectedly: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/**
 * Register one handler per contract channel on `ipcMain`.
 * @param isTrustedSender decides whether an invoke event comes from the app's own window; a
 *   message failing it gets `{ok: false, code: 'FORBIDDEN'}` and never reaches a handler.
 * @returns a function that removes every handler again.
 * @example registerIpc(ipcMain, engineHost.handlers, (e) => e.sender === win.webContents)
 */
export function registerIpc<E>(
  ipcMain: IpcMainLike<E>,
  handlers: IpcHandlers,
  isTrustedSender: (event: E) => boolean,
): () => void {
  for (const channel of INVOKE_CHANNELS) {
    ipcMain.handle(channel, async (event, ...args) => {
      if (!isTrustedSender(event)) return failure('FORBIDDEN', `'${channel}' refused: the sender is not the app's window`)
      return invokeHandler(channel, handlers, args)
    })
  }
  return () => {
    for (const channel of INVOKE_CHANNELS) ipcMain.removeHandler(channel)
  }
}
