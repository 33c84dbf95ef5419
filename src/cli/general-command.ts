/**
 * `deepvis optimize --method lucid ...`: the flags of the general methods (methods/general.ts), their
 * checks against DVT-only flags, and the run (results written by saveResults, the same files as DVT).
 * Shape: `addGeneralOptions(cmd)`; `methodOf(cmd)`; `await runGeneral(cmd, io, loaded, backend) => exit code`.
 */
import { Command, Option } from 'commander'
import { DeepVisError } from '../shared/errors.ts'
import { DEFAULT_PARAMS, DVT_PARAM_TABLE, PRESETS, presetNames, type FindParams } from '../engine/index.ts'
import { addRowOptions, optionKey, ownFlags } from './param-options.ts'
import { GENERAL_FLAG_TABLE } from '../shared/general-param-table.ts'
import { defaultObjectiveText, optimizeGeneralBatch, resolveGeneralParams } from '../engine/index.ts'
import { imageReferences, maskNames, parseObjective, validateObjective } from '../engine/index.ts'
import type { LoadedModel } from '../engine/node/index.ts'
import { readGeneratorArtifacts, readMasks } from '../engine/node/index.ts'
import type { GeneralIterationEvent, GeneralOptions } from '../engine/index.ts'
import { loadNaturalSpectrum } from '../engine/node/index.ts'
import { readRgbImage } from '../engine/node/index.ts'
import type { AccentuationImage as RgbImage } from '../engine/index.ts'
import { checkCanWrite, isDirectoryPrefix, renderX, resultPrefix, saveResults, writeFileAtomic } from '../engine/node/index.ts'
import { existsSync } from 'node:fs'
import sharp from 'sharp'
import {
  DEFAULT_GENERAL_PARAMS, METHOD_PRESETS, type GeneralParams,
} from '../shared/method-params.ts'
import { parseInteger } from './parse-values.ts'
import { CHECK_AUGMENTATIONS, formatQuality, GifFrames, IterationLog, qualityOf } from './run-extras.ts'
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

