/**
 * One engine worker of the local sweep pool (a worker_threads thread): tfjs and the CLI are imported
 * once per thread, and so is the model (src/cli/model-cache.ts); then every job is one in-process
 * `deepvis optimize` run (src/cli/main.ts `main`, the same code path as a single CLI run, i.e. the
 * engine's one run pipeline, src/engine/node/run-pipeline.ts; so a sweep's results equal single runs').
 * Messages in: `{ id, argv }`; out: `{ id, code, out, err }`.
 */
import { parentPort } from 'node:worker_threads'
import { main } from '../cli/main.ts'
import { enableModelCache } from '../cli/model-cache.ts'

// Every job of a sweep uses the same model: load it once per thread, not once per job.
enableModelCache()

/** A job as the pool sends it. */
export interface PoolTask { id: number; argv: string[] }
/** A job's outcome: the CLI's exit code and its captured output. */
export interface PoolReply { id: number; code: number; out: string; err: string }

let chain: Promise<void> = Promise.resolve()
parentPort!.on('message', (task: PoolTask) => {
  // One job at a time per thread (the engine is not re-entrant); jobs queue behind each other.
  chain = chain.then(async () => {
    let out = ''
    let err = ''
    const code = await main(task.argv, { stdout: (t) => { out += t }, stderr: (t) => { err += t }, isTTY: false })
    parentPort!.postMessage({ id: task.id, code, out, err } satisfies PoolReply)
  })
})
parentPort!.postMessage({ ready: true })
