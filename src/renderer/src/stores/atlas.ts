/**
 * Atlas store: the atlas folder open in the Atlas view (written by `deepvis sweep`, perhaps on a
 * cluster), the layer shown as a grid of units (loaded a page at a time as the user scrolls), and the
 * unit page open. Talks to atlas:open / atlas:pick / atlas:thumbs / atlas:unit; failures are kept in
 * `error` for an inline banner and leave what was shown in place. The folder is remembered in
 * localStorage so the view reopens it after a reload.
 * Shape: `useAtlasStore() => { info, layer, cells, total, unitPage, error, loading, open, pick, reload,
 *   selectLayer, loadMore, openUnit, closeUnit, clearError }`
 */
import { acceptHMRUpdate, defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { AtlasCell, AtlasInfo, AtlasUnitPage } from '../../../shared/atlas-types'
import type { IpcResult } from '../../../shared/ipc-contract'
import { callIpc } from '../api/call-ipc'
import { useVisApi } from '../api/vis-api'
import type { StoreError } from './params'

/** Cells asked per `atlas:thumbs` page. */
export const ATLAS_PAGE_SIZE = 96
/** localStorage key of the last atlas folder. */
export const ATLAS_FOLDER_KEY = 'deepvis.atlas.folder'

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage
  } catch {
    return null
  }
}

export const useAtlasStore = defineStore('atlas', () => {
  const api = useVisApi()
  const info = shallowRef<AtlasInfo | null>(null)
  /** Name of the layer whose grid is shown; null: the layer list. */
  const layer = ref<string | null>(null)
  /** Grid cells loaded so far for `layer` (in the layer's unit order). */
  const cells = shallowRef<AtlasCell[]>([])
  /** Units in `layer`. */
  const total = ref(0)
  const unitPage = shallowRef<AtlasUnitPage | null>(null)
  const error = ref<StoreError | null>(null)
  const loading = ref(false)
  /** The folder last typed or opened (prefilled in the path field). */
  const lastFolder = ref(storage()?.getItem(ATLAS_FOLDER_KEY) ?? '')
  /** Bumped when the atlas or layer changes, so that a slow page for the old one is dropped. */
  let gridSeq = 0
  let unitSeq = 0

  const hasMore = computed(() => cells.value.length < total.value)

  const call = <T>(fn: () => Promise<IpcResult<T>>): Promise<T | null> => callIpc(fn, (e) => { error.value = e })

  function adopt(next: AtlasInfo): void {
    const sameAtlas = info.value?.path === next.path
    info.value = next
    lastFolder.value = next.path
    storage()?.setItem(ATLAS_FOLDER_KEY, next.path)
    error.value = null
    if (!sameAtlas || !next.layers.some((l) => l.name === layer.value)) {
      layer.value = null
      cells.value = []
      total.value = 0
      unitPage.value = null
      gridSeq++
      unitSeq++
    }
  }

  /** Open an atlas folder by path; on error the open atlas stays. */
  async function open(folder: string): Promise<boolean> {
    loading.value = true
    const next = await call(() => api['atlas:open'](folder.trim()))
    loading.value = false
    if (!next) return false
    adopt(next)
    return true
  }

  /** Electron: choose the folder in a dialog. */
  async function pick(): Promise<boolean> {
    loading.value = true
    const next = await call(() => api['atlas:pick']())
    loading.value = false
    if (!next) return false
    adopt(next)
    return true
  }

  /** Re-read the open atlas (a sweep still running adds results); keeps the layer and unit shown. */
  async function reload(): Promise<void> {
    if (!info.value) return
    const keepLayer = layer.value
    const keepUnit = unitPage.value?.unit ?? null
    if (!(await open(info.value.path))) return
    if (keepLayer && info.value?.layers.some((l) => l.name === keepLayer)) {
      await selectLayer(keepLayer, true)
      if (keepUnit !== null) await openUnit(keepUnit)
    }
  }

  /** Show a layer's grid (first page). */
  async function selectLayer(name: string | null, force = false): Promise<void> {
    if (!force && name === layer.value) return
    const seq = ++gridSeq
    layer.value = name
    unitPage.value = null
    cells.value = []
    total.value = info.value?.layers.find((l) => l.name === name)?.units.length ?? 0
    if (name !== null) await fetchPage(seq)
  }

  async function fetchPage(seq: number): Promise<void> {
    const atlas = info.value
    const name = layer.value
    if (!atlas || name === null) return
    loading.value = true
    const page = await call(() => api['atlas:thumbs']({ path: atlas.path, layer: name, offset: cells.value.length, limit: ATLAS_PAGE_SIZE }))
    loading.value = false
    if (!page || seq !== gridSeq) return
    total.value = page.total
    cells.value = [...cells.value, ...page.cells]
  }

  /** Load the next page of the grid. */
  async function loadMore(): Promise<void> {
    if (hasMore.value && !loading.value) await fetchPage(gridSeq)
  }

  /** Open a unit's page (of the layer shown). */
  async function openUnit(unit: number): Promise<void> {
    const atlas = info.value
    const name = layer.value
    if (!atlas || name === null) return
    const seq = ++unitSeq
    loading.value = true
    const page = await call(() => api['atlas:unit']({ path: atlas.path, layer: name, unit }))
    loading.value = false
    if (page && seq === unitSeq) unitPage.value = page
  }

  function closeUnit(): void {
    unitSeq++
    unitPage.value = null
  }

  function clearError(): void {
    error.value = null
  }

  return {
    info, layer, cells, total, hasMore, unitPage, error, loading, lastFolder,
    open, pick, reload, selectLayer, loadMore, openUnit, closeUnit, clearError,
  }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useAtlasStore, import.meta.hot))
