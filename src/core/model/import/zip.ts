// A small random-access zip reader for PyTorch checkpoints: it reads the central directory
// (zip64 included, as torch writes it for large files) and then only the entries asked for.
// Torch stores its entries uncompressed (method 0); deflate is accepted too.
//
// Checkpoints come from the internet, so the directory is checked before anything is read or
// allocated: an entry's declared size is at most MAX_INFLATE_RATIO times its compressed size
// (exactly it when stored), all of them together at most that ratio times the file's size,
// and no two entries' bytes overlap (the trick of zip bombs that reuse one deflate stream).
// Inflation stops at the declared size and runs off the event loop.
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import { inflateRaw } from 'node:zlib';
import { CheckpointError } from './errors';

const inflateRawAsync = promisify(inflateRaw);

/** Deflate cannot exceed 1032:1; real checkpoints (float weights) compress to about 1.1:1. */
export const MAX_INFLATE_RATIO = 100;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CDH_SIG = 0x02014b50;
const LFH_SIG = 0x04034b50;
const MAX_ENTRIES = 1_000_000;
const MAX_CD_BYTES = 256 * 1024 * 1024;

function u64(b: Buffer, at: number, what: string): number {
  const v = b.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError(`${what} is out of range`);
  return Number(v);
}

export class ZipReader {
  private constructor(
    private readonly fh: FileHandle,
    readonly file: string,
    readonly fileSize: number,
    readonly entries: Map<string, ZipEntry>
  ) {}

  static async open(file: string): Promise<ZipReader> {
    const fh = await open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      const entries = await readCentralDirectory(fh, file, size);
      checkBounds(file, size, entries);
      return new ZipReader(fh, file, size, entries);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  /** Where an entry's bytes start in the file (after its local header), checked against the file size. */
  private async dataOffset(e: ZipEntry): Promise<number> {
    const h = Buffer.alloc(30);
    const { bytesRead } = await this.fh.read(h, 0, 30, e.localHeaderOffset);
    if (bytesRead < 30 || h.readUInt32LE(0) !== LFH_SIG) throw new CheckpointError(`${this.file}: zip entry "${e.name}" has no valid local header (the file is corrupt or truncated)`);
    const start = e.localHeaderOffset + 30 + h.readUInt16LE(26) + h.readUInt16LE(28);
    if (start + e.compressedSize > this.fileSize) throw new CheckpointError(`${this.file}: zip entry "${e.name}" runs past the end of the file (the file is truncated)`);
    return start;
  }

  /** Reads one whole entry, refusing entries larger than maxBytes. */
  async read(name: string, maxBytes = MAX_IN_MEMORY): Promise<Buffer> {
    const e = this.entries.get(name);
    if (!e) throw new CheckpointError(`${this.file}: the archive has no entry "${name}"`);
    if (e.size > maxBytes || e.compressedSize > maxBytes) throw new CheckpointError(`${this.file}: zip entry "${name}" is ${e.size} bytes, more than the ${maxBytes} allowed`);
    const start = await this.dataOffset(e);
    const raw = Buffer.alloc(e.compressedSize);
    const { bytesRead } = await this.fh.read(raw, 0, e.compressedSize, start);
    if (bytesRead !== e.compressedSize) throw new CheckpointError(`${this.file}: zip entry "${name}" is truncated`);
    if (e.method === 0) return raw;
    if (e.method === 8) {
      const out = await inflateRawAsync(raw, { maxOutputLength: Math.max(1, e.size) }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ERR_BUFFER_TOO_LARGE') throw new CheckpointError(`${this.file}: zip entry "${name}" inflates to more than the ${e.size} bytes its directory declares (a zip bomb or a corrupt file)`);
        throw new CheckpointError(`${this.file}: zip entry "${name}" does not inflate (${err.message})`);
      });
      if (out.length !== e.size) throw new CheckpointError(`${this.file}: zip entry "${name}" inflates to ${out.length} bytes, the directory says ${e.size}`);
      return out;
    }
    throw new CheckpointError(`${this.file}: zip entry "${name}" uses compression method ${e.method}, which is not supported`);
  }
}

