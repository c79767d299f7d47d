// Checkpoints from the internet that declare far more than they hold: real zip bombs written
// here byte by byte (one deflate stream of zeros, reused by overlapping entries), an entry that
// inflates past what it declares, and pickles whose tensors or architecture are out of range.
// Each is refused before the memory it asks for is allocated.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CheckpointError, importCheckpoint } from '../../../../src/core/model/import';
import { tempDir } from '../../../helpers';

const tmp = tempDir('bomb');

// ---- a pickle of a generator state dict with the official names (protocol 2) ----
const str = (s: string): Buffer => Buffer.concat([Buffer.from([0x58]), u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
const int = (n: number): Buffer => Buffer.concat([Buffer.from([0x4a]), u32(n)]);
const tupleOf = (items: Buffer[]): Buffer => Buffer.concat([Buffer.from([0x28]), ...items, Buffer.from([0x74])]);

interface Fake {
  key: string;
  storage: string;
  numel: number;
  shape: number[];
}

/** {key: torch._utils._rebuild_tensor_v2(<FloatStorage storage, numel>, 0, shape, stride, False, OrderedDict())} */
function statePickle(tensors: Fake[]): Buffer {
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
const generator = (c: number, numelOf: (key: string, n: number) => number): Fake[] =>
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
interface Entry {
  name: string;
  method: 0 | 8;
  /** Declared uncompressed size (a stored entry declares its bytes). */
  size?: number;
  data: Buffer;
  /** Reuse the local header and data of an earlier entry (an overlapping-entries bomb). */
  sameAs?: string;
}

function writeZip(path: string, entries: Entry[]): void {
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
function zeroBomb(megabytes: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
  return Buffer.concat([...Array.from({ length: megabytes }, () => block), Buffer.from([0x03, 0x00])]);
}

async function refusal(file: string): Promise<{ message: string; ms: number; rssGrowth: number }> {
  const out = join(tmp, `out-${Math.random().toString(36).slice(2)}`);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const t0 = performance.now();
  const err = await importCheckpoint(file, out).then(
    () => null,
    (e: unknown) => e
  );
  const ms = performance.now() - t0;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  expect(err).toBeInstanceOf(CheckpointError);
  expect(existsSync(out)).toBe(false);
  return { message: (err as Error).message, ms, rssGrowth: peak - rss0 };
}

describe('checkpoint bombs are refused before they are inflated or allocated', () => {
  it('the zero stream really is a bomb: 3 of its blocks inflate to 3 MiB of zeros', () => {
    const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH });
    const three = inflateRawSync(Buffer.concat([block, block, block, Buffer.from([0x03, 0x00])]));
    expect(three.length).toBe(3 << 20);
    expect(three.every((b) => b === 0)).toBe(true);
    expect(block.length).toBeLessThan(2048);
  });

  it('a 10 MB checkpoint that declares 50 GB of tensors: refused within a second, using under 200 MB', async () => {
    const file = join(tmp, 'bomb-50g.pt');
    const stream = zeroBomb(10_000); // ~10 MB of deflate that inflates to ~10 GB
    const perStorage = 3_850_000_000; // under a Buffer's 4 GiB, so only the checks stop it
    const tensors = generator(512, () => perStorage / 4);
    const storages = Array.from({ length: 13 }, (_, i) => String(i));
    for (const s of storages.slice(4)) tensors.push({ key: `noise.${s}`, storage: s, numel: perStorage / 4, shape: [perStorage / 4] });
    writeZip(file, [
      { name: 'archive/data.pkl', method: 0, data: statePickle(tensors) },
      { name: 'archive/data/0', method: 8, size: perStorage, data: stream },
      ...storages.slice(1).map((s): Entry => ({ name: `archive/data/${s}`, method: 8, size: perStorage, data: stream, sameAs: 'archive/data/0' }))
    ]);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(9_000_000);
    expect(size).toBeLessThan(12_000_000);
    expect(13 * perStorage).toBeGreaterThan(50e9);
    const r = await refusal(file);
    console.log(`50 GB bomb (${(size / 1e6).toFixed(1)} MB): refused in ${r.ms.toFixed(0)} ms, RSS grew ${(r.rssGrowth / 1e6).toFixed(1)} MB: ${r.message}`);
    expect(r.message).toMatch(/bomb-50g\.pt: zip entry "archive\/data\/0" declares 3850000000 bytes from \d+ compressed \(more than 100:1\): a zip bomb or a corrupt file, refused before reading it/);
    expect(r.ms).toBeLessThan(1000);
    expect(r.rssGrowth).toBeLessThan(200e6);
  });

  it('entries that reuse one deflate stream are refused even when each stays under the ratio', async () => {
    const file = join(tmp, 'overlap.pt');
    const stream = zeroBomb(100);
    const declared = 99 * stream.length;
    writeZip(file, [
      { name: 'archive/data.pkl', method: 0, data: statePickle(generator(8, (_k, n) => n)) },
      ...['0', '1', '2', '3'].map((s): Entry => ({ name: `archive/data/${s}`, method: 8, size: declared, data: stream, ...(s === '0' ? {} : { sameAs: 'archive/data/0' }) }))
    ]);
    const r = await refusal(file);
    expect(r.message).toMatch(/zip entries "archive\/data\/\d" and "archive\/data\/\d" overlap/);
  });

  it('an entry that inflates past what it declares stops at the declared size', async () => {
    const file = join(tmp, 'liar.pt');
    const tensors = generator(8, (_k, n) => n);
    const fc0 = 512 * 512 * 4;
    writeZip(file, [
      { name: 'archive/data.pkl', method: 0, data: statePickle(tensors) },
      // Declares the 1 MiB fc0.weight needs; the stream holds 30 MiB of zeros.
      { name: 'archive/data/0', method: 8, size: fc0, data: zeroBomb(30) },
      ...tensors.slice(1).map((t): Entry => ({ name: `archive/data/${t.storage}`, method: 0, data: Buffer.alloc(t.numel * 4) }))
    ]);
    const r = await refusal(file);
    expect(r.message).toMatch(/zip entry "archive\/data\/0" inflates to more than the 1048576 bytes its directory declares/);
    expect(r.rssGrowth).toBeLessThan(200e6);
  });

  it('storages larger than the architecture could need are refused before any is read', async () => {
    // The pickle gives fc0.weight a 512 MB storage, for a 4x4, 8-channel model; the archive holds a few bytes.
    const file = join(tmp, 'oversized.pt');
    const tensors = generator(8, (k, n) => (k === 'mapping.fc0.weight' ? 128 * 1024 ** 2 : n));
    writeZip(file, [
      { name: 'archive/data.pkl', method: 0, data: statePickle(tensors) },
      ...tensors.map((t): Entry => ({ name: `archive/data/${t.storage}`, method: 0, data: Buffer.alloc(4) }))
    ]);
    const r = await refusal(file);
    expect(r.message).toMatch(/its tensors declare \d+ bytes, but the file has \d+ bytes and the architecture it describes needs at most \d+/);
  });

  it('an architecture past 1024x1024 or 1024 channels is refused before its tensors are read', async () => {
    const file = join(tmp, 'wide.pt');
    const c = 4096;
    const tensors = generator(c, (_k, n) => n);
    writeZip(file, [
      { name: 'archive/data.pkl', method: 0, data: statePickle(tensors) },
      ...tensors.map((t): Entry => ({ name: `archive/data/${t.storage}`, method: 0, data: Buffer.alloc(4) }))
    ]);
    const r = await refusal(file);
    expect(r.message).toMatch(/4096 channels at 4x4; Stylecast supports StyleGAN2 generators up to 1024x1024 with at most 1024 channels/);
  });
});
