// Runs the real CLI as a child process (asynchronously: a blocking spawn would starve vitest's worker RPC).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers';

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** performance.now() when the process ended. */
  endedAt: number;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Node flags before the script (e.g. --require a hook). */
  nodeArgs?: string[];
  timeoutMs?: number;
  /** Called with the child and each chunk of stderr as it arrives. */
  onStderr?: (child: ChildProcess, all: string) => void;
}

export function runCli(o: CliOptions, ...args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...(o.nodeArgs ?? []), join(repoRoot, 'bin', 'stylecast.mjs'), ...args], {
      cwd: o.cwd,
      env: { ...process.env, STYLECAST_DEBUG: '', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => {
      stderr += d;
      o.onStderr?.(child, stderr);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 240_000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const endedAt = performance.now();
      done({ status, signal, stdout, stderr, ms: endedAt - t0, endedAt });
    });
  });
}
