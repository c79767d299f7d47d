// Main's side of the jobs: one job process per job, its messages turned into the
// contract's events, cancel with a deadline, and a way to wait for all of them
// (quitting). Which kind of process runs a job is the transport's business
// (Electron utility process in the app, a Node child process in tests).
import { removeStrayPartials } from '../../core/video/encode';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { EventName, EventPayload, JobKind, JobStatus } from '../../shared/contract';
import type { TuneEstimate } from '../../core/tune/estimate';
import { IMPORT_HEAP_LIMIT_MB, type FromWorker, type HelperSpec, type JobSpec, type ToWorker } from './protocol';

/** A running job process, as the manager sees it. */
export interface JobProcess {
  send(message: ToWorker): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once when the process has gone, with its exit code. */
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
}

export interface JobProcessOptions {
  /** V8 old-space limit of the process (--max-old-space-size), for jobs that parse untrusted files. */
  heapLimitMb?: number;
}

/** Starts a job process running src/main/jobs/worker.ts. */
export type JobTransport = (options?: JobProcessOptions) => JobProcess;

export type Emit = <E extends EventName>(name: E, payload: EventPayload<E>) => void;

export interface JobSummary {
  jobId: string;
  kind: JobKind;
  /** What the job writes. */
  out: string | null;
}

interface Running extends JobSummary {
  /** The video files it reads. */
  reads: string[];
  proc: JobProcess;
  done: Promise<JobEnd>;
  cancelling: boolean;
}

export interface JobEnd {
  status: JobStatus;
  message: string;
  path: string | null;
  wid: Float32Array | null;
  /** What a tune-estimate job measured. */
  estimate: TuneEstimate | null;
}

/** How long a cancelled job may take to reach a safe point before its process is killed. */
export const CANCEL_GRACE_MS = 20_000;

/** Jobs that send events to the window. */
export type EventJobSpec = Exclude<JobSpec, HelperSpec>;

function outOf(spec: JobSpec): string | null {
  if (spec.kind === 'tune' || spec.kind === 'evaluate') return spec.project;
  return spec.kind === 'invert-portrait' || spec.kind === 'import-model' || spec.kind === 'tune-estimate' ? null : spec.out;
}

/** The video files a job reads (a copy must not replace them while it runs). */
function readsOf(spec: JobSpec): string[] {
  if (spec.kind === 'encode' || spec.kind === 'conform') return [spec.video];
  if (spec.kind === 'export') return spec.source ? [spec.source] : [];
  return [];
}

const kindOf = (spec: EventJobSpec): JobKind => (spec.kind === 'import-model' ? 'model' : spec.kind);

export class JobManager {
  private readonly jobs = new Map<string, Running>();

  constructor(
    private readonly transport: JobTransport,
    private readonly emit: Emit,
    private readonly cancelGraceMs = CANCEL_GRACE_MS
  ) {}

  /** Jobs still running. */
  list(): JobSummary[] {
    return [...this.jobs.values()].map(({ jobId, kind, out }) => ({ jobId, kind, out }));
  }

  /** Whether a running job writes `path` (two jobs must not write one file). */
  isWriting(path: string): boolean {
    return [...this.jobs.values()].some((j) => j.out === path);
  }

  /** Whether a running job reads the video `path` (an encode's, an export's or a copy's source). */
  isReading(path: string): boolean {
    return [...this.jobs.values()].some((j) => j.reads.includes(path));
  }

  /** Starts a job whose progress and end go to the renderer as events. */
  start(spec: EventJobSpec): string {
    return this.launch(spec, kindOf(spec)).jobId;
  }

  /** Runs a helper job whose result main needs (no events); resolves with its end. An aborted `signal` cancels it. */
  run(spec: JobSpec, signal?: AbortSignal): Promise<JobEnd> {
    const job = this.launch(spec, null);
    if (signal) {
      const onAbort = () => this.cancel(job.jobId);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      void job.done.then(() => signal.removeEventListener('abort', onAbort));
    }
    return job.done;
  }

