// Timeline edits on disk: NAME.stylecast/edits.json, beside project.json rather
// than inside it, because an encode that resumes in a job process rewrites
// project.json while the editor saves edits. The JSON comes from the untrusted
// renderer, so it is parsed with the timeline model before it is written or used.
import { randomBytes } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, readJsonIfPresent, removeIfPresent, renameDurable, writeDurable } from '../core/project/binary';
import { isProjectError, type Project } from '../core/project';
import { evaluateAll } from '../core/timeline/evaluate';
import { parseTimeline, serializeTimeline } from '../core/timeline/parse';
import type { TimelineDoc } from '../core/timeline/types';
import { PARAM_COUNT, type ParamGroup } from '../shared/contract';

export const EDITS_FILE = 'edits.json';

export class EditsError extends Error {
  readonly code = 'BAD_EDITS';
  override name = 'EditsError';
}

/** The frames a project's timeline spans: all frames it will hold once encoded. */
export const timelineFrames = (project: Project): number => project.doc.encoding.frames.count;

export function parseEdits(json: unknown, frames: number, where: string): TimelineDoc {
  try {
    return parseTimeline(json, frames);
  } catch (e) {
    throw new EditsError(`The edits for ${where} are not valid: ${(e as Error).message}`);
  }
}

/**
 * The saved edits of a project, parsed and re-serialised. A damaged file is moved
 * aside (never deleted) and reported, and the project opens without edits.
 */
export async function readEdits(project: Project): Promise<{ edits: unknown; warning: string | null }> {
  const path = join(project.dir, EDITS_FILE);
  let read: Awaited<ReturnType<typeof readJsonIfPresent>>;
  try {
    read = await readJsonIfPresent(path);
  } catch (e) {
    // A symbolic link (or other non-file) where edits.json belongs: never read through it.
    if (isProjectError(e) && e.code === 'UNSAFE_PATH') return { edits: null, warning: `${e.message} The project opened without its saved edits.` };
    throw e;
  }
  if (!read.ok && !read.present) return { edits: null, warning: null };
  let problem: string;
  if (read.ok) {
    try {
      return { edits: serializeTimeline(parseTimeline(read.value, timelineFrames(project))), warning: null };
    } catch (e) {
      problem = (e as Error).message;
    }
  } else {
    problem = 'it is not valid JSON';
  }
  const aside = join(project.dir, `edits.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await rename(path, aside);
  return { edits: null, warning: `The saved edits of ${project.dir} could not be read (${problem}). They were kept as ${aside}; the project opened without edits.` };
}

const queues = new Map<string, Promise<unknown>>();

/** Writes validated edits atomically (temp file, fsync, rename, fsync the folder); saves to one project run in order. */
export function writeEdits(project: Project, json: unknown): Promise<void> {
  const doc = parseEdits(json, timelineFrames(project), project.dir);
  const text = `${JSON.stringify(serializeTimeline(doc))}\n`;
  const previous = queues.get(project.dir) ?? Promise.resolve();
  const run = previous.then(async () => {
    const path = join(project.dir, EDITS_FILE);
    const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeDurable(tmp, text);
      await renameDurable(tmp, path);
    } catch (e) {
      await removeIfPresent(tmp).catch(() => undefined);
      throw e;
    }
    await fsyncDir(project.dir);
  });
  const settled = run.catch(() => undefined);
  queues.set(project.dir, settled);
  void settled.then(() => {
    if (queues.get(project.dir) === settled) queues.delete(project.dir);
  });
  return run;
}

/** The edited parameters of the encoded frames, [encodedThrough, 35]. */
export function editedParams(project: Project, groups: readonly ParamGroup[], json: unknown): Float32Array {
  const doc = parseEdits(json, timelineFrames(project), project.dir);
  const frames = project.doc.encoding.encodedThrough;
  return evaluateAll(doc, { encoded: project.params.subarray(0, frames * PARAM_COUNT), frames, groups, neutralFrame: neutralFrame(project) });
}

/** The frame edits are measured from: the identity frame, where the encoding is closest to w_ID alone. */
export function neutralFrame(project: Project): number {
  const f = project.doc.encoding.identityFrame;
  return f !== null && f !== undefined && f < project.doc.encoding.encodedThrough ? f : 0;
}
