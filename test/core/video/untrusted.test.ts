// Media files are untrusted: a file named like a video that is really an ffconcat list (or
// any container we do not support) must not make ffmpeg read other files or the network.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeRgbPng } from '../../../src/core/util/png';
import { createVideoWriter, probeVideo, readFrames } from '../../../src/core/video';
import { tempDir } from '../../helpers';

const tmp = tempDir('untrusted-media');
const clip = join(tmp, 'clip.mp4');

beforeAll(async () => {
  mkdirSync(tmp, { recursive: true });
  const w = await createVideoWriter({ path: clip, width: 32, height: 32, fps: 10, preset: 'ultrafast' });
  for (let f = 0; f < 4; f++) await w.write(new Uint8Array(32 * 32 * 3).fill(40 * f));
  await w.close();
});

describe('ffmpeg reads untrusted media through a whitelist', () => {
  it('a "video" that is an ffconcat list naming another file is refused, by probe and by decode', async () => {
    const evil = join(tmp, 'talk.mp4');
    writeFileSync(evil, 'ffconcat version 1.0\nfile clip.mp4\n');
    await expect(probeVideo(evil)).rejects.toThrow(/talk\.mp4/);
    await expect(readFrames(evil, { count: 1 })).rejects.toThrow(/talk\.mp4/);
  });

  it('the containers and images Stylecast supports still open', async () => {
    expect((await probeVideo(clip)).frameCount).toBe(4);
    const [frame] = await readFrames(clip, { count: 1 });
    expect([frame!.width, frame!.height]).toEqual([32, 32]);
    const png = join(tmp, 'face.png');
    const pixels = new Uint8Array(8 * 8 * 3).map((_, i) => (i * 5) & 0xff);
    writeFileSync(png, encodeRgbPng({ data: pixels, width: 8, height: 8 }));
    const [still] = await readFrames(png, { count: 1 });
    expect(Buffer.from(still!.data).equals(Buffer.from(pixels))).toBe(true);
  });
});
