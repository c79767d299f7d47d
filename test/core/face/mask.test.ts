import { describe, expect, it } from 'vitest';
import { alignAffine, landmarksToCrop } from '../../../src/core/face/align';
import { DEFAULT_FACE_ELLIPSE, faceHull, faceMask, smoothCropLandmarks } from '../../../src/core/face/mask';
import { asLandmarks, faceUnder, normal, rng } from './fixtures';

/**
 * Mask values along a ray from pixel (ci, cj) in direction (di, dj), one pixel
 * step at a time, to the crop border. With di, dj in -1..1 the ray passes
 * through pixel centres exactly.
 */
function gridRay(m: Float32Array, n: number, ci: number, cj: number, di: number, dj: number): number[] {
  const out: number[] = [];
  for (let i = ci, j = cj; i >= 0 && j >= 0 && i < n && j < n; i += di, j += dj) out.push(m[j * n + i]);
  return out;
}

/** Mask values along a ray at any angle (nearest pixel, every half pixel): quantised, so only nearly monotone. */
function ray(m: Float32Array, n: number, cx: number, cy: number, a: number): number[] {
  const out: number[] = [];
  for (let r = 0; ; r += 0.5) {
    const x = Math.floor(cx + r * Math.cos(a));
    const y = Math.floor(cy + r * Math.sin(a));
    if (x < 0 || y < 0 || x >= n || y >= n) return out;
    out.push(m[y * n + x]);
  }
}

/** Largest change between horizontally or vertically adjacent pixels (of the first `rows` rows). */
function steepest(m: Float32Array, n: number, rows = n): number {
  let worst = 0;
  for (let j = 0; j < rows; j++)
    for (let i = 0; i < n; i++) {
      if (i + 1 < n) worst = Math.max(worst, Math.abs(m[j * n + i + 1] - m[j * n + i]));
      if (j + 1 < rows) worst = Math.max(worst, Math.abs(m[(j + 1) * n + i] - m[j * n + i]));
    }
  return worst;
}

function checkBasics(m: Float32Array, n: number, cx: number, cy: number): void {
  expect(m.length).toBe(n * n);
  expect(Math.min(...m)).toBe(0);
  expect(Math.max(...m)).toBe(1);
  expect(m[Math.floor(cy) * n + Math.floor(cx)]).toBe(1);
  // 0 on the whole border, corners included.
  let border = 0;
  for (let i = 0; i < n; i++) border = Math.max(border, m[i], m[(n - 1) * n + i], m[i * n], m[i * n + n - 1]);
  expect(border).toBe(0);
  // Monotone falloff along rays from the centre: exactly on the 8 grid directions, and to
  // within the pixel quantisation of the ray on 64 others.
  const ci = Math.floor(cx);
  const cj = Math.floor(cy);
  for (const [di, dj] of [[1, 0], [1, 1], [0, 1], [-1, 1], [-1, 0], [-1, -1], [0, -1], [1, -1]]) {
    const r = gridRay(m, n, ci, cj, di, dj);
    let rise = 0;
    for (let i = 1; i < r.length; i++) rise = Math.max(rise, r[i] - r[i - 1]);
    expect(rise).toBeLessThanOrEqual(1e-6);
  }
  for (let k = 0; k < 64; k++) {
    const r = ray(m, n, ci + 0.5, cj + 0.5, (2 * Math.PI * k) / 64);
    let rise = 0;
    for (let i = 1; i < r.length; i++) rise = Math.max(rise, r[i] - r[i - 1]);
    expect(rise).toBeLessThanOrEqual(0.02);
  }
}

