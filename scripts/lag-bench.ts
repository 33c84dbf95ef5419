/**
 * Event-loop lag of the web server while an optimization runs, with the engine in a worker_thread
 * (the default) and, for comparison, in the server's own thread: `npm run bench:lag -- [options]`.
 *
 * For each engine mode the script starts the web server (src/web/server.ts) in a CHILD process (this
 * file with --role server), so that the measuring client is not stalled by the engine it measures.
 * The parent connects a WebSocket client with the token, waits for the model, starts one run
 * (yosinski-3 preset, --iters iterations) and, while it runs, measures
 *   (a) the server process's event-loop delay (perf_hooks.monitorEventLoopDelay, in the child):
 *       p50 / p99 / max ms;
 *   (b) the round-trip time of a cheap channel (`presets:list`) sent every --ping-ms ms: p50 / p99 /
 *       max ms, counted from when each ping was due (a ping the client could not even send in time
 *       still counts its wait). With the worker engine the server's thread answers it (and runs:list,
 *       runs:get) itself; the engine's own channels wait for the worker's current iteration;
 *   (c) the round-trip time of an HTTP request the server's own thread answers (a 403 for a page
 *       without the token), every --ping-ms ms, timed the same way: what a page loading its assets or
 *       any other traffic of the server's thread sees.
 * Output: one JSON line per measurement on stdout, then a small table. Timings on a shared machine are
 * noisy; compare the two modes of one invocation.
 *
 *   --model DIR        model folder (default: the embedded model; ../shared/models/googlenet_bvlc is
 *                      the interesting case)
 *   --layer NAME       unit to optimize (default: the model's default unit, else its last layer)
 *   --channel N        (default: the default unit's, else 0)
 *   --iters N          iterations of the run (default 20)
 *   --backend NAME     auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu (default auto)
 *   --modes a,b        engine modes, in order (default worker,in-process)
 *   --ping-ms N        interval of the round-trip pings (default 20)
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { WebSocket } from 'ws'
import type { BackendChoice } from '../src/engine/node/backends.ts'
import type { IpcResult, LayerInfo, ModelInfo } from '../src/shared/ipc-contract.ts'
import type { PresetInfo, RunSummary } from '../src/shared/run-types.ts'
import { DEFAULT_MODEL_DIR, startWebServer, type EngineMode } from '../src/web/server.ts'

const PRESET = 'yosinski-3'
/** Resolution of the event-loop delay histogram, ms (its smallest meaningful delay). */
const LOOP_RESOLUTION_MS = 1
const NS_PER_MS = 1e6
/** Longest wait for the model to load or the run to end. */
const STEP_TIMEOUT_MS = 30 * 60_000
const SELF = fileURLToPath(import.meta.url)

/** Messages between the bench (parent) and the server child. */
type ToServer = { cmd: 'measure' } | { cmd: 'report' } | { cmd: 'stop' }
type FromServer =
  | { kind: 'listening'; port: number; token: string }
  | { kind: 'report'; loop: Stats }

interface Stats {
  p50: number
  p99: number
  max: number
  count: number
}

/** p50 / p99 / max of a list of ms values (nearest rank). */
function stats(values: number[]): Stats {
  const s = [...values].sort((a, b) => a - b)
  const at = (q: number): number => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN)
  return { p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1] : NaN, count: s.length }
}

const round = (x: number): number => Math.round(x * 10) / 10
const roundStats = ({ p50, p99, max, count }: Stats): Stats => ({ p50: round(p50), p99: round(p99), max: round(max), count })

// ---------------------------------------------------------------------------------------------
// Server role: the web server plus the event-loop monitor, driven by the parent over IPC.

async function serve(args: { model: string; backend: BackendChoice; engine: EngineMode; history: string }): Promise<void> {
  const server = await startWebServer({
    modelDir: args.model,
    backend: args.backend,
    historyDir: args.history,
    engine: args.engine,
    rendererDir: path.join(args.history, 'no-renderer'),
  })
  const monitor = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS })
  const send = (m: FromServer): void => {
    process.send?.(m)
  }
  process.on('message', (m: ToServer) => {
    if (m.cmd === 'measure') {
      monitor.reset()
      monitor.enable()
    } else if (m.cmd === 'report') {
      monitor.disable()
      send({
        kind: 'report',
        loop: {
          p50: monitor.percentile(50) / NS_PER_MS,
          p99: monitor.percentile(99) / NS_PER_MS,
          max: monitor.max / NS_PER_MS,
          count: monitor.count,
        },
      })
    } else if (m.cmd === 'stop') {
      void server.close().then(() => process.exit(0))
    }
  })
  send({ kind: 'listening', port: server.port, token: server.token })
}

// ---------------------------------------------------------------------------------------------
// Bench role: a WebSocket client that runs one optimization and pings meanwhile.

