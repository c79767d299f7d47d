// The saved face alignment of an interrupted encode (align-progress.bin): it reads back exactly
// what was written, only for the video, range and tracker settings it was made for, and a
// damaged or foreign file is ignored rather than trusted.
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALIGN_PROGRESS_FILE,
  AlignProgressWriter,
  alignProgressFrames,
  decodeAlignProgress,
  encodeAlignProgress,
  readAlignProgress,
  removeAlignProgress,
  type AlignProgressKey
} from '../../../src/core/encode/align-progress';
import type { AlignCheckpoint } from '../../../src/core/face/pipeline';
import type { FrameFace } from '../../../src/core/face/types';
import { tempDir } from '../../helpers';

const tmp = tempDir('align-progress');

const key: AlignProgressKey = { sourceSha256: 'ab'.repeat(32), start: 40, count: 10, tracker: { detectMaxSide: 640, minScore: 0.5, maxHintFrames: 8 } };

/** Six frames from source frame 40: a face on each but 43, the one at 44 from a hint box. */
function checkpoint(): AlignCheckpoint {
  const frames: FrameFace[] = [];
  for (let i = 0; i < 6; i++) {
    const index = 40 + i;
    if (index === 43) {
      frames.push({ index, box: null, landmarks: null });
      continue;
    }
    // Values that need every bit: thirds in float64 for the box, and float32 landmarks.
    const landmarks = Float32Array.from({ length: 136 }, (_, j) => 100 + j / 3 + i / 7);
    frames.push({ index, box: { x: 10 / 3 + i, y: 20 / 7, width: 150.1 + i / 9, height: 160.2, score: index === 44 ? 0 : 0.97 }, landmarks });
  }
  return { frames, hintedFrames: [44], hintRun: 1 };
}

describe('align-progress.bin', () => {
  it('reads back exactly the frames, hints and hint run written', () => {
    const c = checkpoint();
    const back = decodeAlignProgress(encodeAlignProgress(key, c), key);
    expect(back).not.toBeNull();
    expect(back!.frames).toEqual(c.frames);
    expect(back!.frames[3]).toEqual({ index: 43, box: null, landmarks: null });
    expect(back!.frames[1]!.box!.x).toBe(10 / 3 + 1);
    expect(back!.frames[5]!.landmarks![7]).toBe(Math.fround(100 + 7 / 3 + 5 / 7));
    expect(back!.hintedFrames).toEqual([44]);
    expect(back!.hintRun).toBe(1);
    // The first n frames of a checkpoint whose arrays grew since.
    const first = decodeAlignProgress(encodeAlignProgress(key, c, 3, 0), key)!;
    expect(first.frames).toEqual(c.frames.slice(0, 3));
    expect(first.hintedFrames).toEqual([]);
  });

  it('is ignored for another video, range or tracker setting, and when damaged', () => {
    const bytes = encodeAlignProgress(key, checkpoint());
    for (const other of [
      { ...key, sourceSha256: 'cd'.repeat(32) },
      { ...key, start: 41 },
      { ...key, count: 5 }, // fewer frames than it holds
      { ...key, tracker: { ...key.tracker, minScore: 0.6 } },
      { ...key, tracker: { ...key.tracker, detectMaxSide: 320 } },
      { ...key, tracker: { ...key.tracker, maxHintFrames: 0 } } // its hint run of 1 is then impossible
    ]) {
      expect(decodeAlignProgress(bytes, other), JSON.stringify(other)).toBeNull();
    }
    expect(decodeAlignProgress(bytes.subarray(0, bytes.length - 1), key)).toBeNull();
    expect(decodeAlignProgress(bytes.subarray(0, 3), key)).toBeNull();
    const nan = Buffer.from(bytes);
    nan.writeFloatLE(NaN, nan.length - 4);
    expect(decodeAlignProgress(nan, key)).toBeNull();
    const garbled = Buffer.from(bytes);
    garbled.write('}', 4);
    expect(decodeAlignProgress(garbled, key)).toBeNull();
  });

  it('is saved at most every interval and on flush, read back from the folder, and removed', async () => {
    const dir = join(tmp, 'a.stylecast');
    const file = join(dir, ALIGN_PROGRESS_FILE);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    const c = checkpoint();
    const live = { frames: c.frames.slice(0, 2), hintedFrames: [] as number[], hintRun: 0 };
    const w = new AlignProgressWriter(dir, key, 60_000);
    w.update(live);
    expect(existsSync(file)).toBe(false); // not due yet
    live.frames.push(c.frames[2]!); // the pipeline's arrays keep growing after a checkpoint
    w.flush();
    expect((await readAlignProgress(dir, key))!.frames).toEqual(c.frames.slice(0, 2));
    expect(await alignProgressFrames(dir)).toBe(2);
    new AlignProgressWriter(dir, key, 0).update(c);
    expect((await readAlignProgress(dir, key))!.frames).toEqual(c.frames);
    expect(await readAlignProgress(dir, { ...key, start: 0 })).toBeNull();
    // A shared project cannot point the file elsewhere: a link is not followed.
    const elsewhere = join(tmp, 'elsewhere.bin');
    writeFileSync(elsewhere, readFileSync(file));
    rmSync(file);
    symlinkSync(elsewhere, file);
    expect(await readAlignProgress(dir, key)).toBeNull();
    removeAlignProgress(dir);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(elsewhere)).toBe(true);
    expect(await alignProgressFrames(dir)).toBeNull();
  });
});
