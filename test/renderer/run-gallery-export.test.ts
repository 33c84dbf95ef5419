// @vitest-environment happy-dom
/**
 * RunGallery's "Export…" per run: web mode asks for a folder inline and sends it; Electron sends
 * null (the host shows a dialog); the answer (folder, file count) or the error code is shown; a
 * cancelled dialog shows nothing.
 */
import { flushPromises, mount } from '@vue/test-utils'
import { describe, expect, it, vi } from 'vitest'
import RunGallery from '../../src/renderer/src/components/RunGallery.vue'
import { useHistoryStore } from '../../src/renderer/src/stores/history'
import type { AppInfo, ExportRequest, ExportResult } from '../../src/shared/app-types'
import type { IpcResult, VisApi } from '../../src/shared/ipc-contract'
import { fakeVisApi, installPinia, summary } from './fake-vis-api'

async function mountGallery(exportFn: VisApi['run:export'], app: Partial<AppInfo> = {}) {
  const fake = fakeVisApi({
    'app:info': vi.fn(async () => ({ ok: true as const, value: { mode: 'web' as const, version: '1', canPickFolders: false, dataDir: '/d', ...app } })),
    'runs:list': async () => ({ ok: true, value: [summary({ runId: 'a' }), summary({ runId: 'b' })] }),
    'run:export': exportFn,
  })
  const pinia = installPinia(fake.api)
  const history = useHistoryStore()
  await history.load()
  const w = mount(RunGallery, { global: { plugins: [pinia] }, attachTo: document.body })
  await flushPromises()
  const row = (runId: string) => w.findAll('.run-gallery__history li').find((li) => li.find(`[aria-label="Delete run ${runId}"]`).exists())!
  return { w, row }
}

const exported = (req: ExportRequest): IpcResult<ExportResult> => ({
  ok: true, value: { folder: `${req.folder ?? '/picked'}/${req.runId}`, files: ['best_X.png', 'best_Xpm.png', 'info.json', 'info.txt'] },
})

describe('RunGallery export', () => {
  it('web mode: an inline folder field per run, then where the files went', async () => {
    const exportFn = vi.fn(async (req: ExportRequest) => exported(req))
    const { w, row } = await mountGallery(exportFn)
    await row('b').find('.run-export__button').trigger('click')
    expect(exportFn).not.toHaveBeenCalled()
    expect(row('a').find('.run-export__form').exists()).toBe(false)
    await row('b').find('input[name="folder"]').setValue(' /home/me/out ')
    await row('b').find('.run-export__form').trigger('submit')
    await flushPromises()
    expect(exportFn).toHaveBeenCalledWith({ runId: 'b', folder: '/home/me/out' })
    expect(row('b').find('[role="status"]').text()).toBe('4 files exported to /home/me/out/b')
    expect(row('b').find('.run-export__form').exists()).toBe(false)
    w.unmount()
  })

  it('shows the error code and message, e.g. a non-empty destination', async () => {
    const exportFn = vi.fn(async (): Promise<IpcResult<ExportResult>> => ({ ok: false, code: 'BAD_PARAM', message: 'cannot export to /x/a: the folder exists and is not empty' }))
    const { w, row } = await mountGallery(exportFn)
    await row('a').find('.run-export__button').trigger('click')
    await row('a').find('input[name="folder"]').setValue('/x')
    await row('a').find('.run-export__form').trigger('submit')
    await flushPromises()
    const alert = row('a').find('.run-export__error')
    expect(alert.text()).toContain('BAD_PARAM')
    expect(alert.text()).toContain('not empty')
    expect(row('a').find('.run-export__form').exists()).toBe(true)
    w.unmount()
  })

  it('Electron: sends folder null for the host dialog; a cancelled dialog shows nothing', async () => {
    const answers: IpcResult<ExportResult>[] = [exported({ runId: 'a', folder: null }), { ok: true, value: { folder: '', files: [] } }]
    const exportFn = vi.fn(async () => answers.shift()!)
    const { w, row } = await mountGallery(exportFn, { mode: 'electron', canPickFolders: true })
    await row('a').find('.run-export__button').trigger('click')
    await flushPromises()
    expect(exportFn).toHaveBeenCalledWith({ runId: 'a', folder: null })
    expect(row('a').find('.run-export__form').exists()).toBe(false)
    expect(row('a').find('[role="status"]').text()).toBe('4 files exported to /picked/a')
    await row('a').find('.run-export__button').trigger('click')
    await flushPromises()
    expect(exportFn).toHaveBeenCalledTimes(2)
    expect(row('a').find('[role="status"]').exists()).toBe(false)
    expect(row('a').find('.run-export__error').exists()).toBe(false)
    w.unmount()
  })
})
