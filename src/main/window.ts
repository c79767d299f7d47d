// The main window and the security rules around it: an isolated, sandboxed
// renderer that shows only the app's own page and cannot open or navigate
// anywhere else.
import { BrowserWindow, screen, type Session } from 'electron';
export { guardWebContents } from './navigation-guard';
import type { Settings } from './settings';
import { DEFAULT_SIZE, MIN_SIZE, restorableBounds } from './window-state';

/** The background painted before the page loads; matches --bg in styles.css. */
const BACKGROUND = '#141518';

export interface MainWindowOptions {
  appUrl: string;
  preloadPath: string;
  settings: Settings;
}

export function createMainWindow({ appUrl, preloadPath, settings }: MainWindowOptions): BrowserWindow {
  const saved = settings.windowState();
  const bounds = saved ? restorableBounds(saved.bounds, screen.getAllDisplays().map((d) => d.workArea)) : null;
  const win = new BrowserWindow({
    ...(bounds ?? DEFAULT_SIZE),
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: 'Stylecast Studio',
    backgroundColor: BACKGROUND,
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false
    }
  });
  if (saved?.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  win.on('close', () => {
    settings.saveWindowState({ bounds: win.getNormalBounds(), maximized: win.isMaximized() });
  });
  void win.loadURL(appUrl);
  return win;
}

/**
 * Session-wide rules: every permission request (camera, notifications, ...)
 * is refused, and the app's responses carry the Content-Security-Policy header.
 * file:// responses have no headers to rewrite, so index.html carries the same
 * policy in a meta tag.
 */
export function hardenSession(ses: Session, isAppUrl: (url: string) => boolean, csp: string): void {
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  ses.webRequest.onHeadersReceived((details, callback) => {
    if (!isAppUrl(details.url)) {
      callback({});
      return;
    }
    const headers = { ...details.responseHeaders };
    for (const key of Object.keys(headers)) {
      if (key.toLowerCase() === 'content-security-policy') delete headers[key];
    }
    headers['Content-Security-Policy'] = [csp];
    callback({ responseHeaders: headers });
  });
}
