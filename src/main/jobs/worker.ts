// Entry of a job process: an Electron utility process in the app (messages on
// process.parentPort) or a Node child process in tests (process.send). It runs
// one job, streams its progress, and stops at the next safe point on cancel.
import { CancelledError, isCancelled } from '../../core/util/cancel';
import type { FromWorker, JobSpec, ProgressMessage, ToWorker } from './protocol';
import { runTask } from './tasks';

interface ParentPortLike {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;

function post(message: FromWorker): void {
  if (parentPort) parentPort.postMessage(message);
  else process.send?.(message);
}

function onMessage(listener: (m: ToWorker) => void): void {
  if (parentPort) parentPort.on('message', (e) => listener(e.data as ToWorker));
  else process.on('message', (m) => listener(m as ToWorker));
}

/** At most one progress message per interval per stage; the latest one is never lost. */
const PROGRESS_INTERVAL_MS = 100;

function throttledProgress(): { push(p: ProgressMessage): void; flush(): void } {
  let last = 0;
  let lastStage = '';
  let pending: ProgressMessage | null = null;
  let timer: NodeJS.Timeout | null = null;
  const send = (p: ProgressMessage) => {
    last = Date.now();
    lastStage = p.stage;
    pending = null;
    post(p);
  };
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (pending) send(pending);
  };
  return {
    push(p) {
      if (p.stage !== lastStage || p.fraction >= 1 || Date.now() - last >= PROGRESS_INTERVAL_MS) {
        if (pending && pending.stage !== p.stage) flush();
        if (timer) clearTimeout(timer);
        timer = null;
        send(p);
        return;
      }
      pending = p;
      timer ??= setTimeout(flush, PROGRESS_INTERVAL_MS);
    },
    flush
  };
}

const controller = new AbortController();
let started = false;

async function run(spec: JobSpec): Promise<void> {
  const progress = throttledProgress();
  try {
    const r = await runTask(spec, {
      signal: controller.signal,
      progress: (p) => progress.push({ type: 'progress', ...p }),
      frame: (f) => {
        progress.flush();
        post({ type: 'frame', ...f });
      },
      result: (wid) => post({ type: 'result', wid }),
      estimate: (estimate) => post({ type: 'estimate', estimate })
    });
    progress.flush();
    post({ type: 'done', status: 'done', message: r.message, path: r.path });
  } catch (e) {
    progress.flush();
    const cancelled = isCancelled(e) || controller.signal.aborted;
    const message = cancelled ? (e as Error).message || 'Cancelled.' : (e as Error)?.message || String(e);
    post({ type: 'done', status: cancelled ? 'cancelled' : 'failed', message, path: null });
  }
  // Main ends the process once it has the result; this is the fallback.
  setTimeout(() => process.exit(0), 2000).unref();
}

onMessage((m) => {
  if (m.type === 'cancel') controller.abort(new CancelledError('Cancelled by the user.'));
  else if (m.type === 'start' && !started) {
    started = true;
    void run(m.spec);
  }
});
