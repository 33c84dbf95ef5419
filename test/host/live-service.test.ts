/**
 * The live-view service on the embedded model (no Electron): activations and gradient views of a
 * page-fitted image, folder listing and folder images (kept inside the folder), the background index
 * with its events (a second build finds the cache), top images with crops, and bad input as coded
 * errors; the payload schemas refuse malformed images.
 */
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_MODEL_DIR, loadModelFolder, type LoadedModel } from '../../src/engine/node/load-model.ts'
import { writeStimulusFolder } from '../../src/engine/node/stimulus-folder.ts'
import { drawGrating } from '../../src/engine/stimuli.ts'
import { createLiveService, type LiveService } from '../../src/host/live-service.ts'
import type { EventChannel, EventMap } from '../../src/shared/ipc-contract.ts'
import { ipcPayloadSchemas } from '../../src/shared/ipc-schemas.ts'
import { useBackend } from '../helpers/tf-backend.ts'

let tmp = ''
let loaded: LoadedModel
let svc: LiveService
const events: { channel: EventChannel; payload: unknown }[] = []
const grating = { width: 64, height: 64, rgb: Buffer.from(Uint8Array.from(drawGrating(64, 90, 10), (v) => Math.round(v))).toString('base64') }

function waitFor<K extends EventChannel>(channel: K, pred: (p: EventMap[K]) => boolean): Promise<EventMap[K]> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      const hit = events.find((e) => e.channel === channel && pred(e.payload as EventMap[K]))
      if (hit) { clearInterval(t); resolve(hit.payload as EventMap[K]) }
    }, 20)
  })
}

beforeAll(async () => {
  await useBackend('wasm')
  tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-live-svc-'))
  loaded = await loadModelFolder(DEFAULT_MODEL_DIR)
  await writeStimulusFolder(path.join(tmp, 'img'), { perClass: 4, seed: 2 })
  svc = createLiveService({
    cacheDir: path.join(tmp, 'cache'),
    emit: (channel, payload) => { events.push({ channel, payload }) },
    engine: async () => ({ model: loaded.model, inputSpec: loaded.inputSpec, backend: 'wasm', modelName: loaded.name, modelKey: 'k1' }),
  })
})
afterAll(async () => {
  svc?.dispose()
  loaded?.model.dispose()
  await rm(tmp, { recursive: true, force: true })
})

describe('live service', () => {
  it('activations: dense values exact, conv maps as bytes with exact per-channel max; gradient views as PNGs', async () => {
    const logits = await svc.activations({ image: grating, layer: 'logits' })
    expect(logits.shape).toEqual([10])
    expect(logits.values!.indexOf(Math.max(...logits.values!))).toBe(0)
    const conv = await svc.activations({ image: grating, layer: 'conv2' })
    expect(conv.shape).toEqual([32, 32, 32])
    expect(Buffer.from(conv.bytes!, 'base64')).toHaveLength(32 * 32 * 32)
    expect(conv.argmax).toHaveLength(64)
    const g = await svc.gradients({ image: grating, layer: 'conv2', channel: 3, spatial: null, modes: ['gradient', 'guided', 'deconv'] })
    expect(g.views.map((v) => v.mode)).toEqual(['gradient', 'guided', 'deconv'])
    expect(g.views.every((v) => v.image.startsWith('data:image/png;base64,'))).toBe(true)
  })

  it('bad input: a wrong-size image, an unknown layer, an image outside the folder or not an image, an unindexed folder', async () => {
    await expect(svc.activations({ image: { width: 32, height: 32, rgb: 'A'.repeat(32 * 32 * 4) }, layer: 'logits' })).rejects.toMatchObject({ code: 'BAD_PARAM' })
    await expect(svc.activations({ image: grating, layer: 'nope' })).rejects.toMatchObject({ code: 'BAD_LAYER' })
    const folder = path.join(tmp, 'img')
    await expect(svc.image({ folder, image: '../outside.png', fit: 'center-crop' })).rejects.toMatchObject({ code: 'BAD_IMAGE', message: expect.stringMatching(/outside the model folder|lies outside/) })
    await writeFile(path.join(tmp, 'secret.png'), 'x')
    await symlink(path.join(tmp, 'secret.png'), path.join(folder, 'link.png'))
    await expect(svc.image({ folder, image: 'link.png', fit: 'center-crop' })).rejects.toMatchObject({ code: 'BAD_IMAGE' })
    await expect(svc.image({ folder, image: 'stimuli.json', fit: 'center-crop' })).rejects.toMatchObject({ code: 'BAD_IMAGE' })
    await expect(svc.top({ folder, layer: 'logits', unit: 0, k: 9 })).rejects.toMatchObject({ code: 'BAD_PARAM', message: expect.stringMatching(/not indexed/) })
    await expect(svc.folder(path.join(tmp, 'nowhere'))).rejects.toMatchObject({ code: 'BAD_PARAM' })
  })

  it('folder, image, background index with progress and done, cached the second time, top images with crops', async () => {
    const folder = path.join(tmp, 'img')
    const list = await svc.folder(folder)
    expect(list.total).toBe(40)
    const img = await svc.image({ folder, image: list.images[0], fit: 'center-crop' })
    expect([img.width, img.height]).toEqual([64, 64])
    expect(Buffer.from(img.rgb, 'base64')).toHaveLength(64 * 64 * 3)
    const job = await svc.build({ folder, layer: 'conv3' })
    expect(job).toMatchObject({ total: 40, cached: false })
    const done = await waitFor('index:done', (d) => d.jobId === job.jobId)
    expect(done.status).toBe('done')
    expect(events.some((e) => e.channel === 'index:progress' && (e.payload as EventMap['index:progress']).done === 40)).toBe(true)
    const again = await svc.build({ folder, layer: 'conv3' })
    expect(again.cached).toBe(true)
    await waitFor('index:done', (d) => d.jobId === again.jobId)
    const top = await svc.top({ folder, layer: 'conv3', unit: 2, k: 4 })
    expect(top.entries).toHaveLength(4)
    expect(top.entries.every((e) => e.box !== null && e.crop.startsWith('data:image/png;base64,'))).toBe(true)
    expect(top.images).toBe(40)
  })
})

describe('live payload schemas', () => {
  it('an image whose base64 does not hold width x height x 3 bytes is refused; a good one passes', () => {
    expect(ipcPayloadSchemas['live:activations'].safeParse({ image: grating, layer: 'logits' }).success).toBe(true)
    expect(ipcPayloadSchemas['live:activations'].safeParse({ image: { ...grating, width: 63 }, layer: 'logits' }).success).toBe(false)
    expect(ipcPayloadSchemas['live:activations'].safeParse({ image: { ...grating, rgb: grating.rgb + 'AAAA' }, layer: 'logits' }).success).toBe(false)
    expect(ipcPayloadSchemas['live:gradients'].safeParse({ image: grating, layer: 'x', channel: -1, spatial: null, modes: ['gradient'] }).success).toBe(false)
    expect(ipcPayloadSchemas['live:gradients'].safeParse({ image: grating, layer: 'x', channel: 1, spatial: null, modes: ['sideways'] }).success).toBe(false)
    expect(ipcPayloadSchemas['index:top'].safeParse({ folder: '/x', layer: 'l', unit: 0, k: 1000 }).success).toBe(false)
    expect(ipcPayloadSchemas['live:image'].safeParse({ folder: '/x', image: 'a\0b.png', fit: 'center-crop' }).success).toBe(false)
  })
})
