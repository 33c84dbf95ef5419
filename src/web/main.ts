/**
 * `npm run web`: serve DeepVis Studio to a browser (headless web mode, see src/web/server.ts).
 * Builds nothing itself: the npm script runs `electron-vite build` first (`npm run web:serve`
 * skips it). Prints the page URL with its access token; Ctrl-C closes cleanly.
 * Options: --port <n> (default 0: any free port), --host <addr> (default 127.0.0.1),
 * --model <dir> (default the embedded model), --backend <auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu>,
 * --history <dir> (default ~/.deepvis/runs), --renderer <dir> (default out/renderer),
 * --engine <worker|in-process> (default worker: the engine runs in a worker_thread; in-process is the
 * fallback should a native backend misbehave in a worker).
 */
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { BackendChoice } from '../engine/node/tf-free.ts'
import { DEFAULT_MODEL_DIR, DEFAULT_RENDERER_DIR, startWebServer, type EngineMode } from './server.ts'

/**
 * The --backend choices, checked against the engine's list by the compiler; restated here because
 * importing that list would load TensorFlow.js on this thread, which only the engine worker needs.
 */
const BACKENDS = { auto: true, 'tensorflow-gpu': true, webgpu: true, tensorflow: true, wasm: true, cpu: true } as const satisfies Record<BackendChoice, true>
const BACKEND_CHOICES = Object.keys(BACKENDS) as BackendChoice[]
const ENGINE_MODES: readonly EngineMode[] = ['worker', 'in-process']

const USAGE = 'usage: npm run web -- [--port N] [--host ADDR] [--model DIR] [--backend auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu] [--history DIR] [--renderer DIR] [--engine worker|in-process]'

async function main(): Promise<number> {
  let values
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        model: { type: 'string', default: DEFAULT_MODEL_DIR },
        backend: { type: 'string', default: 'auto' },
        history: { type: 'string', default: path.join(os.homedir(), '.deepvis', 'runs') },
        renderer: { type: 'string', default: DEFAULT_RENDERER_DIR },
        engine: { type: 'string', default: 'worker' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (e) {
    console.error(`deepvis web: ${e instanceof Error ? e.message : String(e)}\n${USAGE}`)
    return 2
  }
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`deepvis web: --port must be an integer 0..65535, got '${values.port}'`)
    return 2
  }
  if (!(BACKEND_CHOICES as readonly string[]).includes(values.backend)) {
    console.error(`deepvis web: --backend must be one of ${BACKEND_CHOICES.join(', ')}`)
    return 2
  }
  if (!(ENGINE_MODES as readonly string[]).includes(values.engine)) {
    console.error(`deepvis web: --engine must be one of ${ENGINE_MODES.join(', ')}`)
    return 2
  }
  const rendererDir = path.resolve(values.renderer)
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    console.error(`deepvis web: no built renderer in ${rendererDir}; run 'npm run build' first`)
    return 1
  }
  const server = await startWebServer({
    port,
    host: values.host,
    modelDir: path.resolve(values.model),
    backend: values.backend as BackendChoice,
    historyDir: path.resolve(values.history),
    rendererDir,
    engine: values.engine as EngineMode,
  })
  console.log(`DeepVis Studio (web) at ${server.url}`)
  if (values.host !== '127.0.0.1' && values.host !== 'localhost' && values.host !== '::1') {
    console.log('warning: listening beyond this machine over plain HTTP; prefer an SSH tunnel to 127.0.0.1')
  }
  console.log('Ctrl-C to stop.')
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  console.log('\nstopping…')
  await server.close()
  return 0
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error('deepvis web:', e)
    process.exit(1)
  },
)
