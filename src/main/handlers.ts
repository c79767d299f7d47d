// The Electron side of the core API: native dialogs, the shell, settings-backed
// recent projects, events to the window and job processes in utility
// processes. Everything else is in core-api.ts, shared with the browser tests.
import { app, BrowserWindow, dialog, Notification, session, shell, type IpcMainInvokeEvent, type OpenDialogOptions, type SaveDialogOptions } from 'electron';
import { proxyFromPac } from '../core/model/manager/download';
import { CHECKPOINT_EXTENSIONS, PROJECT_EXTENSION, VIDEO_EXTENSIONS, type EditState, type EventName } from '../shared/contract';
import { createCoreApi, type CoreApi } from './core-api';
import { JobFeedback } from './job-feedback';
import { electronJobTransport } from './jobs/electron-transport';
import { MEDIA_SCHEME } from './media';
import type { Settings } from './settings';

export interface HandlerDeps {
  settings: Settings;
  modelsDir: string;
  /** The bundled job worker (out/main/job-worker.js). */
  workerPath: string;
  /** Where events go: the main window while it is open. */
  target(): BrowserWindow | null;
  /** Called after the recent list changed (the menu shows it too). */
  onRecentChanged(): void;
  /** The renderer reported whether it holds unsaved edits. */
  onUnsavedChanges(window: BrowserWindow | null, unsaved: boolean): void;
  /** The editor's undo and redo steps changed (the Edit menu names them). */
  onEditState(state: EditState | null): void;
}

const bare = (ext: string): string => ext.slice(1);
const IMAGE_EXTENSIONS = ['jpg', 'jpeg', 'png', 'webp', 'bmp'];

const parentOf = (event: IpcMainInvokeEvent): BrowserWindow | null => BrowserWindow.fromWebContents(event.sender);

async function showOpen(event: IpcMainInvokeEvent, options: OpenDialogOptions): Promise<string | null> {
  const parent = parentOf(event);
  const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

async function showSave(event: IpcMainInvokeEvent, options: SaveDialogOptions): Promise<string | null> {
  const parent = parentOf(event);
  const result = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
  return result.canceled || !result.filePath ? null : result.filePath;
}

export function createElectronCoreApi(deps: HandlerDeps): CoreApi<IpcMainInvokeEvent> {
  const live = (): BrowserWindow | null => {
    const win = deps.target();
    return win && !win.isDestroyed() && !win.webContents.isDestroyed() ? win : null;
  };
  const feedback = new JobFeedback({
    setProgress: (value) => live()?.setProgressBar(value),
    notify: (title, body) => {
      if (Notification.isSupported()) new Notification({ title, body }).show();
    },
    windowFocused: () => live()?.isFocused() ?? false,
    now: () => Date.now()
  });
  return createCoreApi<IpcMainInvokeEvent>({
    version: app.getVersion(),
    modelsDir: deps.modelsDir,
    send(name: EventName, payload: unknown) {
      feedback.onEvent(name, payload);
      live()?.webContents.send(name, payload);
    },
    dialogs: {
      confirm: async (event, q) => {
        const parent = parentOf(event);
        const options = { type: 'question' as const, buttons: [q.confirm, 'Cancel'], defaultId: 1, cancelId: 1, noLink: true, message: q.message, detail: q.detail };
        const { response } = parent ? await dialog.showMessageBox(parent, options) : await dialog.showMessageBox(options);
        return response === 0;
      },
      openVideo: (event) =>
        showOpen(event, { title: 'Open Video', properties: ['openFile'], filters: [{ name: 'Video', extensions: VIDEO_EXTENSIONS.map(bare) }] }),
      // A project is a NAME.stylecast folder: pick the folder itself.
      openProject: (event) =>
        showOpen(event, { title: 'Open Project', buttonLabel: 'Open Project', message: `Choose a NAME${PROJECT_EXTENSION} project folder`, properties: ['openDirectory', 'treatPackageAsDirectory'] }),
      openCheckpoint: (event) =>
        showOpen(event, { title: 'Import a StyleGAN2 Checkpoint', buttonLabel: 'Import', properties: ['openFile'], filters: [{ name: 'StyleGAN2 checkpoint', extensions: CHECKPOINT_EXTENSIONS.map(bare) }] }),
      openImage: (event) =>
        showOpen(event, { title: 'Choose a Portrait', properties: ['openFile'], filters: [{ name: 'Image', extensions: IMAGE_EXTENSIONS }] }),
      save: (event, kind, defaultPath) =>
        showSave(
          event,
          kind === 'video' || kind === 'copy'
            ? { title: kind === 'copy' ? 'Save Constant-Rate Copy' : 'Export Video', defaultPath, buttonLabel: kind === 'copy' ? 'Save Copy' : 'Export', filters: [{ name: 'MP4 video', extensions: ['mp4'] }, { name: 'QuickTime', extensions: ['mov'] }, { name: 'Matroska', extensions: ['mkv'] }] }
            : { title: 'New Project', defaultPath, buttonLabel: 'Create', nameFieldLabel: 'Project:', message: `The project is saved as a folder named NAME${PROJECT_EXTENSION}`, filters: [{ name: 'Stylecast Project', extensions: [bare(PROJECT_EXTENSION)] }] }
        )
    },
    showItem: (path) => shell.showItemInFolder(path),
    mediaUrl: (token) => `${MEDIA_SCHEME}://media/${token}`,
    recent: {
      list: () => deps.settings.recentProjects(),
      add: (path) => {
        const list = deps.settings.addRecentProject(path);
        deps.onRecentChanged();
        return list;
      }
    },
    setUnsavedChanges: (unsaved, event) => deps.onUnsavedChanges(parentOf(event), unsaved),
    setEditState: (state) => deps.onEditState(state),
    jobTransport: electronJobTransport(deps.workerPath),
    // The system proxy settings (PAC, WPAD, manual), as Chromium resolves them for this URL.
    resolveProxy: async (url) => proxyFromPac(await session.defaultSession.resolveProxy(url))
  });
}
