/**
 * Renderer-side typing of what the preload exposes: `window.vis` is the contract's `VisApi`,
 * nothing else. Derived from the contract, never restated.
 */
import type { VisApi } from '../shared/ipc-contract'

declare global {
  interface Window {
    vis: VisApi
  }
}
