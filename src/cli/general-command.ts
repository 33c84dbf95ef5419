/**
 * `deepvis optimize --method lucid ...`: the flags of the general methods (methods/general.ts), their
 * checks against DVT-only flags, and the run (the engine's run pipeline, src/engine/node/run-pipeline.ts,
 * as DVT's: the same result files).
 * Shape: `addGeneralOptions(cmd)`; `methodOf(cmd)`; `await runGeneral(cmd, io, loaded, backend) => exit code`.
 */
import { Command, Option } from 'commander'
import { DeepVisError } from '../shared/errors.ts'
import { DEFAULT_PARAMS, DVT_PARAM_TABLE, PRESETS, presetNames, type FindParams } from '../engine/index.ts'
import { addRowOptions, optionKey, ownFlags } from './param-options.ts'
import { GENERAL_FLAG_TABLE } from '../shared/general-param-table.ts'
import { defaultObjectiveText, resolveGeneralParams } from '../engine/index.ts'
import { imageReferences, maskNames, parseObjective } from '../engine/index.ts'
import type { LoadedModel } from '../engine/node/index.ts'
import { createRun, saveOutcome, type RunOutcome } from '../engine/node/index.ts'
import { checkCanWrite, isDirectoryPrefix, renderX, resultPrefix, writeFileAtomic } from '../engine/node/index.ts'
import { existsSync } from 'node:fs'
import sharp from 'sharp'
import {
  DEFAULT_GENERAL_PARAMS, METHOD_PRESETS, type GeneralParams,
} from '../shared/method-params.ts'
import { parseInteger } from './parse-values.ts'
import { CHECK_AUGMENTATIONS, cliExtra, formatQuality, IterationLog } from './run-extras.ts'
import { loadModelFolder } from '../engine/node/index.ts'
import { METHODS as METHOD_DEFINITIONS, methodNames } from '../engine/index.ts'
import { formatMagnitude } from '../shared/format.ts'

/** The methods --method accepts: the registry's, DVT's loop first. */
export const METHODS: readonly string[] = methodNames()

/** Flags (commander keys) that only DVT's loop reads: the rows of its table the general methods do not share. */
const DVT_ONLY = ownFlags(DVT_PARAM_TABLE)

/** Flags (commander keys) that only the general methods read, with their GeneralParams field: GENERAL_FLAG_TABLE's rows. */
const GENERAL_ONLY: Record<string, [string, keyof GeneralParams]> = Object.fromEntries(
  GENERAL_FLAG_TABLE.map((r) => [optionKey(r.flag), [r.flag, r.key as keyof GeneralParams]]),
)
/** Shared flags (DVT name) that the general methods read too. */
const SHARED: Record<string, keyof GeneralParams> = { maxIter: 'max_iter', randSeed: 'rand_seed' }

/** Every --preset name: DVT's Table-1 presets and the method presets. */
export function allPresetNames(): string[] {
  return [...presetNames(), ...Object.keys(METHOD_PRESETS)]
}

/** Throw the one-line error for an unknown preset. */
export function checkPreset(name: string | undefined): void {
  if (name !== undefined && !PRESETS[name] && !METHOD_PRESETS[name]) {
    throw new DeepVisError('BAD_PARAM', `unknown preset '${name}'; available: ${allPresetNames().join(', ')}`)
  }
}

/** Add the general methods' flags to `optimize`. */
export function addGeneralOptions(cmd: Command): Command {
  const int = (flag: string) => (v: string): number => parseInteger(flag, v)
  cmd.addOption(new Option('--method <name>', `optimization method: ${METHOD_DEFINITIONS.map((m) => m.summary).join(', ')}; flags below`).choices([...METHODS]))
  addRowOptions(cmd, GENERAL_FLAG_TABLE, { defaults: false })
  return cmd
    .option('--mask <file>', 'general methods: maximize sum(w * a) over --push-layer with per-unit weights from a .npy of the layer\'s shape (H x W x C, or C: weights of the channel means); same as --objective "mask(layer, \'file\')"')
    .option('--print-every <n>', 'general methods: print the loss (activation, penalty) every n iterations to stdout', int('--print-every'))
    .option('--save-every <n>', 'general methods: write <prefix>iter_<ii>.png (the image plus the mean) every n iterations', int('--save-every'))
    .option('--check-flip', 'with --check-model: flip half of the views left-right (off by default: flips change orientation classes)')
    .option('--grid-channels <list>', 'general methods: optimize each channel of the list (e.g. 0-15 or 0,3,7) of --push-layer and write <prefix><layer>_grid.png of their best images')
    .option('--gif-every <n>', 'every method: write <prefix>optimization.gif with one frame every n iterations', int('--gif-every'))
    .option('--check-model <dir>', `every method: score the best image for the target class with a second model (${CHECK_AUGMENTATIONS} seeded views; same classes)`)
}

