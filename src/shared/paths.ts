// What a path the user opened is (a video, a project, or neither): shared by main, which
// grants reads for dropped files, and the renderer, which opens what it is told.
import { PROJECT_EXTENSION, fileName, isVideoPath } from './contract';

export type PathKind = 'video' | 'project' | 'unknown';

/** What a dropped, chosen or recent path is. A project's project.json counts as the project. */
export function classifyPath(path: string): { kind: PathKind; path: string } {
  const trimmed = path.replace(/[\\/]+$/, '');
  if (isVideoPath(trimmed)) return { kind: 'video', path: trimmed };
  if (trimmed.toLowerCase().endsWith(PROJECT_EXTENSION)) return { kind: 'project', path: trimmed };
  if (fileName(trimmed).toLowerCase() === 'project.json') {
    const folder = trimmed.slice(0, trimmed.length - 'project.json'.length).replace(/[\\/]+$/, '');
    if (folder.toLowerCase().endsWith(PROJECT_EXTENSION)) return { kind: 'project', path: folder };
  }
  return { kind: 'unknown', path: trimmed };
}
