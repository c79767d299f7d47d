// Raw little-endian float32 files and the durable writes the project's crash-safety
// rests on: a file is fsynced before it is renamed into place, and the folder is
// fsynced after a rename, so a rename that "happened" survives a power cut.
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import { fsError } from './errors';

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

/** Writes `bytes` to `path` (created or truncated) and fsyncs it. */
export async function writeDurable(path: string, bytes: Uint8Array | string): Promise<void> {
  let fh;
  try {
    fh = await open(path, 'w');
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
    fh = await open(path, 'r+');
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
    text = await readFile(path, 'utf8');
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
