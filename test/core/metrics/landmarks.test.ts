import { describe, expect, it } from 'vitest';
import {
  akd,
  akdNormalised,
  applySimilarity,
  cosineSimilarity,
  expressionDistance,
  interOcularDistance,
  procrustesAlign,
  STABLE_POINTS_68,
  temporalJitter,
  temporalJitterPerFrame,
  velocityRms,
} from '../../../src/core/metrics';

/** A plausible frontal 68-point iBUG face about 200 px wide, centred at (320, 260). */
function face(): Float32Array {
  const pts: [number, number][] = [];
  const cx = 320;
  const cy = 260;
  // 0-16 jaw: a half ellipse from ear to ear.
  for (let i = 0; i <= 16; i++) {
    const t = Math.PI * (i / 16);
    pts.push([cx - 100 * Math.cos(t), cy - 20 + 110 * Math.sin(t)]);
  }
  // 17-21 and 22-26 brows.
  for (let i = 0; i < 5; i++) pts.push([cx - 80 + i * 15, cy - 70 - 8 * Math.sin((Math.PI * i) / 4)]);
  for (let i = 0; i < 5; i++) pts.push([cx + 20 + i * 15, cy - 70 - 8 * Math.sin((Math.PI * (4 - i)) / 4)]);
  // 27-30 nose bridge, 31-35 nostrils.
  for (let i = 0; i < 4; i++) pts.push([cx, cy - 50 + i * 15]);
  for (let i = 0; i < 5; i++) pts.push([cx - 20 + i * 10, cy + 15 - 5 * Math.sin((Math.PI * i) / 4)]);
  // 36-41 and 42-47 eyes (outer corner first on the left eye, inner first on the right).
  const eye = (ex: number, flip: number) => {
    const e: [number, number][] = [
      [-18, 0], [-8, -7], [8, -7], [18, 0], [8, 6], [-8, 6],
    ];
    for (const [x, y] of e) pts.push([ex + flip * x, cy - 40 + y]);
  };
  eye(cx - 45, 1);
  eye(cx + 45, 1);
  // 48-59 outer lip, 60-67 inner lip.
  for (let i = 0; i < 12; i++) {
    const t = (2 * Math.PI * i) / 12;
    pts.push([cx - 35 * Math.cos(t), cy + 55 - 14 * Math.sin(t)]);
  }
  for (let i = 0; i < 8; i++) {
    const t = (2 * Math.PI * i) / 8;
    pts.push([cx - 22 * Math.cos(t), cy + 55 - 5 * Math.sin(t)]);
  }
  expect(pts).toHaveLength(68);
  return Float32Array.from(pts.flat());
}

/** The same face with the mouth opened: lower-lip points (outer 55-59, inner 65-67) move down. */
function openMouth(l: Float32Array, amount: number): Float32Array {
  const out = l.slice();
  for (const i of [54, 55, 56, 57, 58, 59, 64, 65, 66, 67]) out[2 * i + 1]! += amount;
  return out;
}

describe('akd', () => {
  const a = face();

  it('of a translated set is the translation length', () => {
    const b = a.map((v, i) => v + (i % 2 === 0 ? 3 : 4));
    expect(akd(a, b)).toBeCloseTo(5, 4);
    expect(akd(a, a)).toBe(0);
    expect(akd(b, a)).toBeCloseTo(5, 4);
  });

  it('normalised divides by the outer-eye-corner distance of the first set', () => {
    const iod = interOcularDistance(a);
    // Outer corners: left eye point 36 at cx-45-18, right eye point 45 at cx+45+18.
    expect(iod).toBeCloseTo(126, 3);
    const b = a.map((v, i) => v + (i % 2 === 0 ? 6 : 8));
    expect(akdNormalised(a, b)).toBeCloseTo(10 / 126, 6);
  });

  it('skips missing points and rejects mismatched sets', () => {
    const b = a.map((v, i) => v + (i % 2 === 0 ? 3 : 4));
    b[0] = NaN;
    b[2 * 10 + 1] = NaN;
    expect(akd(a, b)).toBeCloseTo(5, 4);
    expect(akd(Float32Array.of(NaN, 0), Float32Array.of(1, 1))).toBeNaN();
    expect(() => akd(a, a.subarray(2))).toThrow(RangeError);
  });
});

describe('expressionDistance', () => {
  const a = face();
  const similarity = { scale: 1.3, rotation: 0.4, translation: [12, -7] as [number, number] };

  it('procrustesAlign recovers a similarity transform', () => {
    const b = applySimilarity(a, similarity);
    const { transform, aligned } = procrustesAlign(b, a);
    expect(transform.scale).toBeCloseTo(1.3, 5);
    expect(transform.rotation).toBeCloseTo(0.4, 5);
    expect(transform.translation[0]).toBeCloseTo(12, 3);
    expect(transform.translation[1]).toBeCloseTo(-7, 3);
    for (let i = 0; i < b.length; i++) expect(aligned[i]!).toBeCloseTo(b[i]!, 3);
  });

  it('is about 0 for a similarity transform of the whole set, where AKD is large', () => {
    const b = applySimilarity(a, similarity);
    expect(akd(a, b)).toBeGreaterThan(50);
    expect(expressionDistance(a, b)).toBeLessThan(1e-3);
    const turned = applySimilarity(a, { scale: 0.7, rotation: -2.5, translation: [-40, 90] });
    expect(expressionDistance(a, turned)).toBeLessThan(1e-3);
  });

  it('sees the mouth opening, whatever the pose of the moved set', () => {
    const open = openMouth(a, 12);
    const d = expressionDistance(a, open);
    // 10 of 68 points move 12 px: the least-squares fit spreads that over every point.
    expect(d).toBeGreaterThan(2);
    expect(d).toBeLessThan(12);
    // Fitted on the rigid points only, the change is reported as it is: 10 x 12 px / 68.
    expect(expressionDistance(a, open, { alignOn: STABLE_POINTS_68 })).toBeCloseTo(120 / 68, 4);
    expect(expressionDistance(a, applySimilarity(open, similarity), { alignOn: STABLE_POINTS_68 })).toBeCloseTo(120 / 68, 3);
    expect(expressionDistance(a, applySimilarity(open, similarity))).toBeCloseTo(d, 3);
    expect(expressionDistance(a, openMouth(a, 24))).toBeGreaterThan(d * 1.9);
    expect(expressionDistance(a, open, { normalise: true })).toBeCloseTo(d / interOcularDistance(a), 6);
  });
});

