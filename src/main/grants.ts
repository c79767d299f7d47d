// Which files the renderer may name. The renderer is untrusted, so main reads
// only what the user opened (a dialog, a drop, a recent entry, a project and
// its source video) and writes only where the user chose (a save dialog) or
// what derives from it (a project beside the video it encodes, an opened
// project's own folder). Paths are compared after path.resolve.
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

export class PathGrants {
  private readonly reads = new Set<string>();
  private readonly outputs = new Map<string, OutputKind>();
  private readonly projects = new Set<string>();

  /** A file or folder the user opened: it may be read, probed and played. */
  allowRead(path: string): void {
    this.reads.add(resolve(path));
  }

  /** A project folder the user opened: it may be read, its edits saved and its encode resumed. */
  allowProject(path: string): void {
    const p = resolve(path);
    this.projects.add(p);
    this.reads.add(p);
  }

  /** A path the user picked in a save dialog. */
  allowOutput(path: string, kind: OutputKind): void {
    this.outputs.set(resolve(path), kind);
  }

  canRead(path: string): boolean {
    const p = resolve(path);
    return this.reads.has(p) || this.outputs.has(p);
  }

  isProject(path: string): boolean {
    return this.projects.has(resolve(path));
  }

  /** Throws unless `path` was opened by the user (or written by the app where the user chose). */
  checkRead(path: string, what: string): string {
    const p = resolve(path);
    if (!this.canRead(p)) throw new PathNotAllowedError(`Stylecast cannot read ${p}: open the ${what} first (File > Open, drag and drop, or the recent list).`);
    return p;
  }

  /** Throws unless the app may open `path` as a project (opened by the user, or written where the user chose). */
  checkProject(path: string): string {
    const p = resolve(path);
    if (this.projects.has(p) || this.outputs.get(p) === 'project') return p;
    throw new PathNotAllowedError(`Stylecast cannot open ${p}: choose the project with File > Open Project first.`);
  }

  /**
   * Throws unless the app may write `path`: chosen in a save dialog of this kind,
   * or (projects) an opened project folder or the folder beside an opened video.
   */
  checkOutput(path: string, kind: OutputKind, sourceVideo?: string): string {
    const p = resolve(path);
    if (this.outputs.get(p) === kind) return p;
    if (kind === 'project') {
      if (this.projects.has(p)) return p;
      if (sourceVideo && this.reads.has(resolve(sourceVideo)) && projectBesideVideo(sourceVideo) === p) return p;
    }
    const how = kind === 'video' ? 'the export file in the Save dialog' : `a ${PROJECT_EXTENSION} project folder in the Save dialog`;
    throw new PathNotAllowedError(`Stylecast writes only where you choose: ${p} was not chosen. Choose ${how}.`);
  }
}
