import { describe, expect, it } from 'vitest';
import type { JobDone, JobProgress } from '../../src/shared/contract';
import { idleJob, isActive, jobReducer, type JobAction, type JobState } from '../../src/renderer/src/ui/jobState';

const progress = (jobId: string, fraction: number, kind: JobProgress['kind'] = 'export'): JobProgress => ({ jobId, kind, stage: 'render', fraction, etaSec: 10, message: `at ${fraction}`, frame: null, of: null, loss: null });
const done = (jobId: string, status: JobDone['status'], kind: JobDone['kind'] = 'export'): JobDone => ({ jobId, kind, status, message: status, path: status === 'done' ? '/out/x.mp4' : null });

const run = (actions: JobAction[], from: JobState = idleJob('export')) => actions.reduce(jobReducer, from);

describe('jobReducer', () => {
  it('follows a job from start to done', () => {
    const s = run([{ type: 'start' }, { type: 'started', jobId: 'a' }, { type: 'progress', progress: progress('a', 0.5) }, { type: 'done', done: done('a', 'done') }]);
    expect(s.phase).toBe('done');
    expect(s.progress?.fraction).toBe(0.5);
    expect(s.path).toBe('/out/x.mp4');
    expect(isActive(s)).toBe(false);
  });

  it('replays events that arrived before the start call returned, and only those of its job', () => {
    const s = run([
      { type: 'start' },
      { type: 'progress', progress: progress('other', 0.9) },
      { type: 'progress', progress: progress('a', 0.2) },
      { type: 'progress', progress: progress('a', 0.4) },
      { type: 'started', jobId: 'a' }
    ]);
    expect(s.phase).toBe('running');
    expect(s.progress?.fraction).toBe(0.4);
    expect(s.pending).toEqual([]);
  });

  it('ends at once when the done event came before the id', () => {
    const s = run([{ type: 'start' }, { type: 'done', done: done('a', 'failed') }, { type: 'started', jobId: 'a' }]);
    expect(s.phase).toBe('failed');
    expect(s.message).toBe('failed');
  });

  it('ignores other jobs and other kinds while running', () => {
    const s = run([
      { type: 'start' },
      { type: 'started', jobId: 'a' },
      { type: 'progress', progress: progress('b', 0.7) },
      { type: 'progress', progress: progress('a', 0.3, 'encode') },
      { type: 'done', done: done('b', 'done') }
    ]);
    expect(s.phase).toBe('running');
    expect(s.progress).toBeNull();
    expect(isActive(s)).toBe(true);
  });

  it('records a start failure with its message and marks cancelling until the end', () => {
    expect(run([{ type: 'start' }, { type: 'start-failed', message: 'no model' }])).toMatchObject({ phase: 'failed', message: 'no model', jobId: null });
    const c = run([{ type: 'start' }, { type: 'started', jobId: 'a' }, { type: 'cancelling' }]);
    expect(c.cancelling).toBe(true);
    const ended = jobReducer(c, { type: 'done', done: done('a', 'cancelled') });
    expect(ended).toMatchObject({ phase: 'cancelled', cancelling: false });
  });

  it('does not let progress after the end reopen the job, and resets', () => {
    const s = run([{ type: 'start' }, { type: 'started', jobId: 'a' }, { type: 'done', done: done('a', 'done') }, { type: 'progress', progress: progress('a', 0.1) }]);
    expect(s.phase).toBe('done');
    expect(s.progress).toBeNull();
    expect(jobReducer(s, { type: 'reset' })).toEqual(idleJob('export'));
  });
});
