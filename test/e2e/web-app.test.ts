/**
 * End to end in a real browser: the built renderer (`electron-vite build` → out/renderer) served by
 * the headless web mode with the real engine (embedded deepvis-shapes model, wasm backend, temp
 * history), driven in Debian's headless Chromium through playwright-core (which never downloads a
 * browser). The story: the model loads; pick logits #0; choose preset yosinski-3 and 30 iterations
 * (an out-of-range value is clamped); Start → running → done with the plot and preview; the gallery
 * shows best and last; after a reload the history lists the run; render all units of the logits
 * layer (progress, then a thumbnail per unit, instantly again on a second visit); compare two presets
 * side by side (differing parameters highlighted, both runs done with images and plots); a bad
 * model folder gives a clear error while the loaded model keeps working. Each step saves a
 * screenshot under test-results/e2e/. Then the lucid preset (grouped under Lucid, its own fields only) for
 * 20 steps, done with an image; a run with GIF every 5 shows the GIF and exports it (5 frames); a model folder
 * uploaded from the page; the Atlas view opens a `deepvis sweep` atlas: layers, a grid, a unit page. Skipped, with a message, where /usr/bin/chromium is absent (CI installs it).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Browser, type Locator, type Page } from 'playwright-core'
import { CHROMIUM, hasChromium, launchChromium } from '../helpers/browser.ts'
import { ensureRendererBuilt } from '../helpers/renderer-build.ts'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebServer, type WebServer } from '../../src/web/server.ts'
import { cli } from '../helpers/cli.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const MODEL_DIR = path.join(ROOT, 'resources', 'models', 'deepvis-shapes')
const RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
const SHOTS_DIR = path.join(ROOT, 'test-results', 'e2e')
/** Generous: CI is a busy 2-core machine. */
const UI_TIMEOUT = 30_000
const RUN_TIMEOUT = 90_000

/** What the page-side callbacks use of the browser's globals (no DOM lib in tsconfig.node.json). */
interface PageGlobals {
  __statuses: string[]
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void }
}
interface ImageLike {
  naturalWidth: number
}

if (!hasChromium) console.warn(`[e2e] ${CHROMIUM} not found: skipping the browser test (CI installs Debian's chromium).`)

