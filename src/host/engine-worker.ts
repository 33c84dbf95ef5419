/**
 * Engine worker: the entry of the worker_thread that runs the DeepVis engine off the main event loop
 * (a GoogLeNet iteration is ~2 s of synchronous wasm compute, which would freeze the Electron main
 * process or the web server). It creates the engine host (src/host/engine-host.ts) INSIDE this
 * thread from `workerData` (the host's options as plain data), starts it, and then serves the host's
 * handlers over the parent port. The main-side proxy is src/host/worker-engine-host.ts.
 *
 * Protocol (structured-clone messages, see `WorkerRequest` / `WorkerMessage`):
 * - parent → worker: `{id, channel, payload}`, one per call of an IPC channel (payload already
 *   validated by the IPC layer in the parent);
 * - worker → parent: `{id, ok: true, value}` or `{id, ok: false, code, message}` (a DeepVisError keeps
 *   its code, anything else is INTERNAL with its message); every engine event as `{event, payload}`;
 *   once, `{started: true, threadId}` when the host's start (backend + model load) has settled.
 * Shape: side effects on load (only as a worker: `new Worker(thisFile, {workerData})`).
 */
import { parentPort, threadId, workerData, type MessagePort } from 'node:worker_threads'
import { DeepVisError, type ErrorCode } from '../shared/errors.ts'
import { INVOKE_CHANNELS, type EventChannel, type EventMap, type InvokeChannel } from '../shared/ipc-contract.ts'
import { createEngineHost, type EngineHostOptions } from './engine-host.ts'
import { poisonsEngine, POISONED_EXIT_CODE } from './engine-poison.ts'

/** What the worker is started with: the engine host's options minus `emit` (events go to the parent). */
export type EngineWorkerData = Omit<EngineHostOptions, 'emit'>

/** One call of an IPC channel, sent by the parent. */
export interface WorkerRequest {
  id: number
  channel: InvokeChannel
  payload: unknown
}

/** A call's answer. */
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; code: ErrorCode; message: string }

/** An engine event forwarded to the parent. */
export interface WorkerEvent<K extends EventChannel = EventChannel> {
  event: K
  payload: EventMap[K]
}

/** Sent once when the engine's start has settled (loaded, or failed and logged). */
export interface WorkerStarted {
  started: true
  /** This worker's thread id (the main thread's is 0). */
  threadId: number
}

/** Anything the worker posts to its parent. */
export type WorkerMessage = WorkerReply | WorkerEvent | WorkerStarted

/** Answer one request with the host's handler; never throws. */
async function answer(handlers: ReturnType<typeof createEngineHost>['handlers'], req: WorkerRequest): Promise<WorkerReply> {
  try {
    if (!(INVOKE_CHANNELS as readonly string[]).includes(req.channel)) {
      throw new Error(`unknown channel '${String(req.channel)}'`)
    }
    const handler = handlers[req.channel] as (payload: unknown) => unknown
    return { id: req.id, ok: true, value: await handler(req.payload) }
  } catch (e) {
    if (e instanceof DeepVisError) return { id: req.id, ok: false, code: e.code, message: e.message }
    // A bug: keep the stack in the log (a worker's console goes to the parent's stderr).
    console.error(`[engine-worker] '${String(req.channel)}' failed:`, e)
    return { id: req.id, ok: false, code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
  }
}

function serve(port: MessagePort, options: EngineWorkerData): void {
  const post = (msg: WorkerMessage): void => port.postMessage(msg)
  /** After a poisoning failure has been reported, end this thread (the parent starts a fresh one). */
  const exitIfPoisoned = (message: string | null | undefined): void => {
    if (!message || !poisonsEngine(message)) return
    console.error(`[engine-worker] the engine's runtime failed (${message.split('\n')[0]}); this engine stops and a fresh one takes over`)
    setImmediate(() => process.exit(POISONED_EXIT_CODE))
  }
  const host = createEngineHost({
    ...options,
    emit: <K extends EventChannel>(event: K, payload: EventMap[K]) => {
      post({ event, payload } as WorkerEvent)
      if (event === 'run:done' || event === 'units:done') exitIfPoisoned((payload as { error?: string | null }).error)
    },
  })
  void host.start().then(() => post({ started: true, threadId }))
  port.on('message', (req: WorkerRequest) => {
    void answer(host.handlers, req).then((reply) => {
      try {
        post(reply)
        if (!reply.ok && reply.code === 'INTERNAL') exitIfPoisoned(reply.message)
      } catch (e) {
        // A value that cannot be cloned (a bug in a handler): answer with why instead of leaving the call hanging.
        post({ id: req.id, ok: false, code: 'INTERNAL', message: `'${req.channel}' answered with a value that cannot be sent: ${(e as Error).message}` })
      }
    })
  })
}

if (!parentPort) {
  throw new Error('src/host/engine-worker.ts is a worker_threads entry: start it with new Worker(...), not import it')
}
serve(parentPort, workerData as EngineWorkerData)
