// The Evaluate panel's state: what it says and offers before, during and after the evaluation job.
import { describe, expect, it } from 'vitest';
import { evaluationView } from '../../../src/renderer/src/editor/evaluation';
import { idleJob, jobReducer, type JobAction } from '../../../src/renderer/src/ui/jobState';
import type { JobDone } from '../../../src/shared/contract';

const job = (...actions: JobAction[]) => actions.reduce(jobReducer, idleJob('evaluate'));
const started: JobAction[] = [{ type: 'start' }, { type: 'started', jobId: 'e1' }];
const ended = (status: JobDone['status'], message: string): JobAction => ({ type: 'done', done: { jobId: 'e1', kind: 'evaluate', status, message, path: status === 'done' ? '/w/talk.stylecast' : null } });

describe('the Evaluate panel', () => {
  it('offers to run the evaluation of a project not evaluated yet, and says what the plot shows', () => {
    const v = evaluationView({ evaluated: false }, job());
    expect(v.action).toEqual({ kind: 'run', label: 'Run evaluation' });
    expect(v.notice?.kind).toBe('info');
    expect(v.notice?.text).toMatch(/not been evaluated yet: the plot shows the encoder's loss/);
    expect(v.showProgress).toBe(false);
    // Once evaluated: no notice, and the button evaluates again.
    expect(evaluationView({ evaluated: true }, job())).toEqual({ notice: null, action: { kind: 'run', label: 'Evaluate again' }, showProgress: false });
  });

  it('offers only cancel while the job starts and runs, with its progress', () => {
    for (const s of [job({ type: 'start' }), job(...started), job(...started, { type: 'progress', progress: { jobId: 'e1', kind: 'evaluate', stage: 'evaluate', fraction: 0.5, etaSec: 3, message: 'evaluated frame 4 of 8', frame: 4, of: 8, loss: null } })]) {
      const v = evaluationView({ evaluated: false }, s);
      expect(v.action).toEqual({ kind: 'cancel' });
      expect(v.notice).toBeNull();
      expect(v.showProgress).toBe(true);
    }
    // Another kind of job's events do not move it.
    const other = job(...started, { type: 'done', done: { jobId: 'e1', kind: 'export', status: 'done', message: 'x', path: null } });
    expect(evaluationView(null, other).action).toEqual({ kind: 'cancel' });
  });

  it('reports how the job ended: its result, its error, or that a stopped one wrote nothing', () => {
    const done = evaluationView({ evaluated: true }, job(...started, ended('done', 'Evaluated 8 frames: PSNR median 31.20 dB')));
    expect(done.notice).toEqual({ kind: 'success', text: 'Evaluated 8 frames: PSNR median 31.20 dB' });
    expect(done.action).toEqual({ kind: 'run', label: 'Evaluate again' });
    const failed = evaluationView({ evaluated: false }, job(...started, ended('failed', 'the source video of /w/talk.stylecast is not at /w/talk.mp4')));
    expect(failed.notice).toEqual({ kind: 'error', text: 'the source video of /w/talk.stylecast is not at /w/talk.mp4' });
    expect(failed.action).toEqual({ kind: 'run', label: 'Run evaluation' });
    expect(evaluationView({ evaluated: false }, job(...started, ended('cancelled', 'Cancelled by the user.'))).notice?.text).toMatch(/nothing was written/);
    expect(evaluationView({ evaluated: true }, job(...started, ended('cancelled', 'Cancelled by the user.'))).notice?.text).toMatch(/those of the last evaluation/);
    const refused = job({ type: 'start' }, { type: 'start-failed', message: 'Nothing was written: you did not allow Stylecast to write the evaluation into /w/talk.stylecast.' });
    expect(evaluationView({ evaluated: false }, refused).notice).toEqual({ kind: 'error', text: refused.message });
  });
});
