/**
 * The local pool of a sweep: N node worker_threads, each running src/sweep/pool-worker.ts (tfjs loaded
 * once per thread), fed one `deepvis optimize` command line at a time.
 * Why plain worker_threads and not piscina: a thread must first register tsx's ESM hooks before it can
 * import the TypeScript entry (see src/host/source-engine-worker.ts), each task is one message, and a
 * thread that dies mid-job must fail only that job and be replaced; this is ~80 lines without a new
 * dependency.
 * Shape: `const pool = new LocalPool(size)`; `await pool.run(argv) => {code, out, err}`; `await pool.close()`.
 */
import { Worker } from 'node:worker_threads'
import type { PoolReply } from './pool-worker.ts'

const ENTRY_URL = new URL('./pool-worker.ts', import.meta.url).href
const TSX_ESM_API_URL = import.meta.resolve('tsx/esm/api')
/** Register tsx in the thread, then load the entry (Node 20 ignores execArgv --import for a .ts entry). */
const BOOTSTRAP = `import(${JSON.stringify(TSX_ESM_API_URL)})
  .then(({ register }) => { register(); return import(${JSON.stringify(ENTRY_URL)}) })`

interface Pending { id: number; argv: string[]; resolve: (r: PoolReply) => void }

interface Slot { worker: Worker; busy: Pending | null }

export class LocalPool {
  private readonly slots: Slot[] = []
  private readonly queue: Pending[] = []
  private nextId = 0
  private closed = false

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`pool size must be a positive integer; got ${size}`)
    for (let i = 0; i < size; i++) this.slots.push(this.spawn())
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(BOOTSTRAP, { eval: true }), busy: null }
    slot.worker.on('message', (m: PoolReply | { ready: true }) => {
      if ('ready' in m) return
      const job = slot.busy
      slot.busy = null
      if (job && job.id === m.id) job.resolve(m)
      this.pump()
    })
    const died = (why: string): void => {
      const job = slot.busy
      slot.busy = null
      const i = this.slots.indexOf(slot)
      if (i >= 0 && !this.closed) this.slots[i] = this.spawn()
      if (job) job.resolve({ id: job.id, code: 1, out: '', err: `deepvis: engine worker died: ${why}\n` })
      this.pump()
    }
    slot.worker.on('error', (e) => died(e.message.split('\n')[0]))
    slot.worker.on('exit', (code) => { if (!this.closed) died(`exit code ${code}`) })
    return slot
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue
      const job = this.queue.shift()!
      slot.busy = job
      slot.worker.postMessage({ id: job.id, argv: job.argv })
    }
  }

  /** Run one CLI command line on a free thread. */
  run(argv: string[]): Promise<PoolReply> {
    if (this.closed) return Promise.reject(new Error('pool closed'))
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, argv, resolve })
      this.pump()
    })
  }

  /** Stop every thread (a running job is abandoned; its staging folder is swept by the next run). */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }
}