interface Client {
  call<T>(channel: string, payload?: unknown): Promise<IpcResult<T>>
  /** Resolves with the first event that satisfies `pred`. */
  waitEvent<T>(event: string, pred: (payload: T) => boolean): Promise<T>
  /** Call `fn` with every event of a channel. */
  onEvent<T>(event: string, fn: (payload: T) => void): void
  close(): void
}

async function connect(port: number, token: string): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(token)}`, { maxPayload: 0 })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  let nextId = 1
  const pending = new Map<number, (r: IpcResult<unknown>) => void>()
  const watchers: { event: string; pred: (p: unknown) => boolean; resolve: (p: unknown) => void }[] = []
  const listeners: { event: string; fn: (p: unknown) => void }[] = []
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString()) as { id?: number; result?: IpcResult<unknown>; event?: string; payload?: unknown }
    if (msg.event !== undefined) {
      for (const l of listeners) if (l.event === msg.event) l.fn(msg.payload)
      for (const w of watchers.filter((x) => x.event === msg.event && x.pred(msg.payload))) {
        watchers.splice(watchers.indexOf(w), 1)
        w.resolve(msg.payload)
      }
    } else if (msg.id !== undefined) {
      pending.get(msg.id)?.(msg.result as IpcResult<unknown>)
      pending.delete(msg.id)
    }
  })
  return {
    call<T>(channel: string, payload?: unknown): Promise<IpcResult<T>> {
      const id = nextId++
      return new Promise((resolve) => {
        pending.set(id, resolve as (r: IpcResult<unknown>) => void)
        ws.send(JSON.stringify({ id, channel, payload }))
      })
    },
    waitEvent<T>(event: string, pred: (payload: T) => boolean): Promise<T> {
      return new Promise((resolve) => watchers.push({ event, pred: pred as (p: unknown) => boolean, resolve: resolve as (p: unknown) => void }))
    },
    onEvent<T>(event: string, fn: (payload: T) => void): void {
      listeners.push({ event, fn: fn as (p: unknown) => void })
    },
    close: () => ws.close(),
  }
}

function value<T>(r: IpcResult<T>, what: string): T {
  if (!r.ok) throw new Error(`${what} failed: ${r.code}: ${r.message}`)
  return r.value
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${STEP_TIMEOUT_MS / 60_000} min`)), STEP_TIMEOUT_MS)
    }),
  ])
}

interface Measurement {
  model: string
  engine: EngineMode
  backend: string
  layer: string
  channel: number
  iters: number
  /** Mean wall time of one iteration, ms (run:progress `wallMs`). */
  iterMs: number
  loopDelayMs: Stats
  rttMs: Stats
  httpMs: Stats
}

/** One HTTP GET to the server; resolves when the answer has been read, whatever its status. */
function httpPing(port: number): Promise<void> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/?token=lag-bench', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve())
    })
    req.on('error', () => resolve())
  })
}

/** Run `ping` every `intervalMs` until `running()` is false; returns each ping's time from when it was due. */
async function pingEvery(intervalMs: number, running: () => boolean, ping: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = []
  const inFlight: Promise<void>[] = []
  let due = performance.now()
  while (running()) {
    const sentDue = due
    inFlight.push(ping().then(() => {
      times.push(performance.now() - sentDue)
    }))
    due += intervalMs
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())))
  }
  await Promise.all(inFlight)
  return times
}

