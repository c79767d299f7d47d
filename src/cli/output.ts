// Checks that an output location can be written, before any heavy work. The parent folder
// must exist or be creatable, and a file must really be creatable there: a probe folder
// and file are made and removed in the deepest folder that exists. Nothing here calls a
// recursive mkdir, which on Node 20 never returns for a path under /proc.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './errors';

function deepestExisting(path: string): { dir: string; missing: string[] } {
  const missing: string[] = [];
  let p = path;
  for (;;) {
    try {
      const st = statSync(p);
      if (!st.isDirectory()) throw new UsageError(`cannot write ${path}: ${p} is a file, not a folder`);
      return { dir: p, missing };
    } catch (e) {
      if (e instanceof UsageError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UsageError(`cannot write ${path}: ${p}: ${(e as Error).message}`);
      const up = dirname(p);
      if (up === p) throw new UsageError(`cannot write ${path}: no folder of it exists`);
      missing.unshift(p);
      p = up;
    }
  }
}

function probe(dir: string, target: string, flag: string): void {
  let tmp: string | null = null;
  try {
    tmp = mkdtempSync(join(dir, '.stylecast-write-check-'));
    writeFileSync(join(tmp, 'probe'), 'x');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new UsageError(`${flag} ${target}: cannot write there (${why} in ${dir}); choose another location`);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

/** The output is a file (an image, a video, a JSON report): its folder must be writable. */
export function checkOutputFile(path: string, flag = '--out'): string {
  const p = resolve(path);
  try {
    if (statSync(p).isDirectory()) throw new UsageError(`${flag} ${p} is a folder; give a file name`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
  probe(deepestExisting(dirname(p)).dir, p, flag);
  return p;
}

/** The output is a folder (a project, a bundle): it, or the deepest existing folder above it, must be writable. */
export function checkOutputDir(path: string, flag = '--out'): string {
  const p = resolve(path);
  probe(deepestExisting(p).dir, p, flag);
  return p;
}
