// FFHQ alignment: from 68 iBUG landmarks to the oriented square ("quad") that
// the FFHQ dataset crops, and from that square to the crop->source Affine of
// types.ts.
//
// The recipe (NVlabs/ffhq-dataset, download_ffhq.py, recreate_aligned_images),
// with lm the 68 points as rows [x, y]:
//   eye_left     = mean(lm[36:42])          (the subject's right eye, image left)
//   eye_right    = mean(lm[42:48])
//   eye_avg      = (eye_left + eye_right) / 2
//   eye_to_eye   = eye_right - eye_left
//   mouth_left   = lm[48], mouth_right = lm[54]   (outer mouth corners)
//   mouth_avg    = (mouth_left + mouth_right) / 2
//   eye_to_mouth = mouth_avg - eye_avg
//   x  = eye_to_eye - flipud(eye_to_mouth) * [-1, 1]
//   x /= |x|
//   x *= max(|eye_to_eye| * 2.0, |eye_to_mouth| * 1.8)
//   y  = flipud(x) * [-1, 1]
//   c  = eye_avg + eye_to_mouth * 0.1
//   quad = [c - x - y, c - x + y, c + x + y, c + x - y]
// flipud(v) * [-1, 1] turns (vx, vy) into (-vy, vx): a quarter turn that, with
// image y pointing down, takes the +x axis to the +y axis. So `x` is the crop's
// +u axis and `y` its +v axis, both of length s = |x|: the quad is a square of
// side 2s centred on c. PIL's QUAD transform takes the quad as the source
// corners of the output's upper-left, lower-left, lower-right and upper-right
// corners, which is the order above: quad[0] <- crop (0,0), quad[1] <- (0,N),
// quad[2] <- (N,N), quad[3] <- (N,0).
//
// We keep the square as a similarity (cx, cy, s, theta) with x = s*(cos t, sin t)
// and y = s*(-sin t, cos t). Because x is rebuilt from a unit vector scaled by
// a max(), the recipe is exactly similarity-equivariant: landmarks moved by a
// similarity give the quad moved by that same similarity.
//
// Pixel centres: types.ts puts pixel centres at integer + 0.5 in both spaces,
// i.e. continuous coordinates whose pixel i covers [i, i+1). FFHQ's landmarks
// (dlib) are integer pixel indices, which is why the script passes `quad + 0.5`
// to PIL (whose coordinates are continuous like ours). Our landmarks are
// already continuous (a landmark at the centre of pixel i is at i + 0.5), so
// the quad is used as is and the crop's outer corners (0,0) and (N,N) map to
// the quad's corners; crop pixel (i, j) has its centre at (i+0.5, j+0.5).
import { FaceAlignError } from './errors';
import type { Affine, Landmarks68 } from './types';

/** The FFHQ crop square as a similarity: centre, half side length and angle of the crop's +u axis, in source pixels / radians. */
export interface Quad {
  cx: number;
  cy: number;
  /** Half the side of the square, in source pixels (|x| of the recipe). */
  s: number;
  /** Angle of the crop's +u axis in the source, radians (image y down: positive turns +x towards +y). */
  theta: number;
}

export type Point = [number, number];

/** The four corners in the FFHQ order: c-x-y, c-x+y, c+x+y, c+x-y (crop (0,0), (0,N), (N,N), (N,0)). */
export type QuadCorners = [Point, Point, Point, Point];

export const LEFT_EYE = [36, 37, 38, 39, 40, 41] as const;
export const RIGHT_EYE = [42, 43, 44, 45, 46, 47] as const;
export const MOUTH_LEFT = 48;
export const MOUTH_RIGHT = 54;

/** Throws BAD_LANDMARKS unless `lm` holds 68 finite points. */
export function checkLandmarks(lm: ArrayLike<number>): void {
  if (lm.length !== 136) {
    throw new FaceAlignError('BAD_LANDMARKS', `expected 68 landmarks (136 numbers), got ${lm.length} numbers`);
  }
  for (let i = 0; i < 136; i++) {
    if (!Number.isFinite(lm[i])) throw new FaceAlignError('BAD_LANDMARKS', `landmark ${i >> 1} is not a finite point`);
  }
}

function meanPoint(lm: ArrayLike<number>, idx: readonly number[]): Point {
  let x = 0;
  let y = 0;
  for (const i of idx) {
    x += lm[2 * i];
    y += lm[2 * i + 1];
  }
  return [x / idx.length, y / idx.length];
}

