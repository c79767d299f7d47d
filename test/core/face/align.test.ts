import { describe, expect, it } from 'vitest';
import {
  affineScale,
  affineToQuad,
  alignAffine,
  applyAffine,
  ffhqQuad,
  invertAffine,
  landmarksToCrop,
  quadCorners,
  quadToAffine,
  type Quad,
} from '../../../src/core/face/align';
import { FaceAlignError } from '../../../src/core/face/errors';
import { applySimilarity, asLandmarks, faceUnder, type Similarity } from './fixtures';

const wrap = (a: number) => Math.atan2(Math.sin(a), Math.cos(a));

/** 68 points with the eyes' six points on one spot each and the mouth corners set: all the recipe reads. */
function minimalFace(eyeL: [number, number], eyeR: [number, number], mouthL: [number, number], mouthR: [number, number]): Float64Array {
  const lm = new Float64Array(136).fill(0);
  for (let i = 36; i < 42; i++) [lm[2 * i], lm[2 * i + 1]] = eyeL;
  for (let i = 42; i < 48; i++) [lm[2 * i], lm[2 * i + 1]] = eyeR;
  [lm[96], lm[97]] = mouthL;
  [lm[108], lm[109]] = mouthR;
  return lm;
}

describe('ffhqQuad', () => {
  it('follows the FFHQ recipe on a hand-computed face', () => {
    // eye_to_eye = (20, 0), eye_to_mouth = (0, 20): x = (20,0) - (-20,0) = (40, 0) -> unit * max(40, 36) = (40, 0);
    // y = (0, 40); c = (50, 50) + 0.1 * (0, 20) = (50, 52).
    const q = ffhqQuad(minimalFace([40, 50], [60, 50], [42, 70], [58, 70]));
    expect(q.cx).toBeCloseTo(50, 12);
    expect(q.cy).toBeCloseTo(52, 12);
    expect(q.s).toBeCloseTo(40, 12);
    expect(q.theta).toBeCloseTo(0, 12);
    const corners = quadCorners(q);
    const want = [
      [10, 12],
      [10, 92],
      [90, 92],
      [90, 12],
    ];
    corners.forEach((c, i) => {
      expect(c[0]).toBeCloseTo(want[i][0], 12);
      expect(c[1]).toBeCloseTo(want[i][1], 12);
    });
  });

  it('takes the larger of 2|eye_to_eye| and 1.8|eye_to_mouth| as the half side', () => {
    // Long face: eye_to_mouth = (0, 40) -> 1.8 * 40 = 72 > 2 * 20.
    expect(ffhqQuad(minimalFace([40, 50], [60, 50], [42, 90], [58, 90])).s).toBeCloseTo(72, 12);
  });

  it('returns the similarity a canonical face was moved by (centre, scale, angle to 1e-6)', () => {
    const q0 = ffhqQuad(faceUnder({ scale: 1, angle: 0, tx: 0, ty: 0 }));
    const cases: Similarity[] = [
      { scale: 180, angle: 0, tx: 320, ty: 240 },
      { scale: 250.5, angle: 0.35, tx: 611.25, ty: 402.75 },
      { scale: 97.3, angle: -0.8, tx: 120.5, ty: 700.125 },
      { scale: 420, angle: 2.9, tx: 1500, ty: 900 },
      { scale: 64, angle: -3.05, tx: 33, ty: 47 },
    ];
    for (const t of cases) {
      const q = ffhqQuad(faceUnder(t));
      const [cx, cy] = applySimilarity(t, q0.cx, q0.cy);
      expect(Math.abs(q.cx - cx)).toBeLessThan(1e-6);
      expect(Math.abs(q.cy - cy)).toBeLessThan(1e-6);
      expect(Math.abs(q.s / q0.s - t.scale)).toBeLessThan(1e-6 * t.scale);
      expect(Math.abs(wrap(q.theta - q0.theta - t.angle))).toBeLessThan(1e-6);
      // Recover the similarity itself from the two quads.
      const scale = q.s / q0.s;
      const angle = wrap(q.theta - q0.theta);
      const back = applySimilarity({ scale, angle, tx: 0, ty: 0 }, q0.cx, q0.cy);
      expect(Math.abs(q.cx - back[0] - t.tx)).toBeLessThan(1e-6);
      expect(Math.abs(q.cy - back[1] - t.ty)).toBeLessThan(1e-6);
    }
  });

  it('works on Float32 landmarks to float precision', () => {
    const t = { scale: 200, angle: 0.2, tx: 400, ty: 300 };
    const a = ffhqQuad(faceUnder(t));
    const b = ffhqQuad(asLandmarks(faceUnder(t)));
    expect(Math.abs(a.cx - b.cx)).toBeLessThan(1e-3);
    expect(Math.abs(a.s - b.s)).toBeLessThan(1e-3);
    expect(Math.abs(a.theta - b.theta)).toBeLessThan(1e-5);
  });

  it('rejects wrong lengths, non-finite and degenerate landmarks', () => {
    expect(() => ffhqQuad(new Float32Array(10))).toThrow(FaceAlignError);
    const nan = faceUnder({ scale: 100, angle: 0, tx: 0, ty: 0 });
    nan[80] = NaN;
    expect(() => ffhqQuad(nan)).toThrow(/landmark 40/);
    try {
      ffhqQuad(new Float32Array(136));
      expect.unreachable();
    } catch (err) {
      expect((err as FaceAlignError).code).toBe('BAD_LANDMARKS');
    }
  });
});

