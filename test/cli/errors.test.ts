// Bad input through the CLI: a clear one-line reason, a non-zero exit, and no output left behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProject } from '../../src/core/project';
import { Runtime } from '../../src/core/runtime';
import { calibratedSeededModel, clip, hasSharedData, repoRoot, tempDir } from '../helpers';

const tmp = tempDir('cli');
const models = join(tmp, 'models');

interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  last: string;
}

/** Runs the CLI asynchronously (a blocking spawn would starve vitest's worker RPC). */
function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'stylecast.mjs'), ...args], {
      cwd: tmp,
      env: { ...process.env, STYLECAST_MODELS_DIR: models },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      const lines = stderr.trim().split('\n');
      resolveRun({ status, stdout, stderr, last: lines[lines.length - 1] ?? '' });
    });
  });
}

function expectFailure(r: CliResult, pattern: RegExp) {
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.last).toMatch(/^stylecast: error: /);
  expect(r.last).toMatch(pattern);
  expect(r.stdout).toBe('');
}

beforeAll(async () => {
  await calibratedSeededModel(join(models, 'seeded-64'), await Runtime.create({ device: 'cpu' }));
});

describe('the stylecast CLI on bad input', () => {
  it('prints help and exits 0; an unknown command exits non-zero', async () => {
    const h = await cli('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/encode \[options\] <video>/);
    expect((await cli('frobnicate')).status).not.toBe(0);
  });

  it('refuses a zero-byte file, a text file named .mp4 and a truncated mp4, writing nothing', async () => {
    const empty = join(tmp, 'empty.mp4');
    writeFileSync(empty, '');
    expectFailure(await cli('encode', empty, '--out', join(tmp, 'a.stylecast')), /empty\.mp4/);
    const text = join(tmp, 'notes.mp4');
    writeFileSync(text, 'this is not a video\n'.repeat(50));
    expectFailure(await cli('encode', text, '--out', join(tmp, 'b.stylecast')), /notes\.mp4/);
    if (hasSharedData) {
      const bytes = readFileSync(clip('lp_d11.mp4'));
      const cut = join(tmp, 'cut.mp4');
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.3)));
      expectFailure(await cli('encode', cut, '--out', join(tmp, 'c.stylecast')), /cut\.mp4/);
    }
    for (const n of ['a', 'b', 'c']) expect(existsSync(join(tmp, `${n}.stylecast`))).toBe(false);
  });

  it('refuses a video with no face, naming the frames, and leaves no project', async () => {
    const noFace = join(tmp, 'noface.mp4');
    const truth = join(tmp, 'noface.json');
    expect((await cli('synth', '--frames', '12', '--out', noFace, '--truth', truth)).status).toBe(0);
    const out = join(tmp, 'noface.stylecast');
    expectFailure(await cli('encode', noFace, '--align', 'face', '--out', out), /no face in any frame: frames 0-11/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an unwritable output path', async () => {
    const noFace = join(tmp, 'noface.mp4');
    expectFailure(await cli('encode', noFace, '--out', '/proc/stylecast-test.stylecast'), /proc/);
    const r = await cli('render', join(tmp, 'nothing.stylecast'), '--out', join(tmp, 'x.mp4'));
    expectFailure(r, /nothing\.stylecast/);
  });

  it('refuses a project whose model is missing, and one from a newer schema', async () => {
    const noFace = join(tmp, 'noface.mp4');
    const dir = join(tmp, 'orphan.stylecast');
    await createProject(dir, {
      source: { path: noFace, width: 64, height: 64, fps: 25, fpsRational: '25/1', frameCount: 12, durationSec: 0.48, hasAudio: false },
      model: { id: 'ffffffffffffffff', name: 'gone', resolution: 64 },
      encoding: { wDim: 512, paramNames: ['yaw', 'pitch', 'roll', ...Array.from({ length: 32 }, (_, i) => `a${i}`)], encodedThrough: 0 }
    });
    const out = join(tmp, 'orphan.mp4');
    expectFailure(await cli('render', dir, '--out', out), /gone|ffffffffffffffff/);
    expect(existsSync(out)).toBe(false);

    const doc = JSON.parse(readFileSync(join(dir, 'project.json'), 'utf8'));
    doc.schemaVersion = 99;
    writeFileSync(join(dir, 'project.json'), JSON.stringify(doc));
    expectFailure(await cli('render', dir, '--out', out), /newer|[Uu]pdate/);
    expectFailure(await cli('info', dir), /newer|[Uu]pdate/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.mp4.tmp') || f.includes('.partial'))).toEqual([]);
  });

  it('checks numbers and ranges before any work: a negative smoothing, an empty frame number, a range past the end', async () => {
    const noFace = join(tmp, 'noface.mp4');
    const out = join(tmp, 'checked.stylecast');
    expectFailure(await cli('encode', noFace, '--smoothing', '-1', '--out', out), /--smoothing must be at least 0, got "-1"/);
    expectFailure(await cli('encode', noFace, '--identity-frame', '', '--out', out), /--identity-frame must be an integer >= 0, got ""/);
    expectFailure(await cli('encode', noFace, '--max-batch', '0x10', '--out', out), /--max-batch must be an integer/);
    expectFailure(await cli('encode', noFace, '--rank', '4', '--out', out), /--steps and --rank set the fine-tuning: add --tune/);
    expect(existsSync(out)).toBe(false);
    // The video has 12 frames: 5:20 is refused, not cut to 5:12 without a word.
    expectFailure(await cli('align', noFace, '--frames', '5:20', '--out', join(tmp, 'aligned')), /frames 5:20 are outside .*noface\.mp4.*12 frames/);
  });

  it('encodes into an empty folder, or one a stopped first encode left with only temporary files', async () => {
    const noFace = join(tmp, 'noface.mp4');
    const out = join(tmp, 'left.stylecast');
    mkdirSync(out);
    writeFileSync(join(out, 'params.f32.tmp'), 'half a first save');
    const r = await cli('encode', noFace, '--align', 'none', '--quality', 'draft', '--frames', '0:2', '--out', out, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).frames).toEqual({ start: 0, count: 2 });
    expect(readdirSync(out).some((f) => f.endsWith('.tmp'))).toBe(false);
    // A folder holding anything else is not taken over.
    const other = join(tmp, 'other.stylecast');
    mkdirSync(other);
    writeFileSync(join(other, 'notes.txt'), 'mine');
    expectFailure(await cli('encode', noFace, '--align', 'none', '--out', other), /exists and is not a Stylecast project/);
    expect(readdirSync(other)).toEqual(['notes.txt']);
  }, 300_000);
});
