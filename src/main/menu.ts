// The application menu, as a template built from plain inputs. Items that act
// on the UI (open a video, a project, a recent file) are forwarded to the
// renderer, which runs the same code as its buttons and shortcuts.
import type { MenuItemConstructorOptions } from 'electron';
import type { EditState } from '../shared/contract';
import type { StoredRecent } from './recent';

export interface MenuActions {
  openVideo(): void;
  openProject(): void;
  openRecent(path: string): void;
  clearRecent(): void;
  showModelsFolder(): void;
  showAbout(): void;
  undo(): void;
  redo(): void;
}

export interface MenuInputs {
  appName: string;
  platform: NodeJS.Platform;
  dev: boolean;
  recent: readonly StoredRecent[];
  /** The editor's undo and redo steps; null while no timeline is open (text fields keep the native items). */
  edit: EditState | null;
  actions: MenuActions;
}

/** Edit > Undo / Redo: the timeline's history, named by its step ("Undo Move Key"), when a timeline is open. */
function undoRedoItems(edit: EditState | null, actions: MenuActions): MenuItemConstructorOptions[] {
  if (!edit) return [{ role: 'undo' }, { role: 'redo' }];
  // The page handles the keys itself (see File), so the accelerators are only shown.
  return [
    { label: edit.undo ? `Undo ${edit.undo}` : 'Undo', accelerator: 'CmdOrCtrl+Z', registerAccelerator: false, enabled: edit.undo !== null, click: () => actions.undo() },
    { label: edit.redo ? `Redo ${edit.redo}` : 'Redo', accelerator: 'Shift+CmdOrCtrl+Z', registerAccelerator: false, enabled: edit.redo !== null, click: () => actions.redo() }
  ];
}

function recentSubmenu(recent: readonly StoredRecent[], actions: MenuActions): MenuItemConstructorOptions[] {
  if (recent.length === 0) return [{ label: 'No Recent Projects', enabled: false }];
  return [
    ...recent.map((r): MenuItemConstructorOptions => ({ label: r.name, sublabel: r.path, toolTip: r.path, click: () => actions.openRecent(r.path) })),
    { type: 'separator' },
    { label: 'Clear Recent', click: () => actions.clearRecent() }
  ];
}

export function buildMenuTemplate({ appName, platform, dev, recent, edit, actions }: MenuInputs): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [];
  if (mac) template.push({ label: appName, role: 'appMenu' });
  template.push(
    {
      label: 'File',
      submenu: [
        // The page handles these keys itself (so they also work in browser
        // tests); registerAccelerator: false shows the shortcut without
        // letting the menu swallow it on Windows and Linux.
        { label: 'Open Video…', accelerator: 'CmdOrCtrl+O', registerAccelerator: false, click: () => actions.openVideo() },
        { label: 'Open Project…', accelerator: 'CmdOrCtrl+Shift+O', registerAccelerator: false, click: () => actions.openProject() },
        { label: 'Open Recent', submenu: recentSubmenu(recent, actions) },
        { type: 'separator' },
        mac ? { role: 'close' } : { role: 'quit', label: 'Quit' }
      ]
    },
    {
      label: 'Edit',
      submenu: [...undoRedoItems(edit, actions), { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }]
    },
    {
      label: 'View',
      submenu: [
        ...(dev ? ([{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }] as MenuItemConstructorOptions[]) : []),
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' }
      ]
    }
  );
  if (mac) template.push({ role: 'windowMenu' });
  template.push({
    role: 'help',
    submenu: [
      { label: 'Show Models Folder', click: () => actions.showModelsFolder() },
      ...(mac ? [] : ([{ type: 'separator' }, { label: `About ${appName}`, click: () => actions.showAbout() }] as MenuItemConstructorOptions[]))
    ]
  });
  return template;
}
