import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelledError,
  VideoError,
  conformVideo,
  createVideoWriter,
  decodeFrames,
  browserClockStart,
  frameTiming,
  pickVideoStream,
  probeVideo,
  readFrames,
  resolveFfmpeg,
  streamStartOffset,
  resolveFfprobe,
  timingWarning,
  pictureNote,
  type Frame,
  type VideoErrorCode,
} from '../../src/core/video';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const dataDir = resolve(repoRoot, '..', 'shared', 'data');
const clip = (name: string) => join(dataDir, 'clips', name);
const haveClips = existsSync(clip('lp_d11.mp4'));
if (!haveClips) console.warn(`video tests skipped: the shared clips are not at ${join(dataDir, 'clips')}`);

/** Live child processes of this test process named `name` (Linux /proc; null where unavailable). */
function childProcesses(name: string): number[] | null {
  if (!existsSync('/proc/self/stat')) return null;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may contain spaces, so parse around the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === process.pid && comm === name && state !== 'Z') pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function expectNoFfmpegChildren(): void {
  const children = childProcesses('ffmpeg');
  if (children !== null) expect(children).toEqual([]);
}

/** A smooth, moving test picture: horizontal ramp scrolling with t, vertical ramp, slow sine in blue. */
function gradientFrame(width: number, height: number, t: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round((((x + 3 * t) % width) / width) * 200 + 20);
      data[i + 1] = Math.round((y / height) * 200 + 30);
      data[i + 2] = Math.round(128 + 60 * Math.sin((x + y + 2 * t) / 9));
    }
  }
  return data;
}

/** Mean absolute difference over the top-left width x height region of `frame`. */
function meanAbsError(frame: Frame, expected: Uint8Array, width: number, height: number): number {
  let sum = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        sum += Math.abs(frame.data[(y * frame.width + x) * 3 + c] - expected[(y * width + x) * 3 + c]);
      }
    }
  }
  return sum / (width * height * 3);
}

async function expectVideoError(promise: Promise<unknown>, code: VideoErrorCode, name: string): Promise<VideoError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VideoError);
  const ve = err as VideoError;
  expect(ve.code).toBe(code);
  expect(ve.message).toContain(name);
  expect(ve.message).not.toContain('\n');
  return ve;
}

