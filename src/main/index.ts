// Electron main entry: wires settings, IPC, the media protocol, the menu, the
// main window, and the guards that keep work from being lost on close or quit.
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell } from 'electron';
import { contentSecurityPolicy } from '../shared/csp';
import type { EditState, MenuCommand } from '../shared/contract';
import { closeWarning, type PendingWork } from './close-guard';
import { createElectronCoreApi } from './handlers';
import { appUrlMatcher, registerHandlers, sendEvent } from './ipc';
import { MEDIA_SCHEME } from './media';
import { buildMenuTemplate } from './menu';
import { APP_NAME, findLegacyModels, migrateLegacyModels, userDataDir } from '../core/model/user-models';
import { legacyModelsDir, legacyModelsPrompt, resolveModelsDir } from './models';
import { Settings } from './settings';
import { createMainWindow, guardWebContents, hardenSession } from './window';

const here = dirname(fileURLToPath(import.meta.url));
// electron-vite dev sets ELECTRON_RENDERER_URL to its dev server.
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const appUrl = devServerUrl ?? pathToFileURL(join(here, '../renderer/index.html')).href;
// Sandboxed preloads must be CommonJS (see electron.vite.config.ts).
const preloadPath = join(here, '../preload/index.cjs');
const workerPath = join(here, 'job-worker.js');

