// Job processes in the app: Electron utility processes running the bundled
// worker (out/main/job-worker.js, built from worker.ts by electron.vite.config.ts).
import { utilityProcess } from 'electron';
import type { JobProcess, JobTransport } from './manager';
import type { FromWorker } from './protocol';

export function electronJobTransport(workerPath: string): JobTransport {
  return (options = {}): JobProcess => {
    const execArgv = options.heapLimitMb ? [`--max-old-space-size=${options.heapLimitMb}`] : [];
    const child = utilityProcess.fork(workerPath, [], { serviceName: 'Stylecast job', stdio: 'inherit', execArgv });
    let exited = false;
    child.once('exit', () => (exited = true));
    return {
      send: (m) => {
        if (!exited) child.postMessage(m);
      },
      onMessage: (listener) => child.on('message', (m: unknown) => listener(m as FromWorker)),
      onExit: (listener) => child.once('exit', (code) => listener(code)),
      kill: () => {
        if (!exited) child.kill();
      }
    };
  };
}
