/**
 * The `deepvis` command line: `deepvis optimize ...` (every flag of DVT's optimize_image.py, same
 * names and meanings; Caffe flags become --model) and `deepvis layers` (the layer catalog).
 * Errors a user can cause print one line and exit with code 2, before any output is written.
 * Shape: `await main(argv, io) => exit code` (no process.exit inside, so tests can call it).
 */
import { Command, CommanderError, Option } from 'commander'
import { formatMagnitude } from '../shared/format.ts'
import cliProgress from 'cli-progress'
import { DeepVisError } from '../shared/errors.ts'
import {
  DEFAULT_PARAMS, DVT_PARAM_TABLE, PRESETS, getPreset, presetNames, resolveParams,
  type FindParams,
} from '../engine/index.ts'
import { addRowOptions, explicitRowValues } from './param-options.ts'
import { createRun, saveOutcome, type RunOutcome } from '../engine/node/index.ts'
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../engine/node/index.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type InputSpecOverrides } from '../engine/node/index.ts'
import { acquireModel } from './model-cache.ts'
import { checkCanWrite, resultPrefix, DEFAULT_OUTPUT_PREFIX, DEFAULT_OUTPUT_TEMPLATE } from '../engine/node/index.ts'
import { METHOD_PRESETS } from '../shared/method-params.ts'
import { addGeneralOptions, checkPreset, methodOf, runGeneral } from './general-command.ts'
import { cliExtra, formatQuality } from './run-extras.ts'
import { registerSweepCommands } from './sweep-command.ts'
import { registerWorkerCommand } from './worker-command.ts'
import { registerInspectCommands } from './inspect-commands.ts'
import {
  parseChannelSwap, parseMean, parseScalarOrTuple, parseSize,
} from './parse-values.ts'

export interface CliIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** Whether stderr is a terminal (progress bar). */
  isTTY: boolean
  /** Abort signal for Ctrl-C. */
  signal?: AbortSignal
}

const CAFFE_FLAGS = ['caffe-root', 'deploy-proto', 'net-weights'] as const


function addModelOptions(cmd: Command): Command {
  cmd
    .option('--model <path>', 'TensorFlow.js model folder or model.json (default: the embedded deepvis-shapes model)')
    .option('--backend <name>', `tfjs backend: ${BACKEND_CHOICES.join(', ')}`, 'auto')
    .option('--mean <value>', 'mean in pixel units: None, a per-channel tuple "(104,117,123)", or a mean image "\'mean.npy\'" (default: from the model\'s input spec)', parseMean)
    .option('--channel-swap-to-rgb <perm>', 'channel permutation to RGB: "(2,1,0)" for BGR networks, "(0,1,2)" for RGB (default: from the input spec)', parseChannelSwap)
    .option('--data-size <hw>', 'network input size "(H,W)" (default: from the model)', parseSize)
    .option('--input-scale <s>', 'network input = (pixel 0..255) * scale + offset: scale, scalar or per channel', (v: string) => parseScalarOrTuple('--input-scale', v))
    .option('--input-offset <o>', 'offset of that map, scalar or per channel', (v: string) => parseScalarOrTuple('--input-offset', v))
    .option('--labels <file>', 'class labels, one per line (line i+1 = unit i)')
  for (const flag of CAFFE_FLAGS) cmd.addOption(new Option(`--${flag} <value>`).hideHelp())
  return cmd
}

function rejectCaffeFlags(opts: Record<string, unknown>): void {
  for (const flag of CAFFE_FLAGS) {
    const key = flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())
    if (opts[key] !== undefined) {
      throw new DeepVisError('BAD_PARAM', `--${flag} is Caffe-only; give the network as a TensorFlow.js model with --model <folder or model.json>`)
    }
  }
}

function overridesFrom(opts: Record<string, unknown>): InputSpecOverrides {
  return {
    size: opts.dataSize as [number, number] | undefined,
    channelOrder: opts.channelSwapToRgb as InputSpecOverrides['channelOrder'],
    mean: opts.mean as InputSpecOverrides['mean'],
    scale: opts.inputScale as number | number[] | undefined,
    offset: opts.inputOffset as number | number[] | undefined,
    labelsPath: opts.labels as string | undefined,
  }
}

/** FindParams from defaults < preset < explicit flags. */
function paramsFrom(cmd: Command, defaults: { push_layer?: string; push_channel?: number }, fallbackLayer: string): FindParams {
  const opts = cmd.opts()
  const preset = opts.preset ? getPreset(opts.preset as string).params : {}
  const explicit = explicitRowValues(cmd, DVT_PARAM_TABLE) as Partial<FindParams>
  return resolveParams({
    ...DEFAULT_PARAMS,
    push_layer: defaults.push_layer ?? fallbackLayer,
    push_channel: defaults.push_channel ?? 0,
    ...preset,
    ...explicit,
  })
}

