// The life of one long job (encode, export, puppeteer) as the renderer sees it.
// Main may send events before the start call returns the job id, so events that
// arrive while starting are kept and replayed once the id is known.
import type { JobDone, JobKind, JobProgress } from '../../../shared/contract';

export type JobPhase = 'idle' | 'starting' | 'running' | 'done' | 'cancelled' | 'failed';

export interface JobState {
  kind: JobKind;
  phase: JobPhase;
  jobId: string | null;
  progress: JobProgress | null;
  /** The result line or error of a finished job, or why it could not start. */
  message: string;
  /** What the job wrote, when it finished with output. */
  path: string | null;
  /** Events that arrived while starting (id not yet known). */
  pending: (JobProgress | JobDone)[];
  /** Set when the user asked to cancel and the job has not ended yet. */
  cancelling: boolean;
}

export type JobAction =
  | { type: 'start' }
  | { type: 'started'; jobId: string }
  | { type: 'start-failed'; message: string }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'done'; done: JobDone }
  | { type: 'cancelling' }
  | { type: 'reset' };

export const idleJob = (kind: JobKind): JobState => ({ kind, phase: 'idle', jobId: null, progress: null, message: '', path: null, pending: [], cancelling: false });

const isDone = (e: JobProgress | JobDone): e is JobDone => 'status' in e;

function apply(state: JobState, e: JobProgress | JobDone): JobState {
  if (isDone(e)) return { ...state, phase: e.status, message: e.message, path: e.path, cancelling: false };
  if (state.phase !== 'running') return state;
  return { ...state, progress: e };
}

export function jobReducer(state: JobState, action: JobAction): JobState {
  switch (action.type) {
    case 'start':
      return { ...idleJob(state.kind), phase: 'starting' };
    case 'started': {
      if (state.phase !== 'starting') return state;
      let next: JobState = { ...state, phase: 'running', jobId: action.jobId, pending: [] };
      for (const e of state.pending) if (e.jobId === action.jobId) next = apply(next, e);
      return next;
    }
    case 'start-failed':
      return state.phase === 'starting' ? { ...state, phase: 'failed', message: action.message, pending: [] } : state;
    case 'progress':
    case 'done': {
      const e = action.type === 'progress' ? action.progress : action.done;
      if (e.kind !== state.kind) return state;
      if (state.phase === 'starting') return { ...state, pending: [...state.pending, e] };
      if (state.phase !== 'running' || e.jobId !== state.jobId) return state;
      return apply(state, e);
    }
    case 'cancelling':
      return state.phase === 'running' ? { ...state, cancelling: true } : state;
    case 'reset':
      return idleJob(state.kind);
  }
}

/** Whether the job holds work that closing the view would abandon. */
export const isActive = (s: JobState): boolean => s.phase === 'starting' || s.phase === 'running';
