// Desktop conventions, tested under plain Node: Edit > Undo / Redo named after the timeline's
// steps, the taskbar progress of running jobs, and notifications of long jobs ended unseen.
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { validateRequest, type EditState } from '../../src/shared/contract';
import { JobFeedback, LONG_JOB_MS } from '../../src/main/job-feedback';
import { buildMenuTemplate, type MenuActions } from '../../src/main/menu';

function editMenu(edit: EditState | null) {
  const calls: string[] = [];
  const actions = new Proxy({} as MenuActions, { get: (_t, name: string) => () => calls.push(name) });
  const template = buildMenuTemplate({ appName: 'Stylecast Studio', platform: 'linux', dev: false, recent: [], edit, actions });
  const items = template.find((m) => m.label === 'Edit')!.submenu as MenuItemConstructorOptions[];
  const click = (i: number) => (items[i]!.click as () => void)();
  return { items, calls, click };
}

describe('Edit > Undo / Redo', () => {
  it('names the timeline step and runs it in the editor', () => {
    const { items, calls, click } = editMenu({ undo: 'Move Key', redo: 'Add Key' });
    expect(items.slice(0, 2).map((i) => [i.label, i.enabled, i.accelerator])).toEqual([
      ['Undo Move Key', true, 'CmdOrCtrl+Z'],
      ['Redo Add Key', true, 'Shift+CmdOrCtrl+Z']
    ]);
    click(0);
    click(1);
    expect(calls).toEqual(['undo', 'redo']);
  });

  it('greys out a side with no step, and leaves native undo for text fields when no timeline is open', () => {
    const { items } = editMenu({ undo: 'Smooth Range', redo: null });
    expect(items.slice(0, 2).map((i) => [i.label, i.enabled])).toEqual([
      ['Undo Smooth Range', true],
      ['Redo', false]
    ]);
    expect(editMenu(null).items.slice(0, 2).map((i) => i.role)).toEqual(['undo', 'redo']);
  });

  it('accepts labels or null from the page and refuses anything else', () => {
    expect(validateRequest('menu:setEditState', { undo: 'Move Key', redo: null })).toEqual({ undo: 'Move Key', redo: null });
    expect(validateRequest('menu:setEditState', null)).toBeNull();
    expect(() => validateRequest('menu:setEditState', { undo: 3, redo: null })).toThrow();
  });
});

describe('job feedback', () => {
  function harness(focused: boolean) {
    let t = 0;
    const progress: number[] = [];
    const notes: [string, string][] = [];
    const fb = new JobFeedback({ setProgress: (v) => progress.push(v), notify: (a, b) => notes.push([a, b]), windowFocused: () => focused, now: () => t });
    const tick = (ms: number) => (t += ms);
    const p = (jobId: string, kind: 'encode' | 'export', fraction: number) =>
      fb.onEvent('job:progress', { jobId, kind, stage: 'frames', fraction, etaSec: null, message: '', frame: null, of: null, loss: null });
    const done = (jobId: string, kind: 'encode' | 'export', status: 'done' | 'failed' | 'cancelled', message: string) =>
      fb.onEvent('job:done', { jobId, kind, status, message, path: null });
    return { progress, notes, tick, p, done };
  }

  it('shows the running jobs on the taskbar (two jobs as their mean) and clears it when they end', () => {
    const h = harness(true);
    h.p('a', 'encode', 0.2);
    h.p('a', 'encode', 0.5);
    h.p('b', 'export', 0.1);
    h.done('a', 'encode', 'done', 'encoded');
    h.done('b', 'export', 'done', 'exported');
    expect(h.progress).toEqual([0.2, 0.5, 0.3, 0.1, -1]);
  });

  it('notifies when a long job ends while the window is not focused, saying how it ended', () => {
    const h = harness(false);
    h.p('a', 'encode', 0);
    h.tick(LONG_JOB_MS);
    h.done('a', 'encode', 'failed', 'frame 12: out of memory');
    h.p('b', 'export', 0);
    h.tick(LONG_JOB_MS + 1);
    h.done('b', 'export', 'done', 'wrote /v/out.mp4');
    expect(h.notes).toEqual([
      ['Encode failed', 'frame 12: out of memory'],
      ['Export finished', 'wrote /v/out.mp4']
    ]);
  });

  it('stays quiet for a short job, or while the user is looking at the window', () => {
    const away = harness(false);
    away.p('a', 'export', 0);
    away.tick(LONG_JOB_MS - 1);
    away.done('a', 'export', 'done', 'x');
    const here = harness(true);
    here.p('a', 'encode', 0);
    here.tick(LONG_JOB_MS * 10);
    here.done('a', 'encode', 'done', 'x');
    expect([away.notes, here.notes]).toEqual([[], []]);
  });
});
