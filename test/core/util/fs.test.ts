// writeFileAtomicSync: the helper behind model manifests, bases, evaluation reports and tune
// checkpoints, which are written in folders that may come from someone else.
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomicSync } from '../../../src/core/util/fs';
import { tempDir } from '../../helpers';

const tmp = tempDir('fs');

describe('writeFileAtomicSync', () => {
  it('replaces the file whole and leaves no temporary file', () => {
    const dir = join(tmp, 'plain');
    mkdirSync(dir, { recursive: true });
    const p = join(dir, 'eval.json');
    writeFileAtomicSync(p, 'first');
    writeFileAtomicSync(p, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['eval.json']);
  });

  it('replaces a link at the target instead of writing through it', () => {
    const dir = join(tmp, 'shared');
    mkdirSync(dir, { recursive: true });
    const outside = join(tmp, 'outside.txt');
    writeFileSync(outside, 'keep me');
    const p = join(dir, 'eval.json');
    symlinkSync(outside, p);
    writeFileAtomicSync(p, '{"ok":true}');
    expect(lstatSync(p).isSymbolicLink()).toBe(false);
    expect(readFileSync(p, 'utf8')).toBe('{"ok":true}');
    expect(readFileSync(outside, 'utf8')).toBe('keep me');
  });

  it('uses a temporary name nobody can plant in advance: links at the old pid-only name stay untouched', () => {
    const dir = join(tmp, 'planted');
    mkdirSync(dir, { recursive: true });
    const victim = join(tmp, 'victim.txt');
    writeFileSync(victim, 'precious');
    const p = join(dir, 'manifest.json');
    symlinkSync(victim, `${p}.tmp-${process.pid}`);
    writeFileAtomicSync(p, 'new manifest');
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(readFileSync(p, 'utf8')).toBe('new manifest');
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', `manifest.json.tmp-${process.pid}`]);
  });

  it('fails without leaving anything when the folder is missing', () => {
    const p = join(tmp, 'no-such-folder', 'x.json');
    expect(() => writeFileAtomicSync(p, 'x')).toThrow(/ENOENT/);
    expect(existsSync(join(tmp, 'no-such-folder'))).toBe(false);
  });
});