const fmt = (v: number): string => formatMagnitude(v)

async function runOptimize(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  rejectCaffeFlags(opts)
  checkPreset(opts.preset as string | undefined) // unknown preset: fail before loading anything
  const method = methodOf(cmd) // flags of the other method: fail before loading anything
  const backend = await initBackend(opts.backend as BackendChoice)
  const { loaded, release } = await acquireModel((opts.model as string | undefined) ?? DEFAULT_MODEL_DIR, overridesFrom(opts), backend.name)
  try {
    if (method !== 'dvt') return await runGeneral(cmd, io, loaded, backend)
    const lastLayer = loaded.model.layerNames[loaded.model.layerNames.length - 1]
    const params = paramsFrom(cmd, loaded.defaults, lastLayer)
    const spec = loaded.inputSpec
    // Validate the unit (and --gif-every) before anything is printed or written.
    const run = await createRun({ model: loaded.model, inputSpec: spec, backend: backend.name }, { kind: 'dvt', params },
      opts.gifEvery !== undefined ? { gif: { every: opts.gifEvery as number } } : {})
    const target = run.targets[0]
    const prefix = resultPrefix(opts.outputPrefix as string, opts.outputTemplate as string, params)
    checkCanWrite(prefix, Boolean(opts.brave))
    const unit = target.spatial ? ` at (y,x)=(${target.spatial.join(',')})` : ''
    const label = target.label ? ` "${target.label}"` : ''
    io.stderr(`deepvis: ${loaded.name} on ${backend.name} (${backend.detail}); ${params.push_dir > 0 ? 'maximizing' : 'minimizing'} ${params.push_layer}:${params.push_channel}${label}${unit}, ${params.max_iter} iterations\n`)

    const bar = io.isTTY
      ? new cliProgress.SingleBar({
        format: 'optimizing |{bar}| {value}/{total} iter | obj {obj} | {ips} it/s | eta {eta_formatted}',
        stream: process.stderr, hideCursor: true, clearOnComplete: false,
      }, cliProgress.Presets.shades_classic)
      : null
    bar?.start(params.max_iter, 0, { obj: '-', ips: '-' })
    const started = performance.now()
    const checkModel = opts.checkModel ? await loadModelFolder(opts.checkModel as string) : undefined
    let outcome: RunOutcome
    try {
      [outcome] = await run.execute({
        signal: io.signal,
        quality: { check: checkModel, flip: Boolean(opts.checkFlip) },
        onIteration: (e) => {
          const ips = (e.ii + 1) / ((performance.now() - started) / 1000)
          bar?.update(e.ii + 1, { obj: fmt(e.obj), ips: ips.toFixed(2) })
        },
      })
    } finally {
      bar?.stop()
      checkModel?.model.dispose()
    }
    const { result } = outcome
    const quality = outcome.quality!
    const files = await saveOutcome(outcome, prefix, { brave: Boolean(opts.brave), skipbig: Boolean(opts.skipbig), extra: cliExtra(loaded, backend, opts.preset as string | undefined) })
    const ms = result.series.wall_ms
    const sorted = [...ms].sort((a, b) => a - b)
    const median = sorted[Math.floor(sorted.length / 2)]
    io.stdout([
      `${result.metaResult}${result.interrupted ? ' (interrupted)' : ''}`,
      `unit ${params.push_layer}:${params.push_channel}${label}: obj ${fmt(result.series.obj[0])} -> best ${fmt(result.best!.obj)} at ii ${result.best!.ii}, last ${fmt(result.last!.obj)}`,
      result.majority ? `majority reached at ii ${result.majority.ii} (obj ${fmt(result.majority.obj)})` : 'majority never reached',
      formatQuality(quality),
      `${ms.length} iterations, median ${median.toFixed(1)} ms/iter on ${backend.name}`,
      `wrote ${files.length} files: ${prefix}*`,
      '',
    ].join('\n'))
    return result.interrupted ? 130 : 0
  } finally {
    release()
  }
}

