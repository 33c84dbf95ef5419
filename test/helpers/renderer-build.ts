/**
 * The browser tests serve the built renderer (out/renderer). `electron-vite build` takes tens of seconds on a
 * 2-core machine, and every E2E file used to run it again on the same sources; it also empties out/ first, so
 * two files building at once (vitest running files in parallel) could pull the page from under each other.
 * Here the build runs once per content of the sources: under a lock (one build at a time across the test
 * forks), skipped when out/ was built from the same bytes (a SHA-256 of src/, the build and TS configs and
 * package.json, written to out/.deepvis-build-stamp after a build that succeeded). Any changed byte rebuilds.
 * Shape: `ensureRendererBuilt(timeoutMs) => out/renderer`
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const ROOT = path.resolve(import.meta.dirname, '../..')
export const RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
const STAMP = path.join(ROOT, 'out', '.deepvis-build-stamp')
const LOCK = path.join(ROOT, '.tmp', 'electron-vite-build.lock')
const INPUTS = ['src', 'electron.vite.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.node.json', 'tsconfig.web.json']

function filesUnder(p: string): string[] {
  if (!existsSync(p)) return []
  if (!statSync(p).isDirectory()) return [p]
  return readdirSync(p, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => filesUnder(path.join(p, e.name)))
}

/** SHA-256 over the path and bytes of every build input. */
function sourcesHash(): string {
  const h = createHash('sha256')
  for (const file of INPUTS.flatMap((p) => filesUnder(path.join(ROOT, p)))) {
    h.update(path.relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  return h.digest('hex')
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Take the lock (an atomic mkdir); a lock older than `staleMs` was left by a killed run and is broken. */
async function lock(staleMs: number): Promise<void> {
  mkdirSync(path.dirname(LOCK), { recursive: true })
  const deadline = Date.now() + staleMs + 60_000
  for (;;) {
    try {
      mkdirSync(LOCK)
      return
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > staleMs) rmSync(LOCK, { recursive: true, force: true })
    } catch { /* released meanwhile */ }
    if (Date.now() > deadline) throw new Error(`renderer build: lock ${LOCK} still held after ${Math.round(staleMs / 1000)} s`)
    await sleep(250)
  }
}

/** Build the app with electron-vite unless out/ already holds the build of these exact sources. */
export async function ensureRendererBuilt(timeoutMs = 240_000): Promise<string> {
  await lock(timeoutMs)
  try {
    const hash = sourcesHash()
    const built = existsSync(path.join(RENDERER_DIR, 'index.html')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash
    if (!built) {
      rmSync(STAMP, { force: true })
      execFileSync('npx', ['electron-vite', 'build'], { cwd: ROOT, stdio: 'pipe', timeout: timeoutMs })
      writeFileSync(STAMP, hash)
    }
    return RENDERER_DIR
  } finally {
    rmSync(LOCK, { recursive: true, force: true })
  }
}