app.setName(APP_NAME);
// The same folder the CLI computes (core/model/user-models.ts), whatever Electron would default to.
app.setPath('userData', userDataDir(process.platform, process.env, homedir()));
app.enableSandbox();
// Audio of the opened video plays from stylecast-media://media/<token> (media.ts):
// privileged so <audio> can stream and seek it with Range requests.
protocol.registerSchemesAsPrivileged([{ scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, stream: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  start();
}

function start(): void {
  const settings = new Settings();
  const modelsDir = resolveModelsDir({ env: process.env, userData: app.getPath('userData') });
  const oldModelsDir = legacyModelsDir({ isPackaged: app.isPackaged, appPath: app.getAppPath(), resourcesPath: process.resourcesPath });
  const isAppUrl = appUrlMatcher(appUrl);
  let mainWindow: BrowserWindow | null = null;
  const unsaved = new WeakSet<BrowserWindow>();
  const mayClose = new WeakSet<BrowserWindow>();
  let quitConfirmed = false;
  let editState: EditState | null = null;

  const api = createElectronCoreApi({
    settings,
    modelsDir,
    workerPath,
    target: () => mainWindow,
    onRecentChanged: () => refreshMenu(),
    onUnsavedChanges: (win, flag) => {
      if (!win) return;
      if (flag) unsaved.add(win);
      else unsaved.delete(win);
    },
    onEditState: (state) => {
      editState = state;
      refreshMenu();
    }
  });

  const pending = (win: BrowserWindow | null): PendingWork => ({ unsavedEdits: win !== null && unsaved.has(win), jobs: [...api.jobs.list(), ...api.modelJobs.list()] });

  /** Asks whether to discard what closing would lose; true when there is nothing or the user agrees. */
  const confirmDiscard = async (win: BrowserWindow | null, action: 'close' | 'quit'): Promise<boolean> => {
    const warning = closeWarning(pending(win), action);
    if (!warning) return true;
    const options = { type: 'warning' as const, buttons: [warning.confirm, 'Cancel'], defaultId: 1, cancelId: 1, noLink: true, message: warning.message, detail: warning.detail };
    const { response } = win ? await dialog.showMessageBox(win, options) : await dialog.showMessageBox(options);
    if (response !== 0) return false;
    await Promise.all([api.jobs.cancelAll(), api.modelJobs.cancelAll()]);
    return true;
  };

  const openWindow = (): BrowserWindow => {
    const win = createMainWindow({ appUrl, preloadPath, settings });
    win.on('close', (event) => {
      if (quitConfirmed || mayClose.has(win)) return;
      const closesApp = process.platform !== 'darwin' && BrowserWindow.getAllWindows().length === 1;
      if (!closeWarning(pending(win), closesApp ? 'quit' : 'close')) return;
      event.preventDefault();
      void confirmDiscard(win, closesApp ? 'quit' : 'close').then((ok) => {
        if (!ok || win.isDestroyed()) return;
        mayClose.add(win);
        win.close();
      });
    });
    win.on('closed', () => {
      if (mainWindow === win) mainWindow = null;
    });
    mainWindow = win;
    return win;
  };

  // With no window open (macOS), the command only brings the window back.
  const toRenderer = (command: MenuCommand): void => {
    if (mainWindow) sendEvent(mainWindow.webContents, 'menu:command', command);
    else openWindow();
  };

  const refreshMenu = (): void => {
    const template = buildMenuTemplate({
      appName: APP_NAME,
      platform: process.platform,
      dev: devServerUrl !== undefined,
      recent: settings.recentProjects(),
      edit: editState,
      actions: {
        undo: () => toRenderer({ command: 'undo', path: null }),
        redo: () => toRenderer({ command: 'redo', path: null }),
        openVideo: () => toRenderer({ command: 'open-video', path: null }),
        openProject: () => toRenderer({ command: 'open-project', path: null }),
        openRecent: (path) => toRenderer({ command: 'open-recent', path }),
        clearRecent: () => {
          settings.clearRecentProjects();
          refreshMenu();
        },
        showModelsFolder: () => {
          void shell.openPath(modelsDir).then((error) => {
            if (error) void dialog.showMessageBox({ type: 'warning', message: 'The models folder could not be opened', detail: `${modelsDir}: ${error}` });
          });
        },
        showAbout: () => {
          void dialog.showMessageBox({
            type: 'info',
            title: `About ${APP_NAME}`,
            message: `${APP_NAME} ${app.getVersion()}`,
            detail: `Electron ${process.versions.electron} · Chromium ${process.versions.chrome} · Node ${process.versions.node}\nModels: ${modelsDir}`
          });
        }
      }
    });
    Menu.setApplicationMenu(Menu.buildFromTemplate(template));
  };

  /** Bundles in the old folder are offered for moving, not silently ignored. */
  const offerLegacyMove = async (win: BrowserWindow): Promise<void> => {
    const found = findLegacyModels(oldModelsDir, modelsDir);
    if (found.length === 0) return;
    const { response } = await dialog.showMessageBox(win, legacyModelsPrompt(found, oldModelsDir, modelsDir));
    if (response !== 0) return;
    try {
      const r = migrateLegacyModels(found, modelsDir);
      if (r.skipped.length) void dialog.showMessageBox(win, { type: 'info', message: 'Some model folders were left where they were', detail: `${r.skipped.join(', ')}: a folder of that name is already in ${modelsDir}.` });
    } catch (e) {
      void dialog.showMessageBox(win, { type: 'error', message: 'The models could not be moved', detail: `${oldModelsDir} -> ${modelsDir}: ${(e as Error).message}` });
    }
  };

  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, isAppUrl));

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Quit (menu, Cmd+Q, the last window on Windows and Linux): ask first while a
  // job runs or edits are unsaved; a cancelled encode keeps its frames to resume.
  app.on('before-quit', (event) => {
    if (quitConfirmed) return;
    if (!closeWarning(pending(mainWindow), 'quit')) {
      quitConfirmed = true;
      return;
    }
    event.preventDefault();
    void confirmDiscard(mainWindow, 'quit').then((ok) => {
      if (!ok) return;
      quitConfirmed = true;
      app.quit();
    });
  });

  app.on('will-quit', () => {
    void api.dispose();
  });

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession, isAppUrl, contentSecurityPolicy({ dev: devServerUrl !== undefined }));
    protocol.handle(MEDIA_SCHEME, (request) => {
      const url = new URL(request.url);
      if (url.host !== 'media') return new Response('Not found', { status: 404 });
      return api.media.respond(url.pathname.slice(1), request.headers.get('range'), request.method);
    });
    registerHandlers(ipcMain, api.handlers, { isTrustedSender: isAppUrl });
    refreshMenu();
    const win = openWindow();
    void offerLegacyMove(win);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow();
    });
  });
}
