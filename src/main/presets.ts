/**
 * The regularizer presets as the UI lists them (`presets:list`). No TensorFlow.js here: the main
 * thread answers this channel itself, without waiting for the engine worker's current iteration.
 * Shape: `presetInfos() => PresetInfo[]`
 */
import { PRESETS } from '../engine/params.ts'
import type { PresetInfo } from '../shared/run-types.ts'

/** Every preset, as copies (the engine's table stays untouched). */
export function presetInfos(): PresetInfo[] {
  return Object.entries(PRESETS).map(([name, p]) => ({
    name,
    description: p.description,
    params: structuredClone(p.params),
  }))
}
