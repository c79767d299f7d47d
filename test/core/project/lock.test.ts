// One writer per project across processes (lock.ts): a live holder is named and refused, a
// holder whose process is gone is taken over, a link planted as the lock file is never followed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE, ProjectError, lockProject, projectWriter } from '../../../src/core/project';
import { tempDir } from '../../helpers';

const tmp = tempDir('lock');

const lockOf = (pid: number, purpose: string) => JSON.stringify({ pid, host: hostname(), purpose, since: '2026-12-07T00:00:00.000Z', token: `t${pid}` });

describe('the project writer lock', () => {
  it('holds a project for one writer: this process twice and a live other process are refused, a gone one is taken over', async () => {
    const dir = join(tmp, 'a.stylecast');
    mkdirSync(dir);
    const lock = lockProject(dir, 'encode');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, purpose: 'encode' });
    // This process's own lock is not "another writer"; a second hold is refused.
    expect(projectWriter(dir)).toBeNull();
    expect(() => lockProject(dir, 'fine-tune')).toThrow(/already being written by this process \(encode in process/);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    lock.release(); // twice is harmless

    // Another live process holds it: named, refused.
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, LOCK_FILE), lockOf(child.pid!, 'encode'));
      expect(projectWriter(dir)).toMatchObject({ pid: child.pid, purpose: 'encode' });
      let e: unknown;
      try {
        lockProject(dir, 'fine-tune');
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(ProjectError);
      expect((e as ProjectError).code).toBe('BUSY');
      expect((e as ProjectError).message).toMatch(new RegExp(`being written by another Stylecast \\(encode in process ${child.pid}, since 2026-12-07T00:00:00.000Z\\).*delete .*${LOCK_FILE}`));
    } finally {
      child.kill();
    }
    // Its process is gone (a crash): the file is taken over.
    const dead = spawnSync('true').pid!;
    writeFileSync(join(dir, LOCK_FILE), lockOf(dead, 'encode'));
    expect(projectWriter(dir)).toBeNull();
    const again = lockProject(dir, 'fine-tune');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, purpose: 'fine-tune' });
    again.release();
  });

  it('waits for a lock file another process is writing this moment (unreadable and new), not taking it over', () => {
    const dir = join(tmp, 'c.stylecast');
    mkdirSync(dir);
    writeFileSync(join(dir, LOCK_FILE), '');
    expect(() => lockProject(dir, 'encode')).toThrow(/being taken for writing by another process this moment/);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('');
  });

  it('removes a link planted as the lock file, never writing through it', () => {
    const dir = join(tmp, 'b.stylecast');
    mkdirSync(dir);
    const victim = join(tmp, 'victim.txt');
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, join(dir, LOCK_FILE));
    const lock = lockProject(dir, 'encode');
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(lstatSync(join(dir, LOCK_FILE)).isFile()).toBe(true);
    lock.release();
  });
});
