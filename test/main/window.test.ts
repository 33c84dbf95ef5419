/**
 * The application window's security settings and the main-process fences, checked through the
 * pure helpers of src/main/index.ts (Electron itself is mocked: its binary is not available here),
 * and the folder-dialog overlays of `model:pick` / `run:export` over fake engine handlers.
 */
import { readFile } from 'node:fs/promises'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import type { EventTargetWindow } from '../../src/main/index.ts'
import type { IpcHandlers } from '../../src/host/ipc.ts'
import type { ModelInfo } from '../../src/shared/ipc-contract.ts'

vi.mock('electron', () => {
  const app = {
    isPackaged: false,
    getAppPath: () => '/app',
    getPath: (name: string) => `/home/user/.config/deepvis-studio-${name}`,
    getVersion: () => '0.0.0-test',
    requestSingleInstanceLock: () => true,
    // Never ready: importing the module must not create windows or touch the engine.
    whenReady: () => new Promise<void>(() => undefined),
    on: vi.fn(),
    quit: vi.fn(),
  }
  return {
    app,
    BrowserWindow: vi.fn(),
    dialog: { showOpenDialog: vi.fn() },
    ipcMain: { handle: vi.fn(), removeHandler: vi.fn() },
    session: {},
  }
})
// The worker entry as electron-vite bundles it: never started here (the app never gets ready).
const createEngineWorker = vi.fn()
vi.mock('../../src/host/engine-worker.ts?nodeWorker', () => ({ default: createEngineWorker }))

const { dialog } = await import('electron')
const { windowOptions, contentSecurityPolicy, isAppUrl, appWindowSender, folderPicker, withFolderDialogs, allowsPermission } = await import('../../src/main/index.ts')

describe('windowOptions', () => {
  const prefs = windowOptions('/app/out/preload/index.cjs').webPreferences

  it('isolates and sandboxes the renderer without Node', () => {
    expect(prefs?.contextIsolation).toBe(true)
    expect(prefs?.sandbox).toBe(true)
    expect(prefs?.nodeIntegration).toBe(false)
    expect(prefs?.nodeIntegrationInWorker).toBe(false)
    expect(prefs?.nodeIntegrationInSubFrames).toBe(false)
  })

  it('keeps web security on and webviews off', () => {
    expect(prefs?.webSecurity).toBe(true)
    expect(prefs?.allowRunningInsecureContent).toBe(false)
    expect(prefs?.webviewTag).toBe(false)
  })

  it('uses the given preload path', () => {
    expect(prefs?.preload).toBe('/app/out/preload/index.cjs')
  })

  it('sets the icon only when one is given', () => {
    expect(windowOptions('/p.cjs').icon).toBeUndefined()
    expect(windowOptions('/p.cjs', { iconPath: '/app/resources/icon.png' }).icon).toBe('/app/resources/icon.png')
  })
})

describe('contentSecurityPolicy', () => {
  it('allows only the app itself: no inline or eval scripts, nothing by default', () => {
    const csp = contentSecurityPolicy()
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('unsafe-eval')
  })

  it('relaxes inline styles only for the dev server', () => {
    expect(contentSecurityPolicy({ dev: true })).toContain("style-src 'self' 'unsafe-inline'")
    expect(contentSecurityPolicy({ dev: true })).not.toContain("script-src 'self' 'unsafe-inline'")
  })

  it("matches the <meta> in index.html (which cannot carry frame-ancestors)", async () => {
    const html = await readFile(new URL('../../src/renderer/index.html', import.meta.url), 'utf8')
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)
    expect(meta?.[1]).toBe(contentSecurityPolicy({ forMeta: true }))
    expect(meta?.[1]).not.toContain('frame-ancestors')
  })
})

