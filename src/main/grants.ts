// Which files the renderer may name. The renderer is untrusted, so main reads
// only what the user opened (a dialog, a drop, a recent entry, a project and
// its source video) and writes only where the user chose (a save dialog) or
// what derives from it (a project beside the video it encodes, an opened
// project's own folder).
//
// Every path is compared by its real path (symbolic links resolved, case folded
// on case-insensitive file systems), taken when the grant is made and again
// when it is checked: a file swapped for a link after the user chose it no
// longer matches. A path that does not exist yet (a save target) is keyed by
// its parent's real path plus its name.
//
// A dropped path is weaker than a dialog's choice: main cannot tell a real drop
// from a compromised page naming a path, so a drop grants reading only. It
// gives no write beside it and no project writes until the user confirms it in
// a native dialog shown by main (core-api.ts asks through CoreHost.confirm).
import { realpathSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { PROJECT_EXTENSION } from '../shared/contract';

export class PathNotAllowedError extends Error {
  readonly code = 'PATH_NOT_ALLOWED';
  override name = 'PathNotAllowedError';
}

export type OutputKind = 'video' | 'project';

/** The NAME.stylecast folder the studio suggests beside a video (talk.mp4 -> talk.stylecast). */
export function projectBesideVideo(video: string): string {
  const v = resolve(video);
  return join(dirname(v), `${basename(v, extname(v))}${PROJECT_EXTENSION}`);
}

/** Windows and macOS file systems compare names without case by default. */
export const CASE_INSENSITIVE_FS = process.platform === 'win32' || process.platform === 'darwin';

/** The real path of `path`, or of its parent plus its name when it does not exist yet. */
export function realPathOf(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync.native(abs);
  } catch {
    const parent = dirname(abs);
    if (parent === abs) return abs;
    return join(realPathOf(parent), basename(abs));
  }
}

/** Whether `inner`'s real path is `outer`'s real path or lies below it. */
export function isInsideReal(inner: string, outer: string, caseInsensitive = CASE_INSENSITIVE_FS): boolean {
  const fold = (p: string) => (caseInsensitive ? p.toLowerCase() : p);
  const i = fold(realPathOf(inner));
  const o = fold(realPathOf(outer));
  const sep = o.endsWith('/') || o.endsWith('\\') ? '' : process.platform === 'win32' ? '\\' : '/';
  return i === o || i.startsWith(o + sep);
}

export interface GrantOptions {
  /** Fold case when comparing (default: on Windows and macOS). */
  caseInsensitive?: boolean;
}

export class PathGrants {
  /**
   * Read grants: real-path key -> whether it came only from a drop (read-only until confirmed),
   * and whether it was derived from a file's contents (a project's source video), not chosen.
   */
  private readonly reads = new Map<string, { dropped: boolean; derived?: boolean }>();
  private readonly outputs = new Map<string, OutputKind>();
  private readonly projects = new Map<string, { dropped: boolean }>();
  private readonly caseInsensitive: boolean;

  constructor(options: GrantOptions = {}) {
    this.caseInsensitive = options.caseInsensitive ?? CASE_INSENSITIVE_FS;
  }

  /** The comparison key of a path: its real path, case-folded where the file system ignores case. */
  key(path: string): string {
    const real = realPathOf(path);
    return this.caseInsensitive ? real.toLowerCase() : real;
  }

  /** A file or folder the user opened in a dialog: it may be read, probed and played. */
  allowRead(path: string): void {
    this.reads.set(this.key(path), { dropped: false });
  }

  /**
   * A file another file names (the source video a project's document points at): it may be read
   * and played, but it is not the user's choice, so it never grounds a write beside it (a project
   * next to it) nor a place on the recent list. A choice of the same file overrides it.
   */
  allowDerivedRead(path: string): void {
    const k = this.key(path);
    if (!this.reads.has(k)) this.reads.set(k, { dropped: false, derived: true });
  }

  /** Whether the only grant on `path` is derived from a file (allowDerivedRead). */
  isDerivedOnly(path: string): boolean {
    const k = this.key(path);
    return this.reads.get(k)?.derived === true && !this.projects.has(k) && !this.outputs.has(k);
  }

