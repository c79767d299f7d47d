// Where model bundles live: one per-user folder that the studio and the CLI share, so a model
// downloaded in one is there for the other. It is Electron's userData folder of the app plus
// `models` (main sets userData to `userDataDir()` so both compute it the same way);
// STYLECAST_MODELS_DIR overrides it. Bundles left in the old place (<repo>/models, or a
// packaged app's resources/models) are found and moved on request, never silently ignored.
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The app's name: Electron's userData folder is named after it. */
export const APP_NAME = 'Stylecast Studio';

export type Env = Record<string, string | undefined>;

/** Electron's `appData`: %APPDATA% on Windows, ~/Library/Application Support on macOS, $XDG_CONFIG_HOME or ~/.config elsewhere. */
export function appDataDir(platform: NodeJS.Platform = process.platform, env: Env = process.env, home: string = homedir()): string {
  if (platform === 'win32') return env.APPDATA?.trim() || join(home, 'AppData', 'Roaming');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support');
  const xdg = env.XDG_CONFIG_HOME?.trim();
  return xdg && xdg.startsWith('/') ? xdg : join(home, '.config');
}

/** The studio's userData folder, which the CLI shares. */
export function userDataDir(platform: NodeJS.Platform = process.platform, env: Env = process.env, home: string = homedir()): string {
  return join(appDataDir(platform, env, home), APP_NAME);
}

/** STYLECAST_MODELS_DIR when set (not blank), else `<userData>/models`. */
export function resolveModelsDir(env: Env, userData: string): string {
  const fromEnv = env.STYLECAST_MODELS_DIR?.trim();
  return resolve(fromEnv || join(userData, 'models'));
}

/** The models folder of this process (the CLI's; the app passes Electron's userData to `resolveModelsDir`). */
export function userModelsDir(env: Env = process.env): string {
  return resolveModelsDir(env, userDataDir(process.platform, env));
}

export interface LegacyEntry {
  /** Folder name, the same in the old and the new place. */
  name: string;
  from: string;
  /** 'bundle': a generator bundle (manifest.json); 'perceptual': the perceptual weights folder. */
  kind: 'bundle' | 'perceptual';
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * Bundles in an old models folder that the current one does not have yet: subfolders with a
 * manifest.json, and the perceptual folder. None when the old folder is the current one.
 */
export function findLegacyModels(legacyDir: string, modelsDir: string): LegacyEntry[] {
  const from = resolve(legacyDir);
  if (from === resolve(modelsDir) || !isDir(from)) return [];
  const out: LegacyEntry[] = [];
  for (const name of readdirSync(from).sort()) {
    const dir = join(from, name);
    if (!isDir(dir)) continue;
    const kind = name === 'perceptual' ? 'perceptual' : existsSync(join(dir, 'manifest.json')) ? 'bundle' : null;
    if (!kind) continue;
    if (kind === 'bundle' && existsSync(join(modelsDir, name))) continue;
    if (kind === 'perceptual' && !readdirSync(dir).some((f) => !existsSync(join(modelsDir, 'perceptual', f)))) continue;
    out.push({ name, from: dir, kind });
  }
  return out;
}

export interface MigrationResult {
  moved: string[];
  /** Names already present in the new folder, left where they were. */
  skipped: string[];
}

/** Moves a folder: a rename, or a copy and delete when the two are on different devices. */
function moveDir(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    cpSync(from, to, { recursive: true, errorOnExist: true, force: false });
    rmSync(from, { recursive: true, force: true });
  }
}

/** Moves what `findLegacyModels` found into `modelsDir`; never overwrites anything there. */
export function migrateLegacyModels(entries: LegacyEntry[], modelsDir: string): MigrationResult {
  const result: MigrationResult = { moved: [], skipped: [] };
  mkdirSync(modelsDir, { recursive: true });
  for (const e of entries) {
    if (e.kind === 'bundle') {
      const to = join(modelsDir, e.name);
      if (existsSync(to)) result.skipped.push(e.name);
      else {
        moveDir(e.from, to);
        result.moved.push(e.name);
      }
      continue;
    }
    // The perceptual folder merges entry by entry (the new one may already hold some weights).
    const target = join(modelsDir, 'perceptual');
    mkdirSync(target, { recursive: true });
    for (const f of readdirSync(e.from).sort()) {
      const to = join(target, f);
      const name = `perceptual/${f}`;
      if (existsSync(to)) result.skipped.push(name);
      else {
        moveDir(join(e.from, f), to);
        result.moved.push(name);
      }
    }
    if (readdirSync(e.from).length === 0) rmSync(e.from, { recursive: true, force: true });
  }
  return result;
}

/** What to tell a user who still has bundles in the old folder (the CLI's notice; the studio asks). */
export function legacyModelsNotice(entries: LegacyEntry[], legacyDir: string, modelsDir: string): string {
  const names = entries.map((e) => e.name).join(', ');
  return `${entries.length} model folder${entries.length === 1 ? '' : 's'} (${names}) ${entries.length === 1 ? 'is' : 'are'} still in the old models folder ${legacyDir}; models now live in ${modelsDir}. Move them with: stylecast models migrate`;
}
