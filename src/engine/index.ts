/**
 * The portable engine's public surface, for the hosts (CLI, host services and engine worker, web server,
 * sweep): parameters and presets, the optimizers and methods, objectives, models, inspection. Nothing
 * here uses Node; the Node side (model folders, backends, files) is src/engine/node/index.ts, and the
 * subset of both that loads no TensorFlow.js is src/engine/node/tf-free.ts. Hosts import the engine
 * through these three files only (eslint.config.js enforces it; docs/architecture.md draws it).
 */
export {
  DEFAULT_PARAMS, DVT_PARAM_TABLE, LR_POLICIES, LR_POLICY_KEYS, MAX_BLUR_RADIUS, PRESETS, START_MODES,
  getPreset, parseLrParams, presetNames, resolveParams,
  type FindParams, type LrParams, type LrPolicy, type Preset, type StartAt,
} from './params.ts'
export { channelSwapToRgb, meanIsImage, validateInputSpec, type ChannelOrder, type InputSpec } from './model/input-spec.ts'
export type { VisModel } from './model/vis-model.ts'
export type { DvtResult, ImageSnapshot, MethodRecord, MethodResult, OptimizeResult, RunResult } from './result.ts'
export { optimizeImage, resolveTarget, type IterationEvent } from './optimize.ts'
export { optimizeBatch } from './optimize-batch.ts'
export {
  defaultObjectiveText, optimizeGeneral, optimizeGeneralBatch, resolveGeneralParams,
  type GeneralIterationEvent, type GeneralOptions,
} from './methods/general.ts'
export { METHODS, generalMethod, generalMethodNames, methodNames } from './methods/registry.ts'
export type { DvtMethod, GeneralMethod, MethodDefinition } from './methods/method.ts'
export { DVT_REGULARIZERS } from './dvt-regularizers.ts'
export { imageReferences, maskNames, parseObjective, validateObjective, type MaskWeights } from './methods/objectives.ts'
/** The accentuation method's seed image: RGB in [0, 1] (the inspection views' RgbImage is 0..255). */
export type { RgbImage as AccentuationImage } from './methods/accentuation.ts'
export { channelStats, layerActivations, quantizeChannels } from './inspect/activations.ts'
export { activationGridImage } from './inspect/activation-grid.ts'
export { gradientToRgb, gradientView } from './inspect/gradient-views.ts'
export type { RgbImage } from './inspect/network-input.ts'
