// The constant-rate copy of a variable-rate video: each copy frame is the source frame on screen
// at its time, the sound comes over unshifted, and failures and cancels leave nothing behind.
import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CancelledError, VideoError, conformVideo, constantRateOf, parseRate, probeVideo, readFrames, resolveFfmpeg, resolveFfprobe } from '../../../src/core/video';
import { clip, tempDir } from '../../helpers';

/** The video stream's frame times in presentation order, from ffprobe's packet list. */
function frameTimes(path: string): number[] {
  const r = spawnSync(resolveFfprobe().path, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map(Number).sort((a, b) => a - b);
}

/** The first audio stream decoded as mono float samples at 8 kHz. */
function sound(path: string): Float32Array {
  const r = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-i', path, '-map', '0:a:0', '-ac', '1', '-ar', '8000', '-f', 'f32le', 'pipe:1'], { maxBuffer: 1 << 26 });
  expect(r.status, String(r.stderr)).toBe(0);
  const b = r.stdout as Buffer;
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

const mse = (a: Uint8Array, b: Uint8Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return s / a.length;
};

const small = { width: 32, height: 32 };

/** A clip with a gap (25 frames at 25 per second, then 15 at 5: frame 30 is shown at 2.0 s) and `audio` (lavfi source, codec). */
function gapClip(path: string, audio: [string, string]): void {
  const made = spawnSync(resolveFfmpeg().path, [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=25:duration=1.6', '-f', 'lavfi', '-i', audio[0],
    '-vf', "setpts='if(lt(N,25),N/25,1+(N-25)/5)/TB'", '-vsync', 'vfr', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', audio[1], path
  ]);
  expect(made.status, String(made.stderr)).toBe(0);
}

/** The copy's frames, the source's, and which source frame each copy frame matches best. */
async function matchFrames(source: string, copy: string): Promise<{ source: Uint8Array[]; copy: Uint8Array[]; closest(k: number): number }> {
  const s = (await readFrames(source, { size: small })).map((f) => f.data);
  const c = (await readFrames(copy, { size: small })).map((f) => f.data);
  const closest = (k: number) => {
    const e = s.map((x) => mse(c[k]!, x));
    return e.indexOf(Math.min(...e));
  };
  return { source: s, copy: c, closest };
}

describe('conformVideo', () => {
  it('parses rates and picks the nominal rate of a clip with dropped frames', async () => {
    expect(parseRate('30')).toEqual({ num: 30, den: 1 });
    expect(parseRate('29.97')).toEqual({ num: 2997, den: 100 });
    expect(parseRate('30000/1001')).toEqual({ num: 30000, den: 1001 });
    expect(parseRate('50/2')).toEqual({ num: 25, den: 1 });
    for (const bad of ['0', '-25', 'abc', '25/0', '1.5/2', '90000', '30/1/1', '']) expect(parseRate(bad), bad).toBeNull();
    // vr_face1: frames on a 30 per second grid, 48 of them two ticks apart: 22.1 on average.
    const info = await probeVideo(clip('vr_face1.mp4'));
    // Spread out, the drops keep every frame within 27 ms of its order's time: not flagged, but copied at 30 on request.
    expect([info.fpsRational, info.nominalFpsRational, info.variableFrameRate]).toEqual(['1350/61', '30/1', false]);
    expect(info.driftSec).toBeCloseTo(0.027, 3);
    expect(constantRateOf(info)).toEqual({ num: 30, den: 1 });
    // A nominal rate that is a time base (90000, or a browser's 1000) or below the average is not a
    // camera's rate: the slowest standard rate at least the average.
    expect(constantRateOf({ fps: 1350 / 61, fpsRational: '1350/61', nominalFpsRational: '90000/1' })).toEqual({ num: 24000, den: 1001 });
    expect(constantRateOf({ fps: 27.24, fpsRational: '89000/3267', nominalFpsRational: '1000/1' })).toEqual({ num: 30000, den: 1001 });
    expect(constantRateOf({ fps: 25, fpsRational: '25/1', nominalFpsRational: '12/1' })).toEqual({ num: 25, den: 1 });
    expect(constantRateOf({ fps: 29.9, fpsRational: '299/10', nominalFpsRational: null })).toEqual({ num: 30000, den: 1001 });
    expect(constantRateOf({ fps: 100, fpsRational: '100/1', nominalFpsRational: null })).toEqual({ num: 100, den: 1 });
    // Timestamps on a 1/120 grid make 120 the nominal rate of a 30 per second clip; jitter puts its average a hair above 30.
    expect(constantRateOf({ fps: 30, fpsRational: '30/1', nominalFpsRational: '120/1' })).toEqual({ num: 30, den: 1 });
    expect(constantRateOf({ fps: 30.0085, fpsRational: '300085/10000', nominalFpsRational: '1000/1' })).toEqual({ num: 30, den: 1 });
  });

  it('copies vr_face1 at 30 per second: each frame is the source frame nearest its time, the sound unshifted', async () => {
    const dir = tempDir('conform-');
    const src = clip('vr_face1.mp4');
    const fractions: number[] = [];
    const r = await conformVideo({ input: src, out: join(dir, 'vr30.mp4'), onProgress: (f) => fractions.push(f) });
    expect(r).toMatchObject({ fpsRational: '30/1', fps: 30, audio: 'copied', source: { fpsRational: '1350/61', frameCount: 135, variableFrameRate: false } });
    const made = await probeVideo(r.path);
    expect([made.fpsRational, made.variableFrameRate, made.frameCount, made.rotation]).toEqual(['30/1', false, r.frameCount, 0]);
    // 6.1 s of frames from the file's start (the source's first frame comes 33 ms in: the copy repeats it there).
    expect(r.frameCount).toBe(183);
    expect(fractions.length).toBeGreaterThan(0);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1]!))).toBe(true);

    const times = frameTimes(src);
    const source = (await readFrames(src, { size: small })).map((f) => f.data);
    const copy = (await readFrames(r.path, { size: small })).map((f) => f.data);
    expect([source.length, copy.length]).toEqual([135, 183]);
    let worst = 0;
    let moved = 0;
    for (let k = 0; k < copy.length; k++) {
      // On screen at k/30: the last source frame whose time is at or before it (to the nearest tick).
      let e = 0;
      for (let j = 0; j < times.length; j++) if (Math.round(times[j]! * 30) <= k) e = j;
      const errors = source.map((s) => mse(copy[k]!, s));
      const best = Math.min(...errors);
      // The expected frame is the copy's best match, up to a tie between near-equal neighbours.
      worst = Math.max(worst, errors[e]! - best);
      expect(errors[e]!, `copy frame ${k}`).toBeLessThan(4);
      if (e !== k) moved++;
    }
    expect(worst).toBeLessThan(0.5);
    // Taking frames by their order would have shown most of them at another time.
    expect(moved).toBeGreaterThan(150);

    const a = sound(src);
    const b = sound(r.path);
    expect(Math.abs(a.length - b.length)).toBeLessThanOrEqual(1);
    let diff = 0;
    for (let i = 0; i < Math.min(a.length, b.length); i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    expect(diff).toBeLessThan(1e-6);
    expect(readdirSync(dir)).toEqual(['vr30.mp4']);
  });

  it('puts a frame shown after a long gap at its time, not at its place in the stream', async () => {
    const dir = tempDir('conform-gap-');
    // The gap, with a tone.
    const vfr = join(dir, 'gap.mp4');
    gapClip(vfr, ['sine=frequency=440:duration=4', 'aac']);
    const info = await probeVideo(vfr);
    expect(info.variableFrameRate).toBe(true);
    // 40 frames written; ffmpeg 4.1's MP4 muxer ends this file's edit list before its last two, so no player shows them.
    expect(info.frameCount).toBe(38);
    const r = await conformVideo({ input: vfr, out: join(dir, 'gap25.mp4'), fps: '25' });
    expect([r.fpsRational, r.audio]).toEqual(['25/1', 'copied']);
    const { source, copy, closest } = await matchFrames(vfr, r.path);
    // testsrc's counter makes every source frame differ: frame 30 (2.0 s) is copy frame 50, and 51..54 repeat it.
    expect([closest(10), closest(24), closest(25), closest(50), closest(54), closest(55)]).toEqual([10, 24, 25, 30, 30, 31]);
    // It ends with the last frame the source shows (3.4 s).
    expect(source.length).toBe(38);
    expect([copy.length, closest(copy.length - 1)]).toEqual([86, 37]);
    // The tone starts with the file, in the copy too.
    const tone = sound(r.path);
    expect(Math.max(...tone.subarray(400, 800).map(Math.abs))).toBeGreaterThan(0.05);
  });

  it('copies a Matroska recording with a gap and Opus sound into MP4, the sound as AAC in its place', async () => {
    const dir = tempDir('conform-mkv-');
    const vfr = join(dir, 'gap.mkv');
    // The gap, with a tone from 1.0 to 1.5 s.
    gapClip(vfr, ["aevalsrc='if(between(t,1,1.5),0.5*sin(2*PI*440*t),0)':s=48000:d=4", 'libopus']);
    const info = await probeVideo(vfr);
    expect([info.variableFrameRate, info.nominalFpsRational, info.audioCodec]).toEqual([true, '25/1', 'opus']);
    const r = await conformVideo({ input: vfr, out: join(dir, 'gap25.mp4'), info });
    expect([r.fpsRational, r.audio, r.frameCount]).toEqual(['25/1', 'aac', 96]);
    const { closest } = await matchFrames(vfr, r.path);
    expect([closest(24), closest(25), closest(50), closest(95)]).toEqual([24, 25, 30, 39]);
    // The tone's onset in the copy, at 8 kHz: 1.0 s, up to 7.1 ms late. (ffmpeg 4.1 stamps a
    // Matroska Opus track's first decoded samples 7 ms after where they play: its pre-skip is
    // counted twice. Under a fifth of a frame at 25 per second; the source read without
    // timestamps has the onset at 1.000 s.)
    const onset = (path: string) => sound(path).findIndex((x) => Math.abs(x) > 0.1) / 8000;
    expect(Math.abs(onset(vfr) - 1.0)).toBeLessThan(0.001);
    expect(Math.abs(onset(r.path) - 1.0)).toBeLessThan(0.0075);
  });

  it('copies a video of odd width and height, the added column and row repeating the edge', async () => {
    const dir = tempDir('conform-odd-');
    const odd = join(dir, 'odd.webm');
    const made = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=65x49:rate=30:duration=1', '-vf', "setpts='(N/30+if(gt(N,15),0.4,0))/TB'", '-vsync', 'vfr', '-c:v', 'libvpx', '-b:v', '400k', odd]);
    expect(made.status, String(made.stderr)).toBe(0);
    const info = await probeVideo(odd);
    expect([info.width, info.height, info.variableFrameRate]).toEqual([65, 49, true]);
    const r = await conformVideo({ input: odd, out: join(dir, 'odd.mp4'), info });
    const made2 = await probeVideo(r.path);
    expect([made2.width, made2.height, r.fpsRational, r.frameCount]).toEqual([66, 50, '30/1', 42]);
    const [src] = await readFrames(odd, { count: 1 });
    const [cp] = await readFrames(r.path, { count: 1 });
    // The picture's luma is the source's, its last column included (through two 4:2:0 codecs the
    // colours of testsrc's one-pixel edges differ more); column 65 repeats column 64, row 49 row 48.
    const luma = (d: Uint8Array, w: number, x: number, y: number) => 0.299 * d[(y * w + x) * 3]! + 0.587 * d[(y * w + x) * 3 + 1]! + 0.114 * d[(y * w + x) * 3 + 2]!;
    let err = 0;
    let last = 0;
    let edge = 0;
    for (let y = 0; y < 49; y++) {
      for (let x = 0; x < 65; x++) err += (luma(src!.data, 65, x, y) - luma(cp!.data, 66, x, y)) ** 2;
      last = Math.max(last, Math.abs(luma(src!.data, 65, 64, y) - luma(cp!.data, 66, 64, y)));
      edge = Math.max(edge, Math.abs(luma(cp!.data, 66, 65, y) - luma(cp!.data, 66, 64, y)));
    }
    for (let x = 0; x < 66; x++) edge = Math.max(edge, Math.abs(luma(cp!.data, 66, x, 49) - luma(cp!.data, 66, x, 48)));
    expect(10 * Math.log10(255 ** 2 / (err / (65 * 49)))).toBeGreaterThan(35);
    expect(last).toBeLessThan(24);
    expect(edge).toBeLessThan(24);
  });

  it('refuses a bad rate, container or the source itself, and leaves nothing behind when cancelled', async () => {
    const dir = tempDir('conform-bad-');
    const src = clip('lp_d11.mp4');
    const code = async (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (e instanceof VideoError ? e.code : String(e)));
    expect(await code(conformVideo({ input: src, out: join(dir, 'x.mp4'), fps: '0' }))).toBe('INVALID_ARGUMENT');
    expect(await code(conformVideo({ input: src, out: join(dir, 'x.avi') }))).toBe('INVALID_ARGUMENT');
    expect(await code(conformVideo({ input: src, out: src }))).toBe('INVALID_ARGUMENT');
    // Another name of the same file (a hard link; on a case-insensitive disk, another spelling) is the source too.
    const mine = join(dir, 'mine.mp4');
    copyFileSync(src, mine);
    linkSync(mine, join(dir, 'other-name.mp4'));
    expect(await code(conformVideo({ input: mine, out: join(dir, 'other-name.mp4') }))).toBe('INVALID_ARGUMENT');
    rmSync(mine);
    rmSync(join(dir, 'other-name.mp4'));
    expect(await code(conformVideo({ input: join(dir, 'missing.mp4'), out: join(dir, 'x.mp4') }))).toBe('NOT_FOUND');
    expect(await code(conformVideo({ input: src, out: join(dir, 'no-such-folder', 'x.mp4') }))).toBe('NOT_FOUND');
    const ac = new AbortController();
    const run = conformVideo({ input: src, out: join(dir, 'x.mp4'), signal: ac.signal, onProgress: () => ac.abort() });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(readdirSync(dir)).toEqual([]);
    // An existing copy is replaced only by a finished one.
    writeFileSync(join(dir, 'keep.mp4'), 'old');
    const ac2 = new AbortController();
    await expect(conformVideo({ input: src, out: join(dir, 'keep.mp4'), signal: ac2.signal, onProgress: () => ac2.abort() })).rejects.toBeInstanceOf(CancelledError);
    expect(readdirSync(dir)).toEqual(['keep.mp4']);
  });
});
