import { describe, expect, it } from 'vitest';
import { alignAffine, ffhqQuad, landmarksToCrop, quadToAffine, type Quad } from '../../../src/core/face/align';
import { EYE_MOUTH_INDICES, alignedLandmarkJitter, rmsVelocity } from '../../../src/core/face/jitter';
import { smoothQuads } from '../../../src/core/face/smooth';
import type { Affine } from '../../../src/core/face/types';
import { asLandmarks, faceUnder, normal, rng } from './fixtures';

const T = 60;
const base = { scale: 180, angle: 0.2, tx: 400, ty: 260 };
const still = asLandmarks(faceUnder(base));
const q0 = ffhqQuad(still);

/** The face nodding and drifting: real motion the crop should show. */
const moving = Array.from({ length: T }, (_, t) =>
  asLandmarks(faceUnder({ scale: 180 * (1 + 0.05 * Math.sin(t / 7)), angle: 0.2 + 0.1 * Math.sin(t / 5), tx: 400 + 3 * t, ty: 260 + 10 * Math.sin(t / 4) }))
);

describe('alignedLandmarkJitter', () => {
  it('is 0 for a constant transform, whether the face is still or moving', () => {
    const A = quadToAffine(q0, 256);
    const affines = Array.from({ length: T }, () => A);
    expect(alignedLandmarkJitter(Array.from({ length: T }, () => still), affines)).toBe(0);
    expect(alignedLandmarkJitter(moving, affines)).toBeLessThan(1e-9);
    // And at any crop size the affines were made for.
    const A1024 = quadToAffine(q0, 1024);
    expect(alignedLandmarkJitter(moving, Array.from({ length: T }, () => A1024), 256, 1024)).toBeLessThan(1e-9);
  });

  it('measures a crop that jumps back and forth: 256 * 2 delta / (2 s) for a translation of +-delta', () => {
    const delta = 1.5;
    const quads: Quad[] = Array.from({ length: T }, (_, t) => ({ ...q0, cx: q0.cx + (t % 2 ? delta : -delta) }));
    const expected = (256 * 2 * delta) / (2 * q0.s);
    for (const size of [256, 1024]) {
      const affines = quads.map((q) => quadToAffine(q, size));
      expect(alignedLandmarkJitter(moving, affines, 256, size)).toBeCloseTo(expected, 9);
    }
    // In a 512 crop the same shake is twice as many pixels.
    expect(alignedLandmarkJitter(moving, quads.map((q) => quadToAffine(q, 256)), 512, 256)).toBeCloseTo(2 * expected, 9);
  });

  it('measures a crop that turns back and forth: 2 sin(eps) times the RMS distance of the landmarks from the crop centre', () => {
    const eps = 0.01;
    const quads: Quad[] = Array.from({ length: T }, (_, t) => ({ ...q0, theta: q0.theta + (t % 2 ? eps : -eps) }));
    const affines = quads.map((q) => quadToAffine(q, 256));
    const lms = Array.from({ length: T }, () => still);
    // Rotating the crop by 2 eps about its centre moves a point at radius r (crop px) by 2 r sin(eps).
    let sum = 0;
    for (let t = 1; t < T; t++) {
      const u = landmarksToCrop(still, affines[t - 1]);
      for (const k of EYE_MOUTH_INDICES) sum += (u[2 * k] - 128) ** 2 + (u[2 * k + 1] - 128) ** 2;
    }
    const expected = 2 * Math.sin(eps) * Math.sqrt(sum / ((T - 1) * EYE_MOUTH_INDICES.length));
    expect(alignedLandmarkJitter(lms, affines)).toBeCloseTo(expected, 6); // Float32 landmarks
    expect(expected).toBeGreaterThan(0.5);
  });

  it('skips frames without landmarks or transforms, and is NaN with no pair left', () => {
    const A = quadToAffine(q0, 256);
    const B: Affine = quadToAffine({ ...q0, cx: q0.cx + 10 }, 256);
    // The only complete pair is (2, 3), with no jump.
    expect(alignedLandmarkJitter([still, null, still, still], [A, B, B, B])).toBe(0);
    expect(alignedLandmarkJitter([still, still], [A, null])).toBeNaN();
    expect(() => alignedLandmarkJitter([still], [])).toThrow(/same frames/);
  });

  it('is lower for smoothed FFHQ transforms than for per-frame ones on noisy landmarks', () => {
    // A talking head drifting slowly (0.3 px a frame, a slight nod), landmarks with 1 px of noise.
    const noise = normal(rng(5));
    const drifting = Array.from({ length: T }, (_, t) =>
      asLandmarks(faceUnder({ scale: 180, angle: 0.2 + 0.02 * Math.sin(t / 15), tx: 400 + 0.3 * t, ty: 260 }))
    );
    const noisy = drifting.map((lm) => lm.map((v) => v + 1.0 * noise()));
    const raw = noisy.map((lm) => ffhqQuad(lm));
    const rawJitter = alignedLandmarkJitter(noisy, raw.map((q) => quadToAffine(q, 256)));
    const smoothJitter = alignedLandmarkJitter(noisy, smoothQuads(raw, { sigmaFrames: 2 }).map((q) => quadToAffine(q, 256)));
    expect(rawJitter).toBeGreaterThan(0.2);
    expect(smoothJitter).toBeLessThan(rawJitter / 2);
  });
});

describe('rmsVelocity', () => {
  it('is the RMS frame-to-frame displacement of the eye and mouth landmarks', () => {
    const lms = Array.from({ length: 5 }, (_, t) => still.map((v, i) => v + (i % 2 ? 4 * t : 3 * t)));
    expect(rmsVelocity(lms)).toBeCloseTo(5, 5);
    expect(rmsVelocity([still, null, still])).toBeNaN();
    // In crop pixels: map first.
    const A = alignAffine(still, 256);
    const crop = lms.map((lm) => landmarksToCrop(lm, A));
    expect(rmsVelocity(crop)).toBeCloseTo((5 * 256) / (2 * q0.s), 4);
  });
});
