#!/usr/bin/env node
// Entry point of the `deepvis` command: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
const controller = new AbortController()
let interrupts = 0
process.on('SIGINT', () => {
  interrupts += 1
  if (interrupts > 1) process.exit(130)
  process.stderr.write('\ndeepvis: stopping after this iteration (Ctrl-C again to quit at once)\n')
  controller.abort()
})
const code = await main(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
  signal: controller.signal,
})
process.exit(code)
