import { isCancelled } from '../util/cancel';
import { sha256OfFile } from '../util/hash';
import { fsError } from './errors';

/**
 * sha256 of a file as lowercase hex, streamed so a multi-gigabyte video never sits in
 * memory. An aborted `signal` stops it with a CancelledError; read errors are ProjectErrors.
 */
export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  try {
    return await sha256OfFile(path, signal);
  } catch (err) {
    if (isCancelled(err)) throw err;
    throw fsError(err, path, 'hash');
  }
}
