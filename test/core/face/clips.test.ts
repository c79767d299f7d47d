// Alignment of the real talking-head clips: a face on (almost) every frame, and smoothed
// crops that move at most half as much as per-frame alignment does.
import { describe, expect, it } from 'vitest';
import { FaceNets } from '../../../src/core/face/nets';
import { alignVideo } from '../../../src/core/face/pipeline';
import { Runtime } from '../../../src/core/runtime';
import { clip, hasSharedData } from '../../helpers';

describe.skipIf(!hasSharedData)('aligning the shared clips (needs ../shared/data; skipped without it)', () => {
  for (const name of ['lp_d3.mp4', 'lp_d10.mp4', 'lp_d11.mp4', 'vr_face1.mp4']) {
    it(`${name}: face found on >= 99% of frames; smoothed jitter <= half of per-frame`, async () => {
      const rt = await Runtime.create({ device: 'cpu' });
      const nets = await FaceNets.load(rt);
      const r = await alignVideo({ path: clip(name), nets, size: 256 });
      console.log(`${name}: ${r.frames.length} frames, face found ${(r.faceFoundFraction * 100).toFixed(1)}%, jitter ${r.jitterPx.smoothed.toFixed(3)} px smoothed vs ${r.jitterPx.raw.toFixed(3)} px per-frame`);
      expect(r.faceFoundFraction).toBeGreaterThanOrEqual(0.99);
      expect(r.affines).toHaveLength(r.frames.length);
      expect(r.jitterPx.raw).toBeGreaterThan(0);
      expect(r.jitterPx.smoothed).toBeLessThanOrEqual(0.5 * r.jitterPx.raw);
    }, 300_000);
  }
});
