import { useCallback, useEffect, useReducer } from 'react';
import type { JobKind, StylecastApi } from '../../../shared/contract';
import { errorMessage } from '../api';
import { idleJob, jobReducer, type JobState } from './jobState';

export interface JobControls {
  state: JobState;
  /** Runs the start call (e.g. `() => api.invoke('export:start', req)`) and tracks the job it returns. */
  start(call: () => Promise<{ jobId: string }>): Promise<void>;
  /** Asks main to cancel; the job ends with a job:done of status cancelled. */
  cancel(): Promise<void>;
  reset(): void;
}

/** Tracks one job of `kind` through job:progress and job:done. */
export function useJob(api: StylecastApi, kind: JobKind): JobControls {
  const [state, dispatch] = useReducer(jobReducer, kind, idleJob);

  useEffect(() => {
    const offProgress = api.on('job:progress', (progress) => dispatch({ type: 'progress', progress }));
    const offDone = api.on('job:done', (done) => dispatch({ type: 'done', done }));
    return () => {
      offProgress();
      offDone();
    };
  }, [api]);

  const start = useCallback(async (call: () => Promise<{ jobId: string }>) => {
    dispatch({ type: 'start' });
    try {
      const { jobId } = await call();
      dispatch({ type: 'started', jobId });
    } catch (e) {
      dispatch({ type: 'start-failed', message: errorMessage(e) });
    }
  }, []);

  const { jobId, phase } = state;
  const cancel = useCallback(async () => {
    if (!jobId || phase !== 'running') return;
    dispatch({ type: 'cancelling' });
    await api.invoke('job:cancel', { jobId });
  }, [api, jobId, phase]);

  const reset = useCallback(() => dispatch({ type: 'reset' }), []);
  return { state, start, cancel, reset };
}
