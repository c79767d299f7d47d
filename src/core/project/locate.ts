// Finding what a project refers to outside its folder: the source video (only ever
// read) and the model bundle it was encoded with.
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { readJsonIfPresent } from './binary';
import { ProjectError } from './errors';
import { hashFile } from './hash';
import type { Project } from './project';

/**
 * Where the source video is now: its recorded absolute path, else the same relative
 * position beside the project (a project moved together with its video); the candidate
 * with the recorded size wins. Null when neither exists. Never writes.
 */
export async function resolveSourcePath(project: Project): Promise<string | null> {
  const s = project.doc.source;
  const candidates = [s.path, isAbsolute(s.relativePath) ? s.relativePath : resolve(project.dir, s.relativePath)];
  let fallback: string | null = null;
  for (const c of candidates) {
    try {
      const info = await stat(c);
      if (!info.isFile()) continue;
      if (info.size === s.size) return c;
      fallback ??= c;
    } catch {
      // not there
    }
  }
  return fallback;
}

/** A file's size and, only when that is `expectedSize`, its sha256 (null otherwise: a whole hash for nothing spared). */
async function fileIdentity(path: string, expectedSize: number, signal?: AbortSignal): Promise<{ size: number; sha: string | null }> {
  const size = (await stat(path)).size;
  return { size, sha: size === expectedSize ? await hashFile(path, signal) : null };
}

/** Whether `path` is the video a project was encoded from: the same size, then the same sha256. */
export async function isProjectSource(path: string, project: Project, signal?: AbortSignal): Promise<boolean> {
  return (await fileIdentity(path, project.doc.source.size, signal)).sha === project.doc.source.sha256;
}

/** Checks that the source video is present and unchanged (size, then sha256); returns its path. */
export async function verifySource(project: Project, signal?: AbortSignal): Promise<string> {
  const s = project.doc.source;
  const path = await resolveSourcePath(project);
  if (!path) {
    throw new ProjectError(
      'SOURCE_MISSING',
      `The source video of ${project.dir} is missing: it is not at "${s.path}" nor at "${s.relativePath}" beside the project. Locate the video, or keep working without it (paste-back and audio need it).`,
      s.path,
    );
  }
  const { size, sha } = await fileIdentity(path, s.size, signal);
  if (sha !== s.sha256) {
    throw new ProjectError(
      'SOURCE_CHANGED',
      `The source video "${path}" is not the one ${project.dir} was encoded from (${sha === null ? `${size} bytes, expected ${s.size}` : 'its sha256 differs'}). Locate the original video.`,
      path,
    );
  }
  return path;
}

/**
 * Finds the model bundle the project was encoded with: model.path, then each of
 * `searchDirs` and their sub-folders, matching manifest.json's id against model.id.
 */
export async function locateModel(project: Project, searchDirs: readonly string[] = []): Promise<string> {
  const m = project.doc.model;
  const candidates: string[] = [];
  if (m.path) candidates.push(resolve(m.path));
  for (const d of searchDirs) {
    candidates.push(resolve(d));
    try {
      for (const e of await readdir(resolve(d), { withFileTypes: true })) if (e.isDirectory()) candidates.push(join(resolve(d), e.name));
    } catch {
      // a search folder that does not exist is simply empty
    }
  }
  for (const c of candidates) {
    const man = await readJsonIfPresent(join(c, 'manifest.json')).catch(() => ({ ok: false as const, present: false }));
    if (man.ok && (man.value as { id?: unknown } | null)?.id === m.id) return c;
  }
  throw new ProjectError(
    'MODEL_MISSING',
    `The model "${m.name}" (id ${m.id}, ${m.resolution}x${m.resolution}) that ${project.dir} was encoded with is not ${m.path ? `at "${m.path}"` : 'recorded with a location'}${searchDirs.length ? ` nor in ${searchDirs.map((d) => `"${d}"`).join(', ')}` : ''}. Import or locate that model bundle; another model cannot render this encoding.`,
    m.path ?? project.dir,
  );
}
