/**
 * End to end, the live view in Chromium (web mode, real engine on the embedded model, wasm): open an
 * image file (a vertical grating) -> the logits grid marks "grating vertical" strongest; click a tile
 * -> the unit page; open a labelled folder on the server (the stimulus generator's) and walk it with
 * the arrow keys; index it in the background -> the unit's top-9 images, all of its own class; the
 * three gradient views; a conv layer's top images as receptive-field crops; the camera path with
 * Chromium's fake device (--use-fake-device-for-media-stream --use-fake-ui-for-media-stream) shows
 * frames and a frame rate; a file that is not an image gives a clear message and the view keeps
 * working. Screenshots under test-results/e2e-live/. Skipped where /usr/bin/chromium is absent.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Browser, type Locator, type Page } from 'playwright-core'
import { CHROMIUM, hasChromium, launchChromium } from '../helpers/browser.ts'
import { ensureRendererBuilt } from '../helpers/renderer-build.ts'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebServer, type WebServer } from '../../src/web/server.ts'
import { writeStimulusFolder } from '../../src/engine/node/stimulus-folder.ts'
import { drawGrating } from '../../src/engine/stimuli.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const MODEL_DIR = path.join(ROOT, 'resources', 'models', 'deepvis-shapes')
const RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
const SHOTS_DIR = path.join(ROOT, 'test-results', 'e2e-live')
const UI_TIMEOUT = 45_000

if (!hasChromium) console.warn(`[e2e] ${CHROMIUM} not found: skipping the live-view browser test.`)

describe.skipIf(!hasChromium)('live view in Chromium (real engine, built renderer)', () => {
  let tmp: string
  let server: WebServer | undefined
  let browser: Browser | undefined
  let page: Page
  let folder: string
  let grating: string

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), fullPage: true })
  }
  const text = (l: Locator) => () => l.innerText()
  const eventually = <T>(fn: () => Promise<T>, timeout = UI_TIMEOUT) => expect.poll(fn, { timeout, interval: 150 })

  beforeAll(async () => {
    if (process.env.DEEPVIS_E2E_NO_BUILD !== '1') await ensureRendererBuilt(240_000)
    mkdirSync(SHOTS_DIR, { recursive: true })
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-e2e-live-'))
    folder = path.join(tmp, 'stimuli')
    await writeStimulusFolder(folder, { perClass: 12, seed: 21 })
    grating = path.join(tmp, 'vertical-grating.png')
    await sharp(Buffer.from(Uint8Array.from(drawGrating(256, 90, 40), (v) => Math.round(v))), { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(grating)
    writeFileSync(path.join(tmp, 'not-an-image.png'), 'hello')
    server = await startWebServer({ port: 0, modelDir: MODEL_DIR, backend: 'wasm', historyDir: path.join(tmp, 'data', 'history'), rendererDir: RENDERER_DIR })
    browser = await launchChromium(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'])
    const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } })
    context.setDefaultTimeout(UI_TIMEOUT)
    page = await context.newPage()
    page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text().slice(0, 400)}`) })
    page.on('pageerror', (e) => console.log(`[page error] ${String(e).slice(0, 400)}`))
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  it('opens an image: the logits grid marks "grating vertical" strongest; a tile click selects the unit', async () => {
    await page.goto(server!.url)
    await eventually(text(page.getByRole('listbox', { name: 'Model layers' }))).toContain('logits')
    await page.getByRole('button', { name: 'Live' }).click()
    await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: 'logits' }).first().click()
    await page.getByTestId('live-file').setInputFiles(grating)
    const grid = page.getByTestId('activation-grid')
    await eventually(() => grid.locator('.tile').count()).toBe(10)
    await eventually(() => grid.locator('.tile.is-strong').first().getAttribute('data-unit')).toBe('0')
    await grid.locator('[data-unit="0"]').hover({ position: { x: 5, y: 5 } })
    await eventually(text(page.getByTestId('grid-hover'))).toMatch(/unit 0 "grating vertical" = /)
    await grid.locator('[data-unit="7"]').click()
    await eventually(text(page.getByTestId('unit-page'))).toMatch(/logits #7\s+“red blob”/)
    await eventually(() => page.getByTestId('gradient-view').locator('img[src^="data:image/png"]').count()).toBe(3)
    await grid.locator('[data-unit="0"]').click()
    await eventually(text(page.getByTestId('unit-page'))).toMatch(/logits #0\s+“grating vertical”/)
    await shot('01-image-grid')
  })

  it('walks a folder with the arrow keys, indexes it and shows the unit\'s top-9 images of its own class', async () => {
    await page.getByTestId('live-folder').fill(folder)
    await page.getByRole('button', { name: 'Open folder' }).click()
    const caption = page.locator('.live__input figcaption')
    await eventually(text(caption)).toMatch(/blue_blob_0000\.png \(1\/120/)
    await page.getByTestId('live-view').press('ArrowRight')
    await eventually(text(caption)).toMatch(/blue_blob_0001\.png \(2\/120/)
    await page.getByTestId('live-view').press('ArrowLeft')
    await page.getByTestId('live-view').press('ArrowLeft')
    await eventually(text(caption)).toMatch(/rings_0011\.png \(120\/120/)
    await page.getByTestId('index-build').click()
    await eventually(text(page.getByTestId('index-status')), 120_000).toMatch(/done · 120\/120/)
    const top = page.getByTestId('top-images')
    await eventually(() => top.locator('img').count()).toBe(9)
    const names = await top.locator('img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt') ?? ''))
    expect(names.every((n) => n.startsWith('grating_vertical/'))).toBe(true)
    await shot('02-unit-page-topk')
  })

  it('a conv layer: top images are receptive-field crops; gradient views follow the unit', async () => {
    await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: /^conv3/ }).first().click()
    const grid = page.getByTestId('activation-grid')
    await eventually(() => grid.locator('.tile').count()).toBe(32)
    await page.getByTestId('scale-shared').check()
    await grid.locator('[data-unit="5"]').click()
    await eventually(text(page.getByTestId('unit-page'))).toMatch(/conv3 #5/)
    await page.getByTestId('index-build').click()
    await eventually(text(page.getByTestId('index-status')), 120_000).toMatch(/done · 120\/120/)
    const top = page.getByTestId('top-images')
    await eventually(() => top.locator('img').count()).toBe(9)
    const titles = await top.locator('figure').evaluateAll((f) => f.map((x) => x.getAttribute('title') ?? ''))
    expect(titles.every((t) => /rf rows \d+-\d+, cols \d+-\d+/.test(t))).toBe(true)
    await eventually(() => page.getByTestId('gradient-view').locator('img[src^="data:image/png"]').count()).toBe(3)
    await shot('03-conv-unit')
  })

  it('the camera (Chromium\'s fake device) streams frames through the grid with a frame rate; bad input keeps the view working', async () => {
    await page.getByTestId('camera-start').click()
    await eventually(text(page.getByTestId('camera-fps'))).toMatch(/camera: [1-9]\d*\.\d frames\/s/)
    const first = await page.getByTestId('live-input').getAttribute('src')
    await eventually(() => page.getByTestId('live-input').getAttribute('src')).not.toBe(first)
    await shot('04-camera')
    await page.getByTestId('camera-stop').click()
    await page.getByTestId('live-file').setInputFiles(path.join(tmp, 'not-an-image.png'))
    await eventually(text(page.getByTestId('live-view'))).toMatch(/not-an-image\.png is not an image this browser can read/)
    await page.getByTestId('live-folder').fill(path.join(tmp, 'nowhere'))
    await page.getByRole('button', { name: 'Open folder' }).click()
    await eventually(text(page.getByTestId('live-view'))).toMatch(/does not exist/)
    await page.getByTestId('live-file').setInputFiles(grating)
    await eventually(() => page.getByTestId('activation-grid').locator('.tile').count()).toBe(32)
    await shot('05-bad-input')
  })

  it('a run of the unit in Explore shows on its unit page as a synthesized image', async () => {
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Explore' }).click()
    const params = page.getByRole('region', { name: 'Parameters' })
    const maxIter = params.getByLabel('Max iterations', { exact: true })
    await maxIter.fill('10')
    await maxIter.press('Enter')
    const runPanel = page.getByRole('region', { name: 'Current run' })
    await runPanel.getByRole('button', { name: /Start/ }).click()
    await eventually(() => runPanel.locator('[data-status]').innerText(), 120_000).toBe('done')
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Live' }).click()
    await eventually(text(page.getByTestId('unit-page'))).toMatch(/conv3 #5/)
    await eventually(() => page.getByTestId('synthesized').locator('img').count()).toBe(1)
    await shot('06-synthesized')
  })

  it('a camera that is refused or absent gives a clear message', async () => {
    for (const [name, want] of [['NotAllowedError', /the camera was refused/], ['NotFoundError', /no camera found/]] as const) {
      // Page-side code (no DOM lib in this file's tsconfig): getUserMedia rejects as a browser would.
      await page.evaluate((n) => {
        const nav = (globalThis as unknown as { navigator: { mediaDevices: { getUserMedia: () => Promise<never> } } }).navigator
        nav.mediaDevices.getUserMedia = () => Promise.reject(new (globalThis as unknown as { DOMException: new (m: string, n: string) => Error }).DOMException('no', n))
      }, name)
      await page.getByTestId('camera-start').click()
      await eventually(text(page.getByTestId('live-view'))).toMatch(want)
      await page.getByTestId('live-view').getByRole('button', { name: 'Dismiss' }).click()
    }
    expect(await page.getByTestId('activation-grid').locator('.tile').count()).toBe(32)
  })
})
