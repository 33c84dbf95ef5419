/**
 * Engine host: owns the DeepVis engine inside the Electron main process. At start it initializes
 * a TensorFlow.js backend and loads the embedded default model; afterwards it answers the model
 * channels of the IPC contract from that state, and disposes the model on quit.
 *
 * Start-up runs in the background: the window opens at once and each handler awaits the start.
 * A failed start (no backend, model missing or malformed) is reported by the model handlers as
 * its DeepVisError code, so the renderer can show why instead of hanging; the next call retries.
 * The run channels are delegated to a run service (src/host/run-service.ts) over the same loaded
 * model; it exists only when a history folder is given, otherwise those channels answer INTERNAL.
 *
 * Model changes (`model:open`, `model:upload`, `model:setInputSpec`) run one at a time. Each loads
 * the new model completely first; only on success is it swapped in (the old one is disposed once the
 * thumbnail service is idle), the folder put on top of the recent-models list and `model:changed`
 * emitted. On any failure the current model stays loaded and usable and the loader's error is
 * answered. They are refused (BAD_PARAM) while a run is queued or running: that run was set up for
 * the current model (its unit, its input size) and still reads it. The run and thumbnail services
 * reach the model through `ready()`, so they see the new one (and its new modelKey) at once.
 * Uploaded models are stored under `<dataDir>/uploads/<hash>/`, the recent list in
 * `<dataDir>/recent-models.json`; `run:export` copies a stored run's result files to a folder.
 * Every option is plain data (the host can run inside a worker thread).
 * Shape: `createEngineHost(options) => EngineHost`; `host.start()`, `host.handlers`, `host.dispose()`
 * Length (~450 lines): `createEngineHost` is one closure over the loaded model, its model-change lock
 * and the services it wires; its handlers share that state, so they stay together. The pure helpers on
 * a loaded model are in ./loaded-model.ts.
 */
import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DeepVisError } from '../shared/errors.ts'
import { initBackend, type BackendChoice, type BackendInfo } from '../engine/node/index.ts'
import { loadModelFolder, type InputSpecOverrides, type LoadedModel } from '../engine/node/index.ts'
import type { AppInfo, InputSpecOverride } from '../shared/app-types.ts'
import type { EventChannel, EventMap, ModelInfo } from '../shared/ipc-contract.ts'
import type { IpcHandlers } from './ipc.ts'
import { atlasHandlers } from './atlas-service.ts'
import { adoptStagedUpload, expandHome, exportRun, storeUpload } from './model-files.ts'
import { createRecentModels, RECENT_MODELS_FILE, type RecentModels } from './recent-models.ts'
import { createRunService, type Emit, type RunEngine, type RunService } from './run-service.ts'
import { presetInfos } from './presets.ts'
import {
  attachLabels, checkSizeFits, correctionOverrides, isCorrection, modelKeyOf, reopenPath, sizeOf, summarizeInputSpec,
} from './loaded-model.ts'
import { createThumbService, type ThumbService } from './thumb-service.ts'
import { createLiveService, type LiveService } from './live-service.ts'

/** Folder under the data folder that holds the live view's top-k indexes. */
export const INDEX_SUBDIR = 'topk-index'

export interface EngineHostOptions {
  /** Folder of the model to load at start (holds model.json). */
  modelDir: string
  /** Backend to start; 'auto' picks the fastest that works here. Default 'auto'. */
  backend?: BackendChoice
  /** Hint appended to the "model missing" message, e.g. how to create the model. */
  missingModelHint?: string
  /** Folder of the run history (one sub-folder per run); without it the run channels answer INTERNAL. */
  historyDir?: string
  /** Folder of the unit-thumbnail cache. Default: `thumbs` beside the history folder. */
  thumbsDir?: string
  /** Where run events go (the app window). Default: dropped. */
  emit?: Emit
  /**
   * Which host this is, for `app:info`. Defaults: mode 'web', version from package.json,
   * canPickFolders false (the Electron main overlays `model:pick` and `run:export` with dialogs).
   */
  app?: Partial<Pick<AppInfo, 'mode' | 'version' | 'canPickFolders'>>
  /**
   * Folder of the app's data (history, thumbnails, uploads, recent-models.json). Default: the
   * folder holding the history folder; without either, uploads answer INTERNAL and the recent list
   * is not kept (it answers empty).
   */
  dataDir?: string
}

