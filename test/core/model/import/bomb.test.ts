// Checkpoints from the internet that declare far more than they hold: real zip bombs written
// here byte by byte (one deflate stream of zeros, reused by overlapping entries), an entry that
// inflates past what it declares, and pickles whose tensors or architecture are out of range.
// Each is refused before the memory it asks for is allocated.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CheckpointError, importCheckpoint, readStateDict } from '../../../../src/core/model/import';
import { tempDir } from '../../../helpers';
import { type Entry, generator, statePickle, writeBomb50G, writeZip, zeroBomb } from './bomb-fixture';

const tmp = tempDir('bomb');

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
    const perStorage = writeBomb50G(file);
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

  it('a tensor whose shape is far larger than its storage is refused before its array is allocated', async () => {
    // 2^33 elements (a 32 GiB float32 array) over a storage of 4: readStateDict converts every tensor.
    const file = join(tmp, 'huge-view.pt');
    writeZip(file, [
      { name: 'archive/data.pkl', method: 0, data: statePickle([{ key: 'weight', storage: '0', numel: 4, shape: [65536, 65536, 2] }]) },
      { name: 'archive/data/0', method: 0, data: Buffer.alloc(16) }
    ]);
    const err = await readStateDict(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toBe('tensor of shape [65536,65536,2] lies outside its storage 0 (4 elements): corrupt file');
  });
});
