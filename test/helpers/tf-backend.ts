/** Start a tfjs backend for a test file (process-global state; each test file runs in its own fork). */
import { initBackend, type BackendChoice } from '../../src/engine/node/backends.ts'

export async function useBackend(name: BackendChoice = 'cpu'): Promise<string> {
  const info = await initBackend(name)
  return info.name
}
