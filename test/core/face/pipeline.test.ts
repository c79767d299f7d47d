// alignVideo on a real clip with fake face networks: the decoding, streaming,
// hinting, gap filling, smoothing and jitter plumbing. The real networks are
// tested with the pipeline once they land (nets.test.ts).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ffhqQuad, quadToAffine } from '../../../src/core/face/align';
import { FaceAlignError } from '../../../src/core/face/errors';
import { alignVideo, pickFace, type AlignCheckpoint, type FaceNetsLike } from '../../../src/core/face/pipeline';
import type { FaceBox, Landmarks68 } from '../../../src/core/face/types';
import { CancelledError } from '../../../src/core/video';
import { asLandmarks, faceUnder, normal, rng } from './fixtures';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const dataDir = resolve(repoRoot, '..', 'shared', 'data');
const clip = join(dataDir, 'clips', 'lp_d11.mp4'); // 512x512, 25 fps, 225 frames
const haveClip = existsSync(clip);
if (!haveClip) console.warn(`face pipeline tests skipped: the shared clips are not at ${join(dataDir, 'clips')}`);

/** The fake face of source frame t: drifting right, 1 px of landmark noise. */
function fakeLandmarks(t: number, noise: () => number): Landmarks68 {
  const lm = asLandmarks(faceUnder({ scale: 200, angle: 0.05, tx: 150 + 0.5 * t, ty: 120 }));
  for (let i = 0; i < lm.length; i++) lm[i] += noise();
  return lm;
}

function boxOf(lm: Landmarks68): FaceBox {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = 0; i < 68; i++) {
    x0 = Math.min(x0, lm[2 * i]);
    x1 = Math.max(x1, lm[2 * i]);
    y0 = Math.min(y0, lm[2 * i + 1]);
    y1 = Math.max(y1, lm[2 * i + 1]);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0, score: 0.99 };
}

interface FakeOptions {
  start: number;
  /** Source frames where the detector finds nothing. */
  missDetect?: Set<number>;
  /** Source frames where there is no face at all (landmarks come back as garbage). */
  noFace?: Set<number>;
  /** Landmark noise seeded by the frame, so two runs over overlapping frames see the same faces. */
  noisePerFrame?: boolean;
}

/** Fake networks that know which frame they are looking at by counting detect calls. */
function fakeNets(opts: FakeOptions) {
  const noise = normal(rng(9));
  const truth = new Map<number, Landmarks68>();
  const seen: { width: number; height: number }[] = [];
  const hintBoxes: FaceBox[] = [];
  let frame = opts.start - 1;
  const nets: FaceNetsLike = {
    async detect(rgb, width, height) {
      expect(rgb.length).toBe(width * height * 3);
      frame++;
      seen.push({ width, height });
      const lm = fakeLandmarks(frame, opts.noisePerFrame ? normal(rng(1000 + frame)) : noise);
      truth.set(frame, lm);
      if (opts.missDetect?.has(frame) || opts.noFace?.has(frame)) return [];
      const f = (width / 512);
      const b = boxOf(lm);
      // A second, smaller face that the tracker must not jump to, and a low-score false positive.
      return [
        { x: 400 * f, y: 400 * f, width: 60 * f, height: 60 * f, score: 0.9 },
        { x: b.x * f, y: b.y * f, width: b.width * f, height: b.height * f, score: 0.97 },
        { x: 0, y: 0, width: 500 * f, height: 500 * f, score: 0.2 },
      ];
    },
    landmarks(rgb, width, height, box) {
      expect([width, height]).toEqual([512, 512]);
      if (box.score === 0) hintBoxes.push(box);
      if (opts.noFace?.has(frame)) return new Float32Array(136).fill(3); // degenerate
      return truth.get(frame)!;
    },
  };
  return { nets, truth, seen, hintBoxes };
}

