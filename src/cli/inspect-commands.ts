/**
 * The unit-inspection commands (DVT's live view, offline):
 * - `deepvis index --model M --images DIR [--layers a,b]`: the top-k index of a folder (resumable,
 *   progress bar with ETA on a terminal, a line per 10% otherwise);
 * - `deepvis activations --model M --image IMG --layer L`: the layer's grid as a PNG and its values as .npy;
 * - `deepvis top-images --index DIR --layer L --unit U --k 9`: a montage of receptive-field crops and a JSON list;
 * - `deepvis stimuli --out DIR`: a labelled image folder from the embedded model's stimulus generator.
 * Bad input: one line, exit 2, nothing written (the CLI's main turns DeepVisErrors into that).
 * Shape: `registerInspectCommands(program, io, run)`.
 */
import { access, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { Command, Option } from 'commander'
import cliProgress from 'cli-progress'
import sharp from 'sharp'
import { DeepVisError } from '../shared/errors.ts'
import { activationGridImage } from '../engine/index.ts'
import { channelStats, layerActivations } from '../engine/index.ts'
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../engine/node/index.ts'
import { readImageFile } from '../engine/node/index.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../engine/node/index.ts'
import { encodeNpy } from '../engine/node/index.ts'
import { writeFileAtomic } from '../engine/node/index.ts'
import { writeStimulusFolder } from '../engine/node/index.ts'
import { buildTopKIndex, DEFAULT_INDEX_BATCH, DEFAULT_TOP_K, modelKeyForIndex, readTopKIndex, topEntries } from '../engine/node/index.ts'
import { DEFAULT_TILE_PX, topkMontage } from '../engine/node/index.ts'
import { DEFAULT_FIT_POLICY, FIT_POLICIES, type FitPolicy } from '../shared/fit-policy.ts'
import type { CliIo } from './main.ts'
import { parseInteger } from './parse-values.ts'

/** Without --layers, a model with at most this many indexable layers is indexed whole. */
const MAX_DEFAULT_LAYERS = 32

const positive = (flag: string) => (v: string): number => {
  const n = parseInteger(flag, v)
  if (n < 1) throw new DeepVisError('BAD_PARAM', `${flag} must be at least 1; got ${n}`)
  return n
}

function modelOptions(cmd: Command): Command {
  return cmd
    .option('--model <path>', 'TensorFlow.js model folder, model.json or .onnx (default: the embedded deepvis-shapes model)')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_CHOICES]).default('auto'))
    .addOption(new Option('--fit <policy>', 'how an image becomes the input size: center-crop (crop to the input aspect, then resize) or squash').choices([...FIT_POLICIES]).default(DEFAULT_FIT_POLICY))
}

async function openModel(opts: Record<string, unknown>): Promise<{ loaded: LoadedModel; backend: string }> {
  const backend = await initBackend(opts.backend as BackendChoice)
  const loaded = await loadModelFolder((opts.model as string | undefined) ?? DEFAULT_MODEL_DIR)
  return { loaded, backend: backend.name }
}

async function exists(p: string): Promise<boolean> {
  try { await access(p); return true } catch { return false }
}

async function refuseExisting(files: string[], brave: boolean): Promise<void> {
  if (brave) return
  for (const f of files) if (await exists(f)) throw new DeepVisError('OUTPUT_EXISTS', `${f} exists; give --brave to overwrite it or another --out`)
}

/** The layers to index: --layers, else every [C] or [H, W, C] layer (no pseudo-layers) of a small model. */
async function indexLayers(loaded: LoadedModel, flag: string | undefined): Promise<string[]> {
  const size: [number, number] = [loaded.inputSpec.height, loaded.inputSpec.width]
  if (flag !== undefined) {
    const names = flag.split(',').map((s) => s.trim()).filter(Boolean)
    if (names.length === 0) throw new DeepVisError('BAD_PARAM', '--layers: give one or more layer names separated by commas')
    for (const n of names) await loaded.model.layerInfo(n, size)
    return names
  }
  const all = (await loaded.model.catalog(size)).filter((l) => !l.name.endsWith('/pre_relu') && !l.plumbing && (l.shape.length === 1 || l.shape.length === 3))
  if (all.length > MAX_DEFAULT_LAYERS) {
    throw new DeepVisError('BAD_PARAM', `this model has ${all.length} layers; name the ones to index with --layers (e.g. --layers ${all.slice(-3).map((l) => l.name).join(',')}; see deepvis layers)`)
  }
  return all.map((l) => l.name)
}