/** What a method reads besides the model: maco's natural-image spectrum, accentuation's seed image. */
async function methodInputs(params: GeneralParams): Promise<Partial<GeneralOptions>> {
  const images: Record<string, RgbImage> = {}
  for (const r of imageReferences(params.objective)) images[r.name] ??= await readRgbImage(r.name)
  const withImages = Object.keys(images).length > 0 ? { images } : {}
  if (params.method === 'maco') return { spectrum: await loadNaturalSpectrum(), ...withImages }
  if (params.method === 'accentuation') {
    if (!params.image) throw new DeepVisError('BAD_PARAM', 'method accentuation starts from an image: give --image FILE')
    return { seedImage: await readRgbImage(params.image), ...withImages }
  }
  return withImages
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
  const size: [number, number] = [loaded.inputSpec.height, loaded.inputSpec.width]
  const masks = readMasks(params.objective)
  // Objectives that compare with an image are checked by the engine once it has the image's activations.
  if (imageReferences(params.objective).length === 0) await validateObjective(parseObjective(params.objective, { masks }), (l) => loaded.model.layerInfo(l, size))
  if (params.diversity > 0 && params.diversity_layer) await loaded.model.layerInfo(params.diversity_layer, size)
  const gif = opts.gifEvery !== undefined ? new GifFrames(opts.gifEvery as number, loaded.inputSpec) : null
  const log = new IterationLog({ printEvery: opts.printEvery as number | undefined, saveEvery: opts.saveEvery as number | undefined, prefixes, spec: loaded.inputSpec, stdout: io.stdout })
  const inputs = await methodInputs(params)
  const checkModel = opts.checkModel ? await loadModelFolder(opts.checkModel as string) : undefined
  io.stderr(`deepvis: ${loaded.name} on ${backend.name} (${backend.detail}); ${params.method}: maximizing ${params.objective}, ${params.max_iter} iterations, ${params.batch_size} image(s)\n`)
  try {
    const results = await optimizeGeneralBatch(loaded.model, loaded.inputSpec, params, {
      backend: backend.name, signal: io.signal, masks, readGenerator: readGeneratorArtifacts, ...inputs,
      onIteration: async (e: GeneralIterationEvent) => { await gif?.onIteration(e); await log.onIteration(e) },
    })
    const qualities = []
    for (const r of results) qualities.push(await qualityOf(loaded.model, loaded.inputSpec, r, { check: checkModel, seed: params.rand_seed, flip: Boolean(opts.checkFlip) }))
    return await writeGeneral(results, qualities, gif, log, prefixes, cmd, io, loaded, backend)
  } finally {
    checkModel?.model.dispose()
  }
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
  for (const p of all) await validateObjective(parseObjective(p.objective), (l) => loaded.model.layerInfo(l, size))
  io.stderr(`deepvis: ${loaded.name} on ${backend.name}; ${base.method}: grid of ${channels.length} channels of ${layer}, ${base.max_iter} iterations each\n`)
  const tiles: Uint8Array[] = []
  // One batch per GRID_BATCH channels, each image with its own channel objective (one forward/backward per step for the chunk).
  for (let start = 0; start < all.length; start += GRID_BATCH) {
    const chunk = all.slice(start, start + GRID_BATCH)
    const results = await optimizeGeneralBatch(loaded.model, loaded.inputSpec, { ...chunk[0], batch_size: chunk.length }, {
      backend: backend.name, signal: io.signal, objectives: chunk.map((p) => p.objective), ...(await methodInputs(chunk[0])),
    })
    for (const [k, r] of results.entries()) {
      const i = start + k
      const q = await qualityOf(loaded.model, loaded.inputSpec, r, { seed: all[i].rand_seed })
      await saveResults(r, prefixes[i], { brave: Boolean(opts.brave), skipbig: Boolean(opts.skipbig), quality: { ...q } })
      tiles.push(renderX(r.best!.x, loaded.inputSpec))
      io.stdout(`channel ${channels[i]}: best ${fmt(r.best!.obj)} at ii ${r.best!.ii}; ${formatQuality(q)}\n`)
    }
    if (results[0].interrupted) return 130
  }
  const cols = Math.ceil(Math.sqrt(tiles.length))
  const g = composeGrid(tiles, size[0], size[1], cols)
  const png = await sharp(Buffer.from(g.rgb), { raw: { width: g.width, height: g.height, channels: 3 } }).png().toBuffer()
  await writeFileAtomic(gridFile, png)
  io.stdout(`wrote ${gridFile} (${cols} columns) and ${prefixes.length} results\n`)
  return 0
}

async function writeGeneral(
  results: Awaited<ReturnType<typeof optimizeGeneralBatch>>, qualities: Awaited<ReturnType<typeof qualityOf>>[], gif: GifFrames | null, log: IterationLog | null,
  prefixes: string[], cmd: Command, io: { stdout: (t: string) => void }, loaded: LoadedModel, backend: { name: string; detail: string },
): Promise<number> {
  const opts = cmd.opts()
  const written: string[] = []
  for (const [i, r] of results.entries()) {
    const files = await saveResults(r, prefixes[i], {
      brave: Boolean(opts.brave), skipbig: Boolean(opts.skipbig), quality: { ...qualities[i] }, gif: gif ? await gif.encode(i) : undefined,
      extra: {
        model: { path: loaded.modelJsonPath, name: loaded.name, format: loaded.model.format, notes: loaded.model.notes },
        backend_detail: backend.detail, preset: (opts.preset as string | undefined) ?? null,
      },
    })
    written.push(...files)
    const label = r.target.label ? ` "${r.target.label}"` : ''
    io.stdout(`image ${i}: ${r.method!.objective}${label}: obj ${fmt(r.series.obj[0])} -> best ${fmt(r.best!.obj)} at ii ${r.best!.ii}, last ${fmt(r.last!.obj)}; ${r.majority ? `majority at ii ${r.majority.ii}` : 'majority not reached (or not a single unit)'}\n`)
    io.stdout(`image ${i}: ${formatQuality(qualities[i])}\n`)
  }
  io.stdout(`wrote ${written.length + (log?.written.length ?? 0)} files: ${prefixes.map((p) => `${p}*`).join(' ')}\n`)
  return results[0].interrupted ? 130 : 0
}
