/**
 * How the renderer reaches the app: the contract's `VisApi`, provided once at app level and
 * injected where needed (stores, components). In Electron the preload supplies it as
 * `window.vis`; a browser host (web mode, tests) provides another implementation of the same type.
 * Shape: `app.provide(visApiKey, api)`; `useVisApi() => VisApi`
 */
import { hasInjectionContext, inject, type InjectionKey } from 'vue'
import type { VisApi } from '../../../shared/ipc-contract'
import { createWsVisApi, wsUrlFromLocation } from './ws-transport'

/** Injection key under which the app provides its `VisApi`. */
export const visApiKey: InjectionKey<VisApi> = Symbol('VisApi')

/**
 * The `VisApi` the preload exposed as `window.vis` (Electron); else, on a page served by the web
 * mode (`http(s)://…?token=…`, src/web/server.ts), one over that server's WebSocket; else throws a
 * clear error.
 */
export function windowVisApi(): VisApi {
  const api = (window as Partial<Window>).vis
  if (api) return api
  const wsUrl = typeof location === 'undefined' ? null : wsUrlFromLocation(location)
  if (wsUrl) return createWsVisApi(wsUrl)
  throw new Error('window.vis is missing: the renderer must run in DeepVis Studio (the preload provides it), be opened through `npm run web` (with its ?token=), or be given a VisApi')
}

/**
 * The app's `VisApi`: the one provided under `visApiKey`, else `window.vis`.
 * Call it inside a component's setup or a setup store (an injection context).
 */
export function useVisApi(): VisApi {
  const provided = hasInjectionContext() ? inject(visApiKey, null) : null
  return provided ?? windowVisApi()
}
