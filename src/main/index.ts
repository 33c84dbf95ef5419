/**
 * Electron main process: app lifecycle, the one application window, and the security fences
 * around it (Electron security checklist):
 * - the renderer is sandboxed and context-isolated, without Node; it reaches the app only through
 *   the preload's `window.vis` (see src/preload/index.ts);
 * - navigation away from the app, new windows, <webview>s and permission requests are refused;
 * - a strict Content-Security-Policy is sent as a response header and also sits in index.html's
 *   <meta> (file:// pages get no response headers);
 * - IPC only answers the app's own top-level frame (src/host/ipc.ts).
 * The engine runs in a worker_thread (src/host/engine-worker.ts, bundled by electron-vite from the
 * `?nodeWorker` import below) behind src/host/worker-engine-host.ts, so its compute never blocks this
 * process; runs are stored under `<userData>/runs` and their events are sent to the app's window only
 * (`npm start`'s web fallback uses the same folder: `electronUserDataDir` in src/launcher/environment.ts).
 * Two channels need this process, not the engine: `model:pick` and `run:export` without a folder show
 * a native folder dialog here and pass the chosen folder on to the worker (`withFolderDialogs`).
 * Shape: side effects on import (the app starts); pure helpers `windowOptions`,
 * `contentSecurityPolicy`, `isAppUrl`, `appWindowSender`, `folderPicker` and `withFolderDialogs` are
 * exported for tests.
 */
/// <reference types="electron-vite/node" />
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { app, BrowserWindow, dialog, ipcMain, session } from 'electron'
import type { BrowserWindowConstructorOptions, IpcMainInvokeEvent, OpenDialogOptions, Session } from 'electron'
import type { EventChannel, EventMap } from '../shared/ipc-contract.ts'
import createEngineWorker from '../host/engine-worker.ts?nodeWorker'
import { registerIpc, type IpcHandlers } from '../host/ipc.ts'
import { createWorkerEngineHost } from '../host/worker-engine-host.ts'
import { contentSecurityPolicy } from '../shared/csp.ts'

export { contentSecurityPolicy }
import type { Emit } from '../host/run-service.ts'

/** Folder of the built main bundle (out/main); preload and renderer are built next to it. */
const MAIN_DIR = path.dirname(fileURLToPath(import.meta.url))
/** Sandboxed preloads cannot be ES modules, so the preload is built as CommonJS (.cjs). */
const PRELOAD_PATH = path.join(MAIN_DIR, '../preload/index.cjs')
const RENDERER_HTML = path.join(MAIN_DIR, '../renderer/index.html')
/** Set by `electron-vite dev` to the renderer dev server; absent in a built app. */
const DEV_SERVER_URL = !app.isPackaged ? process.env['ELECTRON_RENDERER_URL'] : undefined
/** The embedded default model, relative to the app root (the folder holding package.json). */
const DEFAULT_MODEL_SUBDIR = ['resources', 'models', 'deepvis-shapes'] as const
/** The run history, under the per-user data folder: `<userData>/runs/<runId>/`. */
const HISTORY_SUBDIR = 'runs'

/** Options of the application window; pure, so a test can check the security settings. */
export function windowOptions(preloadPath: string, { iconPath }: { iconPath?: string } = {}): BrowserWindowConstructorOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'DeepVis Studio',
    ...(iconPath ? { icon: iconPath } : {}),
    backgroundColor: '#f6f7f9',
    autoHideMenuBar: true,
    // Shown on 'ready-to-show' to avoid a white flash.
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  }
}

/**
 * Whether `url` is a page of the app: same origin as the dev server URL, or the same file as the
 * built index.html (query and hash ignored).
 */
export function isAppUrl(url: string, appUrl: string): boolean {
  let u: URL
  let a: URL
  try {
    u = new URL(url)
    a = new URL(appUrl)
  } catch {
    return false
  }
  if (a.protocol === 'file:') return u.protocol === 'file:' && u.pathname === a.pathname
  return u.origin === a.origin
}

const appUrl = DEV_SERVER_URL ?? pathToFileURL(RENDERER_HTML).href
let mainWindow: BrowserWindow | null = null

function isTrustedSender(event: IpcMainInvokeEvent): boolean {
  const frame = event.senderFrame
  return mainWindow !== null && !mainWindow.isDestroyed() && event.sender === mainWindow.webContents &&
    frame !== null && frame.parent === null && isAppUrl(frame.url, appUrl)
}

/** The part of a BrowserWindow the event sender needs. */
export interface EventTargetWindow {
  isDestroyed(): boolean
  webContents: { isDestroyed(): boolean; getURL(): string; send(channel: string, payload: unknown): void }
}

/**
 * An `emit` that sends each event to the app's own window only (never a broadcast), and only while
 * that window shows the app; the event is dropped when there is no such window (closed, not loaded
 * yet, or showing something else).
 * @example createEngineHost({ ..., emit: appWindowSender(() => mainWindow, appUrl) })
 */
export function appWindowSender(getWindow: () => EventTargetWindow | null, appPageUrl: string): Emit {
  return <K extends EventChannel>(channel: K, payload: EventMap[K]): void => {
    const win = getWindow()
    if (win === null || win.isDestroyed()) return
    const contents = win.webContents
    if (contents.isDestroyed() || !isAppUrl(contents.getURL(), appPageUrl)) return
    contents.send(channel, payload)
  }
}

