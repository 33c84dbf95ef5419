#!/usr/bin/env node
// Entry point of the `deepvis` command: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
// The result writer's temporary files: removed before a signal ends the process (kill -9 cannot be
// caught; the next run in the same folder sweeps what a killed writer left).
const { removeTempFilesSync } = await import('../src/engine/node/save-results.ts')
const controller = new AbortController()
let interrupts = 0
const quitNow = (code) => {
  removeTempFilesSync()
  process.exit(code)
}
process.on('SIGINT', () => {
  interrupts += 1
  if (interrupts > 1) quitNow(130)
  process.stderr.write('\ndeepvis: stopping after this iteration (Ctrl-C again to quit at once)\n')
  controller.abort()
})
process.on('SIGTERM', () => quitNow(143))
process.on('SIGHUP', () => quitNow(129))
const code = await main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
  signal: controller.signal,
})
process.exit(code)
