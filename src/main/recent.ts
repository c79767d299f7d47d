// Pure recent-projects logic, kept apart from electron-store so it is testable
// under plain Node.
import { MAX_RECENT_PROJECTS, PROJECT_EXTENSION, VIDEO_EXTENSIONS, fileExtension, fileName, isVideoPath, type RecentProject } from '../shared/contract';
import { expectAbsolutePath } from '../shared/validate';

/** What is persisted; `missing` is worked out when the list is read. */
export type StoredRecent = Omit<RecentProject, 'missing'>;

export function recentKind(path: string): RecentProject['kind'] | null {
  if (isVideoPath(path)) return 'video';
  if (fileExtension(path) === PROJECT_EXTENSION) return 'project';
  return null;
}

/**
 * Puts `path` first, drops an earlier entry for the same file and keeps at most
 * `max` entries. Windows paths compare case-insensitively, as the file system does.
 */
export function addRecent(list: readonly StoredRecent[], path: string, openedAt: Date, max = MAX_RECENT_PROJECTS): StoredRecent[] {
  const kind = recentKind(path);
  if (!kind) throw new Error(`${path} is not a video (${VIDEO_EXTENSIONS.join(', ')}) or a Stylecast project (${PROJECT_EXTENSION})`);
  const key = pathKey(path);
  const entry: StoredRecent = { path, name: fileName(path), kind, openedAt: openedAt.toISOString() };
  return [entry, ...list.filter((e) => pathKey(e.path) !== key)].slice(0, max);
}

function isAbsolute(path: string): boolean {
  try {
    expectAbsolutePath(path, 'path');
    return true;
  } catch {
    return false;
  }
}

function pathKey(path: string): string {
  return /^[A-Za-z]:[\\/]/.test(path) || path.startsWith('\\\\') ? path.replace(/\//g, '\\').toLowerCase() : path;
}

/** Keeps only well-formed entries from what the settings file holds (it may be hand-edited or old). */
export function parseStoredRecent(value: unknown): StoredRecent[] {
  if (!Array.isArray(value)) return [];
  const out: StoredRecent[] = [];
  for (const e of value) {
    if (typeof e !== 'object' || e === null) continue;
    const { path, openedAt } = e as Record<string, unknown>;
    if (typeof path !== 'string' || typeof openedAt !== 'string' || Number.isNaN(Date.parse(openedAt))) continue;
    const kind = recentKind(path);
    if (!kind || !isAbsolute(path)) continue;
    if (out.some((o) => pathKey(o.path) === pathKey(path))) continue;
    out.push({ path, name: fileName(path), kind, openedAt });
  }
  return out.slice(0, MAX_RECENT_PROJECTS);
}
