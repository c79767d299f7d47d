// The CLI's rules for output and failure: results a person reads on stdout, progress and
// logs on stderr, failure as a one-line reason on stderr and an exit code (see EXIT).
import { logLine, stderrProgress } from './progress';

export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** 0 success, 1 failure, 2 usage; a command stopped by a signal exits 128 + the signal number, as shells expect. */
export const EXIT = { ok: 0, failure: 1, usage: 2, SIGINT: 130, SIGTERM: 143 } as const;

/** The signal that stopped the command, when one did (set by signals.ts). */
let stoppedBy: 'SIGINT' | 'SIGTERM' | null = null;
export function markStoppedBy(signal: 'SIGINT' | 'SIGTERM'): void {
  stoppedBy ??= signal;
}
export const stopSignal = (): 'SIGINT' | 'SIGTERM' | null => stoppedBy;

export function exitCodeFor(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'CANCELLED' && stoppedBy) return EXIT[stoppedBy];
  return code === 'USAGE' ? EXIT.usage : EXIT.failure;
}

export function fail(err: unknown): never {
  const e = err as { message?: string; code?: string };
  const msg = (e?.message ?? String(err)).split('\n')[0];
  stderrProgress.end();
  logLine(e?.code === 'CANCELLED' && stoppedBy ? `stylecast: ${msg}` : `stylecast: error: ${msg}`);
  if (process.env.STYLECAST_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(exitCodeFor(err));
}

/** A log or progress line on stderr (it does not break a progress line being redrawn). */
export function progress(line: string): void {
  logLine(line);
}

/** Lines a person reads as the command's result, on stdout. */
export function result(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function printJson(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
}
