// Temporary folders for tests: each made by tempDir is removed after the tests of the file that
// made it (test/setup.ts), so a test run leaves nothing behind in the system's temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new empty folder `stylecast-<prefix>-XXXXXX` in the system's temp folder. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stylecast-${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder tempDir made so far. */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
