/**
 * Engine host: owns the DeepVis engine inside the Electron main process. At start it initializes
 * a TensorFlow.js backend and loads the embedded default model; afterwards it answers the model
 * channels of the IPC contract from that state, and disposes the model on quit.
 *
 * Start-up runs in the background: the window opens at once and each handler awaits the start.
 * A failed start (no backend, model missing or malformed) is reported by the model handlers as
 * its DeepVisError code, so the renderer can show why instead of hanging; the next call retries.
 * The run channels are delegated to a run service (src/main/run-service.ts) over the same loaded
 * model; it exists only when a history folder is given, otherwise those channels answer INTERNAL.
 * Shape: `createEngineHost(options) => EngineHost`; `host.start()`, `host.handlers`, `host.dispose()`
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { DeepVisError } from '../engine/errors.ts'
import { meanIsImage, type InputSpec } from '../engine/model/input-spec.ts'
import { initBackend, type BackendChoice, type BackendInfo } from '../engine/node/backends.ts'
import { loadModelFolder, type LoadedModel } from '../engine/node/load-model.ts'
import { PRESETS } from '../engine/params.ts'
import type { InputSpecSummary, LayerInfo, ModelInfo } from '../shared/ipc-contract.ts'
import type { PresetInfo } from '../shared/run-types.ts'
import type { IpcHandlers } from './ipc.ts'
import { createRunService, type Emit, type RunEngine, type RunService } from './run-service.ts'
import { createThumbService, type ThumbService } from './thumb-service.ts'

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
}

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
}

/** A model's identity: sha256 of its model.json bytes and its effective input spec. */
export async function modelKeyOf(loaded: LoadedModel): Promise<string> {
  const h = createHash('sha256')
  h.update(await readFile(loaded.modelJsonPath))
  h.update(JSON.stringify(summarizeInputSpec(loaded.inputSpec)))
  return h.digest('hex').slice(0, 24)
}

/** The user-facing part of the engine's input spec. */
export function summarizeInputSpec(spec: InputSpec): InputSpecSummary {
  return {
    height: spec.height,
    width: spec.width,
    channelOrder: spec.channelOrder,
    mean: meanIsImage(spec) ? 'image' : Array.from(spec.mean),
    source: spec.source,
  }
}

/** Attach the class labels to every layer with exactly one unit per label. */
export function attachLabels(layers: readonly Omit<LayerInfo, 'labels'>[], labels: readonly string[] | null): LayerInfo[] {
  return layers.map((l) => (labels && labels.length > 0 && l.units === labels.length
    ? { name: l.name, type: l.type, shape: [...l.shape], units: l.units, labels: [...labels] }
    : { name: l.name, type: l.type, shape: [...l.shape], units: l.units }))
}

/** The regularizer presets as the UI lists them (copies: the engine's table stays untouched). */
export function presetInfos(): PresetInfo[] {
  return Object.entries(PRESETS).map(([name, p]) => ({
    name,
    description: p.description,
    params: structuredClone(p.params),
  }))
}

/**
 * Create the host; nothing happens until `start()`.
 * @example const host = createEngineHost({ modelDir }); void host.start(); registerIpc(ipcMain, host.handlers, trusted)
 */
export function createEngineHost({ modelDir, backend = 'auto', missingModelHint, historyDir, thumbsDir, emit }: EngineHostOptions): EngineHost {
  let starting: Promise<Loaded | DeepVisError> | null = null
  let disposed = false
  let runService: RunService | null = null
  let thumbService: ThumbService | null = null

  async function load(): Promise<Loaded | DeepVisError> {
    try {
      const info = await initBackend(backend)
      try {
        const loaded = await loadModelFolder(modelDir)
        return { backend: info, loaded, modelKey: await modelKeyOf(loaded) }
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

  const notYet = (what: string): never => {
    throw new DeepVisError('INTERNAL', `${what} is not implemented yet`)
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
    const gone = (): DeepVisError => new DeepVisError('BAD_MODEL', 'the model was disposed (the app is quitting)')
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

  const handlers: IpcHandlers = {
    'model:info': async () => {
      const { backend: be, loaded } = await ready()
      const info: ModelInfo = {
        name: loaded.name,
        format: loaded.model.format,
        backend: be.name,
        backendDetail: be.detail,
        inputSpec: summarizeInputSpec(loaded.inputSpec),
        labelsCount: loaded.inputSpec.labels?.length ?? 0,
        path: path.dirname(loaded.modelJsonPath),
        defaultUnit: loaded.defaults.push_layer !== undefined
          ? { layer: loaded.defaults.push_layer, channel: loaded.defaults.push_channel ?? 0 }
          : null,
        inputSpecCorrected: false,
      }
      return info
    },
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
    'app:info': () => notYet('app:info'),
    'model:open': () => notYet('model:open'),
    'model:pick': () => notYet('model:pick'),
    'model:upload': () => notYet('model:upload'),
    'model:recent': () => notYet('model:recent'),
    'model:setInputSpec': () => notYet('model:setInputSpec'),
    'run:export': () => notYet('run:export'),
    'units:render': (req) => thumbs().render(req),
    'units:cancel': (jobId) => thumbs().cancel(jobId),
    'units:thumbs': (layer) => thumbs().thumbs(layer),
  }

  function dispose(): void {
    if (disposed) return
    disposed = true
    runService?.dispose()
    thumbService?.dispose()
    // A load still in flight is disposed as soon as it lands.
    void starting?.then((outcome) => {
      if (!(outcome instanceof DeepVisError)) outcome.loaded.model.dispose()
    })
  }

  return { start, handlers, dispose }
}
