/**
 * Restores and remembers the window's state per model (see session.ts): once a model and the preset
 * list are loaded, the model's saved layer, unit and parameters come back (a reload loses nothing);
 * a model seen for the first time opens on its class layer (or its sidecar's unit) with the starting
 * settings. Every later change of the selection or the parameters is saved. Call once, in the app shell.
 * Shape: `useSession() => { startedOn }` (startedOn: why the parameters are what they are, for a hint)
 */
import { storeToRefs } from 'pinia'
import { ref, watch } from 'vue'
import { useModelStore } from '../stores/model'
import { useParamsStore } from '../stores/params'
import { useUnitsStore } from '../stores/units'
import { defaultTargetLayer, saveModelState, savedStateOf, startingSettings } from './session'

export function useSession() {
  const modelStore = useModelStore()
  const { info, layers } = storeToRefs(modelStore)
  const params = useParamsStore()
  const { presets, values, method, presetName, modified } = storeToRefs(params)
  const units = useUnitsStore()
  const { layerName, unitIndex } = storeToRefs(units)
  /** Model path whose state has been restored (saving starts only after that). */
  let restoredFor: string | null = null
  /** A line saying which settings the panel opened on, or null after a restore. */
  const startedOn = ref<string | null>(null)

  function restore(modelPath: string): void {
    const saved = savedStateOf(modelPath)
    if (saved?.layer && layers.value.some((l) => l.name === saved.layer)) {
      units.selectLayer(saved.layer)
      units.selectUnit(saved.unit)
    } else if (!layerName.value || !layers.value.some((l) => l.name === layerName.value)) {
      const layer = defaultTargetLayer(layers.value)
      if (layer) units.selectLayer(layer.name)
    }
    if (saved?.params) {
      params.restoreState(saved.params)
      startedOn.value = null
    } else if (info.value) {
      const start = startingSettings(info.value)
      params.applyPreset(start.preset)
      if (start.maxIter !== null) {
        params.setNumber('max_iter', start.maxIter)
        // The iteration count is the starting setting, not an edit of the preset's regularizers.
        modified.value = false
      }
      startedOn.value = `Opened on ${start.why}; “DVT defaults” in the list is DVT's own (lr 1, no regularizers).`
    }
    restoredFor = modelPath
  }

  watch([() => info.value?.path ?? null, () => presets.value.length, () => layers.value.length], ([modelPath, presetCount]) => {
    if (modelPath === null || presetCount === 0 || layers.value.length === 0 || restoredFor === modelPath) return
    restore(modelPath)
  }, { immediate: true })

  watch([layerName, unitIndex, values, method, presetName, modified], () => {
    const modelPath = info.value?.path
    if (!modelPath || restoredFor !== modelPath) return
    saveModelState(modelPath, {
      name: info.value?.name,
      layer: layerName.value,
      unit: unitIndex.value,
      params: { values: values.value, method: method.value, presetName: presetName.value, modified: modified.value },
    })
  }, { deep: true })

  return { startedOn }
}
