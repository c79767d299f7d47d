// File SHA-256: streamed, and skipped only for a digest the caller already computed.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256OfFile, sha256OfFileUnlessKnown } from '../../../src/core/util/hash';
import { tempDir } from '../../helpers';

const tmp = tempDir('hash');

// 3 MiB: more than one of the 1 MiB chunks the file is read in.
const bytes = Buffer.from(Array.from({ length: 3 * (1 << 20) + 17 }, (_, i) => (i * 31) & 255));
const file = join(tmp, 'data.bin');
writeFileSync(file, bytes);
const digest = createHash('sha256').update(bytes).digest('hex');

describe('sha256OfFile', () => {
  it('hashes a file read in chunks to the digest of its bytes', async () => {
    expect(await sha256OfFile(file)).toBe(digest);
  });
});

describe('sha256OfFileUnlessKnown', () => {
  it('hashes the file when no digest is given', async () => {
    expect(await sha256OfFileUnlessKnown(file, undefined)).toBe(digest);
    await expect(sha256OfFileUnlessKnown(join(tmp, 'missing.bin'), undefined)).rejects.toThrow(/ENOENT/);
  });

  it('answers a given digest without reading the file', async () => {
    // The path does not exist: had it been read, this would fail with ENOENT.
    expect(await sha256OfFileUnlessKnown(join(tmp, 'missing.bin'), digest)).toBe(digest);
  });

  it('refuses a given value that is not a whole SHA-256 instead of recording it', async () => {
    for (const bad of ['', digest.slice(0, 16), digest.toUpperCase(), `${digest}0`, `sha256:${digest}`]) {
      await expect(sha256OfFileUnlessKnown(file, bad)).rejects.toThrow(`the SHA-256 given for ${file} ("${bad}") is not 64 lowercase hex digits`);
    }
  });
});
