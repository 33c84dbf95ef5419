/**
 * When an engine worker must stop itself: the failures after which its TensorFlow.js runtime cannot
 * be trusted (src/host/engine-worker.ts exits on them; src/host/worker-engine-host.ts replaces it).
 * Shape: `poisonsEngine(message) => boolean`
 */
/**
 * Messages of failures after which the TensorFlow.js runtime of this thread cannot be trusted: a
 * WebAssembly trap or abort (an allocation the wasm heap could not hold leaves it corrupt: every later
 * op fails with "memory access out of bounds") or an out-of-memory error. The worker then exits, and
 * its parent replaces it with a fresh one on the same model.
 */
export const POISONED_ENGINE = /memory access out of bounds|Aborted\(|RuntimeError: (unreachable|abort)|Out of memory|Array buffer allocation failed|Invalid typed array length/i

/** Whether a failure message means the engine must be replaced (see POISONED_ENGINE). */
export function poisonsEngine(message: string): boolean {
  return POISONED_ENGINE.test(message)
}

/** Exit code of a worker that stopped itself because its runtime was poisoned. */
export const POISONED_EXIT_CODE = 86