describe.skipIf(!hasChromium)('web app in Chromium (real engine, built renderer)', () => {
  let tmp: string
  let server: WebServer | undefined
  let browser: Browser | undefined
  let page: Page

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), fullPage: true })
  }

  beforeAll(async () => {
    // Built unless out/ holds the build of these exact sources: the test never runs against a stale renderer.
    await ensureRendererBuilt(180_000)
    expect(existsSync(path.join(RENDERER_DIR, 'index.html'))).toBe(true)
    mkdirSync(SHOTS_DIR, { recursive: true })
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-e2e-'))
    server = await startWebServer({ port: 0, modelDir: MODEL_DIR, backend: 'wasm', historyDir: path.join(tmp, 'history'), rendererDir: RENDERER_DIR })
    browser = await launchChromium()
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } })
    context.setDefaultTimeout(UI_TIMEOUT)
    page = await context.newPage()
    // The page's own errors, for the log of a failing step (the app shows them too, but only in the page).
    page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text().slice(0, 400)}`) })
    page.on('pageerror', (e) => console.log(`[page error] ${String(e).slice(0, 400)}`))
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  const text = (l: Locator) => () => l.innerText()
  /** expect.poll with a CI-sized timeout (vitest's default is 1 s). */
  const eventually = <T>(fn: () => Promise<T>, timeout = UI_TIMEOUT) => expect.poll(fn, { timeout, interval: 100 })

  it('loads the page with the default model', async () => {
    await page.goto(server!.url)
    const model = page.getByRole('region', { name: 'Model' })
    await model.waitFor()
    await eventually(text(model)).toMatch(/DeepVis shapes/)
    const facts = await model.innerText()
    expect(facts).toMatch(/Backend\s+wasm/)
    expect(facts).toMatch(/64×64/)
    await eventually(text(page.getByRole('listbox', { name: 'Model layers' }))).toContain('logits')
    await shot('01-loaded')
  })

  it('selects layer logits and unit 0 "grating vertical"', async () => {
    await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: 'logits' }).click()
    const unitsGrid = page.getByRole('listbox', { name: 'Units of logits' })
    await unitsGrid.waitFor()
    const unit0 = unitsGrid.getByTitle('#0 grating vertical', { exact: true })
    await unit0.click()
    await eventually(() => unit0.getAttribute('aria-selected')).toBe('true')
    const units = page.getByRole('region', { name: 'Units' })
    await eventually(text(units)).toMatch(/logits · \d+ units · selected #0 “grating vertical”/)
    await shot('02-unit-selected')
  })

  it('chooses preset yosinski-3 and 30 iterations', async () => {
    const params = page.getByRole('region', { name: 'Parameters' })
    await eventually(() => params.getByLabel('Preset').locator('option').allInnerTexts()).toContain('yosinski-3')
    await params.getByLabel('Preset').selectOption('yosinski-3')
    await eventually(() => params.getByLabel('Decay', { exact: true }).inputValue()).toBe('0.0001')
    const maxIter = params.getByLabel('Max iterations', { exact: true })
    await eventually(() => maxIter.inputValue()).toBe('1000')
    // Out of range: clamped to the field's maximum once committed.
    await maxIter.fill('99999')
    await maxIter.press('Enter')
    await eventually(() => maxIter.inputValue()).toBe('5000')
    await maxIter.fill('30')
    await maxIter.press('Enter')
    await eventually(() => maxIter.inputValue()).toBe('30')
    await eventually(text(params)).toContain('modified')
    await shot('03-params')
  })

  it('runs: running, then done, with the plot and the preview', async () => {
    const runPanel = page.getByRole('region', { name: 'Current run' })
    const status = runPanel.locator('[data-status]')
    await eventually(() => status.innerText()).toBe('idle')
    // Record every status the panel shows: a 30-iteration run can pass 'running' quickly.
    await status.evaluate((el) => {
      // Page-side code; this file is type-checked without the DOM lib (tsconfig.node.json).
      const g = globalThis as unknown as PageGlobals
      const seen: string[] = [el.textContent ?? '']
      g.__statuses = seen
      new g.MutationObserver(() => {
        const s = el.textContent ?? ''
        if (seen[seen.length - 1] !== s) seen.push(s)
      }).observe(el, { childList: true, characterData: true, subtree: true })
    })
    await runPanel.getByRole('button', { name: /Start/ }).click()
    await eventually(() => status.innerText(), RUN_TIMEOUT).toMatch(/^(done|failed|stopped)$/)
    const banner = runPanel.getByRole('alert')
    expect(await banner.count() ? await banner.innerText() : '', 'no error banner').toBe('')
    expect(await status.innerText()).toBe('done')
    const seen = await page.evaluate(() => (globalThis as unknown as PageGlobals).__statuses)
    expect(seen).toContain('running')
    expect(seen.indexOf('running')).toBeLessThan(seen.lastIndexOf('done'))
    await eventually(text(runPanel)).toMatch(/it (29|30)\/30/)
    const preview = runPanel.getByRole('img', { name: 'Current image of the run' })
    await preview.waitFor()
    expect(await preview.evaluate((img) => (img as unknown as ImageLike).naturalWidth)).toBeGreaterThan(0)
    expect(await runPanel.locator('figcaption').innerText()).toMatch(/iteration (29|30)/)
    // The echarts canvas is drawn.
    await runPanel.getByRole('img', { name: /Objective/ }).locator('canvas').first().waitFor()
    await shot('04-run-done')
  })

  it('shows best and last in the result gallery', async () => {
    const results = page.getByRole('region', { name: 'Results' })
    await eventually(text(results)).toMatch(/logits #0/)
    expect(await results.innerText()).toMatch(/done · 30\/30 it/)
    for (const kind of ['best', 'last']) {
      const tile = results.locator(`figure[data-kind="${kind}"]`)
      await eventually(() => tile.locator('figcaption').innerText()).toMatch(new RegExp(`${kind} · it \\d+ · obj`))
      const img = tile.locator('img')
      await img.waitFor()
      await eventually(() => img.evaluate((el) => (el as unknown as ImageLike).naturalWidth)).toBeGreaterThan(0)
    }
    const last = await results.locator('figure[data-kind="last"] figcaption').innerText()
    expect(last).toMatch(/it (29|30)/)
    await shot('05-gallery')
  })

  it('lists the run in the history after a reload', async () => {
    await page.reload()
    await page.getByRole('region', { name: 'Model' }).waitFor()
    const history = page.getByRole('region', { name: 'Results' }).getByTitle(/^Open run /)
    await eventually(() => history.count()).toBe(1)
    expect(await history.first().innerText()).toMatch(/logits #0[\s\S]*done/)
    await shot('06-history-after-reload')
  })

  it('renders all units of the logits layer, then shows them at once on a second visit', async () => {
    const layersList = page.getByRole('listbox', { name: 'Model layers' })
    await layersList.getByRole('option').filter({ hasText: 'logits' }).click()
    const units = page.getByRole('region', { name: 'Units' })
    const grid = units.getByRole('listbox', { name: 'Units of logits' })
    await grid.waitFor()
    await units.getByRole('button', { name: 'Render all units (10)' }).click()
    // While it runs: a progress bar with k / n and a Cancel button.
    await units.getByRole('progressbar', { name: 'Rendering the units of logits' }).waitFor()
    await eventually(() => units.getByRole('button', { name: 'Render all units (10)' }).count(), RUN_TIMEOUT).toBe(1)
    expect(await units.getByRole('alert').count()).toBe(0)
    const images = grid.locator('img')
    await eventually(() => images.count()).toBe(10)
    await shot('07-unit-grid')
    // Another layer, then back: every thumbnail comes from the cache without a new job.
    await layersList.getByRole('option').filter({ hasText: 'conv1' }).first().click()
    await page.getByRole('listbox', { name: /Units of conv1/ }).waitFor()
    await layersList.getByRole('option').filter({ hasText: 'logits' }).click()
    await eventually(() => grid.locator('img').count()).toBe(10)
    expect(await units.getByRole('progressbar').count()).toBe(0)
  })

  it('compares two presets side by side from the same seed', async () => {
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Compare' }).click()
    const view = page.getByRole('region', { name: 'Compare side by side' })
    await view.waitFor()
    await view.getByLabel('Add a preset').selectOption('yosinski-1')
    await view.getByLabel('Add a preset').selectOption('yosinski-3')
    const table = view.getByRole('region', { name: 'Parameters of the compared settings' })
    for (const i of [1, 2]) {
      const maxIter = table.getByLabel(`max_iter of setting ${i}`)
      await maxIter.fill('30')
      await maxIter.press('Enter')
      await eventually(() => maxIter.inputValue()).toBe('30')
    }
    // yosinski-1 and yosinski-3 differ in decay; max_iter is now the same.
    await eventually(() => table.locator('tr[data-param="decay"]').getAttribute('class')).toMatch(/is-different/)
    expect(await table.locator('tr[data-param="max_iter"]').getAttribute('class')).not.toMatch(/is-different/)
    await view.getByRole('button', { name: '▶ Run' }).click()
    const columns = view.locator('section.compare-column')
    await eventually(() => columns.count()).toBe(2)
    for (const i of [0, 1]) {
      await eventually(() => columns.nth(i).getAttribute('data-status'), RUN_TIMEOUT).toMatch(/^(done|failed|stopped)$/)
      expect(await columns.nth(i).getAttribute('data-status')).toBe('done')
      const img = columns.nth(i).locator('figure img')
      await eventually(() => img.evaluate((el) => (el as unknown as ImageLike).naturalWidth)).toBeGreaterThan(0)
      await columns.nth(i).locator('canvas').first().waitFor()
    }
    expect(await view.getByRole('alert').count()).toBe(0)
    await shot('08-compare')
  })

  it('refuses a bad model folder with a clear error and keeps the loaded model working', async () => {
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Explore' }).click()
    const model = page.getByRole('region', { name: 'Model' })
    await model.getByRole('button', { name: 'Open model…' }).click()
    const form = model.getByRole('form', { name: 'Open a model' })
    const missing = path.join(tmp, 'no-such-model')
    await form.locator('input[name="modelPath"]').fill(missing)
    await form.getByRole('button', { name: 'Open' }).click()
    const alert = model.getByRole('alert')
    await eventually(text(alert)).toMatch(/BAD_MODEL/)
    expect(await alert.innerText()).toContain('no-such-model')
    // The embedded model is still loaded and still answers.
    expect(await model.innerText()).toMatch(/DeepVis shapes/)
    await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: 'logits' }).click()
    await eventually(() => page.getByRole('listbox', { name: 'Units of logits' }).getByRole('option').count()).toBe(10)
    await shot('09-bad-model')
  })

  it('runs the lucid preset (20 steps) on logits #0: lucid fields only, done with an image', async () => {
    const unit0 = page.getByRole('listbox', { name: 'Units of logits' }).getByTitle('#0 grating vertical', { exact: true })
    await unit0.click()
    await eventually(() => unit0.getAttribute('aria-selected')).toBe('true')
    const params = page.getByRole('region', { name: 'Parameters' })
    const groups = () => params.getByLabel('Preset').locator('optgroup').evaluateAll((gs) => gs.map((g) => g.getAttribute('label')))
    await eventually(async () => (await groups()).slice(0, 2)).toEqual(['DVT pixel-space', 'Lucid'])
    await params.getByLabel('Preset').selectOption('lucid')
    await params.locator('[data-method-param="lr"]').waitFor()
    expect(await params.locator('[data-param="decay"]').count(), 'no DVT regularizers for lucid').toBe(0)
    const maxIter = params.getByLabel('Max iterations', { exact: true })
    await maxIter.fill('20')
    await maxIter.press('Enter')
    await eventually(() => maxIter.inputValue()).toBe('20')
    await shot('10-lucid-params')
    const runPanel = page.getByRole('region', { name: 'Current run' })
    await runPanel.getByRole('button', { name: /Start/ }).click()
    const status = runPanel.locator('[data-status]')
    await eventually(() => status.innerText(), RUN_TIMEOUT).toMatch(/^(done|failed|stopped)$/)
    expect(await status.innerText()).toBe('done')
    await eventually(text(runPanel)).toMatch(/it (19|20)\/20/)
    const results = page.getByRole('region', { name: 'Results' })
    await eventually(text(results)).toMatch(/method lucid/)
    const img = results.locator('figure[data-kind="best"] img')
    await img.waitFor()
    await eventually(() => img.evaluate((el) => (el as unknown as ImageLike).naturalWidth)).toBeGreaterThan(0)
    await shot('11-lucid-done')
  })

  it('runs with GIF every 5, shows the GIF and exports it with the run', async () => {
    const runPanel = page.getByRole('region', { name: 'Current run' })
    await runPanel.getByTestId('gif-every').fill('5')
    await runPanel.getByTestId('gif-every').press('Tab')
    await runPanel.getByRole('button', { name: /Start/ }).click()
    const status = runPanel.locator('[data-status]')
    await eventually(() => status.innerText(), RUN_TIMEOUT).toBe('done')
    const results = page.getByRole('region', { name: 'Results' })
    const gif = results.locator('figure[data-kind="gif"] img')
    await eventually(() => gif.count(), RUN_TIMEOUT).toBe(1)
    await eventually(() => gif.evaluate((el) => (el as unknown as ImageLike).naturalWidth)).toBeGreaterThan(0)
    // The newest run is first in the history: export it into the test's folder.
    const entry = results.locator('li').first()
    const runId = (await entry.getByTitle(/^Open run /).getAttribute('title'))!.replace('Open run ', '')
    await entry.getByRole('button', { name: 'Export…' }).click()
    const form = entry.getByRole('form', { name: `Export run ${runId}` })
    // Export creates only the run's own folder inside an existing one.
    const exportDir = path.join(tmp, 'exports')
    mkdirSync(exportDir)
    await form.locator('input[name="folder"]').fill(exportDir)
    await form.getByRole('button', { name: 'Export' }).click()
    const file = path.join(exportDir, runId, 'optimization.gif')
    await eventually(async () => existsSync(file), UI_TIMEOUT).toBe(true)
    const meta = await sharp(file, { pages: -1 }).metadata()
    expect(meta.format).toBe('gif')
    // 20 iterations, a frame at 0, 5, 10, 15 and the last (19).
    expect(meta.pages).toBe(5)
    await shot('12-gif-exported')
  })

  it('uploads a model folder from the page: streamed to the server, stored and opened', async () => {
    const model = page.getByRole('region', { name: 'Model' })
    // A folder of the model's files without its sidecar (so it is named after its upload hash).
    const folder = path.join(tmp, 'to-upload')
    mkdirSync(folder)
    for (const n of ['model.json', 'weights.bin', 'labels.txt']) copyFileSync(path.join(MODEL_DIR, n), path.join(folder, n))
    await model.locator('input[type="file"][name="upload"]').setInputFiles(folder)
    await eventually(text(model), RUN_TIMEOUT).toMatch(/uploaded model [0-9a-f]{8}/)
    const stored = readdirSync(path.join(tmp, 'uploads')).filter((n) => /^[0-9a-f]{24}$/.test(n))
    expect(stored).toHaveLength(1)
    expect(readFileSync(path.join(tmp, 'uploads', stored[0], 'weights.bin'))).toEqual(readFileSync(path.join(MODEL_DIR, 'weights.bin')))
    await eventually(text(page.getByRole('listbox', { name: 'Model layers' }))).toContain('logits')
    await shot('13-uploaded')
  })

  it('opens a sweep\'s atlas in the Atlas view: layers, the grid of units, a unit page', async () => {
    const atlas = path.join(tmp, 'atlas')
    const r = await cli('sweep', '--layers', 'logits', '--units', '0-3', '--preset', 'yosinski-1', '--preset', 'yosinski-3',
      '--max-iter', '20', '--backend', 'wasm', '--workers', '1', '--out', atlas)
    expect(r.code, r.err).toBe(0)
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Atlas' }).click()
    const form = page.getByRole('form', { name: 'Open an atlas' })
    await form.locator('input[name="atlasPath"]').fill(atlas)
    await form.getByRole('button', { name: 'Open' }).click()
    await eventually(text(page.getByTestId('atlas-meta'))).toContain('8 of 8 planned')
    await page.getByRole('listbox', { name: 'Atlas layers' }).getByRole('option').filter({ hasText: 'logits' }).click()
    const grid = page.getByTestId('atlas-grid')
    await eventually(() => grid.locator('img').count()).toBe(8)
    await eventually(() => grid.locator('img').evaluateAll((imgs) => imgs.filter((i) => (i as unknown as ImageLike).naturalWidth === 64).length)).toBe(8)
    expect(await grid.locator('.atlas-grid__caption').first().innerText()).toMatch(/#0 grating vertical/)
    await shot('14-atlas-grid')
    await grid.locator('[data-unit="2"]').click()
    await eventually(text(page.getByTestId('atlas-unit-title'))).toMatch(/logits:2/)
    const unitPage = page.locator('.atlas-unit')
    await eventually(() => unitPage.locator('figure img').count()).toBeGreaterThanOrEqual(4)
    expect(await unitPage.innerText()).toMatch(/best: obj [-\d.]+ at ii \d+/)
    expect(await unitPage.innerText()).toMatch(/activation/)
    await shot('15-atlas-unit')
    await page.keyboard.press('ArrowRight')
    await eventually(text(page.getByTestId('atlas-unit-title'))).toMatch(/logits:3/)
  })
})
