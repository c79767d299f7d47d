// Export: a paste-back render of a real clip keeps the source size, the audio and the
// duration; the crop render has the model's size; frames outside the face are the source's.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runEncodeJob } from '../../../src/core/encode/job';
import { FaceNets } from '../../../src/core/face/nets';
import type { Affine } from '../../../src/core/face/types';
import { warpToCrop } from '../../../src/core/face/warp';
import { loadBasis } from '../../../src/core/model/basis';
import { FrameRenderer, exportVideo } from '../../../src/core/render/render';
import { Runtime } from '../../../src/core/runtime';
import { probeVideo, readFrames } from '../../../src/core/video';
import { calibratedSeededModel, clip, hasSharedData, smallSchedule, tempDir } from '../../helpers';

const tmp = tempDir('export');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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
