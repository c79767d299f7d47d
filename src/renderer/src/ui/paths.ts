// Path helpers for POSIX and Windows paths (the renderer has no node:path).
import { fileName } from '../../../shared/contract';

function separatorOf(path: string): string {
  return path.lastIndexOf('\\') > path.lastIndexOf('/') ? '\\' : '/';
}

/** The folder part of a path, without the trailing separator. */
export function dirName(path: string): string {
  const base = fileName(path);
  const dir = path.slice(0, path.length - base.length);
  return dir.length > 1 ? dir.slice(0, -1) : dir;
}

/** A file name without its extension: "clip.final.mp4" -> "clip.final". */
export function stem(path: string): string {
  const base = fileName(path);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** A sibling path of `path` named `name` (same folder, same separator style). */
export function siblingPath(path: string, name: string): string {
  const dir = dirName(path);
  const sep = separatorOf(path);
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`;
}
