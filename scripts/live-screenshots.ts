/**
 * The live view's README screenshots and browser frame rates, through the web mode in Debian's
 * Chromium with its fake camera (--use-fake-device-for-media-stream --use-fake-ui-for-media-stream):
 * docs/live-embedded.png (the embedded model: a vertical grating, the logits grid, the unit page with
 * its top-9 from an indexed stimulus folder and the gradient views) and docs/live-googlenet.png
 * (GoogLeNet's inception_4c/output on a 224 px stimulus folder), and the camera's frames/s on both.
 * Needs a built renderer (`npx electron-vite build`), /usr/bin/chromium and ../shared/models/googlenet_bvlc.
 * Usage: `npx tsx scripts/live-screenshots.ts [embedded,googlenet]`
 */
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Page } from 'playwright-core'
import sharp from 'sharp'
import { startWebServer } from '../src/web/server.ts'
import { writeStimulusFolder } from '../src/engine/node/stimulus-folder.ts'
import { drawGrating } from '../src/engine/stimuli.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const GOOGLENET = path.resolve(ROOT, '..', 'shared', 'models', 'googlenet_bvlc')
const only = (process.argv[2] ?? 'embedded,googlenet').split(',')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-live-shots-'))
const log = (m: string): void => console.log(`${new Date().toISOString().slice(11, 19)} ${m}`)

const grating = path.join(tmp, 'vertical-grating.png')
await sharp(Buffer.from(Uint8Array.from(drawGrating(256, 90, 32), (v) => Math.round(v))), { raw: { width: 256, height: 256, channels: 3 } }).png().toFile(grating)
const small = path.join(tmp, 'stimuli-64')
await writeStimulusFolder(small, { perClass: 30, seed: 0, size: 64 })
const large = path.join(tmp, 'stimuli-224')
if (only.includes('googlenet')) await writeStimulusFolder(large, { perClass: 30, seed: 0, size: 224 })

const server = await startWebServer({ port: 0, modelDir: path.join(ROOT, 'resources/models/deepvis-shapes'), backend: 'wasm', historyDir: path.join(tmp, 'data', 'history'), rendererDir: path.join(ROOT, 'out/renderer') })
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
})
const page: Page = await (await browser.newContext({ viewport: { width: 1500, height: 1000 } })).newPage()
page.setDefaultTimeout(120_000)
page.on('pageerror', (e) => console.log('[page error]', String(e)))

async function until(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) { if (await fn()) return; await page.waitForTimeout(500) }
  log('timed out waiting')
}
async function layer(name: string): Promise<void> {
  await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: name }).first().click()
}
/** Camera frames/s after `seconds` of streaming. */
async function cameraFps(seconds: number): Promise<string> {
  await page.getByTestId('camera-start').click()
  await page.waitForTimeout(seconds * 1000)
  const fps = await page.getByTestId('camera-fps').innerText()
  await page.getByTestId('camera-stop').click()
  return fps
}
async function indexAndWait(): Promise<void> {
  await page.getByTestId('index-build').click()
  await until(async () => /^(done|failed)/.test(await page.getByTestId('index-status').innerText().catch(() => '')), 1_800_000)
  log(`index: ${await page.getByTestId('index-status').innerText()}`)
  await until(async () => (await page.getByTestId('top-images').locator('img').count()) > 0, 120_000)
}

await page.goto(server.url)
await page.waitForTimeout(3000)
await page.getByRole('button', { name: 'Live' }).click()
if (only.includes('embedded')) {
  log('embedded')
  await layer('logits')
  await page.getByTestId('live-folder').fill(small)
  await page.getByRole('button', { name: 'Open folder' }).click()
  await page.waitForTimeout(1000)
  log(`embedded logits camera: ${await cameraFps(15)}`)
  await layer('conv1')
  log(`embedded conv1 camera: ${await cameraFps(15)}`)
  await layer('logits')
  await page.getByTestId('live-file').setInputFiles(grating)
  await page.waitForTimeout(1500)
  await page.getByTestId('activation-grid').locator('[data-unit="0"]').click()
  await indexAndWait()
  await page.waitForTimeout(2000)
  await page.screenshot({ path: path.join(ROOT, 'docs/live-embedded.png') })
}
if (only.includes('googlenet')) {
  log('googlenet')
  const model = page.getByRole('region', { name: 'Model' })
  await model.getByRole('button', { name: 'Open model…' }).click()
  await model.locator('input[name="modelPath"]').fill(GOOGLENET)
  await model.getByRole('button', { name: 'Open', exact: true }).click()
  await until(async () => /GoogLeNet/.test(await model.innerText()), 120_000)
  await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Live' }).click()
  await layer('inception_4c/output')
  await page.getByTestId('live-folder').fill(large)
  await page.getByRole('button', { name: 'Open folder' }).click()
  await page.waitForTimeout(3000)
  log(`googlenet inception_4c camera: ${await cameraFps(30)}`)
  await page.getByTestId('live-folder').fill(large)
  await page.getByRole('button', { name: 'Open folder' }).click()
  await page.waitForTimeout(5000)
  await page.getByTestId('activation-grid').locator('.tile.is-strong').first().click()
  await indexAndWait()
  await page.waitForTimeout(3000)
  await page.screenshot({ path: path.join(ROOT, 'docs/live-googlenet.png') })
}
log('done')
await browser.close()
await server.close()