describe('temporal metrics', () => {
  const base = face();
  const T = 40;
  /** Smooth head motion: a drift plus a slow sway. */
  const smooth = Array.from({ length: T }, (_, t) => base.map((v, i) => v + (i % 2 === 0 ? 1.5 * t + 6 * Math.sin(t / 7) : 4 * Math.cos(t / 5))));

  it('jitter is 0 for identical sequences and for a constant offset', () => {
    expect(temporalJitter(smooth, smooth)).toBe(0);
    const shifted = smooth.map((l) => l.map((v) => v + 9));
    expect(temporalJitter(smooth, shifted)).toBeCloseTo(0, 4);
  });

  it('jitter is 2e for alternating +-e noise on x, and 2e*sqrt(2) on x and y', () => {
    const e = 0.75;
    const noisyX = smooth.map((l, t) => l.map((v, i) => (i % 2 === 0 ? v + (t % 2 ? e : -e) : v)));
    expect(temporalJitter(smooth, noisyX)).toBeCloseTo(2 * e, 4);
    const noisyXY = smooth.map((l, t) => l.map((v) => v + (t % 2 ? e : -e)));
    expect(temporalJitter(smooth, noisyXY)).toBeCloseTo(2 * e * Math.SQRT2, 4);
  });

  it('velocityRms is the speed of uniform motion', () => {
    const uniform = Array.from({ length: 10 }, (_, t) => base.map((v, i) => v + (i % 2 === 0 ? 3 * t : 4 * t)));
    expect(velocityRms(uniform)).toBeCloseTo(5, 4);
    expect(velocityRms([base])).toBeNaN();
  });

  it('skips missing frames and rejects sequences of different lengths', () => {
    const e = 0.5;
    const noisy: (Float32Array | null)[] = smooth.map((l, t) => l.map((v, i) => (i % 2 === 0 ? v + (t % 2 ? e : -e) : v)));
    noisy[5] = null;
    noisy[17] = null;
    expect(temporalJitter(smooth, noisy)).toBeCloseTo(2 * e, 4);
    expect(() => temporalJitter(smooth, smooth.slice(1))).toThrow(RangeError);
  });

  it('per frame (the Evaluate plot): 2e where one track wobbles by +-e, 0 where both move alike, gaps where a frame is missing', () => {
    const e = 0.5;
    // Frames 0-9 wobble on x, frames 10.. follow the smooth track exactly.
    const mixed: (Float32Array | null)[] = smooth.map((l, t) => l.map((v, i) => (i % 2 === 0 && t < 10 ? v + (t % 2 ? e : -e) : v)));
    mixed[20] = null;
    const j = temporalJitterPerFrame(smooth, mixed);
    expect(j).toHaveLength(T);
    for (let t = 0; t < 9; t++) expect(j[t], `frame ${t}`).toBeCloseTo(2 * e, 4);
    // Frame 9 -> 10: only frame 9 is displaced, by one e: the pair's change differs by e.
    expect(j[9]).toBeCloseTo(e, 4);
    expect(j[12]).toBeCloseTo(0, 4);
    expect([j[19], j[20], j[T - 1]]).toEqual([null, null, null]);
  });
});

describe('cosineSimilarity', () => {
  it('gives known values', () => {
    expect(cosineSimilarity([1, 2, 3], [4, 5, 6])).toBeCloseTo(32 / Math.sqrt(14 * 77), 12);
    expect(cosineSimilarity([1, 0], [0, 5])).toBe(0);
    expect(cosineSimilarity([1, 2], [-2, -4])).toBe(-1);
    expect(cosineSimilarity(Float32Array.of(0.1, 0.2, 0.3), Float32Array.of(1, 2, 3))).toBeCloseTo(1, 6);
    expect(cosineSimilarity([0, 0], [1, 1])).toBeNaN();
    expect(() => cosineSimilarity([1], [1, 2])).toThrow(RangeError);
  });

  it('is scale invariant on 512-d embeddings', () => {
    const a = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.7));
    const b = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i * 1.7) + 0.3 * Math.cos(i * 0.3));
    const c = cosineSimilarity(a, b);
    expect(c).toBeGreaterThan(0.5);
    expect(c).toBeLessThan(1);
    expect(cosineSimilarity(a.map((v) => v * 7), b)).toBeCloseTo(c, 6);
  });
});
