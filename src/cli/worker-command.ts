/**
 * `deepvis worker --queue redis://...`: takes sweep jobs from the BullMQ queue, runs them on this
 * machine's pool of engine threads with the model at --model (checked by hash against the sweep's),
 * and sends the result files back through the queue. Runs until Ctrl-C / SIGTERM or until the Redis
 * server has been unreachable for --give-up seconds.
 * Shape: `registerWorkerCommand(program, io, run)`.
 */
import { Command } from 'commander'
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Job } from 'bullmq'
import { DeepVisError } from '../shared/errors.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder } from '../engine/node/index.ts'
import { modelHash } from '../sweep/model-hash.ts'
import { displayUrl, fetchModel, isModelUrl } from '../sweep/fetch-model.ts'
import { jobArgv } from '../sweep/plan.ts'
import { LocalPool } from '../sweep/pool.ts'
import {
  checkRedis, DEFAULT_LOCK_MS, DEFAULT_QUEUE_NAME, DEFAULT_REDIS_GRACE_MS, MAX_STALLED, parseRedisUrl, startHealthWatch,
  type QueueJobData, type QueueJobResult,
} from '../sweep/queue.ts'
import type { CliIo } from './main.ts'
import { parseInteger } from './parse-values.ts'
import { errorLine, shapeBackend } from './sweep-command.ts'

const positive = (flag: string) => (v: string): number => {
  const n = parseInteger(flag, v)
  if (n < 1) throw new DeepVisError('BAD_PARAM', `${flag} must be at least 1; got ${n}`)
  return n
}

async function runWorker(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  const target = parseRedisUrl(String(opts.queue))
  const modelArg = (opts.model as string | undefined) ?? DEFAULT_MODEL_DIR
  // A model at a URL is downloaded once into a private folder, removed when the worker stops.
  const fetched = isModelUrl(modelArg) ? await fetchModel(modelArg) : null
  if (fetched) io.stderr(`deepvis worker: model downloaded from ${displayUrl(modelArg)} into ${fetched.dir}\n`)
  try {
    return await serve(cmd, io, target, fetched ? fetched.file : modelArg, fetched ? displayUrl(modelArg) : modelArg)
  } finally {
    await fetched?.cleanup()
  }
}

