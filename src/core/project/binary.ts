// Raw little-endian float32 files and the durable writes the project's crash-safety
// rests on: a file is fsynced before it is renamed into place, and the folder is
// fsynced after a rename, so a rename that "happened" survives a power cut.
//
// Project folders are shared between users, so they are untrusted: every file here is
// opened without following a symbolic link (O_NOFOLLOW where the platform has it, an
// lstat first everywhere), must be a regular file, and is refused for in-place writes
// when it has other hard links. File names come from validated documents (plain names,
// no separators), so a file opened this way lies inside the project folder itself.
import { constants as fsConstants } from 'node:fs';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { ProjectError, fsError } from './errors';

const LITTLE = endianness() === 'LE';

/** The bytes of `a` as little-endian float32 (a view on little-endian hosts, a swapped copy otherwise). */
export function f32ToBytes(a: Float32Array): Uint8Array {
  if (LITTLE) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const out = new Uint8Array(a.byteLength);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(i * 4, a[i]!, true);
  return out;
}

/** Little-endian float32 bytes -> a fresh, aligned Float32Array. `bytes.byteLength` must be a multiple of 4. */
export function bytesToF32(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >>> 2;
  if (LITTLE) {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * 4));
    return out;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** Index of the first NaN or infinity, or -1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** 0 on Windows, which has no O_NOFOLLOW: the lstat in openNoFollow is the check there. */
const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;
const MODES = {
  read: fsConstants.O_RDONLY,
  update: fsConstants.O_RDWR,
  replace: fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC
} as const;

const linkRefusal = (path: string): ProjectError =>
  new ProjectError(
    'UNSAFE_PATH',
    `${path} is a symbolic link. Stylecast never follows links inside a project folder, since a shared project could point them at your other files. Replace it with the real file (or copy the project with links resolved).`,
    path
  );

const notAFile = (path: string): ProjectError =>
  new ProjectError('UNSAFE_PATH', `${path} is not a regular file (a folder, device or pipe): a project holds plain files only.`, path);

/**
 * Opens a file of a project folder without following a symbolic link: a link is refused
 * (UNSAFE_PATH) whatever it points to, and so is anything but a regular file. 'update'
 * (in-place writes) also refuses a file with other hard links, which would be changed too.
 * Node's own errors (ENOENT...) pass through for the caller to name.
 */
export async function openNoFollow(path: string, mode: keyof typeof MODES): Promise<FileHandle> {
  const before = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' && mode === 'replace') return null;
    throw e;
  });
  if (before?.isSymbolicLink()) throw linkRefusal(path);
  // Refused before the open: opening a pipe planted in a shared project would block until a writer came.
  if (before && !before.isFile()) throw notAFile(path);
  let fh: FileHandle;
  try {
    fh = await open(path, MODES[mode] | O_NOFOLLOW, 0o666);
  } catch (e) {
    // ELOOP: the path became a link between the lstat and the open.
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefusal(path);
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notAFile(path);
    // Where there is no O_NOFOLLOW, a link swapped in after the lstat shows as another file.
    if (before && (st.ino !== before.ino || st.dev !== before.dev)) throw linkRefusal(path);
    if (mode === 'update' && st.nlink > 1) {
      throw new ProjectError('UNSAFE_PATH', `${path} has ${st.nlink} hard links: writing it in place would change the other copies too. Copy the project so that its files are its own.`, path);
    }
  } catch (e) {
    await fh.close();
    throw e;
  }
  return fh;
}

/** The whole of a project file, read without following a link (see openNoFollow). */
export async function readFileNoFollow(path: string): Promise<Buffer>;
export async function readFileNoFollow(path: string, encoding: 'utf8'): Promise<string>;
export async function readFileNoFollow(path: string, encoding?: 'utf8'): Promise<Buffer | string> {
  const fh = await openNoFollow(path, 'read');
  try {
    return encoding ? await fh.readFile(encoding) : await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Writes `bytes` to `path` (created or truncated, never through a link) and fsyncs it. */
export async function writeDurable(path: string, bytes: Uint8Array | string): Promise<void> {
  let fh;
  try {
    fh = await openNoFollow(path, 'replace');
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (err) {
    throw fsError(err, path, 'write');
  } finally {
    await fh?.close();
  }
}

/** Overwrites `bytes` at byte `position` of an existing file, without changing its size elsewhere, and fsyncs it. */
export async function pwriteDurable(path: string, position: number, bytes: Uint8Array): Promise<void> {
  let fh;
  try {
    fh = await openNoFollow(path, 'update');
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesWritten } = await fh.write(bytes, done, bytes.byteLength - done, position + done);
      done += bytesWritten;
    }
    await fh.sync();
  } catch (err) {
    throw fsError(err, path, 'write');
  } finally {
    await fh?.close();
  }
}

export async function renameDurable(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    throw fsError(err, to, 'replace');
  }
}

/** Makes renames and creations in `dir` durable. Folders cannot be fsynced on Windows; there NTFS journals the rename. */
export async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch {
    // EISDIR/EPERM on Windows, EINVAL on some network file systems: nothing more we can do.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

export async function removeIfPresent(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(err, path, 'remove');
  }
}

/** Parsed JSON of `path`; `present` tells a missing file from an unparsable one. */
export async function readJsonIfPresent(path: string): Promise<{ ok: true; value: unknown } | { ok: false; present: boolean }> {
  let text: string;
  try {
    text = await readFileNoFollow(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, present: false };
    throw fsError(err, path, 'read');
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, present: true };
  }
}
