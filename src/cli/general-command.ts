/**
 * `deepvis optimize --method lucid ...`: the flags of the general methods (methods/general.ts), their
 * checks against DVT-only flags, and the run (results written by saveResults, the same files as DVT).
 * Shape: `addGeneralOptions(cmd)`; `methodOf(cmd)`; `await runGeneral(cmd, io, loaded, backend) => exit code`.
 */
import { Command, Option } from 'commander'
import { DeepVisError } from '../engine/errors.ts'
import { DEFAULT_PARAMS, PRESETS, presetNames, type FindParams } from '../engine/params.ts'
import { defaultObjectiveText, optimizeGeneralBatch, resolveGeneralParams } from '../engine/methods/general.ts'
import { parseObjective, validateObjective } from '../engine/methods/objectives.ts'
import type { LoadedModel } from '../engine/node/load-model.ts'
import { checkCanWrite, resultPrefix, saveResults } from '../engine/node/save-results.ts'
import {
  DEFAULT_GENERAL_PARAMS, GENERAL_METHODS, IMAGE_PARAMS, METHOD_PRESETS, type GeneralParams,
} from '../shared/method-params.ts'
import { parseInteger, parseNumber } from './parse-values.ts'

/** The methods --method accepts: DVT's loop plus the general ones. */
export const METHODS = ['dvt', ...GENERAL_METHODS] as const

/** Flags (commander keys) that only DVT's loop reads. */
const DVT_ONLY = {
  startAt: '--start-at', pushSpatial: '--push-spatial', pushDir: '--push-dir', decay: '--decay', blurRadius: '--blur-radius',
  blurEvery: '--blur-every', smallValPercentile: '--small-val-percentile', smallNormPercentile: '--small-norm-percentile',
  pxBenefitPercentile: '--px-benefit-percentile', pxAbsBenefitPercentile: '--px-abs-benefit-percentile',
  lrPolicy: '--lr-policy', lrParams: '--lr-params',
} as const

/** Flags (commander keys) that only the general methods read, with their GeneralParams field. */
const GENERAL_ONLY: Record<string, [string, keyof GeneralParams]> = {
  objective: ['--objective', 'objective'], param: ['--param', 'param'], decorrelate: ['--no-decorrelate', 'decorrelate'],
  transforms: ['--transforms', 'transforms'], lr: ['--lr', 'lr'], batchSize: ['--batch-size', 'batch_size'],
  diversity: ['--diversity', 'diversity'], diversityLayer: ['--diversity-layer', 'diversity_layer'],
  reluOverrideSteps: ['--relu-override-steps', 'relu_override_steps'],
}
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
  const num = (flag: string) => (v: string): number => parseNumber(flag, v)
  const int = (flag: string) => (v: string): number => parseInteger(flag, v)
  return cmd
    .addOption(new Option('--method <name>', 'optimization method: dvt (Yosinski et al. 2015, the default) or lucid (Olah et al. 2017; flags below)').choices([...METHODS]))
    .option('--objective <expr>', 'lucid: objective to maximize, e.g. "conv2:3", "conv3:7@8,8", "logits:0 - 0.5*logits:1", "neuron(conv3, 2)", "direction(conv3, [..], 1)" (default: --push-layer:--push-channel)')
    .addOption(new Option('--param <kind>', 'lucid: image parameterization').choices([...IMAGE_PARAMS]))
    .option('--no-decorrelate', 'lucid: optimize in plain RGB instead of the decorrelated colour space')
    .addOption(new Option('--transforms <set>', 'lucid: transforms before each forward pass (standard = pad 12, jitter 8, scale 0.9..1.1, rotate +-10 deg, jitter 4)').choices(['standard', 'none']))
    .option('--lr <lr>', `lucid: Adam learning rate (default ${DEFAULT_GENERAL_PARAMS.lr})`, num('--lr'))
    .option('--batch-size <n>', 'lucid: images optimized together (one result each)', int('--batch-size'))
    .option('--diversity <w>', 'lucid: weight of the batch diversity penalty (needs --batch-size >= 2)', num('--diversity'))
    .option('--diversity-layer <name>', 'lucid: layer the diversity penalty reads (default: the objective\'s first layer)')
    .option('--relu-override-steps <n>', `lucid: steps with the redirected ReLU gradient (default ${DEFAULT_GENERAL_PARAMS.relu_override_steps})`, int('--relu-override-steps'))
}