async function serve(cmd: Command, io: CliIo, target: ReturnType<typeof parseRedisUrl>, modelPath: string, modelShown: string): Promise<number> {
  const opts = cmd.opts()
  // The model must load here (a clear error now, not on the first job), and its hash is the worker's identity.
  await shapeBackend()
  const loaded = await loadModelFolder(modelPath)
  loaded.model.dispose()
  const hash = await modelHash(modelPath)
  await checkRedis(target)
  const { UnrecoverableError, Worker } = await import('bullmq')
  const concurrency = (opts.concurrency as number | undefined) ?? os.availableParallelism()
  const name = `${os.hostname()}-${process.pid}`
  const pool = new LocalPool(concurrency)
  const queueName = String(opts.queueName)
  let exitCode = 0
  let finished: () => void = () => {}
  const closed = new Promise<void>((resolve) => { finished = resolve })

  const processor = async (job: Job<QueueJobData, QueueJobResult>): Promise<QueueJobResult> => {
    const data = job.data
    if (data.modelHash !== hash) {
      const msg = `model hash differs: this worker's model (${modelShown}) is ${hash.slice(0, 12)}, the sweep's is ${data.modelHash.slice(0, 12)}; start the worker with --model pointing at the sweep's model`
      if (exitCode === 0) {
        io.stderr(`deepvis worker: ${msg}; stopping (the job goes back to the queue for another worker)\n`)
        exitCode = 2
        setImmediate(() => { void shutdown() })
      }
      throw new Error(`${name}: ${msg}`)
    }
    io.stderr(`deepvis worker: ${data.job.id} started (attempt ${job.attemptsMade + 1})\n`)
    const staging = await mkdtemp(path.join(os.tmpdir(), 'deepvis-worker-'))
    try {
      const t0 = performance.now()
      const r = await pool.run(jobArgv(data.job, { ...data.run, model: modelPath }, staging + path.sep))
      if (r.code !== 0) {
        const msg = `${name}: ${errorLine(r.err, r.code)}`
        // A bad flag or model fails the same way everywhere: do not retry it.
        throw r.code === 2 ? new UnrecoverableError(msg) : new Error(msg)
      }
      const files = []
      for (const f of (await readdir(staging)).sort()) files.push({ name: f, base64: (await readFile(path.join(staging, f))).toString('base64') })
      io.stderr(`deepvis worker: ${data.job.id} done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
      return { worker: name, files }
    } finally {
      await rm(staging, { recursive: true, force: true })
    }
  }

  const worker = new Worker<QueueJobData, QueueJobResult>(queueName, processor, {
    connection: target.options, concurrency, autorun: false,
    lockDuration: opts.lockMs as number, stalledInterval: opts.lockMs as number, maxStalledCount: MAX_STALLED,
  })
  let lastError = ''
  worker.on('error', (err) => {
    const m = err.message.split('\n')[0]
    if (m !== lastError) io.stderr(`deepvis worker: queue error: ${m}\n`)
    lastError = m
  })
  worker.on('failed', (job, err) => { if (job) io.stderr(`deepvis worker: ${job.data.job.id} failed (attempt ${job.attemptsMade}): ${err.message.split('\n')[0]}\n`) })
  let stopping = false
  const shutdown = async (force = false): Promise<void> => {
    if (stopping) return
    stopping = true
    stopHealth()
    await Promise.race([worker.close(force), new Promise((r) => setTimeout(r, force ? 2000 : 60_000))])
    await pool.close()
    finished()
  }
  const stopHealth = await startHealthWatch(target, (opts.giveUp as number) * 1000, (m) => {
    io.stderr(`deepvis worker: ${m}; stopping (jobs in flight go back to the queue when their lock expires)\n`)
    exitCode = 1
    void shutdown(true)
  })
  io.signal?.addEventListener('abort', () => { void shutdown() })
  io.stderr(`deepvis worker: ${name} on ${target.display} queue ${queueName}, model ${loaded.name} (hash ${hash.slice(0, 12)}), ${concurrency} engine threads\n`)
  void worker.run().catch((err: Error) => {
    io.stderr(`deepvis worker: ${err.message.split('\n')[0]}\n`)
    exitCode = 1
    void shutdown(true)
  })
  await closed
  return exitCode
}

/** Add `worker` to the CLI. */
export function registerWorkerCommand(program: Command, io: CliIo, run: (p: Promise<number>) => void): void {
  const worker = program.command('worker').description('take `deepvis sweep --queue` jobs from a Redis (BullMQ) queue and run them on this machine')
    .requiredOption('--queue <url>', 'the queue\'s Redis server: redis://[:password@]host:port[/db]')
    .option('--queue-name <name>', 'BullMQ queue name (the sweep\'s --queue-name)', DEFAULT_QUEUE_NAME)
    .option('--model <path|url>', 'this machine\'s copy of the sweep\'s model, or an http(s) URL to download it from (a model folder\'s URL, its model.json or an .onnx file); checked by hash; default: the embedded model')
    .option('--concurrency <n>', `jobs at once, one engine thread each (default: one per core, ${os.availableParallelism()} here)`, positive('--concurrency'))
    .option('--lock-ms <ms>', 'job lock; a job whose worker stops renewing it (killed) is re-run elsewhere after this long', positive('--lock-ms'), DEFAULT_LOCK_MS)
    .option('--give-up <s>', 'stop when Redis has been unreachable this many seconds', positive('--give-up'), DEFAULT_REDIS_GRACE_MS / 1000)
  worker.action(() => run(runWorker(worker, io)))
}