describe('isAppUrl', () => {
  it('accepts the built index.html, with or without hash and query', () => {
    const app = 'file:///app/out/renderer/index.html'
    expect(isAppUrl(app, app)).toBe(true)
    expect(isAppUrl(`${app}#/layers?x=1`, app)).toBe(true)
  })

  it('rejects other files and other schemes', () => {
    const app = 'file:///app/out/renderer/index.html'
    expect(isAppUrl('file:///etc/passwd', app)).toBe(false)
    expect(isAppUrl('https://example.com/', app)).toBe(false)
    expect(isAppUrl('not a url', app)).toBe(false)
  })

  it('accepts the dev server origin only', () => {
    const dev = 'http://localhost:5173/'
    expect(isAppUrl('http://localhost:5173/src/main.ts', dev)).toBe(true)
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false)
    expect(isAppUrl('https://localhost:5173/', dev)).toBe(false)
  })
})

describe('appWindowSender', () => {
  const APP = 'file:///app/out/renderer/index.html'
  const done = { runId: 'r1' } as never

  function fakeWindow(url: string, { destroyed = false } = {}): { win: EventTargetWindow; sent: unknown[][] } {
    const sent: unknown[][] = []
    return {
      sent,
      win: {
        isDestroyed: () => destroyed,
        webContents: { isDestroyed: () => destroyed, getURL: () => url, send: (c, p) => { sent.push([c, p]) } },
      },
    }
  }

  it("sends to the app's window", () => {
    const { win, sent } = fakeWindow(APP + '#/runs')
    appWindowSender(() => win, APP)('run:done', done)
    expect(sent).toEqual([['run:done', done]])
  })

  it('drops the event without a window, with a destroyed one, or one showing another page', () => {
    const other = fakeWindow('https://evil.example/')
    const gone = fakeWindow(APP, { destroyed: true })
    expect(() => appWindowSender(() => null, APP)('run:done', done)).not.toThrow()
    appWindowSender(() => other.win, APP)('run:done', done)
    appWindowSender(() => gone.win, APP)('run:done', done)
    expect([other.sent, gone.sent]).toEqual([[], []])
  })
})

