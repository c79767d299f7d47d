// Electron main entry: wires settings, IPC, the menu and the main window.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell } from 'electron';
import { contentSecurityPolicy } from '../shared/csp';
import type { MenuCommand } from '../shared/contract';
import { createHandlers } from './handlers';
import { appUrlMatcher, registerHandlers, sendEvent } from './ipc';
import { buildMenuTemplate } from './menu';
import { resolveModelsDir } from './models';
import { Settings } from './settings';
import { createMainWindow, guardWebContents, hardenSession } from './window';

const APP_NAME = 'Stylecast Studio';
const here = dirname(fileURLToPath(import.meta.url));
// electron-vite dev sets ELECTRON_RENDERER_URL to its dev server.
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const appUrl = devServerUrl ?? pathToFileURL(join(here, '../renderer/index.html')).href;
// Sandboxed preloads must be CommonJS (see electron.vite.config.ts).
const preloadPath = join(here, '../preload/index.cjs');

app.setName(APP_NAME);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  start();
}

function start(): void {
  const settings = new Settings();
  const modelsDir = resolveModelsDir({ env: process.env, isPackaged: app.isPackaged, appPath: app.getAppPath(), resourcesPath: process.resourcesPath });
  const isAppUrl = appUrlMatcher(appUrl);
  let mainWindow: BrowserWindow | null = null;

  const openWindow = (): BrowserWindow => {
    const win = createMainWindow({ appUrl, preloadPath, settings });
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
      actions: {
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

  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, isAppUrl));

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession, isAppUrl, contentSecurityPolicy({ dev: devServerUrl !== undefined }));
    registerHandlers(ipcMain, createHandlers({ settings, modelsDir, onRecentChanged: refreshMenu }), { isTrustedSender: isAppUrl });
    refreshMenu();
    openWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) openWindow();
    });
  });
}