/** The FFHQ quad of one face (see the recipe above). Throws BAD_LANDMARKS for missing or degenerate landmarks. */
export function ffhqQuad(lm: Landmarks68 | ArrayLike<number>): Quad {
  checkLandmarks(lm);
  const [elx, ely] = meanPoint(lm, LEFT_EYE);
  const [erx, ery] = meanPoint(lm, RIGHT_EYE);
  const eyeAvgX = (elx + erx) / 2;
  const eyeAvgY = (ely + ery) / 2;
  const e2eX = erx - elx;
  const e2eY = ery - ely;
  const mouthAvgX = (lm[2 * MOUTH_LEFT] + lm[2 * MOUTH_RIGHT]) / 2;
  const mouthAvgY = (lm[2 * MOUTH_LEFT + 1] + lm[2 * MOUTH_RIGHT + 1]) / 2;
  const e2mX = mouthAvgX - eyeAvgX;
  const e2mY = mouthAvgY - eyeAvgY;
  // x = eye_to_eye - flipud(eye_to_mouth) * [-1, 1] = eye_to_eye - (-e2m.y, e2m.x)
  const xX = e2eX + e2mY;
  const xY = e2eY - e2mX;
  const xLen = Math.hypot(xX, xY);
  const s = Math.max(Math.hypot(e2eX, e2eY) * 2.0, Math.hypot(e2mX, e2mY) * 1.8);
  if (!(xLen > 1e-9) || !(s > 1e-9) || !Number.isFinite(s)) {
    throw new FaceAlignError('BAD_LANDMARKS', 'the landmarks are degenerate: eyes and mouth give no orientation or size');
  }
  return {
    cx: eyeAvgX + e2mX * 0.1,
    cy: eyeAvgY + e2mY * 0.1,
    s,
    theta: Math.atan2(xY, xX),
  };
}

/** The quad's corners in the FFHQ order (crop (0,0), (0,N), (N,N), (N,0)). */
export function quadCorners(q: Quad): QuadCorners {
  const xx = q.s * Math.cos(q.theta);
  const xy = q.s * Math.sin(q.theta);
  const yx = -xy;
  const yy = xx;
  return [
    [q.cx - xx - yx, q.cy - xy - yy],
    [q.cx - xx + yx, q.cy - xy + yy],
    [q.cx + xx + yx, q.cy + xy + yy],
    [q.cx + xx - yx, q.cy + xy - yy],
  ];
}

function checkSize(n: number): void {
  if (!(Number.isInteger(n) && n > 0)) throw new FaceAlignError('INVALID_ARGUMENT', `crop size must be a whole number > 0, got ${n}`);
}

/**
 * The crop->source Affine for an N x N crop of the quad: crop point (u, v) in
 * continuous crop pixels goes to c + x*(2u/N - 1) + y*(2v/N - 1).
 *   a = 2s cos t / N, b = -2s sin t / N, c = cx - s cos t + s sin t
 *   d = 2s sin t / N, e =  2s cos t / N, f = cy - s sin t - s cos t
 */
export function quadToAffine(q: Quad, n: number): Affine {
  checkSize(n);
  const cos = Math.cos(q.theta);
  const sin = Math.sin(q.theta);
  const k = (2 * q.s) / n;
  return [k * cos, -k * sin, q.cx - q.s * cos + q.s * sin, k * sin, k * cos, q.cy - q.s * sin - q.s * cos];
}

/**
 * The quad of a crop->source affine for an N x N crop (inverse of quadToAffine).
 * A non-similarity affine is projected onto the nearest similarity (mean of
 * the two rotation-scale estimates); the centre is exact in any case.
 */
export function affineToQuad(A: Affine, n: number): Quad {
  checkSize(n);
  const [a, b, c, d, e, f] = A;
  const p = (a + e) / 2; // k cos t
  const q = (d - b) / 2; // k sin t
  const k = Math.hypot(p, q);
  const half = n / 2;
  return { cx: a * half + b * half + c, cy: d * half + e * half + f, s: (k * n) / 2, theta: Math.atan2(q, p) };
}

export function applyAffine(A: Affine, u: number, v: number): Point {
  return [A[0] * u + A[1] * v + A[2], A[3] * u + A[4] * v + A[5]];
}

/** The inverse map (source -> crop), in the same [a, b, c, d, e, f] layout. */
export function invertAffine(A: Affine): Affine {
  const [a, b, c, d, e, f] = A;
  const det = a * e - b * d;
  if (!(Math.abs(det) > 1e-300) || !Number.isFinite(det)) {
    throw new FaceAlignError('INVALID_ARGUMENT', 'the affine transform is singular and cannot be inverted');
  }
  const ia = e / det;
  const ib = -b / det;
  const id = -d / det;
  const ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/** Source pixels per crop pixel along the more compressed axis (2s/N for a quad). */
export function affineScale(A: Affine): number {
  return Math.max(Math.hypot(A[0], A[3]), Math.hypot(A[1], A[4]));
}

/** Maps landmarks (or any [x0, y0, x1, y1, ...] points) from source to crop coordinates of `A`. */
export function landmarksToCrop(lm: ArrayLike<number>, A: Affine): Float32Array {
  const inv = invertAffine(A);
  const out = new Float32Array(lm.length);
  for (let i = 0; i + 1 < lm.length; i += 2) {
    const x = lm[i];
    const y = lm[i + 1];
    out[i] = inv[0] * x + inv[1] * y + inv[2];
    out[i + 1] = inv[3] * x + inv[4] * y + inv[5];
  }
  return out;
}

/** The crop->source affine of the FFHQ crop of these landmarks, for an N x N crop. */
export function alignAffine(lm: Landmarks68, n: number): Affine {
  return quadToAffine(ffhqQuad(lm), n);
}