describe('folder-dialog overlays', () => {
  const showOpenDialog = vi.mocked(dialog.showOpenDialog)
  const info = { name: 'picked', path: '/models/picked' } as ModelInfo
  const exported = { folder: '/out/run', files: ['best_X.png', 'info.json'] }

  /** Engine handlers that record what reaches them. */
  function fakeEngine(): { handlers: IpcHandlers; open: ReturnType<typeof vi.fn>; exportRun: ReturnType<typeof vi.fn> } {
    const open = vi.fn(async (_folder: string) => info)
    const exportRun = vi.fn(async (_req: { runId: string; folder: string | null }) => exported)
    const handlers = { 'model:open': open, 'run:export': exportRun, 'model:pick': vi.fn(), 'presets:list': vi.fn() } as unknown as IpcHandlers
    return { handlers, open, exportRun }
  }
  const win = { isDestroyed: () => false } as never

  beforeEach(() => {
    showOpenDialog.mockReset()
  })

  it("model:pick opens the chosen folder in the engine, on the app's window", async () => {
    showOpenDialog.mockResolvedValue({ canceled: false, filePaths: ['/models/picked'] })
    const engine = fakeEngine()
    const handlers = withFolderDialogs(engine.handlers, folderPicker(() => win))
    expect(await handlers['model:pick'](undefined)).toBe(info)
    expect(engine.open).toHaveBeenCalledWith('/models/picked')
    expect(showOpenDialog).toHaveBeenCalledWith(win, expect.objectContaining({
      properties: ['openDirectory', 'openFile'],
      filters: [{ name: 'Models (.onnx, model.json)', extensions: ['onnx', 'json'] }],
    }))
  })

  it('model:pick answers null and opens nothing when the dialog is cancelled', async () => {
    showOpenDialog.mockResolvedValue({ canceled: true, filePaths: [] })
    const engine = fakeEngine()
    expect(await withFolderDialogs(engine.handlers, folderPicker(() => null))['model:pick'](undefined)).toBeNull()
    expect(engine.open).not.toHaveBeenCalled()
    // Without a window the dialog is not attached to one.
    expect(showOpenDialog.mock.calls[0]).toHaveLength(1)
  })

  it('atlas:pick opens the chosen folder as an atlas (folders only); null when cancelled', async () => {
    const atlas = { path: '/atlases/a' } as never
    const openAtlas = vi.fn(async (_folder: string) => atlas)
    const engine = { ...fakeEngine().handlers, 'atlas:open': openAtlas } as unknown as IpcHandlers
    showOpenDialog.mockResolvedValue({ canceled: false, filePaths: ['/atlases/a'] })
    expect(await withFolderDialogs(engine, folderPicker(() => win))['atlas:pick'](undefined)).toBe(atlas)
    expect(openAtlas).toHaveBeenCalledWith('/atlases/a')
    expect(showOpenDialog).toHaveBeenCalledWith(win, expect.objectContaining({ properties: ['openDirectory'] }))
    showOpenDialog.mockResolvedValue({ canceled: true, filePaths: [] })
    expect(await withFolderDialogs(engine, folderPicker(() => win))['atlas:pick'](undefined)).toBeNull()
    expect(openAtlas).toHaveBeenCalledTimes(1)
  })

  it('run:export with a folder goes to the engine unchanged, without a dialog', async () => {
    const engine = fakeEngine()
    const req = { runId: 'r1', folder: '/out/run' }
    expect(await withFolderDialogs(engine.handlers, folderPicker(() => win))['run:export'](req)).toBe(exported)
    expect(engine.exportRun).toHaveBeenCalledWith(req)
    expect(showOpenDialog).not.toHaveBeenCalled()
  })

  it('run:export without a folder asks for one (creating allowed) and exports there', async () => {
    showOpenDialog.mockResolvedValue({ canceled: false, filePaths: ['/out/new'] })
    const engine = fakeEngine()
    expect(await withFolderDialogs(engine.handlers, folderPicker(() => win))['run:export']({ runId: 'r1', folder: null })).toBe(exported)
    expect(engine.exportRun).toHaveBeenCalledWith({ runId: 'r1', folder: '/out/new' })
    expect(showOpenDialog).toHaveBeenCalledWith(win, expect.objectContaining({ properties: ['openDirectory', 'createDirectory'] }))
  })

  it('run:export answers an empty export when the dialog is cancelled', async () => {
    showOpenDialog.mockResolvedValue({ canceled: true, filePaths: [] })
    const engine = fakeEngine()
    expect(await withFolderDialogs(engine.handlers, folderPicker(() => win))['run:export']({ runId: 'r1', folder: null })).toEqual({ folder: '', files: [] })
    expect(engine.exportRun).not.toHaveBeenCalled()
  })

  it('leaves every other channel to the engine', () => {
    const engine = fakeEngine()
    expect(withFolderDialogs(engine.handlers, folderPicker(() => win))['presets:list']).toBe(engine.handlers['presets:list'])
  })

  it('importing the main module starts no engine worker', () => {
    expect(createEngineWorker).not.toHaveBeenCalled()
  })
})

describe('allowsPermission (the live view\'s camera)', () => {
  const app = 'file:///app/out/renderer/index.html'
  it('allows video-only media for the app\'s own page and nothing else', () => {
    expect(allowsPermission('media', ['video'], app, app)).toBe(true)
    expect(allowsPermission('media', ['video', 'audio'], app, app)).toBe(false)
    expect(allowsPermission('media', ['audio'], app, app)).toBe(false)
    expect(allowsPermission('media', undefined, app, app)).toBe(false)
    expect(allowsPermission('media', ['video'], 'https://evil.example/', app)).toBe(false)
    for (const p of ['geolocation', 'notifications', 'clipboard-read', 'midi']) expect(allowsPermission(p, ['video'], app, app)).toBe(false)
  })
})
