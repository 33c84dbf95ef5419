/**
 * The live view's figures: top-k index throughput (images/s) and the live grid's engine rate
 * (frames/s of `live:activations`: fitted frame in, forward pass, per-channel stats, byte packing)
 * on the embedded model and on GoogLeNet (../shared/models/googlenet_bvlc), on the wasm backend.
 * Images: a folder from the stimulus generator (deepvis stimuli), 64 px for the embedded model and
 * 224 px for GoogLeNet (no folder of a few hundred photos ships with Debian's base packages here).
 * Usage: npx tsx scripts/live-figures.ts [--images N] [--frames N]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { initBackend } from '../src/engine/node/backends.ts'
import { DEFAULT_MODEL_DIR, loadModelFolder } from '../src/engine/node/load-model.ts'
import { writeStimulusFolder } from '../src/engine/node/stimulus-folder.ts'
import { buildTopKIndex, modelKeyForIndex } from '../src/engine/node/topk-index.ts'
import { readImageFile, listImages } from '../src/engine/node/image-file.ts'
import { createLiveService } from '../src/host/live-service.ts'

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : dflt
}
const IMAGES = arg('--images', 300)
const FRAMES = arg('--frames', 20)
const GOOGLENET = path.resolve(import.meta.dirname, '../../shared/models/googlenet_bvlc')

async function figures(name: string, modelDir: string, size: number, indexLayers: string[], liveLayers: string[]): Promise<void> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-fig-'))
  try {
    const loaded = await loadModelFolder(modelDir)
    const folder = path.join(tmp, 'img')
    await writeStimulusFolder(folder, { perClass: Math.ceil(IMAGES / 10), seed: 0, size })
    const modelKey = await modelKeyForIndex(loaded.modelJsonPath, loaded.inputSpec)
    const idx = await buildTopKIndex({
      model: loaded.model, inputSpec: loaded.inputSpec, modelName: loaded.name, modelPath: loaded.modelJsonPath, modelKey,
      imagesDir: folder, layers: indexLayers, outDir: path.join(tmp, 'idx'),
    })
    console.log(`${name}: index of ${idx.images.length} images (${size} px) for ${indexLayers.join(', ')}: ${idx.imagesPerSecond.toFixed(1)} images/s (${idx.seconds.toFixed(1)} s)`)
    const svc = createLiveService({
      cacheDir: path.join(tmp, 'cache'), emit: () => undefined,
      engine: async () => ({ model: loaded.model, inputSpec: loaded.inputSpec, backend: 'wasm', modelName: loaded.name, modelKey }),
    })
    const { width, height } = loaded.inputSpec
    const files = (await listImages(folder)).slice(0, FRAMES)
    const frames = await Promise.all(files.map(async (f) => {
      const img = await readImageFile(path.join(folder, f), { width, height })
      return { width, height, rgb: Buffer.from(img.data as Uint8Array).toString('base64') }
    }))
    for (const layer of liveLayers) {
      await svc.activations({ image: frames[0], layer }) // warm-up
      const t0 = performance.now()
      for (const image of frames) await svc.activations({ image, layer })
      const ms = (performance.now() - t0) / frames.length
      console.log(`${name}: live:activations ${layer}: ${ms.toFixed(1)} ms/frame = ${(1000 / ms).toFixed(1)} frames/s (engine side, ${frames.length} frames)`)
    }
    loaded.model.dispose()
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

const be = await initBackend('wasm')
console.log(`backend ${be.name} (${be.detail}); load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
await figures('embedded', DEFAULT_MODEL_DIR, 64, ['logits', 'conv3'], ['logits', 'conv3', 'conv1'])
await figures('googlenet', GOOGLENET, 224, ['inception_4c/output'], ['inception_4c/output', 'conv1/relu_7x7'])
console.log(`load after ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
