// Job processes for plain Node (tests and the browser-test bridge): a child
// process running worker.ts through tsx. The app uses Electron's utility
// process instead (electron-transport.ts); both look the same to JobManager.
import { fork } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobProcess, JobTransport } from './manager';
import type { FromWorker } from './protocol';

const here = dirname(fileURLToPath(import.meta.url));
const WORKER = join(here, 'worker.ts');
const REPO_ROOT = resolve(here, '../../..');

export function nodeJobTransport(env: NodeJS.ProcessEnv = process.env): JobTransport {
  return (options = {}): JobProcess => {
    const child = fork(WORKER, [], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx', ...(options.heapLimitMb ? [`--max-old-space-size=${options.heapLimitMb}`] : [])],
      serialization: 'advanced',
      env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    });
    let exited = false;
    child.on('exit', () => (exited = true));
    return {
      send: (m) => {
        if (!exited && child.connected) child.send(m);
      },
      onMessage: (listener) => child.on('message', (m) => listener(m as FromWorker)),
      onExit: (listener) => child.once('exit', (code) => listener(code)),
      kill: () => {
        if (!exited) child.kill('SIGKILL');
      }
    };
  };
}
