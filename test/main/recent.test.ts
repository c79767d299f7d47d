import { describe, it, expect } from 'vitest';
import { addRecent, parseStoredRecent, type StoredRecent } from '../../src/main/recent';

const at = (minute: number) => new Date(Date.UTC(2025, 0, 1, 12, minute));

describe('addRecent', () => {
  it('puts the newest file first', () => {
    let list: StoredRecent[] = [];
    list = addRecent(list, '/v/a.mp4', at(0));
    list = addRecent(list, '/v/b.mov', at(1));
    expect(list).toEqual([
      { path: '/v/b.mov', name: 'b.mov', kind: 'video', openedAt: '2025-01-01T12:01:00.000Z' },
      { path: '/v/a.mp4', name: 'a.mp4', kind: 'video', openedAt: '2025-01-01T12:00:00.000Z' }
    ]);
  });

  it('moves a file opened again to the top instead of listing it twice', () => {
    let list: StoredRecent[] = [];
    for (const [i, p] of ['/v/a.mp4', '/v/b.mp4', '/v/c.mp4', '/v/a.mp4'].entries()) list = addRecent(list, p, at(i));
    expect(list.map((e) => e.path)).toEqual(['/v/a.mp4', '/v/c.mp4', '/v/b.mp4']);
    expect(list[0]!.openedAt).toBe('2025-01-01T12:03:00.000Z');
  });

  it('treats Windows paths case-insensitively', () => {
    const list = addRecent(addRecent([], 'C:\\Videos\\Talk.MP4', at(0)), 'c:/videos/talk.mp4', at(1));
    expect(list.map((e) => e.path)).toEqual(['c:/videos/talk.mp4']);
  });

  it('keeps at most 10 entries, dropping the oldest', () => {
    let list: StoredRecent[] = [];
    for (let i = 0; i < 12; i++) list = addRecent(list, `/v/clip${i}.webm`, at(i));
    expect(list).toHaveLength(10);
    expect(list[0]!.path).toBe('/v/clip11.webm');
    expect(list[9]!.path).toBe('/v/clip2.webm');
  });

  it('records projects as projects and refuses other files', () => {
    expect(addRecent([], '/p/interview.stylecast', at(0))[0]!.kind).toBe('project');
    expect(() => addRecent([], '/v/notes.txt', at(0))).toThrow('/v/notes.txt is not a video (.mp4, .mov, .mkv, .webm, .avi) or a Stylecast project (.stylecast)');
  });

  it('does not modify the list it is given', () => {
    const list = addRecent([], '/v/a.mp4', at(0));
    const copy = structuredClone(list);
    addRecent(list, '/v/b.mp4', at(1));
    expect(list).toEqual(copy);
  });
});

describe('parseStoredRecent', () => {
  it('keeps valid entries and drops malformed, relative, duplicate and unsupported ones', () => {
    const stored = [
      { path: '/v/a.mp4', name: 'ignored', kind: 'project', openedAt: '2025-01-01T00:00:00.000Z' },
      { path: 'relative.mp4', openedAt: '2025-01-01T00:00:00.000Z' },
      { path: '/v/a.mp4', openedAt: '2024-01-01T00:00:00.000Z' },
      { path: '/v/b.txt', openedAt: '2025-01-01T00:00:00.000Z' },
      { path: '/v/c.mkv', openedAt: 'yesterday' },
      null,
      'x'
    ];
    expect(parseStoredRecent(stored)).toEqual([{ path: '/v/a.mp4', name: 'a.mp4', kind: 'video', openedAt: '2025-01-01T00:00:00.000Z' }]);
    expect(parseStoredRecent({ not: 'a list' })).toEqual([]);
  });
});