/** The method a command line asks for: --method, else the method preset's, else dvt; rejects flags of the other kind. */
export function methodOf(cmd: Command): (typeof METHODS)[number] {
  const opts = cmd.opts()
  const preset = opts.preset as string | undefined
  checkPreset(preset)
  const fromPreset = preset && METHOD_PRESETS[preset] ? (METHOD_PRESETS[preset].params.method ?? 'lucid') : preset ? 'dvt' : undefined
  const method = (opts.method as (typeof METHODS)[number] | undefined) ?? fromPreset ?? 'dvt'
  if (fromPreset && fromPreset !== method) {
    throw new DeepVisError('BAD_PARAM', `--preset ${preset} is a ${fromPreset} preset but --method is ${method}`)
  }
  const given = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli'
  if (method === 'dvt') {
    for (const [key, [flag]] of Object.entries(GENERAL_ONLY)) {
      if (given(key)) throw new DeepVisError('BAD_PARAM', `${flag} applies to --method lucid only (this run uses DVT's method)`)
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
  const params: GeneralParams = { ...DEFAULT_GENERAL_PARAMS, ...preset, ...explicit }
  if (!params.objective) {
    const names = loaded.model.layerNames
    const layer = (opts.pushLayer as string | undefined) ?? loaded.defaults.push_layer ?? names[names.length - 1]
    const channel = (opts.pushChannel as number | undefined) ?? loaded.defaults.push_channel ?? 0
    params.objective = defaultObjectiveText(layer, channel)
  } else if (given('pushLayer') || given('pushChannel')) {
    throw new DeepVisError('BAD_PARAM', '--objective and --push-layer/--push-channel both name the target: give one')
  }
  return params
}

const fmt = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(3))

/** The DVT-style params the output template sees (the objective's first unit, seed, iterations), before the run. */
function templateParams(params: GeneralParams): FindParams {
  const leaf = parseObjective(params.objective).leaves[0].leaf
  return {
    ...DEFAULT_PARAMS, start_at: 'mean', rand_seed: params.rand_seed, push_layer: leaf.layer,
    push_channel: leaf.kind === 'direction' ? 0 : leaf.channel, push_spatial: leaf.kind === 'neuron' ? leaf.spatial : null,
    lr_policy: 'constant', lr_params: { lr: params.lr }, max_iter: params.max_iter,
  }
}

/** Run a general method and write one result per image (`<prefix>img<i>_...` when the batch has several). */
export async function runGeneral(
  cmd: Command, io: { stdout: (t: string) => void; stderr: (t: string) => void; signal?: AbortSignal },
  loaded: LoadedModel, backend: { name: string; detail: string },
): Promise<number> {
  const opts = cmd.opts()
  const params = resolveGeneralParams(generalParamsFrom(cmd, loaded))
  // Names and the overwrite check before any work; layer/unit errors come from the engine before its first iteration.
  const base = resultPrefix(opts.outputPrefix as string, opts.outputTemplate as string, templateParams(params))
  const prefixes = Array.from({ length: params.batch_size }, (_, i) => (params.batch_size > 1 ? `${base}img${i}_` : base))
  for (const p of prefixes) checkCanWrite(p, Boolean(opts.brave))
  const size: [number, number] = [loaded.inputSpec.height, loaded.inputSpec.width]
  await validateObjective(parseObjective(params.objective), (l) => loaded.model.layerInfo(l, size))
  if (params.diversity > 0 && params.diversity_layer) await loaded.model.layerInfo(params.diversity_layer, size)
  io.stderr(`deepvis: ${loaded.name} on ${backend.name} (${backend.detail}); ${params.method}: maximizing ${params.objective}, ${params.max_iter} iterations, ${params.batch_size} image(s)\n`)
  const results = await optimizeGeneralBatch(loaded.model, loaded.inputSpec, params, { backend: backend.name, signal: io.signal })
  const written: string[] = []
  for (const [i, r] of results.entries()) {
    const files = await saveResults(r, prefixes[i], {
      brave: Boolean(opts.brave), skipbig: Boolean(opts.skipbig),
      extra: {
        model: { path: loaded.modelJsonPath, name: loaded.name, format: loaded.model.format, notes: loaded.model.notes },
        backend_detail: backend.detail, preset: (opts.preset as string | undefined) ?? null,
      },
    })
    written.push(...files)
    const label = r.target.label ? ` "${r.target.label}"` : ''
    io.stdout(`image ${i}: ${r.method!.objective}${label}: obj ${fmt(r.series.obj[0])} -> best ${fmt(r.best!.obj)} at ii ${r.best!.ii}, last ${fmt(r.last!.obj)}; ${r.majority ? `majority at ii ${r.majority.ii}` : 'majority not reached (or not a single unit)'}\n`)
  }
  io.stdout(`wrote ${written.length} files: ${prefixes.map((p) => `${p}*`).join(' ')}\n`)
  return results[0].interrupted ? 130 : 0
}