  private launch(spec: JobSpec, kind: JobKind | null): Running {
    // Checked here, where the job is registered, as well as by the handlers before their awaits:
    // two quick requests (a double-clicked Export) both passed a check made seconds earlier.
    const out = outOf(spec);
    if (out !== null && this.isWriting(out)) throw new Error(`${out} is being written by another job: wait for it or cancel it.`);
    const jobId = randomUUID();
    const proc = this.transport(spec.kind === 'import-model' ? { heapLimitMb: IMPORT_HEAP_LIMIT_MB } : undefined);
    let wid: Float32Array | null = null;
    let estimate: TuneEstimate | null = null;
    let end: JobEnd | null = null;
    let fraction = 0;
    const startedAt = Date.now();
    let resolveDone!: (e: JobEnd) => void;
    const done = new Promise<JobEnd>((r) => (resolveDone = r));
    const job: Running = { jobId, kind: kind ?? 'puppeteer', out, reads: readsOf(spec), proc, done, cancelling: false };

    const finish = (e: JobEnd) => {
      if (end) return;
      end = e;
      this.jobs.delete(jobId);
      if (kind) this.emit('job:done', { jobId, kind, status: e.status, message: e.message, path: e.path });
      resolveDone(e);
    };

    proc.onMessage((m) => {
      if (end) return;
      if (m.type === 'progress' && kind) {
        // The bar never moves backwards (stages report their own ranges), and
        // stages without their own estimate get one from the overall rate.
        fraction = Math.max(fraction, clamp01(m.fraction));
        const elapsed = (Date.now() - startedAt) / 1000;
        const etaSec = m.etaSec !== null ? Math.max(0, m.etaSec) : fraction >= 0.05 && fraction < 1 ? (elapsed / fraction) * (1 - fraction) : null;
        this.emit('job:progress', { jobId, kind, stage: m.stage, fraction, etaSec, message: m.message, frame: m.frame, of: m.of, loss: m.loss });
      } else if (m.type === 'frame' && kind === 'encode') {
        this.emit('encode:frame', { jobId, frame: m.frame, loss: m.loss, source: m.source, render: m.render });
      } else if (m.type === 'result') {
        wid = m.wid;
      } else if (m.type === 'estimate') {
        estimate = m.estimate;
      } else if (m.type === 'done') {
        // A cancelled or failed encode keeps the frames it saved: the project is what it wrote.
        const path = m.path ?? (spec.kind === 'encode' && m.status !== 'done' && existsSync(spec.out) ? spec.out : null);
        finish({ status: m.status, message: m.message, path, wid, estimate });
        proc.kill();
      }
    });
    proc.onExit((code) => {
      // A process killed (after the cancel grace) or crashed could not delete its export's (or copy's) hidden partial file.
      if (!end && (spec.kind === 'export' || spec.kind === 'conform') && out !== null) removeStrayPartials(out);
      if (job.cancelling) finish({ status: 'cancelled', message: 'Cancelled.', path: null, wid: null, estimate: null });
      else finish({ status: 'failed', message: `The job stopped unexpectedly (exit code ${code ?? 'unknown'}). Anything it saved is kept; try again.`, path: null, wid: null, estimate: null });
    });
    this.jobs.set(jobId, job);
    proc.send({ type: 'start', spec });
    return job;
  }

  /** Asks a job to stop at its next safe point; kills it if it has not within the grace time. */
  cancel(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job) return false;
    if (!job.cancelling) {
      job.cancelling = true;
      job.proc.send({ type: 'cancel' });
      const timer = setTimeout(() => job.proc.kill(), this.cancelGraceMs);
      timer.unref?.();
      void job.done.then(() => clearTimeout(timer));
    }
    return true;
  }

  /** Cancels every job and waits until all have ended. */
  async cancelAll(): Promise<void> {
    const all = [...this.jobs.values()];
    for (const j of all) this.cancel(j.jobId);
    await Promise.all(all.map((j) => j.done));
  }

  /** The end of a running job (undefined when it is not running). */
  whenDone(jobId: string): Promise<JobEnd> | undefined {
    return this.jobs.get(jobId)?.done;
  }
}

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);
