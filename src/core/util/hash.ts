// SHA-256 of files and bytes, streamed so multi-gigabyte videos and checkpoints never sit in memory.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cancelledFrom } from './cancel';

/** Feeds a file (from byte `start`) into `hash` in 1 MiB chunks; an aborted `signal` stops it with a CancelledError. */
export async function updateHashFromFile(hash: Hash, path: string, signal?: AbortSignal, start = 0): Promise<void> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal, start })) hash.update(chunk as Buffer);
  } catch (err) {
    if (signal?.aborted) throw cancelledFrom(signal);
    throw err;
  }
}

/** SHA-256 of a file as lowercase hex. Read errors are Node's own (the caller names what it was doing). */
export async function sha256OfFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await updateHashFromFile(hash, path, signal);
  return hash.digest('hex');
}

/**
 * The SHA-256 of a file whose digest the caller may already hold: `known` when given (the
 * caller computed it from these very bytes, as a download does while writing them), else
 * the file is read and hashed. A `known` that is not in sha256OfFile's form (64 lowercase
 * hex digits: not empty, not a prefix) is refused rather than recorded.
 */
export async function sha256OfFileUnlessKnown(path: string, known: string | undefined, signal?: AbortSignal): Promise<string> {
  if (known === undefined) return sha256OfFile(path, signal);
  if (!/^[0-9a-f]{64}$/.test(known)) throw new Error(`the SHA-256 given for ${path} ("${known}") is not 64 lowercase hex digits; leave it out to hash the file`);
  return known;
}
