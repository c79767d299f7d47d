// Desktop feedback for jobs, from the same events the page gets: the running jobs' progress on
// the taskbar or dock icon (BrowserWindow.setProgressBar), and a system notification when a
// long job ends while the window is not focused. Electron stays in the host; this is testable.
import type { EventName, JobDone, JobKind, JobProgress } from '../shared/contract';

export interface FeedbackHost {
  /** 0..1 shows progress; -1 removes the bar. */
  setProgress(value: number): void;
  notify(title: string, body: string): void;
  windowFocused(): boolean;
  now(): number;
}

/** A job shorter than this ends without a notification: the user has not looked away yet. */
export const LONG_JOB_MS = 10_000;

const NOUN: Record<JobKind, string> = { encode: 'Encode', export: 'Export', puppeteer: 'Puppeteering', model: 'Model install', tune: 'Fine-tune', evaluate: 'Evaluation', conform: 'Constant-rate copy' };

export class JobFeedback {
  private readonly running = new Map<string, { fraction: number; since: number }>();

  constructor(private readonly host: FeedbackHost) {}

  /** Called with every event sent to the page. */
  onEvent(name: EventName, payload: unknown): void {
    if (name === 'job:progress') {
      const p = payload as JobProgress;
      const known = this.running.get(p.jobId);
      this.running.set(p.jobId, { fraction: p.fraction, since: known?.since ?? this.host.now() });
      this.show();
    } else if (name === 'job:done') {
      const d = payload as JobDone;
      const job = this.running.get(d.jobId);
      this.running.delete(d.jobId);
      this.show();
      if (job && this.host.now() - job.since >= LONG_JOB_MS && !this.host.windowFocused()) this.announce(d);
    }
  }

  /** Several jobs show as their mean fraction. */
  private show(): void {
    const jobs = [...this.running.values()];
    this.host.setProgress(jobs.length ? jobs.reduce((a, j) => a + j.fraction, 0) / jobs.length : -1);
  }

  private announce(d: JobDone): void {
    const noun = NOUN[d.kind];
    const title = d.status === 'done' ? `${noun} finished` : d.status === 'cancelled' ? `${noun} cancelled` : `${noun} failed`;
    this.host.notify(title, d.message);
  }
}
