/**
 * App-info store: which host serves the renderer (`app:info`: Electron or the web mode) and what it
 * can do, e.g. whether it can show native folder dialogs (then "Open model…" and "Export…" use them;
 * in web mode they take a typed path instead). Asked once; concurrent `load()` calls share the answer.
 * Until it is known (or when it fails) the UI assumes the web mode, whose controls work everywhere.
 * Shape: `useAppInfoStore() => { info, canPickFolders, error, load }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { AppInfo } from '../../../shared/app-types'
import type { ErrorCode } from '../../../shared/ipc-contract'
import { useVisApi } from '../api/vis-api'

export const useAppInfoStore = defineStore('app-info', () => {
  const api = useVisApi()
  /** The host's answer; null until known. */
  const info = ref<AppInfo | null>(null)
  /** Why `app:info` failed, if it did. */
  const error = ref<{ code: ErrorCode; message: string } | null>(null)
  /** Whether the host shows native folder dialogs (false until known). */
  const canPickFolders = computed(() => info.value?.canPickFolders ?? false)
  let pending: Promise<void> | null = null

  /** Ask the host once; later calls return the same promise. */
  function load(): Promise<void> {
    pending ??= (async () => {
      try {
        const res = await api['app:info']()
        if (res.ok) info.value = res.value
        else error.value = { code: res.code, message: res.message }
      } catch (e) {
        error.value = { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) }
      }
    })()
    return pending
  }

  return { info, canPickFolders, error, load }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useAppInfoStore, import.meta.hot))
