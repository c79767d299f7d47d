// Path containment and the media Range parser: pure rules, no engine.
import { describe, expect, it } from 'vitest';
import { PathGrants, projectBesideVideo } from '../../src/main/grants';
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
