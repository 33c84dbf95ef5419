/**
 * End to end in Chromium with an ONNX model (built renderer, web mode, real engine, wasm): open an
 * .onnx by path, browse its layers (module names; plumbing hidden until the toggle), run a unit of
 * its class layer, compare two presets, then upload another .onnx file. The models are small graphs
 * written by the test (onnx-builder). Screenshots under test-results/e2e-onnx/. Skipped, with a
 * message, where /usr/bin/chromium is absent.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Browser, type Locator, type Page } from 'playwright-core'
import { CHROMIUM, hasChromium, launchChromium } from '../helpers/browser.ts'
import { ensureRendererBuilt } from '../helpers/renderer-build.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebServer, type WebServer } from '../../src/web/server.ts'
import { buildOnnx, values } from '../fixtures/onnx-builder.ts'

const ROOT = path.resolve(import.meta.dirname, '../..')
const MODEL_DIR = path.join(ROOT, 'resources', 'models', 'deepvis-shapes')
const RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
const SHOTS_DIR = path.join(ROOT, 'test-results', 'e2e-onnx')
const UI_TIMEOUT = 30_000
const RUN_TIMEOUT = 90_000
const LABELS = ['circle', 'square', 'triangle', 'star', 'ring']

interface ImageLike { naturalWidth: number }

function classifier(seed: number): Uint8Array {
  return buildOnnx({
    input: { name: 'input', dims: [1, 3, 32, 32] },
    outputs: ['logits'],
    initializers: [
      { name: 'w1', dims: [8, 3, 3, 3], data: values(216, seed) }, { name: 'b1', dims: [8], data: values(8, seed + 1).map((v) => v * 0.1) },
      { name: 'w2', dims: [8, 8, 3, 3], data: values(576, seed + 2).map((v) => v * 0.3) },
      { name: 'fw', dims: [5, 8], data: values(40, seed + 3) }, { name: 'fb', dims: [5], data: values(5, seed + 4).map((v) => v * 0.1) },
    ],
    nodes: [
      { op: 'Conv', name: '/features/conv1/Conv', inputs: ['input', 'w1', 'b1'], outputs: ['c1'], attrs: { pads: [1, 1, 1, 1], strides: [2, 2] } },
      { op: 'Relu', name: '/features/relu1/Relu', inputs: ['c1'], outputs: ['r1'] },
      { op: 'Conv', name: '/features/conv2/Conv', inputs: ['r1', 'w2'], outputs: ['c2'], attrs: { pads: [1, 1, 1, 1] } },
      { op: 'Relu', name: '/features/relu2/Relu', inputs: ['c2'], outputs: ['r2'] },
      { op: 'GlobalAveragePool', name: '/pool/GlobalAveragePool', inputs: ['r2'], outputs: ['p'] },
      { op: 'Flatten', name: '/Flatten', inputs: ['p'], outputs: ['f'] },
      { op: 'Gemm', name: '/fc/Gemm', inputs: ['f', 'fw', 'fb'], outputs: ['logits'], attrs: { transB: 1 } },
    ],
  })
}

if (!hasChromium) console.warn(`[e2e] ${CHROMIUM} not found: skipping the ONNX browser test.`)

describe.skipIf(!hasChromium)('web app in Chromium with ONNX models', () => {
  let tmp: string
  let server: WebServer | undefined
  let browser: Browser | undefined
  let page: Page
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), fullPage: true })
  const text = (l: Locator) => () => l.innerText()
  const eventually = <T>(fn: () => Promise<T>, timeout = UI_TIMEOUT) => expect.poll(fn, { timeout, interval: 100 })

  beforeAll(async () => {
    await ensureRendererBuilt(300_000)
    mkdirSync(SHOTS_DIR, { recursive: true })
    tmp = mkdtempSync(path.join(os.tmpdir(), 'deepvis-e2e-onnx-'))
    mkdirSync(path.join(tmp, 'net'))
    writeFileSync(path.join(tmp, 'net', 'shapes-net.onnx'), classifier(1))
    writeFileSync(path.join(tmp, 'net', 'labels.txt'), LABELS.join('\n') + '\n')
    writeFileSync(path.join(tmp, 'net', 'deepvis.json'), JSON.stringify({ format: 'deepvis-input-spec@1', name: 'Shapes net (ONNX)', mean: [127.5, 127.5, 127.5], scale: 1 / 127.5, offset: -1, labels: 'labels.txt' }))
    writeFileSync(path.join(tmp, 'other.onnx'), classifier(9))
    server = await startWebServer({ port: 0, modelDir: MODEL_DIR, backend: 'wasm', historyDir: path.join(tmp, 'history'), rendererDir: RENDERER_DIR })
    browser = await launchChromium()
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } })
    context.setDefaultTimeout(UI_TIMEOUT)
    page = await context.newPage()
    page.on('pageerror', (e) => console.log(`[page error] ${String(e).slice(0, 400)}`))
  }, 400_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  it('opens an .onnx by path and lists its layers by module, plumbing hidden', async () => {
    await page.goto(server!.url)
    const model = page.getByRole('region', { name: 'Model' })
    await eventually(text(model)).toMatch(/DeepVis shapes/)
    await model.getByRole('button', { name: 'Open model…' }).click()
    const form = model.getByRole('form', { name: 'Open a model' })
    await form.locator('input[name="modelPath"]').fill(path.join(tmp, 'net', 'shapes-net.onnx'))
    await form.getByRole('button', { name: 'Open' }).click()
    await eventually(text(model)).toMatch(/Shapes net \(ONNX\)/)
    expect(await model.innerText()).toMatch(/ONNX model/)
    const layers = page.getByRole('listbox', { name: 'Model layers' })
    await eventually(text(layers)).toContain('features/relu2')
    const names = () => layers.getByRole('option').locator('.name').allInnerTexts()
    // Grouped by module: one row per block (features, pool, fc), plumbing and /pre_relu views hidden.
    const shown = await names()
    expect(shown).toEqual(expect.arrayContaining(['features/relu2', 'pool', 'fc']))
    expect(shown.some((n) => n === 'Flatten' || n.endsWith('/pre_relu'))).toBe(false)
    await page.getByTestId('layers-all').check()
    await eventually(names).toContain('Flatten')
    expect(await names()).toContain('features/relu1/pre_relu')
    await page.getByTestId('layers-all').uncheck()
    await shot('01-onnx-layers')
  })

  it('runs unit #0 "circle" of fc', async () => {
    await page.getByRole('listbox', { name: 'Model layers' }).getByRole('option').filter({ hasText: /^fc/ }).click()
    const unit0 = page.getByRole('listbox', { name: 'Units of fc' }).getByTitle('#0 circle', { exact: true })
    await unit0.click()
    await eventually(() => unit0.getAttribute('aria-selected')).toBe('true')
    const params = page.getByRole('region', { name: 'Parameters' })
    await eventually(() => params.getByLabel('Preset').locator('option').allInnerTexts()).toContain('yosinski-3')
    await params.getByLabel('Preset').selectOption('yosinski-3')
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
    const img = results.locator('figure[data-kind="best"] img')
    await img.waitFor()
    await eventually(() => img.evaluate((el) => (el as unknown as ImageLike).naturalWidth)).toBeGreaterThan(0)
    await shot('02-onnx-run')
  })

  it('compares two presets side by side', async () => {
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Compare' }).click()
    const view = page.getByRole('region', { name: 'Compare side by side' })
    await view.waitFor()
    await view.getByLabel('Add a preset').selectOption('yosinski-1')
    await view.getByLabel('Add a preset').selectOption('yosinski-3')
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
    expect(await view.getByRole('alert').count()).toBe(0)
    await shot('03-onnx-compare')
  })

  it('uploads another .onnx file and opens it', async () => {
    await page.getByRole('navigation', { name: 'View' }).getByRole('button', { name: 'Explore' }).click()
    const model = page.getByRole('region', { name: 'Model' })
    await model.getByRole('button', { name: 'Open model…' }).click()
    await model.locator('input[name="upload-onnx"]').setInputFiles(path.join(tmp, 'other.onnx'))
    await eventually(text(model)).toMatch(/other/)
    expect(await model.innerText()).toMatch(/assumed/)
    await eventually(text(page.getByRole('listbox', { name: 'Model layers' }))).toContain('features/relu2')
    await shot('04-onnx-upload')
  })
})
