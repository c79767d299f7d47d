// Path containment and the media Range parser: pure rules, no engine.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PathGrants, isInsideReal, projectBesideVideo } from '../../src/main/grants';
import { tempDir } from '../helpers';

const tmp = tempDir('grants');
import { parseRange } from '../../src/main/media';

describe('PathGrants', () => {
  it('reads only what was opened', () => {
    const g = new PathGrants();
    expect(g.canRead('/v/talk.mp4')).toBe(false);
    g.allowRead('/v/talk.mp4');
    expect(g.canRead('/v/./talk.mp4')).toBe(true);
    expect(g.canRead('/v/other.mp4')).toBe(false);
    expect(() => g.checkRead('/etc/passwd', 'video')).toThrow('Stylecast cannot read /etc/passwd: open the video first');
  });

  it('writes where the user chose, or a project beside an opened video, or an opened project', () => {
    const g = new PathGrants();
    g.allowOutput('/out/edit.mp4', 'video');
    expect(g.checkOutput('/out/edit.mp4', 'video')).toBe('/out/edit.mp4');
    // Chosen as a video, not as a project folder.
    expect(() => g.checkOutput('/out/edit.mp4', 'project')).toThrow(/was not chosen/);
    expect(() => g.checkOutput('/v/talk.stylecast', 'project', '/v/talk.mp4')).toThrow(/was not chosen/);
    g.allowRead('/v/talk.mp4');
    expect(g.checkOutput('/v/talk.stylecast', 'project', '/v/talk.mp4')).toBe('/v/talk.stylecast');
    expect(() => g.checkOutput('/v/../etc/talk.stylecast', 'project', '/v/talk.mp4')).toThrow(/was not chosen/);
    g.allowProject('/p/old.stylecast');
    expect(g.checkOutput('/p/old.stylecast', 'project')).toBe('/p/old.stylecast');
    expect(g.checkProject('/p/old.stylecast')).toBe('/p/old.stylecast');
    expect(() => g.checkProject('/p/new.stylecast')).toThrow(/choose the project with File > Open Project first/);
  });

  it('compares real paths: a granted file swapped for a link no longer matches, a link to a granted file does', () => {
    const dir = join(tmp, 'swap');
    mkdirSync(join(dir, 'secret'), { recursive: true });
    const video = join(dir, 'talk.mp4');
    const secret = join(dir, 'secret', 'id.mp4');
    writeFileSync(video, 'video');
    writeFileSync(secret, 'not yours');
    const g = new PathGrants({ caseInsensitive: false });
    g.allowRead(video);
    symlinkSync(video, join(dir, 'alias.mp4'));
    // The same file by another name: the grant is on the file, not on the string.
    expect(g.checkRead(join(dir, 'alias.mp4'), 'video')).toBe(video);
    // After the choice, the chosen name is replaced by a link elsewhere: refused.
    rmSync(video);
    symlinkSync(secret, video);
    expect(() => g.checkRead(video, 'video')).toThrow(/cannot read .*talk\.mp4: open the video first/);
    // A save target that does not exist yet is keyed by its folder's real path.
    g.allowOutput(join(dir, 'out.mp4'), 'video');
    symlinkSync(dir, join(tmp, 'swap-link'));
    // It returns the real path, which jobs are keyed by: one file named two ways is one output.
    expect(g.checkOutput(join(tmp, 'swap-link', 'out.mp4'), 'video')).toBe(join(dir, 'out.mp4'));
    expect(() => g.checkOutput(join(dir, 'secret', 'out.mp4'), 'video')).toThrow(/was not chosen/);
    // One project folder by two names is one project: both checks give its real path, which
    // open projects and writing jobs are keyed by (two jobs must not write one folder).
    const project = join(dir, 'talk.stylecast');
    mkdirSync(project);
    g.allowProject(project);
    symlinkSync(project, join(tmp, 'talk-link.stylecast'));
    expect(g.checkProject(join(tmp, 'talk-link.stylecast'))).toBe(project);
    expect(g.checkOutput(join(tmp, 'talk-link.stylecast'), 'project')).toBe(project);
    expect(g.checkProject(`/proc/self/root${project}`)).toBe(project);
  });

  it('folds case where the file system does (Windows, macOS), and not where it does not', () => {
    const ci = new PathGrants({ caseInsensitive: true });
    ci.allowRead(join(tmp, 'Interview.MP4'));
    expect(ci.canRead(join(tmp, 'interview.mp4'))).toBe(true);
    const cs = new PathGrants({ caseInsensitive: false });
    cs.allowRead(join(tmp, 'Interview.MP4'));
    expect(cs.canRead(join(tmp, 'interview.mp4'))).toBe(false);
  });

  it('gives a dropped path reading only: no write beside it, no project writes, until confirmed', () => {
    const g = new PathGrants({ caseInsensitive: false });
    g.allowDropped('/d/talk.mp4', 'video');
    g.allowDropped('/d/old.stylecast', 'project');
    expect(g.canRead('/d/talk.mp4')).toBe(true);
    expect(g.checkProject('/d/old.stylecast')).toBe('/d/old.stylecast');
    expect(g.isDroppedOnly('/d/talk.mp4')).toBe(true);
    expect(() => g.checkOutput('/d/talk.stylecast', 'project', '/d/talk.mp4')).toThrow(/does not write beside a dropped file until you confirm it/);
    expect(() => g.checkOutput('/d/old.stylecast', 'project')).toThrow(/does not write beside a dropped file/);
    g.confirmDropped('/d/talk.mp4');
    g.confirmDropped('/d/old.stylecast');
    expect(g.isDroppedOnly('/d/talk.mp4')).toBe(false);
    expect(g.checkOutput('/d/talk.stylecast', 'project', '/d/talk.mp4')).toBe('/d/talk.stylecast');
    expect(g.checkOutput('/d/old.stylecast', 'project')).toBe('/d/old.stylecast');
  });

  it('tells what lies inside a folder by real path', () => {
    const root = join(tmp, 'models');
    mkdirSync(join(root, 'a'), { recursive: true });
    mkdirSync(join(tmp, 'elsewhere'), { recursive: true });
    symlinkSync(join(tmp, 'elsewhere'), join(root, 'linked'));
    expect(isInsideReal(join(root, 'a'), root, false)).toBe(true);
    expect(isInsideReal(join(root, 'linked'), root, false)).toBe(false);
    expect(isInsideReal(join(root, '..', 'models-other'), root, false)).toBe(false);
  });

  it('a source video a project names is readable, but grounds no project beside it until the user chooses it', () => {
    const g = new PathGrants({ caseInsensitive: false });
    const named = '/home/u/Videos/wedding.mp4';
    g.allowDerivedRead(named);
    expect(g.canRead(named)).toBe(true);
    expect(g.isDerivedOnly(named)).toBe(true);
    expect(() => g.checkOutput('/home/u/Videos/wedding.stylecast', 'project', named)).toThrow(/was not chosen/);
    g.allowRead(named); // the user opens it
    expect(g.isDerivedOnly(named)).toBe(false);
    expect(g.checkOutput('/home/u/Videos/wedding.stylecast', 'project', named)).toBe('/home/u/Videos/wedding.stylecast');
  });

  it('suggests NAME.stylecast beside the video', () => {
    expect(projectBesideVideo('/v/Interview 2.MOV')).toBe('/v/Interview 2.stylecast');
  });
});

describe('parseRange', () => {
  it('reads the byte ranges players send', () => {
    expect(parseRange(null, 1000)).toBeNull();
    expect(parseRange('bytes=0-', 1000)).toEqual({ start: 0, end: 999 });
    expect(parseRange('bytes=100-199', 1000)).toEqual({ start: 100, end: 199 });
    expect(parseRange('bytes=900-5000', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
  });

  it('refuses unsatisfiable and malformed ranges', () => {
    for (const bad of ['bytes=1000-', 'bytes=5-2', 'bytes=-0', 'bytes=-', 'items=0-1', 'bytes=0-1,5-6']) expect(parseRange(bad, 1000)).toBe('invalid');
  });
});
