/** Run the CLI's `main` in-process with captured output (no TTY): the CLI tests' one entry point. */
import { main } from '../../src/cli/main.ts'

export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, { stdout: (t) => { out += t }, stderr: (t) => { err += t }, isTTY: false })
  return { code, out, err }
}