async function runIndex(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  const fit = opts.fit as FitPolicy
  const { loaded, backend } = await openModel(opts)
  try {
    const layers = await indexLayers(loaded, opts.layers as string | undefined)
    const out = path.resolve(opts.out as string)
    // Said once the folder and layers are checked (bad input stays one line).
    const header = `deepvis index: ${loaded.name} on ${backend}; ${layers.length} layer(s) ${layers.join(', ')}; top ${opts.k}; into ${out}\n`
    const bar = io.isTTY
      ? new cliProgress.SingleBar({ format: 'indexing |{bar}| {value}/{total} images | {rate} img/s | failed {failed} | eta {eta_formatted}', stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 50 }, cliProgress.Presets.shades_classic)
      : null
    let nextLine = 0
    let started = false
    const idx = await buildTopKIndex({
      model: loaded.model, inputSpec: loaded.inputSpec, modelName: loaded.name, modelPath: loaded.modelJsonPath,
      modelKey: await modelKeyForIndex(loaded.modelJsonPath, loaded.inputSpec),
      imagesDir: opts.images as string, layers, outDir: out, k: opts.k as number, batchSize: opts.batch as number, fit,
      signal: io.signal,
      onProgress: (p) => {
        if (nextLine === 0 && !started) io.stderr(header)
        if (bar) {
          if (!started) { bar.start(p.total, 0, { rate: '-', failed: 0 }); started = true }
          bar.update(p.done, { rate: p.rate.toFixed(1), failed: p.failed })
        } else if (p.done >= nextLine || p.done === p.total) {
          const eta = p.rate > 0 ? Math.round((p.total - p.done) / p.rate) : 0
          io.stderr(`indexing ${p.done}/${p.total} images, ${p.rate.toFixed(1)} img/s, ${p.failed} failed, eta ${eta} s\n`)
          nextLine = p.done + Math.max(1, Math.ceil(p.total / 10))
        }
      },
    }).finally(() => bar?.stop())
    for (const f of idx.failed.slice(0, 5)) io.stderr(`skipped ${f.image}: ${f.error}\n`)
    if (idx.failed.length > 5) io.stderr(`... and ${idx.failed.length - 5} more skipped images (listed in index.json)\n`)
    if (!idx.complete) {
      io.stderr(`deepvis index: stopped at ${idx.done}/${idx.images.length} images; run the same command to continue\n`)
      return 130
    }
    io.stdout(`indexed ${idx.images.length} images (${idx.failed.length} skipped) of ${idx.imagesDir}: ${idx.imagesPerSecond.toFixed(1)} images/s over ${idx.seconds.toFixed(1)} s on ${backend}\nwrote ${path.join(out, 'index.json')}\n`)
    return 0
  } finally {
    loaded.model.dispose()
  }
}

async function runActivations(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  const image = opts.image as string
  const { loaded, backend } = await openModel(opts)
  try {
    const spec = loaded.inputSpec
    const layer = opts.layer as string
    await loaded.model.layerInfo(layer, [spec.height, spec.width])
    const prefix = (opts.out as string | undefined) ?? path.join('activations', path.parse(image).name)
    const safeLayer = layer.replace(/[/\\]/g, '_')
    const png = `${prefix}_${safeLayer}_grid.png`
    const npy = `${prefix}_${safeLayer}.npy`
    await refuseExisting([png, npy], Boolean(opts.brave))
    const rgb = await readImageFile(image, { width: spec.width, height: spec.height }, opts.fit as FitPolicy)
    const a = await layerActivations(loaded.model, spec, rgb, layer)
    const grid = activationGridImage(a.values, a.shape, { scale: opts.scale as 'tile' | 'shared' })
    await mkdir(path.dirname(path.resolve(png)), { recursive: true })
    await writeFileAtomic(png, await sharp(Buffer.from(grid.rgb), { raw: { width: grid.width, height: grid.height, channels: 3 } }).png().toBuffer())
    await writeFileAtomic(npy, encodeNpy(a.values, a.shape))
    const stats = channelStats(a.values, a.shape)
    const labels = spec.labels && spec.labels.length === a.shape[a.shape.length - 1] ? spec.labels : null
    const top = grid.strongest.map((c) => {
      const where = a.shape.length === 3 ? ` at (y,x)=(${stats.argmax[2 * c]},${stats.argmax[2 * c + 1]})` : ''
      return `  unit ${c}${labels ? ` "${labels[c]}"` : ''}: max ${stats.max[c].toPrecision(4)}${where}`
    })
    io.stdout([`${layer} [${a.shape.join(', ')}] on ${image} (${opts.fit}; ${loaded.name}, ${backend}); strongest units:`, ...top,
      `wrote ${png} (${grid.cols}x${grid.rows} tiles, ${opts.scale} scale) and ${npy} (float32, HWC)`, ''].join('\n'))
    return 0
  } finally {
    loaded.model.dispose()
  }
}

