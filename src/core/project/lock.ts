// Who writes a project: one process at a time. An encode or a fine-tune holds `.stylecast-writer`
// in the project folder (created exclusively: the process id, the host, what it does, since
// when) for as long as it writes; another process that would write the same project is refused
// with a message naming the holder, and the studio opens it without touching its files. Two
// writers (`stylecast encode` in a terminal and the studio's Resume encode) would otherwise
// interleave their saves. A file whose process is gone (a crash, a kill) is taken over.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, lstatSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ProjectError } from './errors';

export const LOCK_FILE = '.stylecast-writer';

/** The lock file, or a temporary one of its creation (lockProject): not project content. */
export const isLockFileName = (name: string): boolean => name === LOCK_FILE || name.startsWith(`${LOCK_FILE}.`);

export interface LockHolder {
  pid: number;
  host: string;
  purpose: string;
  since: string;
}

export interface ProjectLock {
  /** Removes the file, if it is still this lock's. */
  release(): void;
}

interface LockFile extends LockHolder {
  token: string;
}

function readLock(path: string): LockFile | null {
  try {
    if (!lstatSync(path).isFile()) return null;
    const fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
    try {
      const v = JSON.parse(readFileSync(fd, 'utf8').slice(0, 4096)) as Partial<LockFile>;
      if (!Number.isInteger(v.pid) || (v.pid as number) <= 0 || typeof v.host !== 'string' || typeof v.purpose !== 'string' || typeof v.since !== 'string' || typeof v.token !== 'string') return null;
      return v as LockFile;
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** Whether a process of this id runs on this host (one we may not signal counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process that holds `dir` for writing, when one does that is not this lock's owner; null otherwise. */
export function projectWriter(dir: string, own: ReadonlySet<string> = held): LockHolder | null {
  const l = readLock(join(dir, LOCK_FILE));
  if (!l || own.has(l.token)) return null;
  // On another machine (a shared folder) it cannot be checked: it counts until that machine removes it.
  // Ours by process id but not held (an earlier process that had this id): gone too.
  if (l.host === hostname() && (l.pid === process.pid || !processAlive(l.pid))) return null;
  return { pid: l.pid, host: l.host, purpose: l.purpose, since: l.since };
}

/** The tokens of the locks this process holds. */
const held = new Set<string>();

/**
 * Creates `path` with its whole content at once, or fails with EEXIST: written to a temporary
 * name and hard-linked into place, so that no reader ever sees it empty. Where hard links are not
 * possible (FAT), an exclusive create and a write.
 */
function createWhole(path: string, text: string): void {
  const tmp = `${path}.${process.pid}-${randomBytes(6).toString('hex')}`;
  writeNew(tmp, text);
  try {
    linkSync(tmp, path);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS')) throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
  writeNew(path, text);
}

/** Writes a file that must not exist yet (EEXIST otherwise), never through a link. */
function writeNew(path: string, text: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

function youngerThan(path: string, ms: number): boolean {
  try {
    const st = lstatSync(path);
    return st.isFile() && Date.now() - st.mtimeMs < ms;
  } catch {
    return false;
  }
}

export const describeWriter = (h: LockHolder): string =>
  `${h.purpose} in process ${h.pid}${h.host === hostname() ? '' : ` on ${h.host}`}, since ${h.since}`;

/**
 * Holds `dir` for writing (`purpose`: "encode", "fine-tune"); throws ProjectError BUSY when
 * another live process holds it. Release it when the work ends, failed or not.
 */
export function lockProject(dir: string, purpose: string): ProjectLock {
  const path = join(dir, LOCK_FILE);
  const mine: LockFile = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString(), token: randomBytes(12).toString('hex') };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      createWhole(path, JSON.stringify(mine));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new ProjectError('NOT_WRITABLE', `Cannot write in ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): copy the project somewhere writable.`, dir);
      }
      const holder = readLock(path);
      // Unreadable and just made: another process is writing its lock this moment (where links are not possible).
      if (!holder && youngerThan(path, 5000)) throw new ProjectError('BUSY', `${dir} is being taken for writing by another process this moment: try again.`, dir);
      if (holder && held.has(holder.token)) throw new ProjectError('BUSY', `${dir} is already being written by this process (${describeWriter(holder)}).`, dir);
      const other = projectWriter(dir);
      if (other) {
        throw new ProjectError(
          'BUSY',
          `${dir} is being written by another Stylecast (${describeWriter(other)}): wait for it to finish or stop it, then try again. If no other Stylecast is running, delete ${path}.`,
          dir
        );
      }
      // Gone (its process ended without removing it) or unreadable: taken over, unless another
      // process took it over meanwhile (its new file has another token). A link is removed, never followed.
      if (readLock(path)?.token === holder?.token) rmSync(path, { force: true });
      continue;
    }
    held.add(mine.token);
    return {
      release() {
        if (!held.delete(mine.token)) return;
        if (readLock(path)?.token === mine.token) rmSync(path, { force: true });
      }
    };
  }
  throw new ProjectError('BUSY', `${dir}: another process keeps taking its writer file ${path}; try again.`, dir);
}
