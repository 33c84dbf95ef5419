// @vitest-environment happy-dom
/**
 * The Atlas view: open an atlas by typed path (or the dialog where the host has one), its layers with
 * finished / planned counts, a layer's grid (one image per preset, failed and pending said in place,
 * pages loaded on "Load more"), find a unit by label, a unit page (snapshots with values, readouts),
 * ← → and Escape; a failed open keeps the atlas shown; a slow page of a layer left behind is dropped;
 * the folder is reopened after a reload.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import AtlasView from '../../src/renderer/src/components/AtlasView.vue'
import { ATLAS_FOLDER_KEY, ATLAS_PAGE_SIZE, useAtlasStore } from '../../src/renderer/src/stores/atlas'
import type { AppInfo } from '../../src/shared/app-types'
import type { AtlasCell, AtlasInfo, AtlasThumbsPage, AtlasThumbsRequest, AtlasUnitPage, AtlasUnitRequest } from '../../src/shared/atlas-types'
import type { IpcResult, VisApi } from '../../src/shared/ipc-contract'
import { fakeVisApi, installPinia } from './fake-vis-api'

const UNITS = Array.from({ length: 130 }, (_, i) => i)
const LABELS = UNITS.map((i) => (i === 101 ? 'flamingo' : i === 7 ? 'goldfish' : `class ${i}`))
const INFO: AtlasInfo = {
  path: '/atlases/a',
  model: { name: 'GoogLeNet', path: '/models/g', hash: 'abcdef0123456789' },
  presets: ['yosinski-1', 'lucid'],
  layers: [
    { name: 'prob', type: 'Softmax', shape: [1000], units: UNITS, labels: LABELS, done: 259, failed: 1 },
    { name: 'conv2', type: 'Conv2D', shape: [56, 56, 64], units: [0, 1], done: 4, failed: 0 },
  ],
  results: 263, planned: 264, failed: [{ id: 'prob:1:lucid', error: 'INTERNAL: out of memory' }], updated: '2026-12-03T10:00:00.000Z',
}

function cell(unit: number, layer = 'prob'): AtlasCell {
  return {
    unit, label: layer === 'prob' ? LABELS[unit] : '',
    thumbs: [
      { preset: 'yosinski-1', image: `data:image/png;base64,${layer}${unit}a`, obj: unit + 0.5, status: 'done' },
      unit === 1 ? { preset: 'lucid', image: null, obj: null, status: 'failed', error: 'INTERNAL: out of memory' }
        : unit === 2 ? { preset: 'lucid', image: null, obj: null, status: 'pending' }
          : { preset: 'lucid', image: `data:image/png;base64,${layer}${unit}b`, obj: unit, status: 'done' },
    ],
  }
}

function unitPage(layer: string, unit: number): AtlasUnitPage {
  const units = INFO.layers.find((l) => l.name === layer)!.units
  const i = units.indexOf(unit)
  return {
    layer, unit, label: LABELS[unit] ?? '',
    prev: i > 0 ? units[i - 1] : null, next: i < units.length - 1 ? units[i + 1] : null,
    top: unit === 101 ? { montage: 'data:image/png;base64,TOP', indexDir: '/photos-index', images: 300, entries: [{ rank: 1, image: 'birds/f1.jpg', score: 31.5 }, { rank: 2, image: 'birds/f7.jpg', score: 29.25 }] } : null,
    presets: [
      {
        preset: 'yosinski-1', status: 'done', iterations: 200, method: 'dvt', metaResult: 'Metaresult: majority success', totalMs: 12_300,
        snapshots: [
          { kind: 'best', image: 'data:image/png;base64,B', ii: 199, obj: 12.25 },
          { kind: 'last', image: 'data:image/png;base64,L', ii: 199, obj: 12.25 },
          { kind: 'majority', image: null, ii: null, obj: null },
        ],
        quality: [{ key: 'activation', value: '12.250' }, { key: 'rank in layer', value: '1 / 1000' }],
      },
      { preset: 'lucid', status: 'failed', error: 'INTERNAL: out of memory', snapshots: [], quality: [], iterations: 0, method: '', metaResult: '', totalMs: 0 },
    ],
  }
}

function thumbsAnswer(req: AtlasThumbsRequest): AtlasThumbsPage {
  const units = INFO.layers.find((l) => l.name === req.layer)!.units
  return { layer: req.layer, total: units.length, offset: req.offset, cells: units.slice(req.offset, req.offset + req.limit).map((u) => cell(u, req.layer)) }
}

async function mountView(overrides: Partial<VisApi> = {}, app: Partial<AppInfo> = {}) {
  const fake = fakeVisApi({
    'app:info': vi.fn(async () => ({ ok: true as const, value: { mode: 'web' as const, version: '1', canPickFolders: false, dataDir: '/d', ...app } })),
    'atlas:open': vi.fn(async (p: string): Promise<IpcResult<AtlasInfo>> => (p === INFO.path ? { ok: true, value: INFO } : { ok: false, code: 'BAD_PARAM', message: `${p} holds no manifest.json: not an atlas` })),
    'atlas:thumbs': vi.fn(async (req: AtlasThumbsRequest): Promise<IpcResult<AtlasThumbsPage>> => ({ ok: true, value: thumbsAnswer(req) })),
    'atlas:unit': vi.fn(async (req: AtlasUnitRequest): Promise<IpcResult<AtlasUnitPage>> => ({ ok: true, value: unitPage(req.layer, req.unit) })),
    ...overrides,
  })
  const pinia = installPinia(fake.api)
  const w = mount(AtlasView, { global: { plugins: [pinia] }, attachTo: document.body })
  await flushPromises()
  return { w, api: fake.api, store: useAtlasStore() }
}

async function openTyped(w: Awaited<ReturnType<typeof mountView>>['w'], folder: string): Promise<void> {
  await w.find('input[name="atlasPath"]').setValue(folder)
  await w.find('form[aria-label="Open an atlas"]').trigger('submit')
  await flushPromises()
}

afterEach(() => {
  localStorage.clear()
  document.body.innerHTML = ''
})

describe('AtlasView', () => {
  it('opens an atlas by typed path and lists its layers with finished / planned counts and failures', async () => {
    const { w, api } = await mountView()
    expect(w.text()).toContain('No atlas open')
    expect(w.text()).not.toContain('Choose folder')
    await openTyped(w, '  /atlases/a ')
    expect(api['atlas:open']).toHaveBeenCalledWith('/atlases/a')
    const meta = w.find('[data-testid="atlas-meta"]').text()
    expect(meta).toContain('GoogLeNet')
    expect(meta).toContain('263 of 264 planned')
    expect(meta).toContain('1 failed')
    const layers = w.findAll('[role="listbox"][aria-label="Atlas layers"] [role="option"]')
    expect(layers.map((l) => l.find('.name').text())).toEqual(['prob', 'conv2'])
    expect(layers[0].text()).toContain('259 / 260')
    expect(layers[1].text()).toContain('4 / 4')
    expect(w.find('details').text()).toContain('prob:1:lucid: INTERNAL: out of memory')
    expect(localStorage.getItem(ATLAS_FOLDER_KEY)).toBe('/atlases/a')
  })

  it('shows a failed open inline and keeps the atlas that was open', async () => {
    const { w } = await mountView()
    await openTyped(w, '/atlases/a')
    await openTyped(w, '/nowhere')
    expect(w.find('[role="alert"]').text()).toContain('/nowhere holds no manifest.json')
    expect(w.find('[data-testid="atlas-meta"]').text()).toContain('GoogLeNet')
  })

  it('opens a folder from the dialog where the host has one', async () => {
    const { w, api } = await mountView({ 'atlas:pick': vi.fn(async () => ({ ok: true as const, value: INFO })) }, { canPickFolders: true })
    const choose = w.findAll('button').find((b) => b.text() === 'Choose folder…')!
    await choose.trigger('click')
    await flushPromises()
    expect(api['atlas:pick']).toHaveBeenCalled()
    expect((w.find('input[name="atlasPath"]').element as HTMLInputElement).value).toBe('/atlases/a')
  })

  it('shows a layer as a grid, one image per preset; failed and pending in place; more pages on demand', async () => {
    const { w, api } = await mountView()
    await openTyped(w, '/atlases/a')
    await w.findAll('[aria-label="Atlas layers"] [role="option"]')[0].trigger('click')
    await flushPromises()
    expect(api['atlas:thumbs']).toHaveBeenCalledWith({ path: '/atlases/a', layer: 'prob', offset: 0, limit: ATLAS_PAGE_SIZE })
    let cells = w.findAll('.atlas-grid__cell')
    expect(cells).toHaveLength(ATLAS_PAGE_SIZE)
    expect(cells[0].findAll('img').map((i) => i.attributes('src'))).toEqual(['data:image/png;base64,prob0a', 'data:image/png;base64,prob0b'])
    expect(cells[0].text()).toContain('#0')
    expect(cells[1].find('.is-failed').text()).toBe('failed')
    expect(cells[1].find('.is-failed').attributes('title')).toBe('INTERNAL: out of memory')
    expect(cells[2].find('.is-pending').text()).toBe('pending')
    const more = w.find('.atlas-grid__more button')
    expect(more.text()).toContain(`${ATLAS_PAGE_SIZE} of 130`)
    await more.trigger('click')
    await flushPromises()
    expect(api['atlas:thumbs']).toHaveBeenLastCalledWith({ path: '/atlases/a', layer: 'prob', offset: ATLAS_PAGE_SIZE, limit: ATLAS_PAGE_SIZE })
    cells = w.findAll('.atlas-grid__cell')
    expect(cells.map((c) => Number(c.attributes('data-unit')))).toEqual(UNITS)
    expect(w.find('.atlas-grid__more').exists()).toBe(false)
  })

  it('finds a unit by label and opens its page: snapshots with values, readouts, failures; arrows and Escape', async () => {
    const { w, api } = await mountView()
    await openTyped(w, '/atlases/a')
    await w.findAll('[aria-label="Atlas layers"] [role="option"]')[0].trigger('click')
    await flushPromises()
    await w.find('input[aria-label="Find unit"]').setValue('flamingo')
    const matches = w.findAll('[aria-label="Matching units"] button')
    expect(matches.map((m) => m.text())).toEqual(['#101 flamingo'])
    await matches[0].trigger('click')
    await flushPromises()
    expect(api['atlas:unit']).toHaveBeenCalledWith({ path: '/atlases/a', layer: 'prob', unit: 101 })
    expect(w.find('[data-testid="atlas-unit-title"]').text()).toBe('prob:101 “flamingo”')
    const sections = w.findAll('.atlas-unit__preset[data-preset]')
    expect(sections[0].findAll('figcaption').map((f) => f.text())).toEqual(['best: obj 12.250 at ii 199', 'last: obj 12.250 at ii 199', 'majority: never reached'])
    expect(sections[0].text()).toContain('rank in layer')
    expect(sections[0].text()).toContain('1 / 1000')
    expect(sections[0].text()).toContain('200 iterations (dvt), 12.3 s')
    expect(sections[1].find('[role="alert"]').text()).toBe('failed: INTERNAL: out of memory')
    const top = w.find('[data-testid="atlas-top"]')
    expect(top.find('h3').text()).toBe('Top 2 of 300 indexed images')
    expect(top.find('img').attributes('src')).toBe('data:image/png;base64,TOP')
    expect(top.findAll('li').map((li) => li.text())).toEqual(['birds/f1.jpg 31.500', 'birds/f7.jpg 29.250'])

    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight' }))
    await flushPromises()
    expect(api['atlas:unit']).toHaveBeenLastCalledWith({ path: '/atlases/a', layer: 'prob', unit: 102 })
    expect(w.find('[data-testid="atlas-top"]').exists()).toBe(false) // no index entry for this unit
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft' }))
    await flushPromises()
    expect(api['atlas:unit']).toHaveBeenLastCalledWith({ path: '/atlases/a', layer: 'prob', unit: 101 })
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }))
    await flushPromises()
    expect(w.find('.atlas-unit').exists()).toBe(false)
    expect(w.findAll('.atlas-grid__cell').length).toBeGreaterThan(0)
    // No match outside the atlas's units.
    await w.find('input[aria-label="Find unit"]').setValue('no such class')
    expect(w.find('[aria-label="Matching units"]').text()).toContain('no unit of this atlas matches')
  })

  it('drops a slow page of a layer that was left, and reopens the last atlas after a reload', async () => {
    let release: () => void = () => {}
    const slow = new Promise<void>((resolve) => { release = resolve })
    const { w, store } = await mountView({
      'atlas:thumbs': vi.fn(async (req: AtlasThumbsRequest): Promise<IpcResult<AtlasThumbsPage>> => {
        if (req.layer === 'prob') await slow
        return { ok: true, value: thumbsAnswer(req) }
      }),
    })
    await openTyped(w, '/atlases/a')
    const layers = w.findAll('[aria-label="Atlas layers"] [role="option"]')
    void layers[0].trigger('click')
    await flushPromises()
    await layers[1].trigger('click')
    await flushPromises()
    release()
    await flushPromises()
    expect(store.layer).toBe('conv2')
    expect(w.findAll('.atlas-grid__cell').map((c) => c.attributes('data-unit'))).toEqual(['0', '1'])
    w.unmount()

    // A new window (fresh stores) opens the remembered folder by itself.
    const again = await mountView()
    expect(again.api['atlas:open']).toHaveBeenCalledWith('/atlases/a')
    expect(again.w.find('[data-testid="atlas-meta"]').text()).toContain('GoogLeNet')
  })
})
