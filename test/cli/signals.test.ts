// SIGTERM during a real encode (draft quality): identity on the seeded model and a real clip
// with face alignment, alignment (and its resumption) on that clip into a small model, and
// frames on the small model and its own clip (to get there fast):
// in the alignment, identity and frames stages the process is gone within 5 s, and what is
// left resumes (an alignment from the frames already aligned, to the crops of an
// uninterrupted one). Stage names are matched loosely on the progress lines ("[stage] NN% ...").
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { saveBasis } from '../../src/core/model/basis';
import { loadBundle } from '../../src/core/model/bundle';
import { calibrateFixedRegions } from '../../src/core/model/calibrate';
import { makeArchitecture } from '../../src/core/model/architecture';
import { createSeededModel } from '../../src/core/model/create';
import { ALIGN_PROGRESS_FILE, alignProgressFrames } from '../../src/core/encode/align-progress';
import { FaceNets } from '../../src/core/face/nets';
import { alignVideo } from '../../src/core/face/pipeline';
import { openProject } from '../../src/core/project';
import { Runtime } from '../../src/core/runtime';
import { calibratedSeededModel, clip, hasSharedData, tempDir } from '../helpers';
import { runCli, type CliResult } from './run-cli';

const tmp = tempDir('cli-signals');
const models = join(tmp, 'models');

// The frames stage is reached quickly only with a small model: a 32x32 one with few channels
// encoding its own synthetic clip (aligned crops already, so --align none).
const tiny = join(tmp, 'tiny-32');
const tinyClip = join(tmp, 'tiny.mp4');

beforeAll(async () => {
  const rt = await Runtime.create({ device: 'cpu' });
  await calibratedSeededModel(join(models, 'seeded-64'), rt);
  await createSeededModel(tiny, makeArchitecture({ resolution: 32, channelBase: 256, channelMax: 16 }), 5, rt, 'tiny-32');
  const b = loadBundle(tiny);
  saveBasis(b, await calibrateFixedRegions(b, rt));
  const r = await runCli({ cwd: tmp, env: { STYLECAST_MODELS_DIR: models } }, 'synth', '--model', tiny, '--frames', '12', '--out', tinyClip, '--truth', join(tmp, 'tiny.json'));
  expect(r.status, r.stderr).toBe(0);
}, 900_000);

const encodeArgs = (out: string) => ['encode', clip('lp_d11.mp4'), '--frames', '0:8', '--quality', 'draft', '--align', 'face', '--out', out];
// Face alignment on the real clip into the small model: the alignment costs what it does at any
// model size, the identity and frames that a resumed run must finish cost little.
const alignArgs = (out: string) => ['encode', clip('lp_d11.mp4'), '--model', tiny, '--frames', '0:8', '--quality', 'draft', '--align', 'face', '--out', out];
const tinyArgs = (out: string) => ['encode', tinyClip, '--model', tiny, '--quality', 'draft', '--align', 'none', '--out', out];

/** Runs an encode and sends SIGTERM once stderr matches `when`; returns the run and the seconds from signal to exit. */
async function encodeAndTerminate(args: string[], when: RegExp): Promise<{ r: CliResult; sentAfter: string | null; stopSec: number }> {
  let sentAt = 0;
  let sentAfter: string | null = null;
  const r = await runCli(
    {
      cwd: tmp,
      env: { STYLECAST_MODELS_DIR: models },
      timeoutMs: 400_000,
      onStderr: (child, all) => {
        const m = when.exec(all);
        if (sentAt || !m) return;
        sentAt = performance.now();
        sentAfter = m[0];
        child.kill('SIGTERM');
      }
    },
    ...args
  );
  const stopSec = sentAt ? (r.endedAt - sentAt) / 1000 : NaN;
  console.log(`SIGTERM after "${sentAfter}": exited ${r.status} after ${stopSec.toFixed(2)} s`);
  return { r, sentAfter, stopSec };
}