/** The most one entry may hold in memory (a Buffer's limit is about 4 GiB; a config-f generator needs 0.12). */
const MAX_IN_MEMORY = 2 ** 31 - 1;

/** Refuses a directory whose declared sizes could not come from this file (see the top of the file). */
function checkBounds(file: string, fileSize: number, entries: Map<string, ZipEntry>): void {
  let total = 0;
  const spans: [number, number, string][] = [];
  for (const e of entries.values()) {
    const limit = e.method === 0 ? e.compressedSize : e.compressedSize * MAX_INFLATE_RATIO;
    if (e.size > limit) {
      throw new CheckpointError(`${file}: zip entry "${e.name}" declares ${e.size} bytes from ${e.compressedSize} compressed (more than ${e.method === 0 ? 'a stored entry holds' : `${MAX_INFLATE_RATIO}:1`}): a zip bomb or a corrupt file, refused before reading it`);
    }
    total += e.size;
    // The local header is at least 30 bytes; the data follows it.
    spans.push([e.localHeaderOffset, e.localHeaderOffset + 30 + e.compressedSize, e.name]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) throw new CheckpointError(`${file}: zip entries "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap (a zip bomb or a corrupt file)`);
  }
  if (total > fileSize * MAX_INFLATE_RATIO) {
    throw new CheckpointError(`${file}: the archive declares ${total} bytes in all, more than ${MAX_INFLATE_RATIO} times its ${fileSize} bytes: a zip bomb or a corrupt file, refused before reading it`);
  }
}

async function readAt(fh: FileHandle, at: number, len: number): Promise<Buffer> {
  const b = Buffer.alloc(len);
  const { bytesRead } = await fh.read(b, 0, len, at);
  return b.subarray(0, bytesRead);
}

async function readCentralDirectory(fh: FileHandle, file: string, size: number): Promise<Map<string, ZipEntry>> {
  const truncated = `${file} is not a complete zip archive (no end-of-central-directory record): the file is truncated or not a PyTorch zip checkpoint`;
  if (size < 22) throw new CheckpointError(truncated);
  const tailLen = Math.min(size, 22 + 65535);
  const tail = await readAt(fh, size - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new CheckpointError(truncated);
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  const eocdPos = size - tailLen + eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdPos < 20) throw new CheckpointError(truncated);
    const loc = await readAt(fh, eocdPos - 20, 20);
    if (loc.readUInt32LE(0) !== EOCD64_LOCATOR_SIG) throw new CheckpointError(`${file}: zip64 locator is missing (corrupt archive)`);
    const rec = await readAt(fh, u64(loc, 8, `${file}: zip64 record offset`), 56);
    if (rec.length < 56 || rec.readUInt32LE(0) !== EOCD64_SIG) throw new CheckpointError(`${file}: zip64 end record is missing (corrupt archive)`);
    count = u64(rec, 32, `${file}: entry count`);
    cdSize = u64(rec, 40, `${file}: central directory size`);
    cdOffset = u64(rec, 48, `${file}: central directory offset`);
  }
  if (count > MAX_ENTRIES || cdSize > MAX_CD_BYTES) throw new CheckpointError(`${file}: the zip directory is implausibly large (${count} entries)`);
  if (cdOffset + cdSize > size) throw new CheckpointError(`${file}: the zip central directory lies outside the file (the file is truncated)`);
  const cd = await readAt(fh, cdOffset, cdSize);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CDH_SIG) throw new CheckpointError(`${file}: corrupt zip central directory at entry ${n}`);
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    let usize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localHeaderOffset = cd.readUInt32LE(p + 42);
    if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new CheckpointError(`${file}: corrupt zip central directory at entry ${n}`);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extended information: the 0xffffffff fields, in order, as 8-byte values.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + len) throw new CheckpointError(`${file}: corrupt zip64 field for "${name}"`);
          const v = u64(cd, q, `${file}: zip64 field`);
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      e += 4 + len;
    }
    if (localHeaderOffset + 30 > size) throw new CheckpointError(`${file}: zip entry "${name}" lies outside the file (the file is truncated)`);
    entries.set(name, { name, method, compressedSize, size: usize, localHeaderOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}
