/**
 * Sweeps over many machines through a BullMQ queue (Redis >= 6.2). The coordinator puts one job per
 * (layer, unit, preset) on the queue, with a job id derived from the sweep (the same job twice is one
 * job); each `deepvis worker` takes jobs, runs them on its local pool (model loaded from its own path,
 * checked by hash against the sweep's), and returns the result files (PNGs + info.json/txt, small) as
 * the job's return value; the coordinator writes them into the atlas. BullMQ gives the retries with
 * backoff, the stalled-job check (a killed worker's job goes back to the queue when its lock expires)
 * and the failed-job list.
 * Shapes: `parseRedisUrl(url) => RedisTarget`; `await checkRedis(target)`; `openQueue(target, name)`;
 *   `queueJobId(sweepKey, job)`; `startHealthWatch(target, onLost) => stop()`.
 */
import { createHash } from 'node:crypto'
// ioredis and bullmq are imported when a queue is used: every other CLI command starts without them.
import type { RedisOptions } from 'ioredis'
import { DeepVisError } from '../shared/errors.ts'
import { layerSegment, type SweepJob, type SweepRunOptions } from './plan.ts'

/** The queue every sweep and worker use unless --queue-name says otherwise. */
export const DEFAULT_QUEUE_NAME = 'deepvis-sweep'
/** Tries per job (BullMQ `attempts`), with exponential backoff from BACKOFF_MS. */
export const JOB_ATTEMPTS = 3
export const BACKOFF_MS = 1000
/** How long a worker holds a job's lock without renewing it before the job counts as stalled. */
export const DEFAULT_LOCK_MS = 30_000
/** Stalls a job may suffer (its worker killed) before it fails. */
export const MAX_STALLED = 2
/** How long the Redis server may be unreachable before a coordinator or worker gives up. */
export const DEFAULT_REDIS_GRACE_MS = 10_000
const HEALTH_PING_MS = 1000

/** What a job carries: the sweep's identity, the model's hash and the job itself. */
export interface QueueJobData {
  sweepKey: string
  modelHash: string
  job: SweepJob
  run: Omit<SweepRunOptions, 'model'>
}

/** What a worker returns: every result file, base64. */
export interface QueueJobResult { worker: string; files: { name: string; base64: string }[] }

/** A Redis URL split into connection options; `display` never holds the password. */
export interface RedisTarget { options: RedisOptions; display: string }

export function parseRedisUrl(text: string): RedisTarget {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new DeepVisError('BAD_PARAM', '--queue must be a URL like redis://[:password@]host:port[/db]')
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new DeepVisError('BAD_PARAM', `--queue must start with redis:// or rediss:// (got ${url.protocol}//...)`)
  const db = url.pathname.replace(/^\//, '')
  if (db && !/^\d+$/.test(db)) throw new DeepVisError('BAD_PARAM', '--queue: the path of the URL is a database number, e.g. redis://host:6379/0')
  const port = url.port ? Number(url.port) : 6379
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''), port,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ's workers block on Redis: no per-command retry limit.
    maxRetriesPerRequest: null,
  }
  return { options, display: `${url.protocol}//${url.hostname}:${port}${db ? `/${db}` : ''}` }
}

/** Redis's own message without anything that could echo a secret. */
function redisMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err)
  return m.split('\n')[0]
}

/** Connect once and check the server: reachable, password right, version >= 6.2. Throws one clear line. */
export async function checkRedis(target: RedisTarget): Promise<void> {
  const { Redis } = await import('ioredis')
  const client = new Redis({ ...target.options, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 5000 })
  let lastError = ''
  client.on('error', (e: Error) => { lastError = e.message }) // reported below, once
  try {
    await client.connect()
    const info = await client.info('server')
    const version = /redis_version:(\d+)\.(\d+)/.exec(info)
    if (version && (Number(version[1]) < 6 || (Number(version[1]) === 6 && Number(version[2]) < 2))) {
      throw new DeepVisError('BAD_PARAM', `Redis at ${target.display} is ${version[1]}.${version[2]}; BullMQ needs Redis >= 6.2`)
    }
  } catch (err) {
    if (err instanceof DeepVisError) throw err
    const m = `${lastError} ${redisMessage(err)}`.trim()
    const why = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(m)
      ? 'wrong or missing password (give it as redis://:PASSWORD@host:port)'
      : (lastError ? redisMessage(lastError) : m)
    throw new DeepVisError('BAD_PARAM', `cannot use the queue at ${target.display}: ${why}`)
  } finally {
    client.disconnect()
  }
}

/** The sweep's identity: the model's hash and the options every job shares (not the atlas path). */
export function sweepKey(modelHash: string, run: Omit<SweepRunOptions, 'model'>): string {
  return createHash('sha256').update(JSON.stringify({ modelHash, run: { backend: run.backend, maxIter: run.maxIter ?? null, randSeed: run.randSeed ?? null } })).digest('hex').slice(0, 16)
}

/** BullMQ job id of a job (no ':' allowed): the same job of the same sweep always has the same id. */
export function queueJobId(key: string, job: SweepJob): string {
  return `${key}-${layerSegment(job.layer)}-${job.unit}-${job.preset}`
}

/**
 * Ping the server every second; call `onLost(message)` once when it has been unreachable for `graceMs`.
 * Resolves to a stop function.
 */
export async function startHealthWatch(target: RedisTarget, graceMs: number, onLost: (message: string) => void): Promise<() => void> {
  const { Redis } = await import('ioredis')
  const client = new Redis({ ...target.options, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => 500 })
  client.on('error', () => {})
  let lastOk = Date.now()
  let lost = false
  const timer = setInterval(() => {
    client.ping().then(() => { lastOk = Date.now() }, () => {
      if (!lost && Date.now() - lastOk >= graceMs) {
        lost = true
        onLost(`lost the Redis server at ${target.display} (unreachable for ${Math.round(graceMs / 1000)} s)`)
      }
    })
  }, HEALTH_PING_MS)
  return () => {
    clearInterval(timer)
    client.disconnect()
  }
}