/** Folder under the data folder that holds uploaded models, one sub-folder per upload hash. */
export const UPLOADS_SUBDIR = 'uploads'
/** Appended to the input spec's source when the user corrected it. */
export const CORRECTION_SOURCE_SUFFIX = ' + user correction'
/** What the loader appends to the source when overrides were given (replaced by the suffix above). */
const LOADER_OVERRIDE_SUFFIX = ' + flags'
/** Characters of the upload hash shown in an uploaded model's name when it has no sidecar name. */
const UPLOAD_NAME_HASH_CHARS = 8
/** package.json's `name`, to find our own package.json above this file (source or bundled). */
const PACKAGE_NAME = 'deepvis-studio'
/** Folders searched upwards for package.json. */
const PACKAGE_SEARCH_DEPTH = 6
/** Version answered when package.json cannot be read. */
const UNKNOWN_VERSION = '0.0.0'

export interface EngineHost {
  /** Start the backend and load the model; idempotent, resolves (never rejects) when done. */
  start(): Promise<void>
  /** The model channels of the IPC contract, answered from the loaded model. */
  readonly handlers: IpcHandlers
  /** Free the model's tensors; later calls answer BAD_MODEL. */
  dispose(): void
}

interface Loaded {
  backend: BackendInfo
  loaded: LoadedModel
  /** See RunEngine.modelKey. */
  modelKey: string
  /** The user's input-spec correction in force (`model:setInputSpec`), null for the model's own spec. */
  correction: InputSpecOverride | null
  /** The model's own input size [height, width], before any correction. */
  ownSize: [number, number]
}

/** DeepVis Studio's version from its package.json (searched upwards from this file), else 0.0.0. */
export async function packageVersion(): Promise<string> {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < PACKAGE_SEARCH_DEPTH; i++) {
    try {
      const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version
    } catch {
      // No (readable) package.json here: look one folder up.
    }
    const up = path.dirname(dir)
    if (up === dir) break
    dir = up
  }
  return UNKNOWN_VERSION
}

export { presetInfos }
export { attachLabels, checkSizeFits, correctionOverrides, modelKeyOf, summarizeInputSpec } from './loaded-model.ts'

/** The `model:info` answer for a loaded model. */
function modelInfoOf({ backend, loaded, correction }: Loaded): ModelInfo {
  return {
    name: loaded.name,
    format: loaded.model.format,
    backend: backend.name,
    backendDetail: backend.detail,
    inputSpec: summarizeInputSpec(loaded.inputSpec),
    labelsCount: loaded.inputSpec.labels?.length ?? 0,
    path: reopenPath(loaded),
    defaultUnit: loaded.defaults.push_layer !== undefined
      ? { layer: loaded.defaults.push_layer, channel: loaded.defaults.push_channel ?? 0 }
      : null,
    inputSpecCorrected: correction !== null,
  }
}

/**
 * Create the host; nothing happens until `start()`.
 * @example const host = createEngineHost({ modelDir }); void host.start(); registerIpc(ipcMain, host.handlers, trusted)
 */