/** Title and options of one folder dialog. */
export interface FolderDialogRequest {
  title: string
  /** Offer to create a new folder (an export destination). */
  createDirectory: boolean
  /**
   * Also accept a model file (.onnx, model.json). macOS shows one dialog for both; on Windows and
   * Linux Electron shows the folder selector (a folder holding one .onnx opens too).
   */
  modelFiles?: boolean
}

/** Ask the user for a folder; null when cancelled. */
export type PickFolder = (request: FolderDialogRequest) => Promise<string | null>

/**
 * Electron's folder dialog, attached to the app's window when there is one.
 * @example withFolderDialogs(engine.handlers, folderPicker(() => mainWindow))
 */
export function folderPicker(getWindow: () => BrowserWindow | null): PickFolder {
  return async ({ title, createDirectory, modelFiles }) => {
    const properties: OpenDialogOptions['properties'] = createDirectory ? ['openDirectory', 'createDirectory'] : ['openDirectory']
    if (modelFiles) properties.push('openFile')
    const options: OpenDialogOptions = { title, properties }
    if (modelFiles) options.filters = [{ name: 'Models (.onnx, model.json)', extensions: ['onnx', 'json'] }]
    const win = getWindow()
    const answer = win && !win.isDestroyed() ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options)
    return answer.canceled || answer.filePaths.length === 0 ? null : answer.filePaths[0]
  }
}

/**
 * The engine's handlers with the two channels that need a dialog of this process replaced:
 * - `model:pick`: choose a folder, then `model:open` it in the engine; null when cancelled;
 * - `run:export` with `folder: null`: choose (or create) a folder, then export there; `{folder: '',
 *   files: []}` when cancelled. With a folder given it goes to the engine unchanged.
 * @example registerIpc(ipcMain, withFolderDialogs(engine.handlers, folderPicker(() => mainWindow)), trusted)
 */
export function withFolderDialogs(engine: IpcHandlers, pickFolder: PickFolder): IpcHandlers {
  return {
    ...engine,
    'model:pick': async () => {
      const folder = await pickFolder({ title: 'Open a model: a TensorFlow.js folder, an .onnx file or its folder', createDirectory: false, modelFiles: true })
      return folder === null ? null : engine['model:open'](folder)
    },
    'atlas:pick': async () => {
      const folder = await pickFolder({ title: 'Open an atlas: the --out folder of deepvis sweep', createDirectory: false })
      return folder === null ? null : engine['atlas:open'](folder)
    },
    'run:export': async (req) => {
      if (req.folder !== null) return engine['run:export'](req)
      const folder = await pickFolder({ title: 'Export the run to a folder', createDirectory: true })
      return folder === null ? { folder: '', files: [] } : engine['run:export']({ runId: req.runId, folder })
    },
  }
}

function installSessionGuards(ses: Session): void {
  const policy = contentSecurityPolicy({ dev: DEV_SERVER_URL !== undefined })
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } })
  })
  // Only the live view's camera (video, no microphone) for the app's own page; no notifications,
  // geolocation…: every other permission is refused.
  ses.setPermissionRequestHandler((contents, permission, callback, details) =>
    callback(allowsPermission(permission, (details as { mediaTypes?: string[] }).mediaTypes, contents.getURL(), appUrl)))
  ses.setPermissionCheckHandler((contents, permission) => permission === 'media' && contents !== null && isAppUrl(contents.getURL(), appUrl))
}

/** Whether the app's window may have `permission`: only 'media' with video alone, asked by the app's own page. */
export function allowsPermission(permission: string, mediaTypes: readonly string[] | undefined, pageUrl: string, appPageUrl: string): boolean {
  return permission === 'media' && Array.isArray(mediaTypes) && mediaTypes.length > 0 && mediaTypes.every((t) => t === 'video') && isAppUrl(pageUrl, appPageUrl)
}

function createWindow(): void {
  const win = new BrowserWindow(windowOptions(PRELOAD_PATH, { iconPath: path.join(app.getAppPath(), 'resources', 'icon.png') }))
  mainWindow = win
  win.once('ready-to-show', () => win.show())
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null
  })
  if (DEV_SERVER_URL) void win.loadURL(DEV_SERVER_URL)
  else void win.loadFile(RENDERER_HTML)
}

// Every web contents, present or future: no navigation away from the app, no new windows, no <webview>.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event) => {
    if (!isAppUrl(event.url, appUrl)) event.preventDefault()
  })
  contents.on('will-redirect', (event) => {
    if (!isAppUrl(event.url, appUrl)) event.preventDefault()
  })
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
  contents.on('will-attach-webview', (event) => event.preventDefault())
})

const engine = createWorkerEngineHost({
  createWorker: createEngineWorker,
  modelDir: path.join(app.getAppPath(), ...DEFAULT_MODEL_SUBDIR),
  missingModelHint: "Create it with 'npm run train-default-model'.",
  historyDir: path.join(app.getPath('userData'), HISTORY_SUBDIR),
  dataDir: app.getPath('userData'),
  app: { mode: 'electron', version: app.getVersion(), canPickFolders: true },
  emit: appWindowSender(() => mainWindow, appUrl),
})

if (!app.requestSingleInstanceLock()) {
  app.quit()
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore()
      mainWindow.focus()
    }
  })
  void app.whenReady().then(() => {
    installSessionGuards(session.defaultSession)
    void engine.start()
    registerIpc(ipcMain, withFolderDialogs(engine.handlers, folderPicker(() => mainWindow)), isTrustedSender)
    createWindow()
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow()
    })
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('will-quit', () => engine.dispose())
}