/** The method a command line asks for: --method, else the method preset's, else dvt; rejects flags of the other kind. */
export function methodOf(cmd: Command): string {
  const opts = cmd.opts()
  const preset = opts.preset as string | undefined
  checkPreset(preset)
  const fromPreset = preset && METHOD_PRESETS[preset] ? (METHOD_PRESETS[preset].params.method ?? 'lucid') : preset ? 'dvt' : undefined
  const method = (opts.method as string | undefined) ?? fromPreset ?? 'dvt'
  if (fromPreset && fromPreset !== method) {
    throw new DeepVisError('BAD_PARAM', `--preset ${preset} is a ${fromPreset} preset but --method is ${method}`)
  }
  const given = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli'
  if (method === 'dvt') {
    for (const [key, flag] of [['gridChannels', '--grid-channels'], ['mask', '--mask'], ['printEvery', '--print-every'], ['saveEvery', '--save-every']] as const) {
      if (given(key)) throw new DeepVisError('BAD_PARAM', `${flag} applies to the general methods only (e.g. --method normstep)`)
    }
    for (const [key, [flag]] of Object.entries(GENERAL_ONLY)) {
      if (given(key)) throw new DeepVisError('BAD_PARAM', `${flag} applies to the general methods only (--method lucid, dnnbrain, normstep; this run uses DVT's method)`)
    }
  } else {
    for (const [key, flag] of Object.entries(DVT_ONLY)) {
      if (given(key)) throw new DeepVisError('BAD_PARAM', `${flag} is a DVT flag; --method ${method} does not use it (see --objective, --lr, --transforms)`)
    }
  }
  return method
}

/** GeneralParams from defaults < method preset < explicit flags (objective: --objective, else --push-layer/--push-channel, else the model's default). */
export function generalParamsFrom(cmd: Command, loaded: LoadedModel): GeneralParams {
  const opts = cmd.opts()
  const preset = opts.preset && METHOD_PRESETS[opts.preset as string] ? METHOD_PRESETS[opts.preset as string].params : {}
  const explicit: Partial<GeneralParams> = {}
  const given = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli'
  for (const [key, [, field]] of Object.entries(GENERAL_ONLY)) if (given(key)) (explicit as Record<string, unknown>)[field] = opts[key]
  for (const [key, field] of Object.entries(SHARED)) if (given(key)) (explicit as Record<string, unknown>)[field] = opts[key]
  if (given('method')) explicit.method = opts.method as GeneralParams['method']
  if (given('generator')) explicit.param = 'generator'
  const params: GeneralParams = { ...DEFAULT_GENERAL_PARAMS, ...preset, ...explicit }
  if (opts.mask !== undefined) {
    if (given('objective')) throw new DeepVisError('BAD_PARAM', '--mask and --objective both name the target: give one (or write mask(layer, \'file\') in --objective)')
    const names = loaded.model.layerNames
    const layer = (opts.pushLayer as string | undefined) ?? loaded.defaults.push_layer ?? names[names.length - 1]
    params.objective = `mask(${JSON.stringify(layer)}, ${JSON.stringify(opts.mask as string)})`
  } else if (!params.objective) {
    const names = loaded.model.layerNames
    const layer = (opts.pushLayer as string | undefined) ?? loaded.defaults.push_layer ?? names[names.length - 1]
    const channel = (opts.pushChannel as number | undefined) ?? loaded.defaults.push_channel ?? 0
    params.objective = defaultObjectiveText(layer, channel)
  } else if (given('pushLayer') || given('pushChannel')) {
    throw new DeepVisError('BAD_PARAM', '--objective and --push-layer/--push-channel both name the target: give one')
  }
  return params
}


const fmt = (v: number): string => formatMagnitude(v)

/** The DVT-style params the output template sees (the objective's first unit, seed, iterations), before the run. */
function templateParams(params: GeneralParams): FindParams {
  const placeholder = { data: new Float32Array(1), shape: [1] }
  const references: Record<string, Record<string, typeof placeholder>> = {}
  for (const r of imageReferences(params.objective)) references[r.name] = { ...(references[r.name] ?? {}), [r.layer]: placeholder }
  const leaf = parseObjective(params.objective, { masks: Object.fromEntries(maskNames(params.objective).map((m) => [m, placeholder])), references }).leaves[0].leaf
  return {
    ...DEFAULT_PARAMS, start_at: 'mean', rand_seed: params.rand_seed, push_layer: leaf.layer,
    push_channel: leaf.kind === 'channel' || leaf.kind === 'neuron' ? leaf.channel : 0, push_spatial: leaf.kind === 'neuron' ? leaf.spatial : null,
    lr_policy: 'constant', lr_params: { lr: params.lr }, max_iter: params.max_iter,
  }
}