describe('ffmpeg binaries', () => {
  it('resolves ffmpeg and ffprobe, and refuses a wrong FFMPEG_PATH clearly', () => {
    expect(existsSync(resolveFfmpeg().path)).toBe(true);
    expect(existsSync(resolveFfprobe().path)).toBe(true);
    const saved = process.env.FFMPEG_PATH;
    process.env.FFMPEG_PATH = '/no/such/dir/ffmpeg';
    try {
      expect(() => resolveFfmpeg()).toThrow(expect.objectContaining({ code: 'FFMPEG_MISSING' }));
      expect(() => resolveFfmpeg()).toThrow(/FFMPEG_PATH is set to "\/no\/such\/dir\/ffmpeg"/);
    } finally {
      if (saved === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = saved;
    }
  });
});

describe.skipIf(!haveClips)('video I/O on the shared clips', () => {
  let tmp = '';
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'stylecast-video-'));
  });
  afterAll(async () => {
    if (tmp) {
      await chmod(join(tmp, 'readonly'), 0o755).catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('probes lp_d11.mp4', async () => {
    const info = await probeVideo(clip('lp_d11.mp4'));
    expect(info).toMatchObject({
      width: 512,
      height: 512,
      fps: 25,
      fpsRational: '25/1',
      frameCount: 225,
      rotation: 0,
      variableFrameRate: false,
      videoCodec: 'h264',
      pixelFormat: 'yuv420p',
      hasAudio: true,
      audioCodec: 'aac',
    });
    expect(info.durationSec).toBeCloseTo(9, 2);
  });

  it('decodes exactly frames 10..14, the same bytes as a decode from the start', async () => {
    const frames = await readFrames(clip('lp_d11.mp4'), { start: 10, count: 5 });
    expect(frames.map((f) => f.index)).toEqual([10, 11, 12, 13, 14]);
    for (const f of frames) {
      expect([f.width, f.height, f.data.length]).toEqual([512, 512, 512 * 512 * 3]);
      expect(f.data.some((v) => v > 0)).toBe(true);
    }
    for (let i = 1; i < frames.length; i++) {
      expect(Buffer.compare(frames[i].data, frames[i - 1].data)).not.toBe(0);
    }
    const fromStart = await readFrames(clip('lp_d11.mp4'), { count: 15 });
    expect(fromStart.map((f) => f.index)).toEqual([...Array(15).keys()]);
    for (const f of frames) expect(Buffer.compare(f.data, fromStart[f.index].data)).toBe(0);
  });

  it('decodes at an odd size with unpadded rows', async () => {
    const frames = await readFrames(clip('lp_d11.mp4'), { start: 223, count: 5, size: { width: 701, height: 333 } });
    // Only frames 223 and 224 exist.
    expect(frames.map((f) => [f.index, f.width, f.height, f.data.length])).toEqual([
      [223, 701, 333, 701 * 333 * 3],
      [224, 701, 333, 701 * 333 * 3],
    ]);
  });

  it('kills ffmpeg when the consumer stops early', async () => {
    const frames = decodeFrames(clip('lp_d10.mp4'));
    let seen = 0;
    for await (const frame of frames) {
      expect(frame.index).toBe(seen);
      // While we hold a frame, ffmpeg is alive and blocked on the full pipe: the check below can see it.
      const running = childProcesses('ffmpeg');
      if (running !== null) expect(running).toHaveLength(1);
      if (++seen === 2) break;
    }
    expect(seen).toBe(2);
    expectNoFfmpegChildren();
    // A second, explicit return is harmless and immediate.
    const t0 = performance.now();
    await frames.return(undefined);
    expect(performance.now() - t0).toBeLessThan(500);
  });

  it('stops with CancelledError when the signal aborts', async () => {
    const controller = new AbortController();
    let seen = 0;
    const run = (async () => {
      for await (const _frame of decodeFrames(clip('lp_d10.mp4'), { signal: controller.signal })) {
        if (++seen === 3) controller.abort();
      }
    })();
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).code).toBe('CANCELLED');
    expect(seen).toBe(3);
    expectNoFfmpegChildren();
  });

  it.each([
    [66, 50],
    [65, 49],
  ])('encodes %ix%i RGB frames at 12.5 fps with the audio of lp_d11.mp4, and reads them back', async (width, height) => {
    const path = join(tmp, `synthetic-${width}x${height}.mp4`);
    const input = Array.from({ length: 20 }, (_, t) => gradientFrame(width, height, t));
    const writer = await createVideoWriter({ path, width, height, fps: 12.5, audioFrom: clip('lp_d11.mp4') });
    expect([writer.outputWidth, writer.outputHeight, writer.hasAudio]).toEqual([66, 50, true]);
    for (const frame of input) await writer.write(frame);
    expect(existsSync(path)).toBe(false); // nothing at the target until close()
    await writer.close();

    const info = await probeVideo(path);
    expect(info).toMatchObject({ width: 66, height: 50, frameCount: 20, fps: 12.5, hasAudio: true, audioCodec: 'aac', pixelFormat: 'yuv420p' });
    const frameSec = 1 / 12.5;
    expect(Math.abs(info.durationSec - 1.6)).toBeLessThanOrEqual(frameSec);
    expect(Math.abs(info.containerDurationSec - 1.6)).toBeLessThanOrEqual(frameSec); // the 9 s audio was cut
    expect(await readdir(tmp)).not.toContainEqual(expect.stringContaining('.partial'));

    const decoded = await readFrames(path);
    expect(decoded).toHaveLength(20);
    const errors = decoded.map((frame, i) => meanAbsError(frame, input[i], width, height));
    expect(Math.max(...errors)).toBeLessThan(6);
    if (width !== 66) {
      // The padding column repeats the picture's edge instead of being black.
      const last = decoded[0];
      let diff = 0;
      for (let y = 0; y < height; y++) diff += Math.abs(last.data[(y * 66 + 65) * 3 + 1] - last.data[(y * 66 + 64) * 3 + 1]);
      expect(diff / height).toBeLessThan(8);
    }
  });

  it('leaves no file behind when a writer is aborted or cancelled', async () => {
    const dir = await mkdtemp(join(tmp, 'abort-'));
    const writer = await createVideoWriter({ path: join(dir, 'aborted.mp4'), width: 32, height: 32, fps: 25 });
    await writer.write(gradientFrame(32, 32, 0));
    await writer.abort();
    await expect(writer.write(gradientFrame(32, 32, 1))).rejects.toBeInstanceOf(CancelledError);

    const controller = new AbortController();
    const cancelled = await createVideoWriter({ path: join(dir, 'cancelled.mp4'), width: 32, height: 32, fps: 25, signal: controller.signal });
    await cancelled.write(gradientFrame(32, 32, 0));
    controller.abort();
    await expect(cancelled.close()).rejects.toMatchObject({ code: 'CANCELLED' });

    const empty = await createVideoWriter({ path: join(dir, 'empty.mp4'), width: 32, height: 32, fps: 25 });
    await expectVideoError(empty.close(), 'EMPTY', 'empty.mp4');

    const wrong = await createVideoWriter({ path: join(dir, 'wrong.mp4'), width: 32, height: 32, fps: 25 });
    await expectVideoError(wrong.write(new Uint8Array(10)), 'INVALID_ARGUMENT', 'wrong.mp4');
    await wrong.abort();

    expect(await readdir(dir)).toEqual([]);
    expectNoFfmpegChildren();
  });

  it('warns about a variable frame rate, whose sound an export at the average rate would drift from', async () => {
    // One second at 25 frames per second, then one at 5: ffmpeg writes the timestamps as given.
    const vfr = join(tmp, 'vfr.mp4');
    const made = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=25:duration=2', '-vf', "setpts='if(lt(N,25),N/25,1+(N-25)/5)/TB'", '-vsync', 'vfr', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', vfr]);
    expect(made.status, String(made.stderr)).toBe(0);
    const info = await probeVideo(vfr);
    expect(info.variableFrameRate).toBe(true);
    expect(timingWarning(info)).toMatch(/vfr\.mp4" has a variable frame rate .*For exact sync, make a constant-rate copy first\./);
    expect(timingWarning(await probeVideo(clip('lp_d11.mp4')))).toBeNull();
  });

  it('judges frames taken in order by how far they stray from their times', () => {
    const r = (num: number, den = 1) => ({ num, den });
    const grid = (n: number, step: number, f: (k: number) => number = () => 0) => Array.from({ length: n }, (_, k) => k * step + f(k));
    // A constant rate, its times given out of order (B-frames): no drift.
    const cfr = frameTiming(grid(300, 1 / 30).reverse(), r(30), r(30))!;
    expect([cfr.rate, cfr.variable]).toEqual([r(30), false]);
    expect(cfr.driftSec).toBeLessThan(1e-9);
    // Jitter of up to 8 ms around a 30 per second grid, the container stating 1000 (a browser): the nominal rate is implausible, the stated one too, so the measured average.
    const jitter = frameTiming(grid(300, 1 / 30, (k) => 0.008 * Math.sin(k * 1.7)), r(1000), r(1000))!;
    expect(jitter.variable).toBe(false);
    expect(jitter.rate.num / jitter.rate.den).toBeCloseTo(30, 1);
    // vr_face1's pattern: a 30 per second grid with one frame in three or so dropped, spread out: in order at the average, no frame strays 1.5 frames.
    const drops = grid(135, 1).map((k) => Math.round(k * (30 / 22.131)) / 30);
    const spread = frameTiming(drops, r(1350, 61), r(30))!;
    expect([spread.rate, spread.variable]).toEqual([r(1350, 61), false]);
    // Two minutes at 30 per second with one 0.5 s pause (the share of the length is 0.4%): variable, measured average.
    const pause = frameTiming(grid(3600, 1 / 30, (k) => (k >= 1800 ? 0.5 : 0)), r(30), r(30))!;
    expect(pause.variable).toBe(true);
    expect(pause.rate.num / pause.rate.den).toBeCloseTo(3599 / (3599 / 30 + 0.5), 6);
    expect(pause.driftSec).toBeCloseTo(0.25, 2);
    // One long first frame (a remux from MP4 with an edit list): 48 ms on every later frame, within 1.5 frames at 25: the stated rate stays.
    const remux = frameTiming(grid(225, 1 / 25, (k) => (k > 0 ? 0.048 : 0)), r(25), r(25))!;
    expect([remux.rate, remux.variable]).toEqual([r(25), false]);
    expect(frameTiming([0.5], r(25), r(25))).toBeNull();
    expect(frameTiming([0.5, 0.5], r(25), r(25))).toBeNull();
  });

  it('remembers a probe per file version: a caller changing its copy changes nothing, a rewritten file is probed again', async () => {
    const f = join(tmp, 'rewritten.mp4');
    const make = (seconds: number) => expect(spawnSync(resolveFfmpeg().path, ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=32x32:rate=25:duration=${seconds}`, '-c:v', 'libx264', '-pix_fmt', 'yuv420p', f]).status).toBe(0);
    make(1);
    const a = await probeVideo(f);
    a.frameCount = -1;
    expect((await probeVideo(f)).frameCount).toBe(25);
    make(2);
    expect((await probeVideo(f)).frameCount).toBe(50);
  });

  it('counts the frames an MP4 cut without re-encoding shows, not the packets before its start', async () => {
    // `-ss 1.3 -c copy` keeps the packets from the key frame at 0 s; the edit list shows 1.32 s on.
    const cut = join(tmp, 'cut.mp4');
    expect(spawnSync(resolveFfmpeg().path, ['-v', 'error', '-y', '-ss', '1.3', '-i', clip('lp_d11.mp4'), '-t', '2', '-c', 'copy', cut]).status).toBe(0);
    const info = await probeVideo(cut);
    const frames = await readFrames(cut, { size: { width: 32, height: 32 } });
    // 85 packets, 52 shown (ffprobe's nb_frames says 85): the decoder gives the 52.
    expect([info.frameCount, frames.length, info.fpsRational, info.variableFrameRate]).toEqual([52, 52, '25/1', false]);
    const source = await readFrames(clip('lp_d11.mp4'), { start: 25, count: 70, size: { width: 32, height: 32 } });
    const closest = (f: Frame) => {
      const e = source.map((s) => s.data.reduce((a, v, i) => a + (v - f.data[i]!) ** 2, 0));
      return source[e.indexOf(Math.min(...e))]!.index;
    };
    expect([closest(frames[0]!), closest(frames[51]!)]).toEqual([33, 84]);
  });

  it("reads a phone's turned video and non-square pixels as players show them: upright, in square pixels", async () => {
    const ff = resolveFfmpeg().path;
    const make = (out: string, args: string[]) => {
      expect(spawnSync(ff, ['-v', 'error', '-y', ...args, out]).status).toBe(0);
      return out;
    };
    const lossless = ['-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv444p'];
    // The picture: 6 frames of lp_d11 as a 320x512 portrait, lossless.
    const portrait = make(join(tmp, 'portrait.mp4'), ['-i', clip('lp_d11.mp4'), '-frames:v', '6', '-an', '-vf', 'crop=320:512:96:0', ...lossless]);
    // As a phone stores a portrait recording: turned a quarter left (512x320), with the display
    // matrix that turns it back (the one iPhones write; ffmpeg 4.1 writes it for rotate=270).
    const stored = make(join(tmp, 'stored.mp4'), ['-i', portrait, '-vf', 'transpose=2', ...lossless]);
    const turned = make(join(tmp, 'turned.mp4'), ['-i', stored, '-c', 'copy', '-metadata:s:v:0', 'rotate=270']);
    // Wide pixels (an anamorphic or DV-style source): 160x512 stored, each pixel twice as wide as tall.
    const wide = make(join(tmp, 'wide.mp4'), ['-i', portrait, '-vf', 'scale=160:512:flags=area,setsar=2', ...lossless]);
    // Both at once, with tall pixels: 512x160 stored turned, each pixel half as wide as tall.
    const bothStored = make(join(tmp, 'both-stored.mp4'), ['-i', portrait, '-vf', 'transpose=2,scale=512:160:flags=area,setsar=1/2', ...lossless]);
    const both = make(join(tmp, 'both.mp4'), ['-i', bothStored, '-c', 'copy', '-metadata:s:v:0', 'rotate=270']);
    const truth = await readFrames(portrait);
    const meanAbs = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    const read = async (f: string) => {
      const info = await probeVideo(f);
      const frames = await readFrames(f);
      expect(frames.map((x) => [x.width, x.height])).toEqual(truth.map(() => [320, 512]));
      return { info, error: Math.max(...frames.map((x, k) => meanAbs(x.data, truth[k]!.data))) };
    };
    const t = await read(turned);
    expect([t.info.width, t.info.height, t.info.codedWidth, t.info.codedHeight, t.info.rotation, t.info.pixelAspect]).toEqual([320, 512, 512, 320, 270, 1]);
    expect(pictureNote(t.info)).toBe('Recorded sideways: read upright, as players show it.');
    expect(pictureNote(await probeVideo(portrait))).toBeNull();
    expect(t.error).toBe(0); // the turn is exact
    const w = await read(wide);
    expect([w.info.width, w.info.height, w.info.codedWidth, w.info.pixelAspect]).toEqual([320, 512, 160, 2]);
    // Stretched back, within half a level on average of the picture (read at 160 wide, it is not the picture at all).
    expect(w.error).toBeLessThan(0.5);
    const b = await read(both);
    expect([b.info.width, b.info.height, b.info.rotation, b.info.pixelAspect]).toEqual([320, 512, 270, 0.5]);
    expect(pictureNote(b.info)).toBe('Recorded sideways: read upright, as players show it; non-square pixels (0.5:1, stored 512 x 160): stretched to square ones.');
    expect(b.error).toBeLessThan(0.5);
    // A project made before these were read as shown keeps its stored size: decoding at it still works.
    expect((await readFrames(wide, { count: 1, size: { width: 160, height: 512 } }))[0]!.width).toBe(160);
    // The constant-rate copy of wide pixels is in square pixels at the size shown.
    const copy = await conformVideo({ input: wide, out: join(tmp, 'wide-copy.mp4') });
    const c = await read(copy.path);
    expect([c.info.width, c.info.height, c.info.codedWidth, c.info.pixelAspect]).toEqual([320, 512, 320, 1]);
    expect(c.error).toBeLessThan(1.5);
  });

  it("reads a photo as viewers show it: its EXIF orientation applied (a phone's portrait stored sideways)", async () => {
    const ff = resolveFfmpeg().path;
    const portrait = join(dataDir, 'portraits', 'lp_s0.jpg');
    const upright = join(tmp, 'upright.png');
    expect(spawnSync(ff, ['-v', 'error', '-y', '-i', portrait, '-vf', 'scale=150:176', upright]).status).toBe(0);
    const truth = (await readFrames(upright))[0]!;
    // An EXIF block holding only IFD0's Orientation (TIFF tag 0x0112, SHORT), put after the JPEG's SOI.
    const withOrientation = (jpeg: Buffer, o: number): Buffer => {
      const tiff = Buffer.alloc(26);
      tiff.write('II*\0', 0, 'latin1');
      tiff.writeUInt32LE(8, 4);
      tiff.writeUInt16LE(1, 8);
      tiff.writeUInt16LE(0x0112, 10);
      tiff.writeUInt16LE(3, 12);
      tiff.writeUInt32LE(1, 14);
      tiff.writeUInt16LE(o, 18);
      const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
      const head = Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 255]);
      return Buffer.concat([jpeg.subarray(0, 2), head, payload, jpeg.subarray(2)]);
    };
    // Each orientation's stored picture, made from the upright one by the inverse of what the tag
    // says to do (EXIF 2.3): 6 means "turn right to show", so it is stored turned left.
    const stored: Record<number, string> = { 1: 'null', 2: 'hflip', 3: 'hflip,vflip', 4: 'vflip', 5: 'transpose=cclock_flip', 6: 'transpose=cclock', 7: 'transpose=clock_flip', 8: 'transpose=clock' };
    for (const [o, filter] of Object.entries(stored)) {
      const plain = join(tmp, `o${o}-plain.jpg`);
      expect(spawnSync(ff, ['-v', 'error', '-y', '-i', upright, '-vf', filter, '-q:v', '1', plain]).status).toBe(0);
      const file = join(tmp, `o${o}.jpg`);
      await writeFile(file, withOrientation(readFileSync(plain), Number(o)));
      const info = await probeVideo(file);
      const f = (await readFrames(file))[0]!;
      expect([o, info.orientation, info.width, info.height, f.width, f.height]).toEqual([o, Number(o), 150, 176, 150, 176]);
      expect(pictureNote(info) ?? '').toMatch(o === '1' ? /^$/ : Number(o) >= 5 ? /^A photo stored sideways: read as its EXIF orientation \d shows it\.$/ : /^A photo stored flipped or upside down/);
      const error = f.data.reduce((a, v, i) => a + Math.abs(v - truth.data[i]!), 0) / f.data.length;
      expect(error, `orientation ${o}`).toBeLessThan(3);
    }
    // A video's frames keep their own (display-matrix) turn: no orientation.
    expect((await probeVideo(clip('lp_d11.mp4'))).orientation).toBe(1);
  });

  it('reads an HDR video (HLG as phones record it, PQ as HDR10) as a standard screen shows it', async () => {
    const ff = resolveFfmpeg().path;
    const meanAbs = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
    // 3 frames of lp_d11, 128 px, 10-bit HEVC: in standard range, and carried in HDR (BT.2020
    // primaries and the HDR curve, tagged as a camera tags it).
    const make = (name: string, transfer: string | null) => {
      const file = join(tmp, `${name}.mp4`);
      const hdr = transfer ? `,zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=${transfer}:m=bt2020nc:p=bt2020:r=tv` : '';
      const tags = transfer ? `colorprim=bt2020:transfer=${transfer}:colormatrix=bt2020nc:` : '';
      expect(spawnSync(ff, ['-v', 'error', '-y', '-i', clip('lp_d11.mp4'), '-frames:v', '3', '-an', '-vf', `scale=128:128${hdr},format=yuv420p10le`, '-c:v', 'libx265', '-x265-params', `${tags}log-level=error`, file]).status).toBe(0);
      return file;
    };
    const truth = await readFrames(clip('lp_d11.mp4'), { count: 3, size: { width: 128, height: 128 } });
    const errorOf = (frames: Frame[]) => Math.max(...frames.map((f, k) => meanAbs(f.data, truth[k]!.data)));
    // The standard-range copy's own loss against the clip (scaling in YUV, 4:2:0, x265): about 4 levels.
    const sdr = errorOf(await readFrames(make('sdr', null)));
    expect((await probeVideo(join(tmp, 'sdr.mp4'))).hdr).toBeNull();
    for (const [name, transfer] of [['hlg', 'arib-std-b67'], ['pq', 'smpte2084']] as const) {
      const file = make(name, transfer);
      const info = await probeVideo(file);
      expect([info.hdr, info.pixelFormat]).toEqual([name, 'yuv420p10le']);
      expect(pictureNote(info)).toBe(`HDR (${name.toUpperCase()}): tone-mapped to standard range (BT.709).`);
      // The trip through HDR adds under half a level of 255 to that on this clip (0.2-1.4 on others); read as standard range, 17 to 45.
      expect(errorOf(await readFrames(file)) - sdr, name).toBeLessThan(0.5);
      const naive = spawnSync(ff, ['-v', 'error', '-i', file, '-frames:v', '1', '-vf', 'scale=128:128', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 1 << 20 });
      expect(meanAbs(new Uint8Array(naive.stdout), truth[0]!.data) - sdr, `${name} read as standard range`).toBeGreaterThan(8);
      // Read as standard range when asked (a project fitted to such frames before 2026-12-07).
      const asSdr = await readFrames(file, { count: 1, hdr: null });
      expect(meanAbs(asSdr[0]!.data, truth[0]!.data) - sdr, `${name} read with hdr: null`).toBeGreaterThan(8);
    }

    // Bright standard-range values keep their level: a grey ramp's levels through HLG, 16-bit lossless.
    const ramp = join(tmp, 'ramp.mkv');
    const rgbRamp = ['-f', 'lavfi', '-i', "color=gray:s=256x8,format=rgb24,geq=r='X':g='X':b='X'", '-frames:v', '1'];
    expect(spawnSync(ff, ['-v', 'error', '-y', ...rgbRamp, '-vf', 'format=gbrp,zscale=tin=bt709:pin=bt709:t=arib-std-b67:m=bt2020nc:p=bt2020:r=tv,format=yuv444p16le', '-c:v', 'ffv1', '-color_trc', 'arib-std-b67', '-color_primaries', 'bt2020', '-colorspace', 'bt2020nc', ramp]).status).toBe(0);
    const plain = join(tmp, 'ramp-plain.mkv');
    expect(spawnSync(ff, ['-v', 'error', '-y', ...rgbRamp, '-c:v', 'ffv1', plain]).status).toBe(0);
    const [got, want] = [(await readFrames(ramp))[0]!, (await readFrames(plain))[0]!];
    expect((await probeVideo(ramp)).hdr).toBe('hlg');
    const green = (f: Frame, x: number) => f.data[(4 * 256 + x) * 3 + 1]!;
    expect([green(want, 0), green(want, 230)]).toEqual([0, 230]);
    for (let x = 0; x <= 230; x += 5) expect(Math.abs(green(got, x) - green(want, x)), `level ${green(want, x)}`).toBeLessThanOrEqual(1.5);
    // Tagged with its curve alone (no primaries or matrix): read as BT.2020, as HDR is.
    const curveOnly = join(tmp, 'ramp-curve-only.mkv');
    expect(spawnSync(ff, ['-v', 'error', '-y', '-i', ramp, '-c', 'copy', '-color_primaries', 'unknown', '-colorspace', 'unknown', curveOnly]).status).toBe(0);
    expect((await probeVideo(curveOnly)).color.primaries).toBeNull();
    expect(meanAbs((await readFrames(curveOnly))[0]!.data, got.data)).toBeLessThan(0.5);

    // The constant-rate copy of an HDR video is the standard-range picture decoding gives, tagged BT.709.
    const copy = await conformVideo({ input: join(tmp, 'hlg.mp4'), out: join(tmp, 'hlg-copy.mp4') });
    const copyInfo = await probeVideo(copy.path);
    expect([copyInfo.hdr, copyInfo.color.primaries, copyInfo.color.matrix]).toEqual([null, 'bt709', 'bt709']);
    const [fromCopy, fromSource] = [await readFrames(copy.path), await readFrames(join(tmp, 'hlg.mp4'))];
    expect(Math.max(...fromCopy.map((f, k) => meanAbs(f.data, fromSource[k]!.data)))).toBeLessThan(1.5);
  });

  it('reads an untagged HD stream as BT.709 and an untagged SD one as BT.601, as players do', async () => {
    const ff = resolveFfmpeg().path;
    const make = (args: string[]) => expect(spawnSync(ff, ['-v', 'error', '-y', ...args]).status).toBe(0);
    // A saturated test pattern in RGB, then its YUV at 1280x720 with the BT.709 matrix and at 640x360
    // with BT.601, each lossless and untagged, as x264 writes by default.
    const truth = join(tmp, 'pattern.mkv');
    make(['-f', 'lavfi', '-i', 'testsrc2=s=1280x720:r=25', '-frames:v', '2', '-pix_fmt', 'rgb24', '-c:v', 'ffv1', truth]);
    const truthSd = join(tmp, 'pattern-sd.mkv');
    make(['-i', truth, '-vf', 'scale=640:360', '-pix_fmt', 'rgb24', '-c:v', 'ffv1', truthSd]);
    const hd = join(tmp, 'untagged-hd.mp4');
    make(['-i', truth, '-vf', 'scale=out_color_matrix=bt709:out_range=tv,format=yuv444p', '-c:v', 'libx264', '-qp', '0', hd]);
    const sd = join(tmp, 'untagged-sd.mp4');
    make(['-i', truthSd, '-vf', 'scale=out_color_matrix=bt601:out_range=tv,format=yuv444p', '-c:v', 'libx264', '-qp', '0', sd]);
    const meanAbs = (a: Uint8Array, b: Uint8Array) => a.reduce((t, v, i) => t + Math.abs(v - b[i]!), 0) / a.length;
    const hdInfo = await probeVideo(hd);
    expect([hdInfo.color.matrix ?? 'untagged', hdInfo.assumedMatrix]).toEqual(['untagged', 'bt709']);
    const [want, got] = [(await readFrames(truth, { count: 1 }))[0]!, (await readFrames(hd, { count: 1 }))[0]!];
    expect(meanAbs(got.data, want.data)).toBeLessThan(1);
    // As ffmpeg alone reads it (and projects made before 2026-12-07 still do): 7 levels off.
    expect(meanAbs((await readFrames(hd, { count: 1, assumedMatrix: null }))[0]!.data, want.data)).toBeGreaterThan(4);
    expect((await probeVideo(sd)).assumedMatrix).toBeNull();
    expect(meanAbs((await readFrames(sd, { count: 1 }))[0]!.data, (await readFrames(truthSd, { count: 1 }))[0]!.data)).toBeLessThan(1);
    // Constant-rate copies are read as their sources are, whatever their new size: each copy says
    // the matrix its source is read with (an untagged 640x360 with 2:1 pixels becomes 1280x360; a
    // 640x360 tagged BT.709 must not fall back to BT.601).
    const wide = join(tmp, 'untagged-wide.mp4');
    make(['-i', sd, '-vf', 'scale=640:360,setsar=2', '-c:v', 'libx264', '-qp', '0', wide]);
    const tagged = join(tmp, 'tagged-sd.mp4');
    make(['-i', truthSd, '-vf', 'scale=out_color_matrix=bt709:out_range=tv,format=yuv444p', '-c:v', 'libx264', '-qp', '0', '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709', tagged]);
    for (const source of [sd, wide, tagged, hd]) {
      const copy = await conformVideo({ input: source, out: join(tmp, `copy-${source.split('/').pop()}`) });
      const [a, b] = [(await readFrames(source, { count: 1 }))[0]!, (await readFrames(copy.path, { count: 1 }))[0]!];
      expect([b.width, b.height]).toEqual([a.width, a.height]);
      // 4:2:0 and crf 16 on this saturated pattern cost about 2 levels; the wrong matrix costs 7-9.
      expect(meanAbs(a.data, b.data), source).toBeLessThan(3.5);
    }
    expect((await probeVideo(join(tmp, 'copy-untagged-wide.mp4'))).color.matrix).toBe('smpte170m');
    // The shared clips: lp_d11 is tagged BT.709; lp_d3 is untagged and 512 px, so read as before.
    expect([(await probeVideo(clip('lp_d3.mp4'))).assumedMatrix, (await probeVideo(clip('lp_d11.mp4'))).assumedMatrix]).toEqual([null, null]);
  });

  it("measures a Matroska or WebM stream's rate from its frames' times, where the container states none of its own", async () => {
    const ff = resolveFfmpeg().path;
    // The same gap in Matroska: ffprobe says 25/1 for both rates and gives no duration.
    const gap = join(tmp, 'vfr.mkv');
    expect(spawnSync(ff, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=25:duration=1.6', '-vf', "setpts='if(lt(N,25),N/25,1+(N-25)/5)/TB'", '-vsync', 'vfr', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', gap]).status).toBe(0);
    const g = await probeVideo(gap);
    // 40 frames from 0 to 3.8 s: 39 intervals in 3.8 s.
    expect([g.variableFrameRate, g.frameCount, g.fpsRational, g.nominalFpsRational]).toEqual([true, 40, '195/19', '25/1']);
    expect(g.durationSec).toBeCloseTo(40 / (195 / 19), 6);
    expect(timingWarning(g)).toMatch(/vfr\.mkv" has a variable frame rate \(10\.263 per second on average\): .*a frame can be up to 1\.4\d s from its sound/);
    // A WebM whose frames slow down part way (30 per second, 0.3 s of nothing after frame 45).
    const webm = join(tmp, 'pause.webm');
    expect(spawnSync(ff, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=30:duration=3', '-vf', "setpts='(N/30+if(gt(N,45),0.3,0))/TB'", '-vsync', 'vfr', '-c:v', 'libvpx', '-b:v', '200k', webm]).status).toBe(0);
    const w = await probeVideo(webm);
    expect([w.variableFrameRate, w.frameCount, w.nominalFpsRational]).toEqual([true, 90, '30/1']);
    expect(w.fps).toBeCloseTo(89 / (89 / 30 + 0.3), 2);
    // lp_d11 remuxed into Matroska keeps its rate: its first frame lasts 88 ms (the MP4's edit list), one long frame is not a variable rate.
    const remux = join(tmp, 'lp_d11.mkv');
    expect(spawnSync(ff, ['-v', 'error', '-y', '-i', clip('lp_d11.mp4'), '-c', 'copy', remux]).status).toBe(0);
    const r = await probeVideo(remux);
    expect([r.variableFrameRate, r.fpsRational, r.frameCount]).toEqual([false, '25/1', 225]);
  });

  it('reads the clip, not a still picture stream before it (a Matroska file with an image track first)', async () => {
    const ff = resolveFfmpeg().path;
    const still = join(tmp, 'still.png');
    const both = join(tmp, 'still-then-clip.mkv');
    expect(spawnSync(ff, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'color=red:size=32x32', '-frames:v', '1', still]).status).toBe(0);
    const made = spawnSync(ff, ['-v', 'error', '-y', '-i', still, '-i', clip('lp_d11.mp4'), '-map', '0', '-map', '1:v', '-c:v:0', 'png', '-c:v:1', 'copy', '-t', '2', both]);
    expect(made.status, String(made.stderr)).toBe(0);
    const info = await probeVideo(both);
    expect([info.streamIndex, info.width, info.height]).toEqual([1, 512, 512]);
    expect(info.frameCount).toBeGreaterThanOrEqual(50); // two seconds, cut at a key frame
    // The frames are the clip's, byte for byte.
    const ours = await readFrames(both, { start: 20, count: 3 });
    const theirs = await readFrames(clip('lp_d11.mp4'), { start: 20, count: 3 });
    expect(ours.map((f) => f.index)).toEqual([20, 21, 22]);
    for (const [i, f] of ours.entries()) expect(Buffer.compare(f.data, theirs[i]!.data)).toBe(0);
  });

  it('knows when the first frame is shown in the file: a video stream that starts after its sound', async () => {
    // The video starts 0.5 s after the sound (Matroska keeps each stream's start; PCM has no encoder delay).
    const late = join(tmp, 'late-video.mkv');
    const made = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-y', '-itsoffset', '0.5', '-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=25:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000:duration=3', '-c:v', 'libx264', '-bf', '0', '-pix_fmt', 'yuv420p', '-c:a', 'pcm_s16le', late]);
    expect(made.status, String(made.stderr)).toBe(0);
    const start = (await probeVideo(late)).videoStartSec;
    expect(Math.abs(start - 0.5)).toBeLessThan(0.03); // ffmpeg 4.1 places it at 0.52
    // The time the decoder shows the first frame at (its showinfo), not the probe's reading again.
    const shown = spawnSync(resolveFfmpeg().path, ['-hide_banner', '-i', late, '-map', '0:v', '-vf', 'showinfo', '-frames:v', '1', '-f', 'null', '-']);
    const pts = Number(/pts_time:([\d.]+)/.exec(String(shown.stderr))?.[1]);
    expect(start).toBeCloseTo(pts, 4);
    // A real phone clip whose first frame comes one frame after its sound starts, and one that starts with it.
    expect((await probeVideo(clip('vr_face1.mp4'))).videoStartSec).toBeCloseTo(0.033, 3);
    expect((await probeVideo(clip('lp_d11.mp4'))).videoStartSec).toBe(0);
  });

  it('reads an AVI, and names the containers it reads when it refuses one', async () => {
    const ff = resolveFfmpeg().path;
    const avi = join(tmp, 'webcam.avi');
    const made = spawnSync(ff, ['-v', 'error', '-y', '-i', clip('lp_d11.mp4'), '-t', '1', '-c:v', 'mjpeg', '-q:v', '2', '-c:a', 'pcm_s16le', avi]);
    expect(made.status, String(made.stderr)).toBe(0);
    const info = await probeVideo(avi);
    expect([info.width, info.height, info.frameCount, info.hasAudio, info.videoStartSec]).toEqual([512, 512, 25, true, 0]);
    const ours = await readFrames(avi, { start: 10, count: 3 });
    expect(ours.map((f) => f.index)).toEqual([10, 11, 12]);
    // The same pictures as the MP4's frames 10..12, through a lossy re-encode.
    const theirs = await readFrames(clip('lp_d11.mp4'), { start: 10, count: 3 });
    for (const [i, f] of ours.entries()) {
      let se = 0;
      for (let k = 0; k < f.data.length; k++) se += (f.data[k]! - theirs[i]!.data[k]!) ** 2;
      expect(10 * Math.log10((255 * 255 * f.data.length) / se), `frame ${10 + i}`).toBeGreaterThan(30);
    }
    // Containers outside the list (a camcorder's MPEG-TS, an animated GIF): refused, and the message says what is read.
    for (const [name, args] of [
      ['camcorder.mts', ['-i', clip('lp_d11.mp4'), '-t', '1', '-c:v', 'libx264', '-c:a', 'aac', '-f', 'mpegts']],
      ['talk.gif', ['-f', 'lavfi', '-i', 'testsrc=size=32x32:rate=10:duration=1']]
    ] as const) {
      const file = join(tmp, name);
      expect(spawnSync(ff, ['-v', 'error', '-y', ...args, file]).status).toBe(0);
      await expect(probeVideo(file)).rejects.toMatchObject({ code: 'NOT_A_VIDEO', message: expect.stringContaining(`${name}" (Invalid argument). It reads MP4/MOV, Matroska/WebM and AVI files`) });
    }
  });

  it("counts the first frame's time from the file's start for ffmpeg, and as a browser's media clock does", () => {
    const v = (start?: string) => ({ index: 0, codec_type: 'video', ...(start !== undefined ? { start_time: start } : {}) });
    expect(streamStartOffset(v('0.533'), { start_time: '0.000' })).toBe(0.533);
    expect(streamStartOffset(v('1.466667'), { start_time: '1.4' })).toBeCloseTo(0.066667, 6); // an MPEG-TS-like file: both start late
    expect(streamStartOffset(v('0.000'), { start_time: '-0.007' })).toBe(0.007); // Opus in WebM starts before 0
    expect(streamStartOffset(v(), { start_time: '0' })).toBe(0); // unknown: 0
    expect(streamStartOffset(v('N/A'), { start_time: '0' })).toBe(0);
    // Chromium keeps a positive start (frame 0 at 1.466667 on the clock) and rebases a negative one to 0.
    expect(browserClockStart({ videoStartSec: 0.066667, fileStartSec: 1.4 })).toBeCloseTo(1.466667, 6);
    expect(browserClockStart({ videoStartSec: 0.007, fileStartSec: -0.007 })).toBe(0.007);
    expect(browserClockStart({ videoStartSec: 0.033, fileStartSec: 0 })).toBe(0.033);
  });

  it('picks the moving, default video stream: not cover art, not a still, the default of two clips', () => {
    const s = (index: number, frames: number, d: { attached_pic?: number; default?: number } = {}) => ({ index, codec_type: 'video', nb_read_packets: String(frames), disposition: d });
    expect(pickVideoStream([s(0, 1, { default: 1 }), s(1, 50)])?.index).toBe(1);
    expect(pickVideoStream([s(0, 1, { attached_pic: 1 }), s(1, 50)])?.index).toBe(1);
    expect(pickVideoStream([s(0, 60), s(1, 50, { default: 1 })])?.index).toBe(1);
    expect(pickVideoStream([s(0, 50), s(1, 60)])?.index).toBe(0);
    expect(pickVideoStream([s(0, 1)])?.index).toBe(0); // a one-picture video is still the video
    expect(pickVideoStream([{ index: 0, codec_type: 'audio' }])).toBeUndefined();
  });

  it('names the file in a typed error for unusable inputs', async () => {
    const empty = join(tmp, 'zero-bytes.mp4');
    await writeFile(empty, '');
    await expectVideoError(probeVideo(empty), 'EMPTY', 'zero-bytes.mp4');

    const text = join(tmp, 'x.mp4');
    await writeFile(text, 'this is a text file, not a video\n');
    await expectVideoError(probeVideo(text), 'NOT_A_VIDEO', 'x.mp4');

    const whole = readFileSync(clip('lp_d11.mp4'));
    const truncated = join(tmp, 'cut-short.mp4');
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length * 0.3)));
    await expectVideoError(probeVideo(truncated), 'TRUNCATED', 'cut-short.mp4');

    await expectVideoError(probeVideo(join(tmp, 'missing.mp4')), 'NOT_FOUND', 'missing.mp4');
    // Decoding reports the same errors, before any frame.
    await expectVideoError(readFrames(truncated), 'TRUNCATED', 'cut-short.mp4');
    // An audio source that is not media stops the writer before it starts.
    await expectVideoError(createVideoWriter({ path: join(tmp, 'with-bad-audio.mp4'), width: 8, height: 8, fps: 25, audioFrom: text }), 'NOT_A_VIDEO', 'x.mp4');
    expect(existsSync(join(tmp, 'with-bad-audio.mp4'))).toBe(false);
  });

  it('refuses an output folder that is missing or cannot be written, before encoding', async () => {
    await expectVideoError(createVideoWriter({ path: join(tmp, 'no-such-folder', 'out.mp4'), width: 8, height: 8, fps: 25 }), 'NOT_FOUND', 'no-such-folder');

    const readonly = join(tmp, 'readonly');
    await rm(readonly, { recursive: true, force: true });
    await mkdir(readonly);
    await chmod(readonly, 0o555);
    // Root ignores directory permissions; sysfs refuses new files even to root.
    let folder = readonly;
    try {
      await writeFile(join(readonly, 'probe'), '');
      await rm(join(readonly, 'probe'));
      folder = '/sys';
    } catch {
      // Permissions work for this user: use the read-only folder.
    }
    if (folder === '/sys' && !existsSync('/sys')) {
      console.warn('unwritable-folder case skipped: running as root without /sys, so no folder refuses writes');
      return;
    }
    const err = await createVideoWriter({ path: join(folder, 'out.mp4'), width: 8, height: 8, fps: 25 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VideoError);
    expect((err as VideoError).code).toBe('NOT_WRITABLE');
    expect((err as VideoError).message).toContain(folder);
    expect((err as VideoError).message).toContain('out.mp4');
    expect(existsSync(join(folder, 'out.mp4'))).toBe(false);
    if (folder === readonly) expect(await readdir(readonly)).toEqual([]);
  });
});
