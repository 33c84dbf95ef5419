/**
 * Units store: which layer and which unit (channel or neuron) the user is looking at, the layer's
 * class labels, and the arrow-key navigation over the unit grid. Reads the layer catalog from the
 * model store. Navigation clamps at the ends (as the layer list does) instead of wrapping.
 * Shape: `useUnitsStore() => { layerName, unitIndex, layer, unitCount, labels, isConv, selectLayer, selectUnit, moveBy, labelOf }`
 */
import { acceptHMRUpdate, defineStore, storeToRefs } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { LayerInfo } from '../../../shared/ipc-contract'
import { useModelStore } from './model'

export const useUnitsStore = defineStore('units', () => {
  const { layers } = storeToRefs(useModelStore())
  /** Name of the selected layer, or null. */
  const layerName = ref<string | null>(null)
  /** Index of the selected unit in that layer (channel for conv layers, neuron for dense ones). */
  const unitIndex = ref(0)

  const layer = computed<LayerInfo | null>(() => layers.value.find((l) => l.name === layerName.value) ?? null)
  /** Number of units of the selected layer (0 when none is selected). */
  const unitCount = computed(() => layer.value?.units ?? 0)
  /** Class labels of the selected layer, when it has them. */
  const labels = computed<readonly string[]>(() => layer.value?.labels ?? [])
  /** True for a layer with a spatial map (H×W×C), where a unit also has a (y, x) position. */
  const isConv = computed(() => (layer.value?.shape.length ?? 0) === 3)
  /** [height, width] of a conv layer's map, or null. */
  const spatialSize = computed<[number, number] | null>(() =>
    isConv.value && layer.value ? [layer.value.shape[0], layer.value.shape[1]] : null,
  )

  // A new layer may have fewer units: keep the index in range.
  watch(unitCount, (count) => {
    if (unitIndex.value >= count) unitIndex.value = Math.max(0, count - 1)
  })

  /** Select a layer by name; the unit index is reset to 0 when the layer changes. */
  function selectLayer(name: string | null): void {
    if (name === layerName.value) return
    layerName.value = name
    unitIndex.value = 0
  }

  /** Select unit `index`, clamped to the layer's units. */
  function selectUnit(index: number): void {
    const count = unitCount.value
    if (count === 0) return
    unitIndex.value = Math.min(count - 1, Math.max(0, Math.trunc(index)))
  }

  /** Move the selection by `delta` units (±1 for left/right, ±columns for up/down), clamped. */
  function moveBy(delta: number): void {
    selectUnit(unitIndex.value + delta)
  }

  /** The class label of unit `index`, or null when the layer has none. */
  function labelOf(index: number): string | null {
    return labels.value[index] ?? null
  }

  return { layerName, unitIndex, layer, unitCount, labels, isConv, spatialSize, selectLayer, selectUnit, moveBy, labelOf }
})

if (import.meta.hot) import.meta.hot.accept(acceptHMRUpdate(useUnitsStore, import.meta.hot))
