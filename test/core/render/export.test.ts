// Export: a paste-back render of a real clip keeps the source size, the audio and the
// duration; the crop render has the model's size; frames outside the face are the source's.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEncodeJob } from '../../../src/core/encode/job';
import { FaceNets } from '../../../src/core/face/nets';
import type { Affine } from '../../../src/core/face/types';
import { warpToCrop } from '../../../src/core/face/warp';
import { loadBasis } from '../../../src/core/model/basis';
import { Generator } from '../../../src/core/model/generator';
import { makeTruth } from '../../../src/core/encode/synth';
import { resolveFfmpeg } from '../../../src/core/video/ffmpeg';
import { FrameRenderer, exportVideo } from '../../../src/core/render/render';
import { Runtime } from '../../../src/core/runtime';
import { probeVideo, readFrames } from '../../../src/core/video';
import { calibratedSeededModel, clip, hasSharedData, smallSchedule, tempDir } from '../../helpers';

const tmp = tempDir('export');

describe('the exported sound', () => {
  it('is the source audio of the exported frames, from the first one\'s time, not from the start of the source', async () => {
    // A 3-second clip whose tone steps each second: 200 Hz, then 400 Hz, then 600 Hz.
    const ff = resolveFfmpeg().path;
    const video = join(tmp, 'tones.mp4');
    const made = spawnSync(ff, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=25:duration=3', '-f', 'lavfi', '-i', 'aevalsrc=sin(2*PI*(200+200*floor(t))*t):s=16000:d=3', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', video]);
    expect(made.status, String(made.stderr)).toBe(0);
    const rt = await Runtime.create({ device: 'cpu' });
    const bundle = await calibratedSeededModel(join(tmp, 'model'), rt);
    const basis = loadBasis(bundle);
    const gen = new Generator(bundle, rt);
    const { project } = await runEncodeJob({
      video, bundle, basis, rt, projectDir: join(tmp, 'tones.stylecast'), align: 'none', frames: { start: 25, count: 12 },
      schedule: smallSchedule({ params: 2 }), givenIdentity: (await makeTruth(gen, { seed: 3, frames: 1 })).wid
    });
    const renderer = new FrameRenderer(bundle, basis, rt);
    // The project's frames 4..11 are the source's 29..36: from 1.16 s, in the 400 Hz second.
    const out = await exportVideo({ project, renderer, out: join(tmp, 'tones-out.mp4'), pasteBack: false, frames: { start: 4, count: 8 } });
    expect(out.audio).toBe(true);
    expect(Math.abs(toneHz(ff, out.path) - 400)).toBeLessThan(30);

    // A video that starts 0.6 s into its sound (Matroska, PCM sound: no encoder delay), whose
    // sound is one click at 1.4 s. Source frame k is shown at 0.6 + k/25 s (ffmpeg 4.1 may place
    // the stream a frame later; the probe reads where), so project frames 4.. of an encode from
    // frame 10 (source 14..) start 0.56 s after the first frame: the click belongs 1.4 - 0.6 -
    // 0.56 = 0.24 s into the 0.32 s export (0.84 s, past its end, counted from the start of the sound).
    const late = join(tmp, 'click-late.mkv');
    const lateMade = spawnSync(ff, ['-v', 'error', '-y', '-itsoffset', '0.6', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=25:duration=2', '-f', 'lavfi', '-i', 'aevalsrc=if(lt(abs(t-1.4)\\,0.0005)\\,0.9\\,0):s=16000:d=3', '-c:v', 'libx264', '-bf', '0', '-pix_fmt', 'yuv420p', '-c:a', 'pcm_s16le', late]);
    expect(lateMade.status, String(lateMade.stderr)).toBe(0);
    const lateRun = await runEncodeJob({
      video: late, bundle, basis, rt, projectDir: join(tmp, 'click-late.stylecast'), align: 'none', frames: { start: 10, count: 12 },
      schedule: smallSchedule({ params: 2 }), givenIdentity: (await makeTruth(gen, { seed: 3, frames: 1 })).wid
    });
    const videoStart = lateRun.project.doc.source.videoStartSec!;
    expect(Math.abs(videoStart - 0.6)).toBeLessThan(0.05);
    // The encode records how it read the frames (standard range, this 64 px stream's own matrix), for every later read.
    expect(lateRun.project.doc.source).toMatchObject({ hdr: null, assumedMatrix: null });
    const lateOut = await exportVideo({ project: lateRun.project, renderer, out: join(tmp, 'click-late-out.mp4'), pasteBack: false, frames: { start: 4, count: 8 } });
    expect(lateOut.audio).toBe(true);
    expect(Math.abs(clickAt(ff, lateOut.path) - (1.4 - videoStart - 14 / 25))).toBeLessThan(0.002);
    // A project made before the start was recorded: the export reads it from the source.
    delete (lateRun.project.doc.source as { videoStartSec?: number }).videoStartSec;
    const oldOut = await exportVideo({ project: lateRun.project, renderer, out: join(tmp, 'click-late-old.mp4'), pasteBack: false, frames: { start: 4, count: 8 } });
    expect(Math.abs(clickAt(ff, oldOut.path) - (1.4 - videoStart - 14 / 25))).toBeLessThan(0.002);
  }, 300_000);
});

/** When the loudest sample of a file's sound is, in seconds: a click's time. */
function clickAt(ff: string, path: string): number {
  const pcm = spawnSync(ff, ['-v', 'error', '-i', path, '-vn', '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'], { maxBuffer: 1 << 24 }).stdout;
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength >> 1);
  let best = 0;
  for (let i = 1; i < samples.length; i++) if (Math.abs(samples[i]!) > Math.abs(samples[best]!)) best = i;
  return best / 16000;
}

