// State of a running encode as the live view shows it: the job itself (ui/jobState),
// the loss of every encoded frame, the loss of the identity search, and the latest thumbnails.
import type { EncodeFrameEvent, JobProgress } from '../../../shared/contract';
import { ENCODE_PHASES } from '../../../core/encode/schedule';
import { idleJob, jobReducer, type JobAction, type JobState } from '../ui/jobState';
import type { PlotSeries } from './plot';

/** The encoder's phases in order, with what the user reads: the schedule's own table. */
export const ENCODE_STAGES = ENCODE_PHASES;

export type StageState = 'done' | 'active' | 'pending';

export interface Thumb {
  frame: number;
  loss: number;
  source: string;
  render: string;
}

export interface EncodeRun {
  job: JobState;
  /** Loss of each encoded frame, sorted by frame. */
  frameLoss: { frame: number; loss: number }[];
  /** Loss reported during the identity search and refinement, in arrival order. */
  identityLoss: { step: number; loss: number; stage: 'identity' | 'refine' }[];
  /** Newest first, at most MAX_THUMBS. */
  thumbs: Thumb[];
  /** Frame events that arrived before the job id was known. */
  pendingFrames: EncodeFrameEvent[];
  /** Stages reported so far. */
  stagesSeen: string[];
}

export const MAX_THUMBS = 12;

export type EncodeRunAction = JobAction | { type: 'frame'; frame: EncodeFrameEvent };

export const idleRun = (): EncodeRun => ({ job: idleJob('encode'), frameLoss: [], identityLoss: [], thumbs: [], pendingFrames: [], stagesSeen: [] });

function addFrame(run: EncodeRun, f: EncodeFrameEvent): EncodeRun {
  const frameLoss = run.frameLoss.filter((p) => p.frame !== f.frame);
  const at = frameLoss.findIndex((p) => p.frame > f.frame);
  const point = { frame: f.frame, loss: f.loss };
  if (at < 0) frameLoss.push(point);
  else frameLoss.splice(at, 0, point);
  const thumbs = [{ frame: f.frame, loss: f.loss, source: f.source, render: f.render }, ...run.thumbs.filter((t) => t.frame !== f.frame)].slice(0, MAX_THUMBS);
  return { ...run, frameLoss, thumbs };
}

function noteProgress(run: EncodeRun, p: JobProgress): EncodeRun {
  let next = run;
  if (!run.stagesSeen.includes(p.stage)) next = { ...next, stagesSeen: [...run.stagesSeen, p.stage] };
  if ((p.stage === 'identity' || p.stage === 'refine') && p.loss !== null && Number.isFinite(p.loss)) {
    next = { ...next, identityLoss: [...next.identityLoss, { step: next.identityLoss.length, loss: p.loss, stage: p.stage }] };
  }
  return next;
}

export function encodeRunReducer(run: EncodeRun, action: EncodeRunAction): EncodeRun {
  if (action.type === 'frame') {
    const f = action.frame;
    if (run.job.phase === 'starting') return { ...run, pendingFrames: [...run.pendingFrames, f] };
    if (run.job.phase !== 'running' || f.jobId !== run.job.jobId) return run;
    return addFrame(run, f);
  }
  if (action.type === 'start') return { ...idleRun(), job: jobReducer(run.job, action) };
  const before = run.job;
  const job = jobReducer(before, action);
  if (job === before) return run;
  let next: EncodeRun = { ...run, job };
  if (action.type === 'started') {
    // Replay what arrived while starting, in order: progress through the job reducer already, here the side series.
    for (const e of before.pending) if (e.jobId === action.jobId && !('status' in e)) next = noteProgress(next, e);
    for (const f of run.pendingFrames) if (f.jobId === action.jobId) next = addFrame(next, f);
    next = { ...next, pendingFrames: [] };
  } else if (action.type === 'progress' && job.phase === 'running') {
    next = noteProgress(next, action.progress);
  }
  return next;
}

/** The identity phase's losses as the live plot draws them, one series per stage that reported:
 * the search's loss, then the refinement's, which may be a loss of its own (the refine stage's
 * message names it), so the two are not one curve. x is the report's index. */
export function identitySeries(loss: EncodeRun['identityLoss']): PlotSeries[] {
  const of = (stage: 'identity' | 'refine') => loss.filter((q) => q.stage === stage).map((q) => ({ x: q.step, y: q.loss }));
  const series: PlotSeries[] = [
    { label: 'Identity search', points: of('identity') },
    { label: 'Refinement (its own loss)', points: of('refine') }
  ];
  return series.filter((s) => s.points.length > 0);
}

/** Where each stage stands given the current one (earlier stages are done, even when a resume skipped them). */
export function stageStates(current: string | null, phase: JobState['phase']): StageState[] {
  const finished = phase === 'done' || current === 'done';
  const at = ENCODE_STAGES.findIndex((s) => s.id === current);
  return ENCODE_STAGES.map((_, i) => (finished ? 'done' : at < 0 ? 'pending' : i < at ? 'done' : i === at ? 'active' : 'pending'));
}

/** The label of a stage id, or the id itself for one this build does not know. */
export const stageLabel = (id: string): string => ENCODE_STAGES.find((s) => s.id === id)?.label ?? (id === 'done' ? 'Finished' : id);


/**
 * The loss of every frame known so far: frames from before this run (a resumed project,
 * or the run before a Resume) up to the first frame this run encoded, then this run's.
 */
export function mergeLoss(prior: readonly { frame: number; loss: number }[], current: readonly { frame: number; loss: number }[]): { frame: number; loss: number }[] {
  const firstNew = current[0]?.frame ?? Infinity;
  return [...prior.filter((p) => p.frame < firstNew), ...current];
}
