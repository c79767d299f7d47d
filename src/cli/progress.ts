// Progress of a long command on stderr. On a terminal: one line redrawn in place with the
// stage, percent, rate and ETA. Otherwise (a pipe, a log file, CI): plain lines, one when a
// stage starts or ends and at most one every `intervalMs` in between.

export interface ProgressUpdate {
  /** Short stage name ("align", "identity", "frames", "download"...). */
  stage: string;
  /** 0..1, through this stage or through the whole job; the ETA extrapolates its pace since the stage began. */
  fraction: number;
  /** Items done and their total, for the rate ("4.2 frame/s"). */
  done?: number;
  total?: number;
  unit?: string;
  /** The job's own estimate; computed from the stage's pace when left out or null. */
  etaSec?: number | null;
  /** A short note after the figures (a loss, a byte count). */
  detail?: string;
}

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

interface StageState {
  name: string;
  t0: number;
  done0: number;
  f0: number;
}

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class ProgressLine {
  private stageState: StageState | null = null;
  private drawn = '';
  private lastDraw = -Infinity;
  private lastLine = '';
  private readonly tty: boolean;

  constructor(
    private readonly out: ProgressStream = process.stderr,
    private readonly opts: { tty?: boolean; intervalMs?: number; redrawMs?: number; now?: () => number } = {}
  ) {
    this.tty = opts.tty ?? Boolean(out.isTTY);
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : performance.now();
  }

  /** The text of one progress line (no newline); also what tests read. */
  format(u: ProgressUpdate): string {
    const st = this.stageState!;
    const f = Math.min(1, Math.max(0, Number.isFinite(u.fraction) ? u.fraction : 0));
    const elapsed = (this.now() - st.t0) / 1000;
    const parts = [`[${u.stage}]`, `${(f * 100).toFixed(0).padStart(3)}%`];
    if (u.done !== undefined && u.total !== undefined) parts.push(`${u.done}/${u.total}`);
    if (elapsed > 0 && u.done !== undefined && u.done > st.done0) {
      const rate = (u.done - st.done0) / elapsed;
      parts.push(`${rate >= 10 ? rate.toFixed(0) : rate.toPrecision(2)} ${u.unit ?? 'it'}/s`);
    }
    let eta = u.etaSec ?? null;
    if (eta === null && f > st.f0 && f < 1 && elapsed > 0) eta = (elapsed * (1 - f)) / (f - st.f0);
    if (eta !== null && f < 1) parts.push(`ETA ${formatDuration(eta)}`);
    if (u.detail) parts.push(u.detail);
    return parts.join(' ');
  }

  update(u: ProgressUpdate): void {
    const t = this.now();
    const newStage = this.stageState?.name !== u.stage;
    if (newStage) this.stageState = { name: u.stage, t0: t, done0: u.done ?? 0, f0: Math.max(0, Math.min(1, u.fraction || 0)) };
    const finished = u.fraction >= 1;
    const interval = this.tty ? (this.opts.redrawMs ?? 100) : (this.opts.intervalMs ?? 2000);
    if (!newStage && !finished && t - this.lastDraw < interval) return;
    const line = this.format(u);
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.lastDraw = t;
    if (this.tty) this.draw(line);
    else this.out.write(`${line}\n`);
  }

  private draw(line: string): void {
    const width = Math.max(20, (this.out.columns ?? 80) - 1);
    const shown = line.length > width ? `${line.slice(0, width - 1)}…` : line;
    this.out.write(`\r\x1b[2K${shown}`);
    this.drawn = shown;
  }

  /** A whole line of log text; on a terminal the progress line is cleared and drawn again below it. */
  log(line: string): void {
    if (this.tty && this.drawn) {
      this.out.write(`\r\x1b[2K${line}\n`);
      this.out.write(this.drawn);
    } else this.out.write(`${line}\n`);
  }

  /** Ends the current progress line (a terminal keeps the last state visible). */
  end(): void {
    if (this.tty && this.drawn) this.out.write('\n');
    this.drawn = '';
    this.stageState = null;
    this.lastLine = '';
    this.lastDraw = -Infinity;
  }
}

/** The process's one progress line on stderr. */
export const stderrProgress = new ProgressLine();

export function logLine(line: string): void {
  stderrProgress.log(line);
}