describe('quad <-> affine', () => {
  const quads: Quad[] = [
    { cx: 50, cy: 52, s: 40, theta: 0 },
    { cx: 612.3, cy: 388.9, s: 233.7, theta: 0.41 },
    { cx: -20, cy: 15, s: 5.5, theta: -2.7 },
  ];
  it('maps the crop corners (0,0), (0,N), (N,N), (N,0) onto the quad corners in FFHQ order', () => {
    for (const q of quads) {
      for (const n of [1, 256, 1024]) {
        const A = quadToAffine(q, n);
        const corners = quadCorners(q);
        const uv = [
          [0, 0],
          [0, n],
          [n, n],
          [n, 0],
        ];
        uv.forEach(([u, v], i) => {
          const [x, y] = applyAffine(A, u, v);
          expect(x).toBeCloseTo(corners[i][0], 9);
          expect(y).toBeCloseTo(corners[i][1], 9);
        });
        // The crop's centre is the quad's centre; one crop pixel is 2s/N source pixels.
        const [x, y] = applyAffine(A, n / 2, n / 2);
        expect(x).toBeCloseTo(q.cx, 9);
        expect(y).toBeCloseTo(q.cy, 9);
        expect(affineScale(A)).toBeCloseTo((2 * q.s) / n, 12);
      }
    }
  });

  it('round-trips through affineToQuad and invertAffine', () => {
    for (const q of quads) {
      const A = quadToAffine(q, 512);
      const r = affineToQuad(A, 512);
      expect(r.cx).toBeCloseTo(q.cx, 9);
      expect(r.cy).toBeCloseTo(q.cy, 9);
      expect(r.s).toBeCloseTo(q.s, 9);
      expect(wrap(r.theta - q.theta)).toBeCloseTo(0, 12);
      const inv = invertAffine(A);
      const [x, y] = applyAffine(A, 17.5, 300.25);
      const [u, v] = applyAffine(inv, x, y);
      expect(u).toBeCloseTo(17.5, 9);
      expect(v).toBeCloseTo(300.25, 9);
    }
  });

  it('puts an aligned face where FFHQ does: eyes level and centred, mouth below', () => {
    const lm = asLandmarks(faceUnder({ scale: 300, angle: 0.5, tx: 640, ty: 360 }));
    const crop = landmarksToCrop(lm, alignAffine(lm, 1024));
    const mean = (from: number, to: number, k: 0 | 1) => {
      let s = 0;
      for (let i = from; i <= to; i++) s += crop[2 * i + k];
      return s / (to - from + 1);
    };
    const eyeLy = mean(36, 41, 1);
    const eyeRy = mean(42, 47, 1);
    expect(Math.abs(eyeLy - eyeRy)).toBeLessThan(0.5); // roll removed (to the template's own tilt)
    expect((mean(36, 41, 0) + mean(42, 47, 0)) / 2).toBeCloseTo(512, -1);
    // c = eye_avg + 0.1 eye_to_mouth sits at the crop centre, so the eyes are just above it.
    expect(eyeLy).toBeGreaterThan(440);
    expect(eyeLy).toBeLessThan(512);
    expect(crop[2 * 48 + 1]).toBeGreaterThan(700);
  });
});