/** The tone's frequency from 0.05 to 0.25 s of a file's sound: its zero crossings, two per period. */
function toneHz(ff: string, path: string): number {
  const pcm = spawnSync(ff, ['-v', 'error', '-i', path, '-vn', '-ac', '1', '-ar', '16000', '-f', 's16le', 'pipe:1'], { maxBuffer: 1 << 24 }).stdout;
  const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength >> 1);
  let crossings = 0;
  for (let i = 801; i < 4000; i++) if ((samples[i - 1]! < 0) !== (samples[i]! < 0)) crossings++;
  return crossings / 2 / 0.2;
}

describe.skipIf(!hasSharedData)('exporting an encoded real clip (needs ../shared/data; skipped without it)', () => {
  it('pastes back into full frames with the audio and the right duration', async () => {
    const rt = await Runtime.create({ device: 'cpu' });
    const bundle = await calibratedSeededModel(join(tmp, 'model'), rt);
    const basis = loadBasis(bundle);
    const schedule = smallSchedule({ invert: 40, refine: 20, params: 8 }, { candidates: 2, refineFrames: 4 });
    const video = clip('lp_d11.mp4');
    const { project } = await runEncodeJob({
      video, bundle, basis, rt, projectDir: join(tmp, 'd11.stylecast'), align: 'face', nets: await FaceNets.load(rt),
      frames: { start: 0, count: 24 }, schedule
    });
    const renderer = new FrameRenderer(bundle, basis, rt);
    const pasted = await exportVideo({ project, renderer, out: join(tmp, 'pasted.mp4'), pasteBack: true });
    const info = await probeVideo(pasted.path);
    expect(info.width).toBe(512);
    expect(info.height).toBe(512);
    expect(info.frameCount).toBe(24);
    expect(info.hasAudio).toBe(true);
    expect(Math.abs(info.durationSec - 24 / 25)).toBeLessThanOrEqual(1 / 25);

    // Outside the face quad the frame is the source's (up to H.264 noise); at the centre of the
    // face it is the render: warped back into crop space it matches the rendered crop, not the source.
    const [src] = await readFrames(video, { start: 5, count: 1 });
    const [out] = await readFrames(pasted.path, { start: 5, count: 1 });
    let corner = 0;
    for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) for (let c = 0; c < 3; c++) corner += Math.abs(src!.data[(y * 512 + x) * 3 + c]! - out!.data[(y * 512 + x) * 3 + c]!);
    expect(corner / (40 * 40 * 3)).toBeLessThan(4);
    const T = Array.from(project.transforms.subarray(5 * 6, 6 * 6)) as Affine;
    const [rendered] = await renderer.render(project.wid, project.params.subarray(5 * 35, 6 * 35), 64);
    const outCrop = warpToCrop(out!.data, 512, 512, T, 64);
    const srcCrop = warpToCrop(src!.data, 512, 512, T, 64);
    const centreDiff = (a: Uint8Array) => {
      let d = 0;
      for (let y = 24; y < 40; y++) for (let x = 24; x < 40; x++) for (let c = 0; c < 3; c++) d += Math.abs(a[(y * 64 + x) * 3 + c]! - rendered![(y * 64 + x) * 3 + c]!);
      return d / (16 * 16 * 3);
    };
    console.log(`paste-back centre: ${centreDiff(outCrop).toFixed(2)} from the render, ${centreDiff(srcCrop).toFixed(2)} from the source`);
    expect(centreDiff(outCrop)).toBeLessThan(6);
    expect(centreDiff(srcCrop)).toBeGreaterThan(2 * centreDiff(outCrop));

    const crop = await exportVideo({ project, renderer, out: join(tmp, 'crop.mp4'), pasteBack: false, size: 32, audio: false });
    const ci = await probeVideo(crop.path);
    expect([ci.width, ci.height, ci.frameCount, ci.hasAudio]).toEqual([32, 32, 24, false]);
    await expect(exportVideo({ project, renderer, out: join(tmp, 'bad.mp4'), pasteBack: false, size: 48 })).rejects.toThrow(/16, 32, 64/);
  }, 600_000);
});
