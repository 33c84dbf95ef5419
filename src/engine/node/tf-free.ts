/**
 * The part of the engine's public surface that loads no TensorFlow.js, for the modules that run on a
 * host's main thread next to the engine worker (src/host/worker-engine-host.ts and what it imports: the
 * run store, presets, atlas and model-file services; the web server; the sweep's atlas writer). Those
 * must never load tfjs (test/host/worker-engine-host.test.ts checks it at run time, and
 * test/engine/node/tf-free.test.ts checks this module): importing src/engine/index.ts or
 * src/engine/node/index.ts would, since an ES module import evaluates every module a barrel re-exports.
 *
 * Everything here is also exported, as the same binding, by src/engine/index.ts (parameters, input
 * spec) or src/engine/node/index.ts (result files, safe reads, limits). The hosts import the engine
 * through these three files only (eslint.config.js, docs/architecture.md).
 */
export {
  DEFAULT_PARAMS, LR_POLICIES, LR_POLICY_KEYS, MAX_BLUR_RADIUS, PRESETS, START_MODES,
  getPreset, parseLrParams, presetNames, resolveParams,
  type FindParams, type LrParams, type LrPolicy, type Preset, type StartAt,
} from '../params.ts'
export { channelSwapToRgb, meanIsImage, validateInputSpec, type ChannelOrder, type InputSpec } from '../model/input-spec.ts'
export {
  ALPHA_SUFFIX, DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE, GIF_SUFFIX, INFO_JSON, INFO_TXT, RESULT_FORMAT, SNAPSHOT_SLOTS,
  checkCanWrite, encodePng, isDirectoryPrefix, renderX, renderXpm, resultPrefix, saveResults, writeFileAtomic,
} from './save-results.ts'
export * from './safe-files.ts'
export * from './limits.ts'
// Types only (erased): the backend names the web server and CLI parse.
export type { BackendChoice, BackendInfo } from './backends.ts'
