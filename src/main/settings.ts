// Persistent user settings (electron-store, a JSON file in userData). Values are
// re-validated on read because the file may be hand-edited or from an older build.
import Store from 'electron-store';
import { addRecent, parseStoredRecent, type StoredRecent } from './recent';
import { parseWindowState, type WindowState } from './window-state';

interface SettingsFile {
  recentProjects: unknown;
  window: unknown;
}

export class Settings {
  private readonly store = new Store<SettingsFile>({
    name: 'settings',
    defaults: { recentProjects: [], window: null },
    // A corrupt settings file must not stop the app from starting.
    clearInvalidConfig: true
  });

  recentProjects(): StoredRecent[] {
    return parseStoredRecent(this.store.get('recentProjects'));
  }

  addRecentProject(path: string, now = new Date()): StoredRecent[] {
    const next = addRecent(this.recentProjects(), path, now);
    this.store.set('recentProjects', next);
    return next;
  }

  clearRecentProjects(): void {
    this.store.set('recentProjects', []);
  }

  windowState(): WindowState | null {
    return parseWindowState(this.store.get('window'));
  }

  saveWindowState(state: WindowState): void {
    this.store.set('window', state);
  }
}
