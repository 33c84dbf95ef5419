/**
 * Retakes the README's screenshots (docs/app-main.png, app-compare.png and app-units-googlenet.png on
 * GoogLeNet, app-units.png on the embedded model) through the web mode in Debian's Chromium, on a temporary
 * history. Needs a built renderer (`npx electron-vite build`), /usr/bin/chromium and
 * ../shared/models/googlenet_bvlc; about 15 minutes on a 2-core machine (GoogLeNet on wasm).
 * `atlas` takes docs/app-atlas.png (the app's Atlas view) and docs/atlas-site.png (the atlas's own static
 * page, opened from disk) of the atlas folder given as the next argument (any `deepvis sweep --out`).
 * Usage: `npx tsx scripts/app-screenshots.ts [main,compare,units,gunits,atlas] [ATLAS_DIR]`
 */
import { mkdtempSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import os from 'node:os'
import path from 'node:path'
import { chromium } from 'playwright-core'
import { startWebServer } from '../src/web/server.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
const GOOGLENET = path.resolve(ROOT, '..', 'shared', 'models', 'googlenet_bvlc')
const only = (process.argv[2] ?? 'main,compare,units,gunits').split(',')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-shots-'))
const server = await startWebServer({ port: 0, modelDir: path.join(ROOT, 'resources/models/deepvis-shapes'), backend: 'wasm', historyDir: path.join(tmp, 'history'), rendererDir: path.join(ROOT, 'out/renderer') })
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'] })
const page = await (await browser.newContext({ viewport: { width: 1440, height: 1000 } })).newPage()
page.setDefaultTimeout(60_000)
page.on('pageerror', (e) => console.log('[page error]', String(e)))
const region = (name: string) => page.getByRole('region', { name })
const log = (m: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${m}`)
async function until(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (Date.now() < end) { if (await fn()) return; await page.waitForTimeout(500) }
  log('timed out waiting')
}
async function findUnit(q: string, label: RegExp) {
  await region('Units').getByTestId('unit-search').fill(q)
  await region('Units').locator('.unit-browser__matches button').filter({ hasText: label }).first().click()
}
async function openModel(dir: string, name: RegExp) {
  const model = region('Model')
  await model.getByRole('button', { name: 'Open model…' }).click()
  await model.locator('input[name="modelPath"]').fill(dir)
  await model.getByRole('button', { name: 'Open', exact: true }).click()
  await until(async () => name.test(await model.innerText()), 120_000)
}
async function setIters(n: number) {
  const m = region('Parameters').getByLabel('Max iterations', { exact: true })
  await m.fill(String(n)); await m.press('Enter')
}

await page.goto(server.url)
await page.waitForTimeout(3000)
if (only.includes('units')) {
  log('embedded units')
  await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: 'logits' }).first().click()
  await region('Units').getByRole('button', { name: /^Render all units/ }).click()
  await until(async () => (await region('Units').locator('img').count()) >= 10 && (await region('Units').getByRole('progressbar').count()) === 0, 300_000)
  await findUnit('#0', /#0/)
  await setIters(300)
  await region('Current run').getByRole('button', { name: /Start/ }).click()
  await until(async () => (await region('Current run').getByTestId('run-status').innerText()) === 'done', 300_000)
  await page.waitForTimeout(1500)
  await page.screenshot({ path: path.join(ROOT, 'docs/app-units.png') })
}
if (only.includes('atlas')) {
  const atlasDir = path.resolve(process.argv[3] ?? 'atlas')
  log(`atlas ${atlasDir}`)
  await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Atlas' }).click()
  await page.locator('input[name="atlasPath"]').fill(atlasDir)
  await page.getByRole('form', { name: 'Open an atlas' }).getByRole('button', { name: 'Open' }).click()
  await page.getByRole('listbox', { name: 'Atlas layers' }).getByRole('option').first().click()
  await until(async () => (await page.getByTestId('atlas-grid').locator('img').count()) > 0, 60_000)
  await page.waitForTimeout(1500)
  await page.screenshot({ path: path.join(ROOT, 'docs/app-atlas.png') })
  const site = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage()
  const layer = (await page.getByRole('listbox', { name: 'Atlas layers' }).getByRole('option').first().locator('.name').innerText()).trim()
  await site.goto(`${pathToFileURL(path.join(atlasDir, 'index.html')).href}#layer=${encodeURIComponent(layer)}`)
  await site.waitForTimeout(2000)
  await site.screenshot({ path: path.join(ROOT, 'docs/atlas-site.png') })
  await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Explore' }).click()
}
if (only.some((v) => v === 'main' || v === 'compare' || v === 'gunits')) await openModel(GOOGLENET, /GoogLeNet/)
if (only.includes('main')) {
  log('googlenet main')
  await findUnit('flamingo', /flamingo/)
  await region('Current run').getByRole('button', { name: /Start/ }).click()
  await until(async () => (await region('Current run').getByTestId('run-status').innerText()) === 'done', 900_000)
  await page.waitForTimeout(2500)
  await page.getByRole('button', { name: 'Dismiss' }).click().catch(() => undefined)
  await page.screenshot({ path: path.join(ROOT, 'docs/app-main.png') })
}
if (only.includes('compare')) {
  log('googlenet compare')
  await findUnit('flamingo', /flamingo/)
  await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Compare' }).click()
  const view = region('Compare side by side')
  await view.getByLabel('Add a preset').selectOption('yosinski-3')
  await view.getByLabel('Add a preset').selectOption('yosinski-1')
  const table = view.getByRole('region', { name: 'Parameters of the compared settings' })
  for (const i of [1, 2]) { const m = table.getByLabel(`max_iter of setting ${i}`); await m.fill('60'); await m.press('Enter') }
  await view.getByRole('button', { name: '▶ Run' }).click()
  await until(async () => (await view.locator('section.compare-column[data-status="done"]').count()) === 2, 900_000)
  await page.waitForTimeout(2500)
  await page.screenshot({ path: path.join(ROOT, 'docs/app-compare.png') })
  await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Explore' }).click()
}
if (only.includes('gunits')) {
  log('googlenet conv units')
  await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: 'conv2/relu_3x3' }).first().click()
  await region('Units').getByRole('button', { name: /^Render all units/ }).click()
  await page.waitForTimeout(500)
  // (the confirmation with its estimate shows now)
  await region('Units').getByRole('button', { name: /^First \d+ only/ }).click()
  await until(async () => (await region('Units').getByRole('progressbar').count()) === 0 && (await region('Units').locator('img').count()) >= 32, 600_000)
  await region('Units').getByRole('listbox', { name: /^Units of/ }).press('Home')
  await page.waitForTimeout(1500)
  await page.screenshot({ path: path.join(ROOT, 'docs/app-units-googlenet.png') })
}
log('done')
await browser.close()
await server.close()
