/**
 * Payload schemas for every IPC channel: main parses each incoming payload with the schema of its
 * channel before a handler sees it, so a compromised or buggy renderer cannot hand the engine
 * malformed input. The record is typed from the contract, so a missing channel or a schema whose
 * output differs from the channel's payload type is a compile error.
 * Shape: `ipcPayloadSchemas[channel].safeParse(payload)`
 */
import { z } from 'zod'
import type { InvokeChannel, PayloadOf } from './ipc-contract'

/** One zod schema per channel; parameterless channels accept exactly `undefined`. */
export const ipcPayloadSchemas: { readonly [K in InvokeChannel]: z.ZodType<PayloadOf<K>> } = {
  'model:info': z.undefined(),
  'model:layers': z.undefined(),
}
