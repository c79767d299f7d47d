// Ctrl-C and SIGTERM: the first aborts the running command's AbortSignal (the encoder
// stops after the frame in flight and leaves a resumable project) and exits once the
// command has wound down, or after a grace period if it has not; a second exits at once.
import { CancelledError } from '../core/util/cancel';
import { EXIT, markStoppedBy } from './errors';
import { logLine, stderrProgress } from './progress';

const controller = new AbortController();

/** Seconds a command gets to wind down after the first signal before the process exits anyway. */
export const GRACE_SEC = Number(process.env.STYLECAST_STOP_GRACE_SEC ?? 3);

/** The running command's signal: aborted by the first Ctrl-C or SIGTERM. */
export const commandSignal: AbortSignal = controller.signal;

let installed = false;

export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  let count = 0;
  const on = (sig: 'SIGINT' | 'SIGTERM') => {
    count++;
    markStoppedBy(sig);
    if (count > 1) {
      stderrProgress.end();
      logLine(`stylecast: stopped by a second ${sig}`);
      process.exit(EXIT[sig]);
    }
    stderrProgress.end();
    logLine(`stylecast: ${sig === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'}: stopping (send it again to stop at once)`);
    controller.abort(new CancelledError(`stopped by ${sig}; run the same command again to resume an encode or a download`));
    // A command that ignores its signal, or waits on something that never returns, still ends.
    setTimeout(() => {
      logLine(`stylecast: still running ${GRACE_SEC} s after ${sig}: exiting`);
      process.exit(EXIT[sig]);
    }, GRACE_SEC * 1000);
  };
  process.on('SIGINT', () => on('SIGINT'));
  process.on('SIGTERM', () => on('SIGTERM'));
}