export function createEngineHost(options: EngineHostOptions): EngineHost {
  const { modelDir, backend = 'auto', missingModelHint, historyDir, thumbsDir, emit, app = {} } = options
  const dataDir = options.dataDir ?? (historyDir ? path.dirname(historyDir) : null)
  const uploadsDir = dataDir ? path.join(dataDir, UPLOADS_SUBDIR) : null
  const recent: RecentModels | null = dataDir ? createRecentModels(path.join(dataDir, RECENT_MODELS_FILE)) : null
  let starting: Promise<Loaded | DeepVisError> | null = null
  let disposed = false
  let runService: RunService | null = null
  let thumbService: ThumbService | null = null
  let liveService: LiveService | null = null
  /** The chain of model changes: each waits for the previous one. */
  let changing: Promise<unknown> = Promise.resolve()
  const gone = (): DeepVisError => new DeepVisError('BAD_MODEL', 'the model was disposed (the app is quitting)')

  async function load(): Promise<Loaded | DeepVisError> {
    try {
      const info = await initBackend(backend)
      try {
        const loaded = await loadModelFolder(modelDir)
        return { backend: info, loaded, modelKey: await modelKeyOf(loaded), correction: null, ownSize: sizeOf(loaded) }
      } catch (e) {
        if (e instanceof DeepVisError && e.code === 'BAD_MODEL' && missingModelHint) {
          return new DeepVisError('BAD_MODEL', `${e.message}. ${missingModelHint}`)
        }
        throw e
      }
    } catch (e) {
      if (e instanceof DeepVisError) return e
      return new DeepVisError('INTERNAL', `engine start failed: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  /** The run service, created on first use (which also sweeps interrupted runs from the history). */
  function runs(): RunService {
    if (!historyDir) throw new DeepVisError('INTERNAL', 'no run history folder is configured')
    runService ??= createRunService({
      historyDir,
      emit: emit ?? (() => undefined),
      engine: async (): Promise<RunEngine> => {
        const { backend: be, loaded, modelKey } = await ready()
        return { model: loaded.model, inputSpec: loaded.inputSpec, backend: be.name, modelName: loaded.name, modelKey }
      },
    })
    return runService
  }

  /** The thumbnail service, created on first use. */
  function thumbs(): ThumbService {
    const dir = thumbsDir ?? (historyDir ? path.join(path.dirname(historyDir), 'thumbs') : null)
    if (!dir) throw new DeepVisError('INTERNAL', 'no thumbnail folder is configured')
    thumbService ??= createThumbService({
      cacheDir: dir,
      emit: emit ?? (() => undefined),
      engine: async (): Promise<RunEngine> => {
        const { backend: be, loaded, modelKey } = await ready()
        return { model: loaded.model, inputSpec: loaded.inputSpec, backend: be.name, modelName: loaded.name, modelKey }
      },
    })
    return thumbService
  }

  /** The live-view service, created on first use. */
  function live(): LiveService {
    const base = dataDir ?? (historyDir ? path.dirname(historyDir) : null)
    if (!base) throw new DeepVisError('INTERNAL', 'no data folder is configured for top-k indexes')
    liveService ??= createLiveService({
      cacheDir: path.join(base, INDEX_SUBDIR),
      emit: emit ?? (() => undefined),
      engine: async (): Promise<RunEngine> => {
        const { backend: be, loaded, modelKey } = await ready()
        return { model: loaded.model, inputSpec: loaded.inputSpec, backend: be.name, modelName: loaded.name, modelKey }
      },
    })
    return liveService
  }

  function start(): Promise<void> {
    if (historyDir && !disposed) runs()
    starting ??= load()
    return starting.then((outcome) => {
      if (outcome instanceof DeepVisError) console.error(`[engine] ${outcome.code}: ${outcome.message}`)
    })
  }

  /**
   * The loaded model, or the start-up error thrown again (the IPC wrapper turns it into a code).
   * A failed start is forgotten once reported, so the next call (the UI's Retry) tries again,
   * e.g. after the default model has been trained.
   */
  async function ready(): Promise<Loaded> {
    if (disposed) throw gone()
    const attempt = (starting ??= load())
    const outcome = await attempt
    if (outcome instanceof DeepVisError) {
      if (starting === attempt) starting = null
      throw outcome
    }
    if (disposed) throw gone()
    return outcome
  }

  /** The loaded model, or null when none is (start failed or not begun); waits for a start in flight. */
  async function current(): Promise<Loaded | null> {
    const outcome = starting ? await starting : null
    return outcome instanceof DeepVisError ? null : outcome
  }

  function send<K extends EventChannel>(channel: K, payload: EventMap[K]): void {
    try {
      emit?.(channel, payload)
    } catch (e) {
      console.error(`[engine] could not send '${channel}':`, e)
    }
  }

  /** Run a model change after the previous one ended (whatever its outcome). */
  function exclusive<T>(change: () => Promise<T>): Promise<T> {
    const next = changing.catch(() => undefined).then(change)
    changing = next
    return next
  }

  function checkIdle(what: string): void {
    if (disposed) throw gone()
    if (runService?.busy()) {
      throw new DeepVisError('BAD_PARAM', `cannot ${what} while a run is queued or running: stop it (or wait for it to end) first`)
    }
  }

  /** Load a folder with the loader; an upload without a sidecar name is named after its hash. */
  async function loadFolder(folder: string, overrides: InputSpecOverrides = {}): Promise<LoadedModel> {
    const loaded = await loadModelFolder(folder, overrides)
    const dir = path.dirname(loaded.modelJsonPath)
    if (uploadsDir && path.dirname(dir) === uploadsDir && loaded.name === path.basename(dir)) {
      loaded.name = `uploaded model ${loaded.name.slice(0, UPLOAD_NAME_HASH_CHARS)}`
    }
    return loaded
  }

  /**
   * Make `next` the loaded model. The previous one is disposed once the thumbnail service is idle
   * (it may still be rendering a unit with it); runs are idle (checked by the caller).
   */
  function install(next: Loaded, previous: Loaded | null): ModelInfo {
    starting = Promise.resolve(next)
    if (previous) {
      const idle = thumbService ? thumbService.whenIdle() : Promise.resolve()
      void idle.catch(() => undefined).then(() => previous.loaded.model.dispose())
    }
    const info = modelInfoOf(next)
    send('model:changed', info)
    return info
  }

  /** Open a model folder (or model.json) as the loaded model; see the module header. */
  function openModel(modelPath: string): Promise<ModelInfo> {
    return exclusive(() => openModelNow(modelPath))
  }

  /** The body of `openModel`, for callers already inside `exclusive`. */
  async function openModelNow(modelPath: string): Promise<ModelInfo> {
    checkIdle('open another model')
    const previous = await current()
    const be = previous?.backend ?? (await initBackend(backend))
    const loaded = await loadFolder(path.resolve(expandHome(modelPath)))
    let next: Loaded
    try {
      next = { backend: be, loaded, modelKey: await modelKeyOf(loaded), correction: null, ownSize: sizeOf(loaded) }
      checkIdle('open another model')
    } catch (e) {
      loaded.model.dispose()
      throw e
    }
    const info = install(next, previous)
    await recent?.add({ path: info.path, name: info.name }).catch((e: unknown) => {
      console.error('[engine] could not update the recent-models list:', e)
    })
    return info
  }

  /**
   * Store uploaded files and open them; a folder that is not a loadable model is removed again.
   * Store, open and removal are one model change: two uploads of the same bytes share a folder, and
   * the first one's failure must not remove it while the second is opening it.
   */
  function uploadModel(files: Parameters<IpcHandlers['model:upload']>[0]): Promise<ModelInfo> {
    return exclusive(() => uploadModelNow(files))
  }

  async function uploadModelNow(files: Parameters<IpcHandlers['model:upload']>[0]): Promise<ModelInfo> {
    if (!uploadsDir) throw new DeepVisError('INTERNAL', 'no data folder is configured for uploaded models')
    checkIdle('upload a model')
    const folder = Array.isArray(files) ? await storeUpload(uploadsDir, files) : await adoptStagedUpload(uploadsDir, files.uploadId)
    try {
      return await openModelNow(folder)
    } catch (e) {
      if (e instanceof DeepVisError && (e.code === 'BAD_MODEL' || e.code === 'BAD_INPUT_SPEC')) {
        const inUse = (await current())?.loaded.modelJsonPath
        if (!inUse || path.dirname(inUse) !== folder) await rm(folder, { recursive: true, force: true }).catch(() => undefined)
        throw new DeepVisError(e.code, `the uploaded files are not a complete model: ${e.message}`)
      }
      throw e
    }
  }

  /** Reload the current model's folder with a user correction of its input spec (null: its own). */
  function setInputSpec(override: InputSpecOverride | null): Promise<ModelInfo> {
    return exclusive(async () => {
      checkIdle('change the input spec')
      const cur = await ready()
      const correction = isCorrection(override) ? override : null
      const overrides = correction ? correctionOverrides(correction, cur.ownSize, cur.loaded.inputSpec.channels) : {}
      let loaded: LoadedModel
      try {
        loaded = await loadFolder(reopenPath(cur.loaded), overrides)
      } catch (e) {
        // The same folder loaded before: a failure now comes from the new size (e.g. a flatten
        // layer cannot be built without its fixed input size).
        if (e instanceof DeepVisError && e.code === 'BAD_MODEL' && overrides.size && overrides.freeSize) {
          throw new DeepVisError('BAD_INPUT_SPEC',
            `the model cannot take a ${overrides.size[0]}x${overrides.size[1]} input (its own is ${cur.ownSize[0]}x${cur.ownSize[1]}): ${e.message}`)
        }
        throw e
      }
      let next: Loaded
      try {
        const [height, width] = sizeOf(loaded)
        if (height !== cur.ownSize[0] || width !== cur.ownSize[1]) await checkSizeFits(loaded.model, [height, width])
        if (correction) {
          loaded.inputSpec = { ...loaded.inputSpec, source: loaded.inputSpec.source.replace(LOADER_OVERRIDE_SUFFIX, '') + CORRECTION_SOURCE_SUFFIX }
        }
        next = { backend: cur.backend, loaded, modelKey: await modelKeyOf(loaded), correction, ownSize: correction ? cur.ownSize : [height, width] }
        checkIdle('change the input spec')
      } catch (e) {
        loaded.model.dispose()
        throw e
      }
      return install(next, cur)
    })
  }

  const handlers: IpcHandlers = {
    'app:info': async () => ({
      mode: app.mode ?? 'web',
      version: app.version ?? (await packageVersion()),
      canPickFolders: app.canPickFolders ?? false,
      dataDir: dataDir ?? '',
    }),
    'model:info': async () => modelInfoOf(await ready()),
    'model:layers': async () => {
      const { loaded } = await ready()
      const { height, width, labels } = loaded.inputSpec
      return attachLabels(await loaded.model.catalog([height, width]), labels)
    },
    'presets:list': () => presetInfos(),
    'run:start': async (spec) => ({ runId: await runs().start(spec) }),
    'run:stop': (runId) => runs().stop(runId),
    'runs:list': () => runs().list(),
    'runs:get': (runId) => runs().get(runId),
    'runs:delete': (runId) => runs().delete(runId),
    'model:open': (modelPath) => openModel(modelPath),
    'model:pick': () => {
      throw new DeepVisError('BAD_PARAM', "no folder dialog here: type the model folder's path or upload its files")
    },
    'model:upload': (files) => uploadModel(files),
    'model:recent': async () => (recent ? recent.list() : []),
    'model:setInputSpec': (override) => setInputSpec(override),
    'run:export': async ({ runId, folder }) => {
      if (folder === null) throw new DeepVisError('BAD_PARAM', 'choose a folder to export the run to')
      const run = await runs().get(runId)
      return exportRun(run.folder, runId, folder)
    },
    'units:render': (req) => thumbs().render(req),
    'units:cancel': (jobId) => thumbs().cancel(jobId),
    'units:thumbs': (layer) => thumbs().thumbs(layer),
    ...atlasHandlers(),
    'live:activations': (req) => live().activations(req),
    'live:gradients': (req) => live().gradients(req),
    'live:folder': (folder) => live().folder(expandHome(folder)),
    'live:image': (req) => live().image({ ...req, folder: expandHome(req.folder) }),
    'index:build': (req) => live().build({ ...req, folder: expandHome(req.folder) }),
    'index:cancel': (jobId) => live().cancel(jobId),
    'index:top': (req) => live().top({ ...req, folder: expandHome(req.folder) }),
  }

  function dispose(): void {
    if (disposed) return
    disposed = true
    runService?.dispose()
    thumbService?.dispose()
    liveService?.dispose()
    // A load still in flight is disposed as soon as it lands.
    void starting?.then((outcome) => {
      if (!(outcome instanceof DeepVisError)) outcome.loaded.model.dispose()
    })
  }

  return { start, handlers, dispose }
}