  /** A file or project dropped on the window: read-only until the user confirms it (see confirmDropped). */
  allowDropped(path: string, kind: 'video' | 'project'): void {
    const k = this.key(path);
    if (!this.reads.has(k)) this.reads.set(k, { dropped: true });
    if (kind === 'project' && !this.projects.has(k)) this.projects.set(k, { dropped: true });
  }

  /** The user confirmed a dropped path in main's dialog: it counts as chosen from now on. */
  confirmDropped(path: string): void {
    const k = this.key(path);
    if (this.reads.get(k)?.dropped) this.reads.set(k, { dropped: false });
    if (this.projects.get(k)?.dropped) this.projects.set(k, { dropped: false });
  }

  /** Whether the only grant on `path` is a drop the user has not confirmed. */
  isDroppedOnly(path: string): boolean {
    const k = this.key(path);
    const r = this.reads.get(k);
    const p = this.projects.get(k);
    if (!r && !p) return false;
    return (r?.dropped ?? true) && (p?.dropped ?? true) && !this.outputs.has(k);
  }

  /** A project folder the user opened: it may be read, its edits saved and its encode resumed. */
  allowProject(path: string): void {
    const k = this.key(path);
    this.projects.set(k, { dropped: false });
    this.reads.set(k, { dropped: false });
  }

  /** A path the user picked in a save dialog. */
  allowOutput(path: string, kind: OutputKind): void {
    this.outputs.set(this.key(path), kind);
  }

  canRead(path: string): boolean {
    const k = this.key(path);
    return this.reads.has(k) || this.outputs.has(k);
  }

  isProject(path: string): boolean {
    return this.projects.has(this.key(path));
  }

  /** Throws unless `path` was opened by the user (or written by the app where the user chose); returns its real path. */
  checkRead(path: string, what: string): string {
    const p = resolve(path);
    if (!this.canRead(p)) throw new PathNotAllowedError(`Stylecast cannot read ${p}: open the ${what} first (File > Open, drag and drop, or the recent list).`);
    return realPathOf(p);
  }

  /**
   * Throws unless the app may open `path` as a project (opened or dropped by the user, or written
   * where the user chose). Returns its real path: open projects and running jobs are keyed by it,
   * so that one folder named two ways (a link, /proc/self/root/...) is still one project.
   */
  checkProject(path: string): string {
    const p = resolve(path);
    const k = this.key(p);
    if (this.projects.has(k) || this.outputs.get(k) === 'project') return realPathOf(p);
    throw new PathNotAllowedError(`Stylecast cannot open ${p}: choose the project with File > Open Project first.`);
  }

  /**
   * Throws unless the app may write `path`: chosen in a save dialog of this kind,
   * or (projects) an opened project folder or the folder beside an opened video.
   * Dropped paths that the user has not confirmed give no write.
   */
  checkOutput(path: string, kind: OutputKind, sourceVideo?: string): string {
    const p = resolve(path);
    const k = this.key(p);
    // The real path, as checkProject returns (jobs that write are keyed by it).
    if (this.outputs.get(k) === kind) return realPathOf(p);
    if (kind === 'project') {
      const project = this.projects.get(k);
      if (project && !project.dropped) return realPathOf(p);
      if (sourceVideo) {
        const read = this.reads.get(this.key(sourceVideo));
        if (read && !read.dropped && !read.derived && this.key(projectBesideVideo(sourceVideo)) === k) return realPathOf(p);
      }
    }
    if (this.isDroppedOnly(p) || (sourceVideo && this.isDroppedOnly(sourceVideo))) {
      throw new PathNotAllowedError(`Stylecast does not write beside a dropped file until you confirm it: ${p} was not confirmed.`);
    }
    const how = kind === 'video' ? 'the export file in the Save dialog' : `a ${PROJECT_EXTENSION} project folder in the Save dialog`;
    throw new PathNotAllowedError(`Stylecast writes only where you choose: ${p} was not chosen. Choose ${how}.`);
  }
}
