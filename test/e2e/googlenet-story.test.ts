/**
 * End to end on a real network (issue 13): what a researcher meets on GoogLeNet, in the web mode in
 * Debian's Chromium with the real engine (wasm). The story: a short run on the embedded model's
 * logits #4; open ../shared/models/googlenet_bvlc by path (the layer list shows one row per block,
 * full names, plumbing hidden); find "flamingo" by search (loss3/classifier #130) and see no stale
 * data of the embedded run; run with the settings the app opens on (yosinski-3; the iterations cut to
 * RUN_ITERS to keep CI short) and get rank 1 of 1000 with a readable image (majority reached, a
 * natural-image-like spectrum slope); switch to another unit ("tabby") and see none of the flamingo's
 * data; compare two presets with readable curves (each column its own y axis); reload and find the
 * selection, the settings and the history with model names and thumbnails. A screenshot of each step
 * goes to test-results/e2e-googlenet/.
 * Skipped, with a message, where /usr/bin/chromium or ../shared/models/googlenet_bvlc is absent.
 * GoogLeNet on wasm is about 0.65-0.8 s per iteration on a 2-core machine: the iteration counts are
 * small so that the file runs in a few minutes.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Browser, type Locator, type Page } from 'playwright-core'
import { CHROMIUM, hasChromium, launchChromium } from '../helpers/browser.ts'
import { ensureRendererBuilt } from '../helpers/renderer-build.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebServer, type WebServer } from '../../src/web/server.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const EMBEDDED = path.join(ROOT, 'resources', 'models', 'deepvis-shapes')
const GOOGLENET = path.resolve(ROOT, '..', 'shared', 'models', 'googlenet_bvlc')
const GOOGLENET_NAME = 'GoogLeNet / Inception v1 (BVLC Caffe)'
const RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
const SHOTS_DIR = path.join(ROOT, 'test-results', 'e2e-googlenet')
/** Iterations of the flamingo run (yosinski-3 reaches rank 1 and majority within 20 on GoogLeNet). */
const RUN_ITERS = 30
/** Iterations of each compared setting. */
const COMPARE_ITERS = 8
const UI_TIMEOUT = 30_000
const RUN_TIMEOUT = 180_000

interface ImageLike {
  naturalWidth: number
}

const hasGoogLeNet = existsSync(path.join(GOOGLENET, 'model.json'))
if (!hasChromium) console.warn(`[e2e googlenet] ${CHROMIUM} not found: skipping (CI installs Debian's chromium).`)
if (!hasGoogLeNet) console.warn(`[e2e googlenet] ${GOOGLENET} not found: skipping the GoogLeNet story (it needs ../shared/models).`)