/** Run a general method and write one result per image (`<prefix>img<i>_...` when the batch has several). */
export async function runGeneral(
  cmd: Command, io: { stdout: (t: string) => void; stderr: (t: string) => void; signal?: AbortSignal },
  loaded: LoadedModel, backend: { name: string; detail: string },
): Promise<number> {
  const opts = cmd.opts()
  if (opts.gridChannels !== undefined) return runGrid(cmd, io, loaded, backend)
  const params = resolveGeneralParams(generalParamsFrom(cmd, loaded))
  // Names and the overwrite check before any work; layer/unit errors come from the engine before its first iteration.
  const base = resultPrefix(opts.outputPrefix as string, opts.outputTemplate as string, templateParams(params))
  const prefixes = Array.from({ length: params.batch_size }, (_, i) => (params.batch_size > 1 ? `${base}img${i}_` : base))
  for (const p of prefixes) checkCanWrite(p, Boolean(opts.brave))
  // --print-every / --save-every checked first, as before the pipeline.
  const log = new IterationLog({ printEvery: opts.printEvery as number | undefined, saveEvery: opts.saveEvery as number | undefined, prefixes, spec: loaded.inputSpec, stdout: io.stdout })
  // The one run pipeline: masks, objective and layers validated, images and spectrum read, before any work.
  const run = await createRun({ model: loaded.model, inputSpec: loaded.inputSpec, backend: backend.name }, { kind: 'general', params },
    opts.gifEvery !== undefined ? { gif: { every: opts.gifEvery as number } } : {})
  const checkModel = opts.checkModel ? await loadModelFolder(opts.checkModel as string) : undefined
  io.stderr(`deepvis: ${loaded.name} on ${backend.name} (${backend.detail}); ${params.method}: maximizing ${params.objective}, ${params.max_iter} iterations, ${params.batch_size} image(s)\n`)
  const written: string[] = []
  let outcomes: RunOutcome[]
  try {
    outcomes = await run.execute({
      signal: io.signal, quality: { check: checkModel, flip: Boolean(opts.checkFlip) },
      onIteration: (e) => log.onIteration(e),
    })
  } finally {
    checkModel?.model.dispose()
  }
  for (const outcome of outcomes) {
    const i = outcome.imageIndex
    const r = outcome.result
    written.push(...await saveOutcome(outcome, prefixes[i], { brave: Boolean(opts.brave), skipbig: Boolean(opts.skipbig), extra: cliExtra(loaded, backend, opts.preset as string | undefined) }))
    const label = r.target.label ? ` "${r.target.label}"` : ''
    io.stdout(`image ${i}: ${r.method!.objective}${label}: obj ${fmt(r.series.obj[0])} -> best ${fmt(r.best!.obj)} at ii ${r.best!.ii}, last ${fmt(r.last!.obj)}; ${r.majority ? `majority at ii ${r.majority.ii}` : 'majority not reached (or not a single unit)'}\n`)
    io.stdout(`image ${i}: ${formatQuality(outcome.quality!)}\n`)
  }
  io.stdout(`wrote ${written.length + log.written.length} files: ${prefixes.map((p) => `${p}*`).join(' ')}\n`)
  return outcomes[0].result.interrupted ? 130 : 0
}

/** Channels of a grid optimized together in one batch. */
const GRID_BATCH = 16
/** Largest number of channels in a grid. */
const MAX_GRID = 256

/** Channels of a --grid-channels list: `a-b` ranges and single integers separated by commas. */
export function parseChannelList(text: string): number[] {
  const out: number[] = []
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    if (!m) throw new DeepVisError('BAD_PARAM', `--grid-channels: '${part}' is not a channel or a range a-b (e.g. 0-15 or 0,3,7)`)
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    if (b < a) throw new DeepVisError('BAD_PARAM', `--grid-channels: range ${a}-${b} is empty`)
    for (let c = a; c <= b; c++) out.push(c)
    if (out.length > MAX_GRID) throw new DeepVisError('BAD_PARAM', `--grid-channels: at most ${MAX_GRID} channels`)
  }
  return [...new Set(out)]
}