async function runLayers(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  rejectCaffeFlags(opts)
  const backend = await initBackend(opts.backend as BackendChoice)
  const loaded = await loadModelFolder((opts.model as string | undefined) ?? DEFAULT_MODEL_DIR, overridesFrom(opts))
  try {
    const spec = loaded.inputSpec
    const catalog = await loaded.model.catalog([spec.height, spec.width])
    const labels = spec.labels
    if (opts.layer) {
      const info = await loaded.model.layerInfo(opts.layer as string, [spec.height, spec.width])
      const out = [`${info.name} (${info.type}) [${info.shape.join(', ')}], ${info.units} units`]
      for (let i = 0; i < info.units; i++) out.push(`${String(i).padStart(5)}  ${labels && labels.length === info.units ? labels[i] : ''}`.trimEnd())
      io.stdout(out.join('\n') + '\n')
      return 0
    }
    if (opts.json) {
      io.stdout(JSON.stringify({ model: loaded.modelJsonPath, backend: backend.name, input: { size: [spec.height, spec.width], channelOrder: spec.channelOrder, source: spec.source }, layers: catalog }, null, 2) + '\n')
      return 0
    }
    const shown = opts.all ? catalog : catalog.filter((l) => !l.plumbing)
    const hidden = catalog.length - shown.length
    const w = Math.max(5, ...shown.map((l) => l.name.length))
    const tw = Math.max(4, ...shown.map((l) => l.type.length))
    const lines = [
      `${loaded.name}: ${loaded.model.format}, input ${spec.height}x${spec.width} ${spec.channelOrder} (spec: ${spec.source}), backend ${backend.name}`,
      `${'layer'.padEnd(w)}  ${'type'.padEnd(tw)}  ${'output shape'.padEnd(16)}  units`,
    ]
    for (const l of shown) {
      const classNote = labels && labels.length === l.units ? `  labels: ${labels.slice(0, 3).join(', ')}, ...` : ''
      lines.push(`${l.name.padEnd(w)}  ${l.type.padEnd(tw)}  ${`[${l.shape.join(', ')}]`.padEnd(16)}  ${String(l.units).padStart(5)}${classNote}`)
    }
    if (hidden) lines.push(`(${hidden} plumbing layers hidden: reshape, transpose, gather...; --all lists them)`)
    io.stdout(lines.join('\n') + '\n')
    return 0
  } finally {
    loaded.model.dispose()
  }
}

function buildProgram(io: CliIo, run: (p: Promise<number>) => void): Command {
  const program = new Command('deepvis')
    .description('DeepVis Studio: synthesize the image that most (or least) activates a unit of a CNN')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .showSuggestionAfterError(true)

  const optimize = addModelOptions(program.command('optimize').description(
    'DVT optimize_image.py: gradient ascent on the input with regularizers (Yosinski et al. 2015)'))
    .addOption(new Option('--preset <name>', `regularizer preset (explicit flags override it): ${[
      ...presetNames().map((n) => `${n} = ${PRESETS[n].description}`),
      ...Object.entries(METHOD_PRESETS).map(([n, p]) => `${n} = ${p.description} (implies --method ${p.params.method ?? 'lucid'})`),
    ].join('; ')}`))
  addRowOptions(optimize, DVT_PARAM_TABLE)
  optimize
    .option('--output-prefix <prefix>', 'output path and filename prefix', DEFAULT_OUTPUT_PREFIX)
    .option('--output-template <tmpl>', 'output filename template (keys p.<param>)', DEFAULT_OUTPUT_TEMPLATE)
    .option('--brave', 'allow overwriting existing results', false)
    .option('--skipbig', 'skip the .npy arrays (x0, best, last, majority)', false)
  addGeneralOptions(optimize)
  optimize.action(() => run(runOptimize(optimize, io)))

  const layers = addModelOptions(program.command('layers').description('list the layers (graph nodes) of a model with output shapes and unit counts'))
    .option('--layer <name>', 'list the units of one layer, with class labels where known')
    .option('--json', 'machine-readable output', false)
    .option('--all', 'also list plumbing layers (reshapes, gathers... of ONNX models), hidden by default', false)
  layers.action(() => run(runLayers(layers, io)))
  registerSweepCommands(program, io, run)
  registerWorkerCommand(program, io, run)
  registerInspectCommands(program, io, run)
  return program
}

/** Run the CLI on `argv` (without node and script); returns the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let pending: Promise<number> | null = null
  const program = buildProgram(io, (p) => { pending = p })
  try {
    if (argv.length === 0) {
      io.stdout(program.helpInformation())
      return 2
    }
    await program.parseAsync(argv, { from: 'user' })
    return pending ? await pending : 0
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0
      io.stderr(`deepvis: ${err.message.replace(/^error: /, '').split('\n').join(' ')}\n`)
      return 2
    }
    if (err instanceof DeepVisError) {
      io.stderr(`deepvis: error: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`)
      return err.code === 'INTERNAL' ? 1 : 2
    }
    // A genuine bug: one line; the stack only with DEEPVIS_DEBUG=1.
    const detail = process.env.DEEPVIS_DEBUG === '1' ? ((err as Error).stack ?? String(err)) : (err instanceof Error ? err.message.split('\n')[0] : String(err))
    io.stderr(`deepvis: internal error (a bug; DEEPVIS_DEBUG=1 shows the stack): ${detail}\n`)
    return 1
  }
}