describe('pickFace', () => {
  const a: FaceBox = { x: 0, y: 0, width: 100, height: 100, score: 0.9 };
  const b: FaceBox = { x: 300, y: 0, width: 50, height: 50, score: 0.95 };
  it('follows the previous face, else takes the largest confident one', () => {
    expect(pickFace([a, b], null, 0.5)).toBe(a);
    expect(pickFace([a, b], { ...b, x: 305 }, 0.5)).toBe(b);
    expect(pickFace([a, b], { ...b, x: 1000 }, 0.5)).toBe(a);
    expect(pickFace([{ ...a, score: 0.3 }, b], null, 0.5)).toBe(b);
    expect(pickFace([{ ...a, score: 0.3 }], null, 0.5)).toBeNull();
  });
});

describe.skipIf(!haveClip)('alignVideo on a real clip with fake networks', () => {
  it('streams the frames, tracks one face, hints over detector misses, fills gaps and smooths', async () => {
    const start = 10;
    const fake = fakeNets({ start, missDetect: new Set([20, 21, 22]), noFace: new Set([30, 31]) });
    const progress: [number, number][] = [];
    const r = await alignVideo({
      path: clip,
      nets: fake.nets,
      size: 1024,
      smoothing: { sigmaFrames: 2 },
      frames: { start, count: 40 },
      onProgress: (i, n) => progress.push([i, n]),
    });
    expect([r.width, r.height, r.fps, r.size, r.start]).toEqual([512, 512, 25, 1024, 10]);
    expect(r.frames.map((f) => f.index)).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
    expect(progress.length).toBe(40);
    expect(progress.at(-1)).toEqual([40, 40]);
    // 512 px: the detector sees the full frame.
    expect(fake.seen.every((s) => s.width === 512 && s.height === 512)).toBe(true);

    // Detector misses at 20-22 are bridged by the hint box; 30-31 have no face.
    expect(r.hintedFrames).toEqual([20, 21, 22]);
    // Hints tried: 20-22 (accepted) and 30 (rejected: degenerate landmarks); none at 31, whose previous frame had no face.
    expect(fake.hintBoxes.length).toBe(4);
    for (const i of [30, 31]) {
      expect(r.frames[i - start].landmarks).toBeNull();
      expect(r.frames[i - start].box).toBeNull();
      expect(r.quadsRaw[i - start]).toBeNull();
    }
    expect(r.faceFoundFraction).toBeCloseTo(38 / 40, 12);

    // The tracked face is the big one, never the small second face.
    for (const f of r.frames) if (f.box) expect(f.box.width).toBeGreaterThan(150);
    // Raw quads are the FFHQ quads of the landmarks.
    const q12 = ffhqQuad(fake.truth.get(12)!);
    expect(r.quadsRaw[2]!.cx).toBeCloseTo(q12.cx, 9);

    // Gap-filled, smoothed and turned into 1024 affines for every frame.
    expect(r.quadsSmoothed.length).toBe(40);
    expect(r.affines.length).toBe(40);
    r.affines.forEach((A, i) => expect(A).toEqual(quadToAffine(r.quadsSmoothed[i], 1024)));
    // The smoothed quads follow the true drift of 0.5 px a frame to well under the noise.
    const q0 = ffhqQuad(asLandmarks(faceUnder({ scale: 200, angle: 0.05, tx: 0, ty: 0 })));
    const err = r.quadsSmoothed.map((q, i) => Math.hypot(q.cx - (q0.cx + 150 + 0.5 * (start + i)), q.cy - (q0.cy + 120)));
    expect(Math.max(...err)).toBeLessThan(1.5);

    // Measured in 256-crop pixels: smoothing takes most of the jitter out.
    expect(r.jitterPx.raw).toBeGreaterThan(0.3);
    expect(r.jitterPx.smoothed).toBeLessThan(r.jitterPx.raw / 2);
  });

  it('detects on an area-downscaled copy and scales the boxes back', async () => {
    const fake = fakeNets({ start: 0 });
    const r = await alignVideo({ path: clip, nets: fake.nets, frames: { count: 4 }, detectMaxSide: 256 });
    expect(fake.seen.every((s) => s.width === 256 && s.height === 256)).toBe(true);
    const b = boxOf(fake.truth.get(0)!);
    expect(r.frames[0].box!.x).toBeCloseTo(b.x, 4);
    expect(r.frames[0].box!.width).toBeCloseTo(b.width, 4);
    expect(r.affines[0]).toEqual(quadToAffine(r.quadsSmoothed[0], 256));
  });

  it('throws NO_FACE with the source frames of a gap too long to fill', async () => {
    const fake = fakeNets({ start: 5, noFace: new Set(Array.from({ length: 12 }, (_, i) => 12 + i)) });
    const run = alignVideo({ path: clip, nets: fake.nets, frames: { start: 5, count: 30 }, maxGap: 8 });
    await expect(run).rejects.toThrow('no face in frames 12-23 (12 frames); the longest gap that can be filled is 8');
    await expect(run).rejects.toBeInstanceOf(FaceAlignError);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    const fake = fakeNets({ start: 0 });
    const run = alignVideo({
      path: clip,
      nets: fake.nets,
      signal: ac.signal,
      onProgress: (i) => {
        if (i === 3) ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(fake.seen.length).toBeLessThan(10);
  });

  it('resumes from a checkpoint: detects only the frames after it and ends exactly as an uninterrupted run', async () => {
    const start = 10;
    const count = 30;
    const faces = { missDetect: new Set([20, 21, 22]), noFace: new Set([30, 31]), noisePerFrame: true };
    // At most 2 hints in a row: frame 22 gets none, so the restored hint run matters.
    const maxHintFrames = 2;
    const whole = fakeNets({ start, ...faces });
    const checkpoints = new Map<number, AlignCheckpoint>();
    const common = { path: clip, size: 256, smoothing: { sigmaFrames: 3 }, frames: { start, count }, maxHintFrames };
    const full = await alignVideo({
      ...common,
      nets: whole.nets,
      onCheckpoint: (c) => checkpoints.set(c.frames.length, { frames: c.frames.slice(), hintedFrames: c.hintedFrames.slice(), hintRun: c.hintRun }),
    });
    expect([...checkpoints.keys()]).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(full.hintedFrames).toEqual([20, 21]);
    expect(full.frames[22 - start]!.landmarks).toBeNull();
    expect(checkpoints.get(12)!.hintRun).toBe(2); // stopped after frame 21, at the end of the hints allowed
    // Cut points: after the first frame, before the first hint (whose box follows the last two
    // frames' motion), inside and at the end of the hint run, after a frame with no face, at the end.
    for (const k of [1, 10, 11, 12, 21, 30]) {
      const rest = fakeNets({ start: start + k, ...faces });
      const progress: number[] = [];
      const r = await alignVideo({ ...common, nets: rest.nets, resume: checkpoints.get(k)!, onProgress: (i) => progress.push(i) });
      expect(rest.seen.length, `cut at ${k}`).toBe(count - k);
      expect(progress[0]).toBe(k);
      expect(progress.at(-1)).toBe(count);
      expect(r.frames).toEqual(full.frames);
      expect(r.hintedFrames).toEqual(full.hintedFrames);
      expect(r.affines).toEqual(full.affines);
      expect(r.jitterPx).toEqual(full.jitterPx);
    }
    // Frames that are not the start of the range are refused.
    const wrong = { ...checkpoints.get(3)!, frames: checkpoints.get(3)!.frames.map((f) => ({ ...f, index: f.index + 1 })) };
    await expect(alignVideo({ path: clip, nets: fakeNets({ start: 13 }).nets, frames: { start, count }, resume: wrong })).rejects.toThrow(/not the first 3 of frames 10-39/);
  });
});
