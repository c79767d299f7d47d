// Small synchronous file helpers shared by the engine and the CLI.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file atomically and durably: to a new temporary file beside it (a random name,
 * created exclusively, so a link or file planted at that name in a shared folder is never
 * written through), flushed to disk, then renamed over the target. A reader never sees half a
 * file, a crash leaves the old file or the new one, and two processes never share a temporary
 * file. A link at the target itself is replaced, not followed.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | null = null;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) closeSync(fd);
    // Only a temporary file this call created is removed (an exclusive create that failed made none).
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') rmSync(tmp, { force: true });
    throw e;
  }
}

/** Why a bundle file cannot be read (readPlainFileSync); the caller words the error. */
export class PlainFileError extends Error {
  constructor(
    readonly reason: 'name' | 'missing' | 'link' | 'not-a-file' | 'size',
    message: string,
    readonly size?: number
  ) {
    super(message);
  }
}

/**
 * Reads a file named by an untrusted manifest or project inside `dir`: the name must be a plain
 * file name (no folders, no ".."), the file a regular file and not a link, and its size is checked
 * before anything is read (exactly `size.exact` bytes, or at most `size.max`), so a name like
 * "../../dev/zero", a link out of the folder, a pipe or a huge file is refused without reading it
 * (PlainFileError).
 */
export function readPlainFileSync(dir: string, name: unknown, size: { exact: number } | { max: number }): Buffer {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new PlainFileError('name', `the file name ${JSON.stringify(name)} is not a plain file name inside the folder`);
  }
  const path = join(dir, name);
  let fd: number;
  try {
    // Non-blocking, so that a pipe planted under the name does not hang the open.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PlainFileError('missing', `${path} is missing`);
    if (code === 'ELOOP') throw new PlainFileError('link', `${path} is a link: a folder's files must be its own`);
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new PlainFileError('not-a-file', `${path} is not a regular file`);
    if ('exact' in size ? st.size !== size.exact : st.size > size.max) throw new PlainFileError('size', `${path} has ${st.size} bytes`, st.size);
    const buf = Buffer.alloc(st.size);
    for (let at = 0; at < st.size; ) {
      const n = readSync(fd, buf, at, st.size - at, at);
      if (n === 0) throw new PlainFileError('size', `${path} ended after ${at} bytes`, at);
      at += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}
