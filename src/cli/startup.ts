// Start-up time of the CLI against a plain Node process: `stylecast --help` and
// `stylecast info P` (a project made here) each run several times as fresh processes.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile } from '../core/metrics/summary';
import { repoRoot } from './paths';

export interface StartupTimes {
  /** Median wall-clock milliseconds of each command, start to exit, over `runs` runs. */
  nodeMs: number;
  helpMs: number;
  infoMs: number;
  /** The CLI's own cost: each minus a plain `node -e 0`. */
  helpOverNodeMs: number;
  infoOverNodeMs: number;
  runs: number;
}

function timeOnce(args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, STYLECAST_DEBUG: '' } });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(performance.now() - t0) : fail(new Error(`${args.join(' ')} exited ${code}: ${err.trim().split('\n').pop()}`))));
  });
}

const medianOf = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 0.5);

export async function measureStartup(runs = 7): Promise<StartupTimes> {
  const { createProject } = await import('../core/project');
  const dir = mkdtempSync(join(tmpdir(), 'stylecast-startup-'));
  try {
    const video = join(dir, 'source.mp4');
    writeFileSync(video, 'not decoded: info reads the project only');
    const project = join(dir, 'p.stylecast');
    await createProject(project, {
      source: { path: video, width: 64, height: 64, fps: 25, fpsRational: '25/1', frameCount: 12, durationSec: 0.48, hasAudio: false },
      model: { id: '0000000000000000', name: 'startup-bench', resolution: 64 },
      encoding: { wDim: 512, paramNames: ['yaw', 'pitch', 'roll', ...Array.from({ length: 32 }, (_, i) => `a${i}`)], encodedThrough: 0 }
    });
    const bin = join(repoRoot, 'bin', 'stylecast.mjs');
    const jobs = { node: ['-e', '0'], help: [bin, '--help'], info: [bin, 'info', project] } as const;
    const times: Record<keyof typeof jobs, number[]> = { node: [], help: [], info: [] };
    await timeOnce([bin, '--help']); // warm the transpile cache and the file cache
    // Interleaved, so a burst of other load on the machine touches all three alike.
    for (let i = 0; i < runs; i++) for (const k of Object.keys(jobs) as (keyof typeof jobs)[]) times[k].push(await timeOnce([...jobs[k]]));
    const [nodeMs, helpMs, infoMs] = [medianOf(times.node), medianOf(times.help), medianOf(times.info)];
    return { nodeMs, helpMs, infoMs, helpOverNodeMs: helpMs - nodeMs, infoOverNodeMs: infoMs - nodeMs, runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
