/**
 * End to end in a real browser (as web-app.test.ts: built renderer, headless web mode, real engine, Debian's
 * Chromium through playwright-core): the maco preset on logits #0 of the embedded model runs to done with an
 * image; the Results offer a "transparency" toggle that overlays the run's last_alpha.png on best and last, and
 * the overlay darkens the image (mean brightness of the tile falls); in Compare, a maco and a lucid column both get
 * their map from the same toggle. Screenshots under test-results/e2e/.
 * Skipped, with a message, where /usr/bin/chromium is absent.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Browser, type Page } from 'playwright-core'
import { CHROMIUM, hasChromium, launchChromium } from '../helpers/browser.ts'
import { ensureRendererBuilt } from '../helpers/renderer-build.ts'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebServer, type WebServer } from '../../src/web/server.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const MODEL_DIR = path.join(ROOT, 'resources', 'models', 'deepvis-shapes')
const RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
const SHOTS_DIR = path.join(ROOT, 'test-results', 'e2e')
const UI_TIMEOUT = 30_000
const RUN_TIMEOUT = 120_000

if (!hasChromium) console.warn(`[e2e] ${CHROMIUM} not found: skipping the browser test (CI installs Debian's chromium).`)

/** Mean grey level of a PNG screenshot. */
async function meanLevel(png: Buffer): Promise<number> {
  const { data } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true })
  return data.reduce((a, b) => a + b, 0) / data.length
}

describe.skipIf(!hasChromium)('web app: maco with its transparency overlay', () => {
  let tmp: string
  let server: WebServer | undefined
  let browser: Browser | undefined
  let page: Page

  beforeAll(async () => {
    await ensureRendererBuilt(180_000)
    mkdirSync(SHOTS_DIR, { recursive: true })
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-e2e-maco-'))
    server = await startWebServer({ port: 0, modelDir: MODEL_DIR, backend: 'wasm', historyDir: path.join(tmp, 'history'), rendererDir: RENDERER_DIR })
    browser = await launchChromium()
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } })
    context.setDefaultTimeout(UI_TIMEOUT)
    page = await context.newPage()
    page.on('pageerror', (e) => console.log(`[page error] ${String(e).slice(0, 400)}`))
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  const eventually = <T>(fn: () => Promise<T>, timeout = UI_TIMEOUT) => expect.poll(fn, { timeout, interval: 100 })

  it('runs maco on logits #0 and overlays the transparency map', async () => {
    await page.goto(server!.url)
    await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: 'logits' }).click()
    const unit0 = page.getByRole('listbox', { name: 'Units of logits' }).getByTitle('#0 grating vertical', { exact: true })
    await unit0.click()
    await eventually(() => unit0.getAttribute('aria-selected')).toBe('true')
    const params = page.getByRole('region', { name: 'Parameters' })
    await params.getByLabel('Preset').selectOption('maco')
    await params.locator('[data-method-param="crops"]').waitFor()
    const maxIter = params.getByLabel('Max iterations', { exact: true })
    await maxIter.fill('12')
    await maxIter.press('Enter')
    await eventually(() => maxIter.inputValue()).toBe('12')
    const runPanel = page.getByRole('region', { name: 'Current run' })
    await runPanel.getByRole('button', { name: /Start/ }).click()
    const status = runPanel.locator('[data-status]')
    await eventually(() => status.innerText(), RUN_TIMEOUT).toMatch(/^(done|failed|stopped)$/)
    expect(await status.innerText()).toBe('done')
    const results = page.getByRole('region', { name: 'Results' })
    await eventually(() => results.innerText()).toMatch(/method maco/)
    const best = results.locator('figure[data-kind="best"] button')
    await best.locator('img').first().waitFor()
    await page.screenshot({ path: path.join(SHOTS_DIR, 'maco-01-done.png'), fullPage: true })
    const before = await meanLevel(await best.screenshot())
    await results.getByTestId('alpha-toggle').check()
    await results.locator('figure[data-kind="best"] [data-testid="alpha-overlay"]').waitFor()
    expect(await results.locator('figure[data-kind="last"] [data-testid="alpha-overlay"]').count()).toBe(1)
    const after = await meanLevel(await best.screenshot())
    await page.screenshot({ path: path.join(SHOTS_DIR, 'maco-02-transparency.png'), fullPage: true })
    await best.screenshot({ path: path.join(SHOTS_DIR, 'maco-03-best-tile.png') })
    expect(after).toBeLessThan(before)
  }, 300_000)

  it('compare: a maco and a lucid column, the transparency toggle overlays each run\'s map', async () => {
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Compare' }).click()
    const view = page.getByRole('region', { name: 'Compare side by side' })
    await view.waitFor()
    await view.getByLabel('Add a preset').selectOption('maco')
    await view.getByLabel('Add a preset').selectOption('lucid')
    const table = view.getByRole('region', { name: 'Parameters of the compared settings' })
    for (const i of [1, 2]) {
      const maxIter = table.getByLabel(`max_iter of setting ${i}`)
      await maxIter.fill('12')
      await maxIter.press('Enter')
      await eventually(() => maxIter.inputValue()).toBe('12')
    }
    await view.getByRole('button', { name: '▶ Run' }).click()
    const columns = view.locator('section.compare-column')
    await eventually(() => columns.count()).toBe(2)
    for (const i of [0, 1]) {
      await eventually(() => columns.nth(i).getAttribute('data-status'), RUN_TIMEOUT).toMatch(/^(done|failed|stopped)$/)
      expect(await columns.nth(i).getAttribute('data-status')).toBe('done')
    }
    await view.getByTestId('compare-alpha-toggle').check()
    for (const i of [0, 1]) await columns.nth(i).locator('[data-testid="alpha-overlay"]').waitFor()
    await page.screenshot({ path: path.join(SHOTS_DIR, 'maco-04-compare-transparency.png'), fullPage: true })
  }, 300_000)
})