/** Tiles (RGB HWC bytes, h x w each) composed row-major into a grid of `cols` columns with a 1-pixel white gap. */
export function composeGrid(tiles: Uint8Array[], h: number, w: number, cols: number): { rgb: Uint8Array; width: number; height: number } {
  const GAP = 1
  const WHITE = 255
  const rows = Math.ceil(tiles.length / cols)
  const width = cols * w + (cols - 1) * GAP
  const height = rows * h + (rows - 1) * GAP
  const rgb = new Uint8Array(width * height * 3).fill(WHITE)
  tiles.forEach((t, i) => {
    const y0 = Math.floor(i / cols) * (h + GAP)
    const x0 = (i % cols) * (w + GAP)
    for (let y = 0; y < h; y++) rgb.set(t.subarray(y * w * 3, (y + 1) * w * 3), ((y0 + y) * width + x0) * 3)
  })
  return { rgb, width, height }
}

/**
 * The grid's file, named like the results beside it (resultPrefix): `<dir>/<layer>_grid.png` for a
 * folder prefix, else `<prefix>_<layer>_grid.png` (e.g. optimize_results/opt_conv3_grid.png).
 */
export function gridFileOf(outputPrefix: string, layer: string): string {
  const name = `${layer.replace(/\//g, '_')}_grid.png`
  return isDirectoryPrefix(outputPrefix) ? `${outputPrefix.replace(/[\\/]+$/, '')}/${name}` : `${outputPrefix}_${name}`
}

/** --grid-channels: the channels of --push-layer optimized in batches of GRID_BATCH, one objective per image (each result saved as usual), then the grid of their best images. */
async function runGrid(
  cmd: Command, io: { stdout: (t: string) => void; stderr: (t: string) => void; signal?: AbortSignal },
  loaded: LoadedModel, backend: { name: string; detail: string },
): Promise<number> {
  const opts = cmd.opts()
  const channels = parseChannelList(opts.gridChannels as string)
  if (cmd.getOptionValueSource('objective') === 'cli') throw new DeepVisError('BAD_PARAM', '--grid-channels takes the layer from --push-layer; do not give --objective')
  const names = loaded.model.layerNames
  const layer = (opts.pushLayer as string | undefined) ?? loaded.defaults.push_layer ?? names[names.length - 1]
  const base = generalParamsFrom(cmd, loaded)
  const all = channels.map((c) => resolveGeneralParams({ ...base, objective: defaultObjectiveText(layer, c), batch_size: 1 }))
  const prefixes = all.map((p) => resultPrefix(opts.outputPrefix as string, opts.outputTemplate as string, templateParams(p)))
  const gridFile = gridFileOf(opts.outputPrefix as string, layer)
  for (const p of prefixes) checkCanWrite(p, Boolean(opts.brave))
  if (!opts.brave && existsSync(gridFile)) throw new DeepVisError('BAD_PARAM', `'${gridFile}' exists; pass --brave to overwrite`)
  const size: [number, number] = [loaded.inputSpec.height, loaded.inputSpec.width]
  const engine = { model: loaded.model, inputSpec: loaded.inputSpec, backend: backend.name }
  // One run per GRID_BATCH channels (one batch, each image with its own channel objective; one forward/backward per step for the chunk), all validated first.
  const runs = []
  for (let start = 0; start < all.length; start += GRID_BATCH) {
    const chunk = all.slice(start, start + GRID_BATCH)
    runs.push({ start, run: await createRun(engine, { kind: 'general', params: chunk[0], objectives: chunk.map((p) => p.objective) }) })
  }
  io.stderr(`deepvis: ${loaded.name} on ${backend.name}; ${base.method}: grid of ${channels.length} channels of ${layer}, ${base.max_iter} iterations each\n`)
  const tiles: Uint8Array[] = []
  for (const { start, run } of runs) {
    const outcomes = await run.execute({ signal: io.signal })
    for (const { imageIndex: k, result: r, quality } of outcomes) {
      const i = start + k
      await saveOutcome(outcomes[k], prefixes[i], { brave: Boolean(opts.brave), skipbig: Boolean(opts.skipbig) })
      tiles.push(renderX(r.best!.x, loaded.inputSpec))
      io.stdout(`channel ${channels[i]}: best ${fmt(r.best!.obj)} at ii ${r.best!.ii}; ${formatQuality(quality!)}\n`)
    }
    if (outcomes[0].result.interrupted) return 130
  }
  const cols = Math.ceil(Math.sqrt(tiles.length))
  const g = composeGrid(tiles, size[0], size[1], cols)
  const png = await sharp(Buffer.from(g.rgb), { raw: { width: g.width, height: g.height, channels: 3 } }).png().toBuffer()
  await writeFileAtomic(gridFile, png)
  io.stdout(`wrote ${gridFile} (${cols} columns) and ${prefixes.length} results\n`)
  return 0
}
