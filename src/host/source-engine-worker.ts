/**
 * Start the engine worker (src/host/engine-worker.ts) from its TypeScript source, for hosts that run
 * from source under tsx (the web mode, `npm run web`) and for vitest. The Electron build does not use
 * this: electron-vite bundles the worker itself (`./engine-worker.ts?nodeWorker` in src/main/index.ts).
 *
 * Why a bootstrap: on Node 20 a worker started with `execArgv: ['--import', 'tsx']` still loads its
 * `.ts` entry with the default loader (ERR_UNKNOWN_FILE_EXTENSION), so the worker first registers
 * tsx's ESM hooks in its own thread (`tsx/esm/api` register()) and only then imports the entry.
 * Shape: `createSourceEngineWorker(options: WorkerOptions) => Worker` (the signature of an
 * electron-vite `?nodeWorker` import, so both plug into `createWorkerEngineHost`).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'

/** The worker entry, as a file URL next to this module. */
const ENTRY_URL = new URL('./engine-worker.ts', import.meta.url).href
/**
 * tsx's ESM API, resolved from here (with the `import` condition: its CommonJS build cannot register
 * the ESM hooks) so that the worker does not depend on its working directory.
 */
const TSX_ESM_API_URL = import.meta.resolve('tsx/esm/api')

/** Code the worker evaluates: register tsx in this thread, then load the entry. */
const BOOTSTRAP = `import(${JSON.stringify(TSX_ESM_API_URL)})
  .then(({ register }) => { register(); return import(${JSON.stringify(ENTRY_URL)}) })`

/**
 * A new engine worker running from source.
 * @example createWorkerEngineHost({ modelDir, createWorker: createSourceEngineWorker })
 */
export function createSourceEngineWorker(options: WorkerOptions = {}): Worker {
  return new Worker(BOOTSTRAP, { ...options, eval: true })
}