describe.skipIf(!hasChromium || !hasGoogLeNet)('GoogLeNet in the web app (Chromium, real engine)', () => {
  let tmp: string
  let server: WebServer | undefined
  let browser: Browser | undefined
  let page: Page

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), fullPage: true })
  }
  const text = (l: Locator) => () => l.innerText()
  const eventually = <T>(fn: () => Promise<T>, timeout = UI_TIMEOUT) => expect.poll(fn, { timeout, interval: 200 })
  const region = (name: string) => page.getByRole('region', { name })

  /** Set the panel's max iterations (committed with Enter). */
  async function setIterations(n: number): Promise<void> {
    const maxIter = region('Parameters').getByLabel('Max iterations', { exact: true })
    await maxIter.fill(String(n))
    await maxIter.press('Enter')
    await eventually(() => maxIter.inputValue()).toBe(String(n))
  }

  /** Start a run in the run panel and wait until it ended; returns its status. */
  async function runToEnd(): Promise<string> {
    const runPanel = region('Current run')
    await runPanel.getByRole('button', { name: /Start/ }).click()
    const status = runPanel.getByTestId('run-status')
    await eventually(() => status.innerText(), RUN_TIMEOUT).toMatch(/^(done|failed|stopped)$/)
    return status.innerText()
  }

  /** Find a unit with the unit search and pick the match containing `label`. */
  async function findUnit(query: string, label: RegExp): Promise<void> {
    const units = region('Units')
    await units.getByTestId('unit-search').fill(query)
    await units.locator('.find-unit__matches button').filter({ hasText: label }).first().click()
  }

  beforeAll(async () => {
    await ensureRendererBuilt(180_000)
    mkdirSync(SHOTS_DIR, { recursive: true })
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-e2e-googlenet-'))
    server = await startWebServer({ port: 0, modelDir: EMBEDDED, backend: 'wasm', historyDir: path.join(tmp, 'history'), rendererDir: RENDERER_DIR })
    browser = await launchChromium()
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } })
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

  it('runs the embedded model\'s logits #4 briefly (the run a stale view would show later)', async () => {
    await page.goto(server!.url)
    await eventually(text(region('Model'))).toMatch(/DeepVis shapes/)
    await eventually(text(region('Units'))).toMatch(/logits · 10 units/)
    await findUnit('#4', /#4/)
    await eventually(text(region('Units'))).toMatch(/selected #4/)
    await setIterations(10)
    expect(await runToEnd()).toBe('done')
    await eventually(text(region('Results'))).toMatch(/logits #4/)
    await shot('01-embedded-run')
  }, RUN_TIMEOUT)

  it('opens GoogLeNet by path: one row per block, full names, plumbing behind a toggle', async () => {
    const model = region('Model')
    await model.getByRole('button', { name: 'Open model…' }).click()
    const form = model.getByRole('form', { name: 'Open a model' })
    await form.locator('input[name="modelPath"]').fill(GOOGLENET)
    await form.getByRole('button', { name: 'Open', exact: true }).click()
    await eventually(text(model), 120_000).toContain(GOOGLENET_NAME)
    const layers = page.getByRole('listbox', { name: 'Model layers' })
    const names = layers.locator('[role="option"] .name')
    await eventually(() => names.allInnerTexts()).toContain('inception_4c/output')
    const shown = await names.allInnerTexts()
    expect(shown.length).toBeLessThan(30)
    expect(shown).toEqual(expect.arrayContaining(['conv1/relu_7x7', 'conv2/relu_3x3', 'inception_3a/output', 'inception_5b/output', 'loss3/classifier', 'prob']))
    expect(shown).not.toContain('conv1/7x7_s2/pad')
    expect(shown.filter((n) => n.startsWith('loss3/'))).toEqual(['loss3/classifier'])
    // Full names are never cut: each name box is as wide as its text.
    const cut = await layers.locator('[role="option"] .name').evaluateAll((els) =>
      (els as unknown as { scrollWidth: number; clientWidth: number }[]).filter((e) => e.scrollWidth > e.clientWidth + 1).length)
    expect(cut).toBe(0)
    // Recent lists the embedded model too.
    await eventually(text(model.locator('.model-open__recent'))).toMatch(/DeepVis shapes/)
    await shot('02-googlenet-layers')
  }, 180_000)

  it('finds "flamingo" by search and shows no stale data of the embedded run', async () => {
    await findUnit('flamingo', /flamingo/)
    await eventually(text(region('Units'))).toMatch(/loss3\/classifier · 1000 units · selected #130 “flamingo”/)
    const runPanel = region('Current run')
    expect(await runPanel.getByTestId('run-status').innerText()).toBe('idle')
    expect(await runPanel.getByRole('img', { name: 'Current image of the run' }).count()).toBe(0)
    expect(await runPanel.locator('.run-panel__numbers').count()).toBe(0)
    const results = region('Results')
    await eventually(() => results.getByTestId('result-empty').count()).toBe(1)
    expect(await results.locator('.run-gallery__result').innerText()).not.toMatch(/logits #4/)
    await shot('03-flamingo-found')
  })

  it('runs with the settings the app opened on: rank 1 of 1000, majority reached, a readable image', async () => {
    const params = region('Parameters')
    expect(await params.getByLabel('Preset').inputValue()).toBe('yosinski-3')
    expect(await params.getByLabel('Max iterations', { exact: true }).inputValue()).toBe('200')
    await setIterations(RUN_ITERS)
    expect(await runToEnd()).toBe('done')
    const results = region('Results')
    await eventually(text(results)).toMatch(/loss3\/classifier #130[\s\S]*flamingo[\s\S]*done/)
    const quality = results.getByTestId('run-quality')
    await eventually(text(quality)).toMatch(/rank 1\/1000/)
    // Natural images have a spectrum slope near -2; noise is near 0.
    const slope = Number((await quality.innerText()).match(/spectrum slope (-?[\d.]+)/)?.[1])
    expect(slope).toBeLessThan(-1.2)
    expect(await results.getByRole('note').count()).toBe(0) // no "majority never reached"
    const best = results.locator('figure[data-kind="best"] img')
    await eventually(() => best.evaluate((el) => (el as unknown as ImageLike).naturalWidth)).toBe(224)
    expect(await results.getByTestId('run-which').innerText()).toContain(GOOGLENET_NAME)
    await shot('04-flamingo-done')
  }, RUN_TIMEOUT)

  it('switches to another unit and shows none of the flamingo\'s data', async () => {
    await findUnit('tabby', /tabby/)
    await eventually(text(region('Units'))).toMatch(/selected #281 “tabby, tabby cat”/)
    const runPanel = region('Current run')
    expect(await runPanel.getByTestId('run-status').innerText()).toBe('idle')
    expect(await runPanel.getByRole('img', { name: 'Current image of the run' }).count()).toBe(0)
    expect(await runPanel.locator('.run-panel__numbers').count()).toBe(0)
    const results = region('Results')
    await eventually(() => results.getByTestId('result-empty').count()).toBe(1)
    expect(await results.locator('figure[data-kind="best"]').count()).toBe(0)
    await shot('05-other-unit-clean')
  })

  it('compares two presets with readable curves', async () => {
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Compare' }).click()
    const view = region('Compare side by side')
    await view.waitFor()
    await view.getByLabel('Add a preset').selectOption('yosinski-3')
    await view.getByLabel('Add a preset').selectOption('yosinski-1')
    const table = view.getByRole('region', { name: 'Parameters of the compared settings' })
    for (const i of [1, 2]) {
      const maxIter = table.getByLabel(`max_iter of setting ${i}`)
      await maxIter.fill(String(COMPARE_ITERS))
      await maxIter.press('Enter')
      await eventually(() => maxIter.inputValue()).toBe(String(COMPARE_ITERS))
    }
    expect(await view.getByTestId('compare-axes').inputValue()).toBe('column')
    await view.getByRole('button', { name: '▶ Run' }).click()
    const columns = view.locator('section.compare-column')
    for (const i of [0, 1]) {
      await eventually(() => columns.nth(i).getAttribute('data-status'), RUN_TIMEOUT).toMatch(/^(done|failed|stopped)$/)
      expect(await columns.nth(i).getAttribute('data-status')).toBe('done')
      await columns.nth(i).locator('canvas').first().waitFor()
    }
    expect(await view.getByRole('alert').count()).toBe(0)
    await shot('06-compare')
  }, RUN_TIMEOUT)

  it('after a reload: the selection, the settings and the history with model names and thumbnails', async () => {
    await page.reload()
    await eventually(text(region('Model')), 60_000).toContain(GOOGLENET_NAME)
    await eventually(text(region('Units'))).toMatch(/loss3\/classifier · 1000 units · selected #281 “tabby, tabby cat”/)
    const params = region('Parameters')
    expect(await params.getByLabel('Preset').inputValue()).toBe('yosinski-3')
    expect(await params.getByLabel('Max iterations', { exact: true }).inputValue()).toBe(String(RUN_ITERS))
    const entries = region('Results').getByTestId('history-entry')
    await eventually(() => entries.count()).toBe(4)
    const models = await region('Results').getByTestId('history-model').allInnerTexts()
    expect(models.filter((m) => m === GOOGLENET_NAME)).toHaveLength(3)
    expect(models.filter((m) => /DeepVis shapes/.test(m))).toHaveLength(1)
    const all = await entries.allInnerTexts()
    expect(all.filter((t) => /compare · yosinski-(1|3)/.test(t))).toHaveLength(2)
    const thumbs = entries.locator('img.run-gallery__thumb')
    await eventually(() => thumbs.count()).toBe(4)
    for (let i = 0; i < 4; i++) expect(await thumbs.nth(i).evaluate((el) => (el as unknown as ImageLike).naturalWidth)).toBe(64)
    // The flamingo unit still shows its own run after the reload.
    await findUnit('flamingo', /flamingo/)
    await eventually(text(region('Results'))).toMatch(/loss3\/classifier #130[\s\S]*done/)
    await shot('07-reload-history')
  }, 120_000)
})
