// The implementations behind the contract methods. Payloads arrive already
// validated by registerHandlers.
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { app, BrowserWindow, dialog, type IpcMainInvokeEvent, type OpenDialogOptions } from 'electron';
import { PROJECT_EXTENSION, VIDEO_EXTENSIONS, type Device, type RecentProject } from '../shared/contract';
import type { Handlers } from './ipc';
import { scanModelsDir } from './models';
import type { StoredRecent } from './recent';
import type { Settings } from './settings';

export interface HandlerDeps {
  settings: Settings;
  modelsDir: string;
  /** Called after the recent list changed (the menu shows it too). */
  onRecentChanged(): void;
}

let devicePromise: Promise<Device> | undefined;

/**
 * The device core will run on. onnxruntime-node is loaded on first use, not at
 * startup, so the window appears without waiting for the native module.
 */
function detectDevice(): Promise<Device> {
  devicePromise ??= import('../core/runtime')
    .then((runtime) => runtime.resolveDevice())
    .catch((e: unknown) => {
      console.warn(`Stylecast: device detection failed, using CPU: ${(e as Error).message}`);
      return 'cpu' as const;
    });
  return devicePromise;
}

function withMissing(list: readonly StoredRecent[]): RecentProject[] {
  return list.map((r) => ({ ...r, missing: !existsSync(r.path) }));
}

async function showOpen(event: IpcMainInvokeEvent, options: OpenDialogOptions): Promise<string | null> {
  const parent = BrowserWindow.fromWebContents(event.sender);
  const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

const bare = (ext: string): string => ext.slice(1);

export function createHandlers({ settings, modelsDir, onRecentChanged }: HandlerDeps): Handlers<IpcMainInvokeEvent> {
  return {
    'app:info': async () => ({
      version: app.getVersion(),
      modelsDir,
      device: await detectDevice(),
      platform: process.platform
    }),

    'models:list': async () => {
      const { models, skipped } = await scanModelsDir(modelsDir);
      for (const s of skipped) console.warn(`Stylecast: skipped model bundle ${s.path}: ${s.reason}`);
      return models;
    },

    'dialog:openVideo': (_request, event) =>
      showOpen(event, {
        title: 'Open Video',
        properties: ['openFile'],
        filters: [{ name: 'Video', extensions: VIDEO_EXTENSIONS.map(bare) }]
      }),

    'dialog:openProject': (_request, event) =>
      showOpen(event, {
        title: 'Open Project',
        properties: ['openFile'],
        filters: [{ name: 'Stylecast Project', extensions: [bare(PROJECT_EXTENSION)] }]
      }),

    'recent:list': () => withMissing(settings.recentProjects()),

    'recent:add': async ({ path }) => {
      const info = await stat(path).catch(() => null);
      if (!info) throw new Error(`Cannot open ${path}: the file does not exist. It may have been moved, renamed or deleted.`);
      if (!info.isFile()) throw new Error(`Cannot open ${path}: it is a folder, not a video or project file.`);
      const list = settings.addRecentProject(path);
      onRecentChanged();
      return withMissing(list);
    }
  };
}