async function measure(mode: EngineMode, opts: { model: string; backend: BackendChoice; iters: number; layer?: string; channel?: number; pingMs: number }): Promise<Measurement> {
  const history = mkdtempSync(path.join(os.tmpdir(), 'deepvis-lag-'))
  const child: ChildProcess = fork(SELF, [
    '--role', 'server', '--model', opts.model, '--backend', opts.backend, '--engine', mode, '--history', history,
  ], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const fromChild = <K extends FromServer['kind']>(kind: K): Promise<Extract<FromServer, { kind: K }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: FromServer): void => {
        if (m.kind !== kind) return
        child.off('message', onMessage)
        resolve(m as Extract<FromServer, { kind: K }>)
      }
      child.on('message', onMessage)
      child.once('exit', (code) => reject(new Error(`the server process exited (code ${code})`)))
    })
  const toChild = (m: ToServer): void => {
    child.send(m)
  }
  try {
    const { port, token } = await withTimeout(fromChild('listening'), 'server start')
    const client = await connect(port, token)
    try {
      const info = value(await withTimeout(client.call<ModelInfo>('model:info'), 'model load'), 'model:info')
      const layers = value(await client.call<LayerInfo[]>('model:layers'), 'model:layers')
      const preset = value(await client.call<PresetInfo[]>('presets:list'), 'presets:list').find((p) => p.name === PRESET)
      if (!preset) throw new Error(`preset ${PRESET} is missing`)
      const layer = opts.layer ?? info.defaultUnit?.layer ?? layers[layers.length - 1].name
      const channel = opts.channel ?? info.defaultUnit?.channel ?? 0

      toChild({ cmd: 'measure' })
      const iterMs: number[] = []
      let pinging = true
      // Each ping is timed from when it was due, so a client stalled past its slot still counts the wait.
      const rtts = pingEvery(opts.pingMs, () => pinging, () => client.call('presets:list'))
      const https = pingEvery(opts.pingMs, () => pinging, () => httpPing(port))

      const started = value(await client.call<{ runId: string }>('run:start', {
        params: { ...preset.params, push_layer: layer, push_channel: channel, max_iter: opts.iters },
        preset: PRESET,
        previewEvery: opts.iters,
      }), 'run:start')
      client.onEvent<{ runId: string; wallMs: number }>('run:progress', (p) => {
        if (p.runId === started.runId) iterMs.push(p.wallMs)
      })
      const done = await withTimeout(client.waitEvent<RunSummary>('run:done', (s) => s.runId === started.runId), 'run')
      pinging = false
      const [rttTimes, httpTimes] = await Promise.all([rtts, https])
      toChild({ cmd: 'report' })
      const { loop } = await withTimeout(fromChild('report'), 'report')
      if (done.status !== 'done') throw new Error(`the run ended '${done.status}': ${done.error ?? ''}`)
      const meanIter = iterMs.length ? iterMs.reduce((a, b) => a + b, 0) / iterMs.length : NaN
      return {
        model: info.name,
        engine: mode,
        backend: info.backend,
        layer,
        channel,
        iters: opts.iters,
        iterMs: round(meanIter),
        loopDelayMs: roundStats(loop),
        rttMs: roundStats(stats(rttTimes)),
        httpMs: roundStats(stats(httpTimes)),
      }
    } finally {
      client.close()
    }
  } finally {
    if (child.connected) toChild({ cmd: 'stop' })
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) resolve()
      else child.once('exit', () => resolve())
    })
    rmSync(history, { recursive: true, force: true })
  }
}

function table(rows: Measurement[]): string {
  const head = ['engine', 'backend', 'iter ms', 'loop p50', 'loop p99', 'loop max', 'ws p50', 'ws p99', 'ws max', 'http p50', 'http p99', 'http max']
  const three = (s: Stats): string[] => [String(s.p50), String(s.p99), String(s.max)]
  const body = rows.map((r) => [r.engine, r.backend, String(r.iterMs), ...three(r.loopDelayMs), ...three(r.rttMs), ...three(r.httpMs)])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join('  ')
  return [line(head), ...body.map(line)].join('\n')
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: 'bench' },
      model: { type: 'string', default: DEFAULT_MODEL_DIR },
      layer: { type: 'string' },
      channel: { type: 'string' },
      iters: { type: 'string', default: '20' },
      backend: { type: 'string', default: 'auto' },
      modes: { type: 'string', default: 'worker,in-process' },
      'ping-ms': { type: 'string', default: '20' },
      engine: { type: 'string', default: 'worker' },
      history: { type: 'string' },
    },
  })
  const model = path.resolve(values.model)
  const backend = values.backend as BackendChoice
  if (values.role === 'server') {
    await serve({ model, backend, engine: values.engine as EngineMode, history: values.history ?? os.tmpdir() })
    return -1
  }
  const iters = Number(values.iters)
  const pingMs = Number(values['ping-ms'])
  const channel = values.channel === undefined ? undefined : Number(values.channel)
  const modes = values.modes.split(',').map((m) => m.trim()) as EngineMode[]
  if (!Number.isInteger(iters) || iters < 1) throw new Error(`--iters must be a positive integer, got '${values.iters}'`)
  if (!(pingMs > 0)) throw new Error(`--ping-ms must be positive, got '${values['ping-ms']}'`)
  if (channel !== undefined && !(Number.isInteger(channel) && channel >= 0)) throw new Error(`--channel must be an integer >= 0`)
  for (const m of modes) if (m !== 'worker' && m !== 'in-process') throw new Error(`--modes takes worker and/or in-process, got '${m}'`)

  const rows: Measurement[] = []
  for (const mode of modes) {
    const row = await measure(mode, { model, backend, iters, layer: values.layer, channel, pingMs })
    console.log(JSON.stringify(row))
    rows.push(row)
  }
  console.log(`\n${rows[0]?.model ?? ''}: ${rows[0]?.layer}:${rows[0]?.channel}, ${iters} iterations of ${PRESET}; ` +
    `loop = server event-loop delay, ws = presets:list round trip, http = HTTP 403 round trip, every ${pingMs} ms; all times ms`)
  console.log(table(rows))
  return 0
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code)
  },
  (e: unknown) => {
    console.error('lag-bench:', e instanceof Error ? e.message : e)
    process.exit(1)
  },
)
