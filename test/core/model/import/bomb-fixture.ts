// Checkpoints that declare far more than they hold, written byte by byte: a pickle of a
// generator state dict, a zip writer whose entries may share one data block, and a deflate
// stream of zeros that inflates about 1000:1. Used by bomb.test.ts and the studio's import test.
import { writeFileSync } from 'node:fs';
import { constants, deflateRawSync } from 'node:zlib';

// ---- a pickle of a generator state dict with the official names (protocol 2) ----
const str = (s: string): Buffer => Buffer.concat([Buffer.from([0x58]), u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
const int = (n: number): Buffer => Buffer.concat([Buffer.from([0x4a]), u32(n)]);
const tupleOf = (items: Buffer[]): Buffer => Buffer.concat([Buffer.from([0x28]), ...items, Buffer.from([0x74])]);

export interface Fake {
  key: string;
  storage: string;
  numel: number;
  shape: number[];
}

/** {key: torch._utils._rebuild_tensor_v2(<FloatStorage storage, numel>, 0, shape, stride, False, OrderedDict())} */
export function statePickle(tensors: Fake[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x80, 0x02, 0x7d, 0x28])];
  for (const t of tensors) {
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const persid = tupleOf([str('storage'), Buffer.from('ctorch\nFloatStorage\n'), str(t.storage), str('cpu'), int(t.numel)]);
    parts.push(
      str(t.key),
      Buffer.from('ctorch._utils\n_rebuild_tensor_v2\n'),
      tupleOf([Buffer.concat([persid, Buffer.from([0x51])]), int(0), tupleOf(t.shape.map(int)), tupleOf(stride.map(int)), Buffer.from([0x89]), Buffer.from('ccollections\nOrderedDict\n)R')]),
      Buffer.from([0x52])
    );
  }
  parts.push(Buffer.from([0x75, 0x2e]));
  return Buffer.concat(parts);
}

/** A minimal 4x4 generator: what the importer needs to read an architecture from the names. */
export const generator = (c: number, numelOf: (key: string, n: number) => number): Fake[] =>
  [
    { key: 'mapping.fc0.weight', shape: [512, 512] },
    { key: 'synthesis.b4.const', shape: [c, 4, 4] },
    { key: 'synthesis.b4.conv1.weight', shape: [c, c, 3, 3] },
    { key: 'synthesis.b4.torgb.weight', shape: [3, c, 1, 1] }
  ].map((t, i) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    return { ...t, storage: String(i), numel: numelOf(t.key, n) };
  });

// ---- a zip writer (zip64 sizes where needed), with entries that may share one data block ----
export interface Entry {
  name: string;
  method: 0 | 8;
  /** Declared uncompressed size (a stored entry declares its bytes). */
  size?: number;
  data: Buffer;
  /** Reuse the local header and data of an earlier entry (an overlapping-entries bomb). */
  sameAs?: string;
}

export function writeZip(path: string, entries: Entry[]): void {
  const chunks: Buffer[] = [];
  let offset = 0;
  const offsets = new Map<string, number>();
  const sizeOf = (e: Entry): number => (e.method === 0 ? e.data.length : e.size!);
  for (const e of entries) {
    if (e.sameAs) continue;
    const name = Buffer.from(e.name);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(45, 4);
    h.writeUInt16LE(e.method, 8);
    h.writeUInt32LE(e.data.length, 18);
    h.writeUInt32LE(Math.min(sizeOf(e), 0xffffffff), 22);
    h.writeUInt16LE(name.length, 26);
    offsets.set(e.name, offset);
    chunks.push(h, name, e.data);
    offset += 30 + name.length + e.data.length;
  }
  const cdStart = offset;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const size = sizeOf(e);
    const big = size >= 0xffffffff;
    const extra = big ? Buffer.alloc(12) : Buffer.alloc(0);
    if (big) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(8, 2);
      extra.writeBigUInt64LE(BigInt(size), 4);
    }
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 4);
    c.writeUInt16LE(45, 6);
    c.writeUInt16LE(e.method, 10);
    c.writeUInt32LE(e.data.length, 20);
    c.writeUInt32LE(big ? 0xffffffff : size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(offsets.get(e.sameAs ?? e.name)!, 42);
    chunks.push(c, name, extra);
    offset += 46 + name.length + extra.length;
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(offset - cdStart, 12);
  end.writeUInt32LE(cdStart, 16);
  chunks.push(end);
  writeFileSync(path, Buffer.concat(chunks));
}

/** A raw deflate stream of `megabytes` MiB of zeros: one flushed 1 MiB block, repeated, then an empty final block. */
export function zeroBomb(megabytes: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
  return Buffer.concat([...Array.from({ length: megabytes }, () => block), Buffer.from([0x03, 0x00])]);
}

/**
 * About 10 MB on disk declaring 13 storages of 3.85 GB (over 50 GB): every data entry reuses
 * one ~10 MB deflate stream of zeros. Returns the bytes each storage declares.
 */
export function writeBomb50G(file: string): number {
  const stream = zeroBomb(10_000);
  const perStorage = 3_850_000_000; // under a Buffer's 4 GiB, so only the checks stop it
  const tensors = generator(512, () => perStorage / 4);
  const storages = Array.from({ length: 13 }, (_, i) => String(i));
  for (const s of storages.slice(4)) tensors.push({ key: `noise.${s}`, storage: s, numel: perStorage / 4, shape: [perStorage / 4] });
  writeZip(file, [
    { name: 'archive/data.pkl', method: 0, data: statePickle(tensors) },
    { name: 'archive/data/0', method: 8, size: perStorage, data: stream },
    ...storages.slice(1).map((s): Entry => ({ name: `archive/data/${s}`, method: 8, size: perStorage, data: stream, sameAs: 'archive/data/0' }))
  ]);
  return perStorage;
}
