/**
 * The presets as the UI lists them (`presets:list`): DVT's regularizer presets (yosinski-1..4) and the
 * general methods' presets (METHOD_PRESETS), each with its method family and source. No TensorFlow.js
 * here: the main thread answers this channel itself, without waiting for the engine worker's current iteration.
 * Shape: `presetInfos() => PresetInfo[]` (DVT presets first, then the method presets in table order)
 */
import { PRESETS } from '../engine/node/tf-free.ts'
import { METHOD_PRESETS, type MethodPreset } from '../shared/method-params.ts'
import type { PresetFamily, PresetInfo } from '../shared/run-types.ts'

/** Source of DVT's presets: Table 1 of the paper. */
const DVT_SOURCE = 'Yosinski et al. 2015, Understanding Neural Networks Through Deep Visualization, Table 1'

/** Family and source of a method preset, by its method name (the preset may name them itself). */
const METHOD_FAMILIES: Record<string, { family: PresetFamily; source: string }> = {
  lucid: { family: 'lucid', source: 'tensorflow/lucid render_vis (Olah et al. 2017, Feature Visualization)' },
  maco: { family: 'maco', source: 'MACO (Fel et al. 2023, NeurIPS): deel-ai/xplique maco, serre-lab/Horama' },
  accentuation: { family: 'maco', source: 'Feature accentuation (Hamblin et al. 2024)' },
  dnnbrain: { family: 'dnnbrain', source: 'BNUCNL/dnnbrain (dnnbrain.dnn.algo SynthesisImage)' },
  cnnpref: { family: 'cnnpref', source: 'KamitaniLab/cnnpref (Shen et al. 2019, preferred-stimulus generation)' },
  normstep: { family: 'seed003', source: 'seed 003: VGG16 filter-visualization blog (normalized gradient steps)' },
  seed003: { family: 'seed003', source: 'seed 003: VGG16 filter-visualization blog' },
  seed004: { family: 'seed004', source: 'seed 004: Nguyen-Hoa/Activation-Maximization act_max' },
}

/** The family of a method preset: its own `family` field, else by method or preset name prefix. */
function familyOf(name: string, preset: MethodPreset): { family: PresetFamily; source: string } {
  const own = preset as MethodPreset & { family?: PresetFamily; source?: string }
  const method = String(preset.params.method ?? name)
  const known = METHOD_FAMILIES[method] ?? METHOD_FAMILIES[name.split('-')[0]] ?? METHOD_FAMILIES[name]
  return {
    family: own.family ?? known?.family ?? 'lucid',
    source: own.source ?? known?.source ?? `method '${method}'`,
  }
}

/** Every preset, as copies (the engine's tables stay untouched). */
export function presetInfos(): PresetInfo[] {
  const dvt: PresetInfo[] = Object.entries(PRESETS).map(([name, p]) => ({
    name, description: p.description, params: structuredClone(p.params), family: 'dvt', source: DVT_SOURCE,
  }))
  const methods: PresetInfo[] = Object.entries(METHOD_PRESETS).map(([name, p]) => ({
    name, description: p.description, params: {}, ...familyOf(name, p), method: structuredClone(p.params),
  }))
  return [...dvt, ...methods]
}