describe.skipIf(!hasSharedData)('SIGTERM during an encode', () => {
  it('during alignment: gone within 5 s, the project and the frames aligned so far are kept, and the same command resumes the alignment', async () => {
    const out = join(tmp, 'align.stylecast');
    const { r, sentAfter, stopSec } = await encodeAndTerminate(alignArgs(out), /^\[[^\]]*align[^\]]*\].*$/m);
    expect(sentAfter, r.stderr).not.toBeNull();
    expect(stopSec, r.stderr).toBeLessThan(5);
    expect(r.status, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/SIGTERM: stopping/);
    expect(r.stdout).toBe('');
    // The project is made before alignment; nothing is encoded, and it says so.
    const stopped = await openProject(out);
    expect(stopped.doc.encoding.encodedThrough).toBe(0);
    expect(stopped.doc.encoding.identityFrame).toBeNull();
    const aligned = await alignProgressFrames(out);
    expect(aligned).toBeGreaterThanOrEqual(1); // the progress line came after the first frame
    expect(aligned).toBeLessThanOrEqual(8);
    const info = await runCli({ cwd: tmp, env: { STYLECAST_MODELS_DIR: models } }, 'info', out);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/0 of 8 encoded \(run the same encode again to resume\)/);
    expect(info.stdout).toContain(`aligned        ${aligned} of 8 frames`);

    const again = await runCli({ cwd: tmp, env: { STYLECAST_MODELS_DIR: models }, timeoutMs: 400_000 }, ...alignArgs(out), '--json');
    expect(again.status, again.stderr).toBe(0);
    const s = JSON.parse(again.stdout);
    expect(s.resumed).toBe(true);
    expect(s.alignment.framesReused).toBe(aligned);
    expect(again.stderr).toContain(`resuming the alignment after frame ${aligned} of 8`);
    const done = await openProject(out);
    expect(done.doc.encoding.encodedThrough).toBe(8);
    expect(existsSync(join(out, ALIGN_PROGRESS_FILE))).toBe(false);

    // The crops of the resumed encode are those of an uninterrupted alignment of the same frames.
    const rt = await Runtime.create({ device: 'cpu' });
    const whole = await alignVideo({ path: clip('lp_d11.mp4'), nets: await FaceNets.load(rt), size: 32, frames: { start: 0, count: 8 } });
    let worst = 0;
    whole.affines.forEach((a, i) => a.forEach((v, j) => (worst = Math.max(worst, Math.abs(done.transforms[i * 6 + j]! - v) / Math.max(1, Math.abs(v))))));
    console.log(`resumed crop transforms against an uninterrupted alignment: largest relative difference ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
  }, 800_000);

  it('during the identity inversion: gone within 5 s, and the project it left opens with no frame encoded', async () => {
    const out = join(tmp, 'identity.stylecast');
    const { r, sentAfter, stopSec } = await encodeAndTerminate(encodeArgs(out), /^\[[^\]]*(identity|invert)[^\]]*\].*$/m);
    expect(sentAfter, r.stderr).not.toBeNull();
    expect(stopSec, r.stderr).toBeLessThan(5);
    expect(r.status, r.stderr).toBe(143);
    const p = await openProject(out);
    expect(p.doc.encoding.encodedThrough).toBe(0);
    expect(p.doc.encoding.frames).toEqual({ start: 0, count: 8 });
  }, 500_000);

  it('during the frames: gone within 5 s, and running the same command again resumes and finishes', async () => {
    // 12 frames: windows of 8 and 4, so the signal comes after the first is stored.
    const out = join(tmp, 'frames.stylecast');
    const { r, sentAfter, stopSec } = await encodeAndTerminate(tinyArgs(out), /^\[[^\]]*frame[^\]]*\] +\d+% +([1-9]|1[01])\/12.*$/m);
    expect(sentAfter, r.stderr).not.toBeNull();
    expect(stopSec, r.stderr).toBeLessThan(5);
    expect(r.status, r.stderr).toBe(143);
    const done = (await openProject(out)).doc.encoding.encodedThrough;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(12);
    const again = await runCli({ cwd: tmp, env: { STYLECAST_MODELS_DIR: models }, timeoutMs: 400_000 }, ...tinyArgs(out), '--json');
    expect(again.status, again.stderr).toBe(0);
    const s = JSON.parse(again.stdout);
    expect(s.resumed).toBe(true);
    expect(s.framesEncoded).toBe(12 - done);
    expect((await openProject(out)).doc.encoding.encodedThrough).toBe(12);
  }, 800_000);
});
