import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cancelledFrom } from '../util/cancel';
import { fsError } from './errors';

/**
 * sha256 of a file as lowercase hex, streamed in 1 MiB chunks so a multi-gigabyte video
 * never sits in memory. An aborted `signal` stops it with a CancelledError.
 */
export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) hash.update(chunk as Buffer);
  } catch (err) {
    if (signal?.aborted) throw cancelledFrom(signal);
    throw fsError(err, path, 'hash');
  }
  return hash.digest('hex');
}
