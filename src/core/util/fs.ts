// Small synchronous file helpers shared by the engine and the CLI.
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes a file atomically: to a temporary name unique to this process beside it, then
 * renamed over it, so a reader never sees half a file and two processes never share a
 * temporary file.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