describe('faceMask (ellipse)', () => {
  it('is 1 in the centre, 0 on the border and at the corners, and falls off monotonically', () => {
    const n = 256;
    const m = faceMask(n);
    checkBasics(m, n, DEFAULT_FACE_ELLIPSE.cx * n, DEFAULT_FACE_ELLIPSE.cy * n);
    // 0.5 on the ellipse's outline.
    const top = Math.round((DEFAULT_FACE_ELLIPSE.cy - DEFAULT_FACE_ELLIPSE.ry) * n);
    expect(m[top * n + n / 2]).toBeGreaterThan(0.4);
    expect(m[top * n + n / 2]).toBeLessThan(0.6);
  });

  it('has no hard edge: the steepest step is bounded by the smootherstep slope over the feather width', () => {
    for (const [n, feather] of [
      [256, 0.1],
      [1024, 0.05],
      [128, 0.2],
    ]) {
      const m = faceMask(n, { feather });
      // smootherstep's largest slope is 15/8 per feather width; twice that at most where the
      // shape's ramp meets the crop-border ramp (at the chin).
      const ramp = 1.875 / (feather * n);
      expect(steepest(m, n)).toBeLessThan(2 * ramp);
    }
    // Away from the crop border (rows above the chin) it is the one ramp's slope.
    const n = 256;
    expect(steepest(faceMask(n), n, 200)).toBeLessThan((1.875 / (0.1 * n)) * 1.05);
  });

  it('scales with N: the same shape at any crop size', () => {
    const a = faceMask(128);
    const b = faceMask(512);
    let worst = 0;
    for (let j = 0; j < 128; j++) for (let i = 0; i < 128; i++) worst = Math.max(worst, Math.abs(a[j * 128 + i] - b[(4 * j + 2) * 512 + 4 * i + 2]));
    expect(worst).toBeLessThan(0.03);
  });

  it('rejects bad sizes and feathers', () => {
    expect(() => faceMask(0)).toThrow(/whole number/);
    expect(() => faceMask(64, { feather: 0 })).toThrow(/feather/);
  });
});

describe('faceMask (landmark hull)', () => {
  const n = 256;
  const lm = asLandmarks(faceUnder({ scale: 200, angle: 0.3, tx: 500, ty: 300 }));
  const crop = landmarksToCrop(lm, alignAffine(lm, n));

  it('covers the face from chin to above the brows, falls off monotonically and is 0 on the border', () => {
    const m = faceMask(n, { landmarks: crop });
    const noseX = crop[2 * 30];
    const noseY = crop[2 * 30 + 1];
    checkBasics(m, n, noseX, noseY);
    const at = (x: number, y: number) => m[Math.floor(y) * n + Math.floor(x)];
    // Eyes and mouth fully inside; the forehead above the brows inside; 2 feathers below the chin outside.
    for (const i of [36, 45, 48, 54, 57]) expect(at(crop[2 * i], crop[2 * i + 1])).toBe(1);
    expect(at(crop[2 * 27], crop[2 * 27 + 1] - 0.15 * n)).toBeGreaterThan(0.9);
    expect(at(crop[16], Math.min(n - 1, crop[17] + 0.2 * n))).toBe(0);
    expect(faceHull(crop).length).toBeGreaterThan(8);
  });

  it('does not flicker when built from landmarks smoothed over time', () => {
    const noise = normal(rng(11));
    const frames = Array.from({ length: 24 }, () => crop.map((v) => v + 1.5 * noise()));
    const change = (lms: ArrayLike<number>[]) => {
      let total = 0;
      let prev = faceMask(n, { landmarks: lms[0] });
      for (let t = 1; t < lms.length; t++) {
        const m = faceMask(n, { landmarks: lms[t] });
        for (let i = 0; i < m.length; i++) total += Math.abs(m[i] - prev[i]);
        prev = m;
      }
      return total / (lms.length - 1) / (n * n);
    };
    const raw = change(frames);
    const smooth = change(smoothCropLandmarks(frames, 3));
    expect(smooth).toBeLessThan(raw / 4);
  });

  it('fills frames without landmarks before smoothing', () => {
    const out = smoothCropLandmarks([new Float32Array([0, 0]), null, new Float32Array([4, 8])], 0);
    expect(Array.from(out[1])).toEqual([2, 4]);
    expect(() => smoothCropLandmarks([null], 1)).toThrow(/no landmarks/);
  });
});
