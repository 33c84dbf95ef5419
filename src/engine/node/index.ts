/**
 * The engine's Node side, as the hosts (CLI, host services, web server, sweep) see it: model folders and
 * backends, image and mask files, result files, the top-k index and montages, quality read-outs. The
 * portable engine (optimization, methods, models, inspection) is src/engine/index.ts; the subset of both
 * that loads no TensorFlow.js, for a host's main thread, is ./tf-free.ts. Hosts import the engine through
 * these three files only (eslint.config.js enforces it).
 */
export {
  ALPHA_SUFFIX, DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE, GIF_SUFFIX, INFO_JSON, INFO_TXT, RESULT_FORMAT, SNAPSHOT_SLOTS,
  checkCanWrite, dvtParamsOf, encodePng, isDirectoryPrefix, renderX, renderXpm, resultPrefix, saveResults, writeFileAtomic,
} from './save-results.ts'
export {
  createRun, resolvePlan, saveOutcome, type GifOption, type PipelineEngine, type PipelineIterationEvent, type ResolvedPlan, type Run,
  type RunIo, type RunOptions, type RunOutcome, type RunPlan, type SaveOutcomeOptions,
} from './run-pipeline.ts'
export { GifFrames } from './gif-frames.ts'
export * from './safe-files.ts'
export * from './limits.ts'
export { BACKEND_CHOICES, initBackend, type BackendChoice, type BackendInfo } from './backends.ts'
export { encodeGif } from './gif.ts'
export { isImageName, listImages, readImageFile } from './image-file.ts'
export { DEFAULT_MODEL_DIR, SIDECAR_NAME, loadModelFolder, resolveModelJson, type InputSpecOverrides, type LoadedModel } from './load-model.ts'
export { isOnnxPath } from './load-onnx.ts'
export { readGeneratorArtifacts, readMasks } from './method-files.ts'
export { loadNaturalSpectrum } from './natural-spectrum.ts'
export { encodeNpy } from './npy.ts'
export { CHECK_AUGMENTATIONS, qualityOf, type HeldOut, type Quality } from './quality-readout.ts'
export { readRgbImage } from './read-image.ts'
export { writeStimulusFolder } from './stimulus-folder.ts'
export {
  DEFAULT_INDEX_BATCH, DEFAULT_TOP_K, buildTopKIndex, indexKey, modelKeyForIndex, readTopKIndex, topEntries, type TopKIndexFile,
} from './topk-index.ts'
export { DEFAULT_TILE_PX, entryCrop, topkMontage } from './topk-montage.ts'
