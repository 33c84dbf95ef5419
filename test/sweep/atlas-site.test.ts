/**
 * The atlas site of a sweep, opened from disk (file://) in Chromium: the layer list, a layer's grid of
 * units (one loaded thumbnail per preset), a unit page (best / last / majority of every preset with
 * quality readouts), and deep links (index.html#layer=logits&unit=3). Screenshots: test-results/atlas/.
 * Skipped, with a message, where /usr/bin/chromium is absent (CI installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Browser, type Page } from 'playwright-core'
import { CHROMIUM, hasChromium, launchChromium } from '../helpers/browser.ts'
import { cli } from '../helpers/cli.ts'

const SHOTS_DIR = path.resolve(import.meta.dirname, '../../test-results/atlas')
if (!hasChromium) console.warn(`[atlas] ${CHROMIUM} not found: skipping the atlas browser test (CI installs Debian's chromium).`)

describe.skipIf(!hasChromium)('atlas site in Chromium (from disk)', () => {
  let tmp = ''
  let atlas = ''
  let browser: Browser | undefined
  let page: Page
  const pageErrors: string[] = []
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`), fullPage: true })
  const url = (hash = ''): string => pathToFileURL(path.join(atlas, 'index.html')).href + hash
  /** Images on the page that did not load. */
  const broken = (): Promise<number> => page.$$eval('img', (imgs) => imgs.filter((i) => { const img = i as unknown as { complete: boolean; naturalWidth: number }; return !img.complete || img.naturalWidth === 0 }).length)

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'deepvis-atlas-'))
    atlas = path.join(tmp, 'atlas')
    // A top-k index of labelled stimuli for logits: the unit pages show each unit's top images.
    const stim = path.join(tmp, 'stimuli')
    expect((await cli('stimuli', '--out', stim, '--per-class', '2')).code).toBe(0)
    expect((await cli('index', '--images', stim, '--layers', 'logits', '--out', path.join(tmp, 'index'), '--backend', 'wasm')).code).toBe(0)
    const r = await cli('sweep', '--layers', 'logits,conv3', '--units', '0-3', '--preset', 'yosinski-1', '--preset', 'yosinski-3',
      '--max-iter', '10', '--backend', 'wasm', '--workers', '2', '--index', path.join(tmp, 'index'), '--out', atlas)
    expect(r.code, r.err).toBe(0)
    mkdirSync(SHOTS_DIR, { recursive: true })
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage()
    page.on('pageerror', (e) => { pageErrors.push(String(e)) })
  }, 180_000)
  afterAll(async () => {
    await browser?.close()
    await rm(tmp, { recursive: true, force: true })
  })

  it('lists the layers, shows a grid of units and a unit page, and follows deep links', async () => {
    const manifest = JSON.parse(readFileSync(path.join(atlas, 'manifest.json'), 'utf8'))
    expect(Object.keys(manifest.results)).toHaveLength(16)

    await page.goto(url())
    await page.waitForSelector('#layers')
    expect(await page.$$eval('#layers a.layer-link', (a) => a.map((x) => x.textContent))).toEqual(['logits', 'conv3'])
    expect(await page.textContent('#layers')).toContain('8 / 8')
    await shot('layers')

    await page.click('text=logits')
    await page.waitForSelector('#unit-grid')
    expect(page.url()).toMatch(/#layer=logits$/)
    expect(await page.$$eval('#unit-grid .cell', (c) => c.length)).toBe(4)
    await page.waitForFunction('[...document.images].every((i) => i.complete)')
    expect(await page.$$eval('#unit-grid img', (i) => i.length)).toBe(8) // 4 units x 2 presets
    expect(await broken()).toBe(0)
    expect(await page.textContent('#unit-grid .cell[data-unit="1"]')).toContain('grating horizontal') // the model's labels
    await shot('grid-logits')

    await page.click('#unit-grid .cell[data-unit="2"]')
    await page.waitForSelector('#unit-title')
    expect(page.url()).toMatch(/#layer=logits&unit=2$/)
    expect(await page.textContent('#unit-title')).toContain('logits:2')
    expect(await page.$$eval('section.preset', (s) => s.map((x) => x.getAttribute('data-preset')))).toEqual(['yosinski-1', 'yosinski-3'])
    await page.waitForFunction('[...document.images].every((i) => i.complete)')
    expect(await page.$$eval('section.preset img', (i) => i.length)).toBeGreaterThanOrEqual(4) // best + last per preset (+ majority when reached)
    expect(await broken()).toBe(0)
    const e = manifest.results['logits:2:yosinski-1']
    const text = await page.textContent('section.preset[data-preset="yosinski-1"]')
    expect(text).toContain(`at ii ${e.best.ii}`)
    expect(text).toContain(`${e.quality.rank} / 10`)
    expect(text).toContain('spectrum slope')
    expect(await page.$eval('#top-images img.montage', (i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0)
    expect(await page.$$eval('#top-images li', (li) => li.length)).toBe(9)
    expect(await page.textContent('#top-images h2')).toBe('top 9 of 20 indexed images')
    await shot('unit-logits-2')

    // Deep links, loaded fresh from disk.
    await page.goto(url('#layer=logits&unit=3'))
    await page.waitForSelector('#unit-title')
    expect(await page.textContent('#unit-title')).toContain('logits:3')
    await page.goto(url('#layer=conv3'))
    await page.waitForSelector('#unit-grid')
    expect(await page.$$eval('#unit-grid .cell', (c) => c.length)).toBe(4)
    await page.waitForFunction('[...document.images].every((i) => i.complete)')
    expect(await broken()).toBe(0)
    await shot('grid-conv3')
    await page.goto(url('#layer=nope'))
    expect(await page.textContent('#app')).toContain('No layer "nope"')
    await page.goto(url('#layer=conv3&unit=0'))
    await page.waitForSelector('#unit-title')
    await page.click('#next')
    await page.waitForFunction(`location.hash === '#layer=conv3&unit=1'`)
    await shot('unit-conv3-1')
    expect(pageErrors).toEqual([])
  }, 120_000)
})