async function runTopImages(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  const index = await readTopKIndex(opts.index as string)
  const layer = opts.layer as string
  const unit = opts.unit as number
  const entries = topEntries(index, layer, unit, opts.k as number)
  const prefix = (opts.out as string | undefined) ?? path.join('top-images', `${layer.replace(/[/\\]/g, '_')}_${unit}`)
  const png = `${prefix}_montage.png`
  const json = `${prefix}.json`
  await refuseExisting([png, json], Boolean(opts.brave))
  const montage = await topkMontage(entries, index, opts.tile as number)
  await mkdir(path.dirname(path.resolve(png)), { recursive: true })
  await writeFileAtomic(png, montage)
  const list = { index: path.resolve(opts.index as string), model: index.model.name, layer, unit, inputSize: index.inputSize, fit: index.fit, entries }
  await writeFileAtomic(json, new TextEncoder().encode(JSON.stringify(list, null, 2) + '\n'))
  io.stdout([`top ${entries.length} of ${layer}:${unit} (${index.images.length} images indexed):`,
    ...entries.map((e) => `  ${e.rank}. ${e.score.toPrecision(4)}  ${e.image}${e.clipped ? `  rf [${e.clipped.top}:${e.clipped.bottom}, ${e.clipped.left}:${e.clipped.right}]` : ''}`),
    `wrote ${png} and ${json}`, ''].join('\n'))
  return 0
}

async function runStimuli(cmd: Command, io: CliIo): Promise<number> {
  const opts = cmd.opts()
  const { files, recipe } = await writeStimulusFolder(opts.out as string, { perClass: opts.perClass as number, seed: opts.seed as number, size: opts.size as number })
  io.stdout(`wrote ${files.length} labelled images to ${opts.out} (one folder per class; recipe in stimuli.json: ${JSON.stringify(recipe).slice(0, 80)}...)\n`)
  return 0
}

/** Add `index`, `activations`, `top-images` and `stimuli` to the CLI. */
export function registerInspectCommands(program: Command, io: CliIo, run: (p: Promise<number>) => void): void {
  const index = modelOptions(program.command('index').description('run every image of a folder through the model once and keep each unit\'s top-k images (resumable)'))
    .requiredOption('--images <dir>', 'folder of images (jpg, png, webp, gif, tiff, avif; sub-folders included)')
    .option('--layers <names>', `layers to index, separated by commas (default: all, for a model with at most ${MAX_DEFAULT_LAYERS})`)
    .option('--out <dir>', 'index folder (re-running continues or finds it)', 'deepvis-index')
    .option('--k <n>', 'images kept per unit', positive('--k'), DEFAULT_TOP_K)
    .option('--batch <n>', 'images per forward pass', positive('--batch'), DEFAULT_INDEX_BATCH)
  index.action(() => run(runIndex(index, io)))

  const acts = modelOptions(program.command('activations').description('the activations of one layer for one image: a grid PNG (one tile per unit) and the values as .npy'))
    .requiredOption('--image <file>', 'input image')
    .requiredOption('--layer <name>', 'layer (see deepvis layers)')
    .option('--out <prefix>', 'output prefix (default activations/<image name>)')
    .addOption(new Option('--scale <s>', 'grey scale of the tiles: each tile its own range, or one for the layer').choices(['tile', 'shared']).default('tile'))
    .option('--brave', 'overwrite existing outputs', false)
  acts.action(() => run(runActivations(acts, io)))

  const top = program.command('top-images').description('the top-k images of a unit from an index: a montage of receptive-field crops and a JSON list')
    .requiredOption('--index <dir>', 'index folder (deepvis index --out)')
    .requiredOption('--layer <name>', 'layer of the index')
    .requiredOption('--unit <n>', 'unit (channel) index', (v: string) => parseInteger('--unit', v))
    .option('--k <n>', 'how many', positive('--k'), DEFAULT_TOP_K)
    .option('--out <prefix>', 'output prefix (default top-images/<layer>_<unit>)')
    .option('--tile <px>', 'tile size of the montage', positive('--tile'), DEFAULT_TILE_PX)
    .option('--brave', 'overwrite existing outputs', false)
  top.action(() => run(runTopImages(top, io)))

  const stimuli = program.command('stimuli').description('write a labelled image folder from the embedded model\'s stimulus generator')
    .requiredOption('--out <dir>', 'new folder')
    .option('--per-class <n>', 'images per class', positive('--per-class'), 30)
    .option('--seed <n>', 'generator seed', (v: string) => parseInteger('--seed', v), 0)
    .option('--size <px>', 'image side', positive('--size'), 64)
  stimuli.action(() => run(runStimuli(stimuli, io)))
}
