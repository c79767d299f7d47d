// Head pose in degrees from 68 landmarks: a scaled-orthographic fit (weak-perspective
// PnP) of a generic 3D face to six landmarks. Talking-head crops are taken from far
// enough that perspective barely matters for the angles, and the fit is closed-form:
// no camera intrinsics, no iteration, no failure mode beyond degenerate landmarks.
//
// Conventions (image seen by the viewer, x right, y up after flipping the pixel rows):
//   yaw   > 0: the face turns towards the image's right;
//   pitch > 0: the face tilts up (chin forward);
//   roll  > 0: the head tilts counter-clockwise in the image.
// R = Rz(roll) * Ry(yaw) * Rx(-pitch) maps model coordinates to camera coordinates
// (Ry(t) turns the nose, which points at the camera, towards +x; Rx(t) turns it down).
import type { Landmarks68 } from './types';

export interface HeadPose {
  yaw: number;
  pitch: number;
  roll: number;
  /** Pixels per model unit of the fit (face size). */
  scale: number;
  /** RMS reprojection error of the six points, in pixels. */
  rmsPx: number;
}

/**
 * The generic face of the common OpenCV head-pose recipe, in model units (about
 * millimetres x 10): nose tip, chin, outer eye corners, mouth corners. x to the
 * image's right, y up, z towards the camera.
 */
const MODEL: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [0, -330, -65],
  [-225, 170, -135],
  [225, 170, -135],
  [-150, -150, -125],
  [150, -150, -125]
];
/** The iBUG 68 indices of those six points. */
const LANDMARKS = [30, 8, 36, 45, 48, 54] as const;

const DEG = 180 / Math.PI;

export class HeadPoseError extends Error {
  override name = 'HeadPoseError';
}

/** Inverse square root of a symmetric positive-definite 2x2 matrix [a b; b c]. */
function invSqrt2(a: number, b: number, c: number): [number, number, number] {
  const tr = a + c;
  const det = a * c - b * b;
  if (!(det > 0) || !(tr > 0)) throw new HeadPoseError('head pose: the landmarks are degenerate (collinear or coincident)');
  // sqrt of an SPD 2x2: S = (A + sqrt(det) I) / sqrt(tr + 2 sqrt(det)); its inverse follows.
  const sd = Math.sqrt(det);
  const t = Math.sqrt(tr + 2 * sd);
  const s00 = (a + sd) / t;
  const s01 = b / t;
  const s11 = (c + sd) / t;
  const sdet = s00 * s11 - s01 * s01;
  return [s11 / sdet, -s01 / sdet, s00 / sdet];
}

export function headPose(lm: Landmarks68 | ArrayLike<number>): HeadPose {
  if (lm.length !== 136) throw new HeadPoseError(`head pose needs 68 landmarks (136 numbers), got ${lm.length}`);
  const n = LANDMARKS.length;
  const img: [number, number][] = LANDMARKS.map((i) => [lm[2 * i]!, -lm[2 * i + 1]!]);
  if (img.some(([x, y]) => !Number.isFinite(x) || !Number.isFinite(y))) throw new HeadPoseError('head pose: a landmark is not a finite number');
  const mi = [0, 0];
  const mm = [0, 0, 0];
  for (let k = 0; k < n; k++) {
    mi[0]! += img[k]![0] / n;
    mi[1]! += img[k]![1] / n;
    for (let j = 0; j < 3; j++) mm[j]! += MODEL[k]![j]! / n;
  }
  // M (2x3) = x X^T (X X^T)^-1 with centred image points x and model points X.
  const XXt = new Float64Array(9);
  const xXt = new Float64Array(6);
  for (let k = 0; k < n; k++) {
    const X = [MODEL[k]![0] - mm[0]!, MODEL[k]![1] - mm[1]!, MODEL[k]![2] - mm[2]!];
    const x = [img[k]![0] - mi[0]!, img[k]![1] - mi[1]!];
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) XXt[r * 3 + c]! += X[r]! * X[c]!;
    for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) xXt[r * 3 + c]! += x[r]! * X[c]!;
  }
  const inv = invert3(XXt);
  const M = new Float64Array(6);
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) M[r * 3 + c]! += xXt[r * 3 + k]! * inv[k * 3 + c]!;
  // Nearest pair of orthonormal rows: R2 = (M M^T)^-1/2 M; the scale is the mean singular value.
  const a = M[0]! ** 2 + M[1]! ** 2 + M[2]! ** 2;
  const b = M[0]! * M[3]! + M[1]! * M[4]! + M[2]! * M[5]!;
  const c = M[3]! ** 2 + M[4]! ** 2 + M[5]! ** 2;
  const [i00, i01, i11] = invSqrt2(a, b, c);
  const r1 = [0, 1, 2].map((j) => i00 * M[j]! + i01 * M[3 + j]!);
  const r2 = [0, 1, 2].map((j) => i01 * M[j]! + i11 * M[3 + j]!);
  const r3 = [r1[1]! * r2[2]! - r1[2]! * r2[1]!, r1[2]! * r2[0]! - r1[0]! * r2[2]!, r1[0]! * r2[1]! - r1[1]! * r2[0]!];
  // Singular values of M: sqrt of the eigenvalues of M M^T.
  const tr = a + c;
  const disc = Math.sqrt(Math.max(0, (a - c) ** 2 + 4 * b * b));
  const scale = (Math.sqrt((tr + disc) / 2) + Math.sqrt(Math.max(0, (tr - disc) / 2))) / 2;
  let err = 0;
  for (let k = 0; k < n; k++) {
    const X = [MODEL[k]![0] - mm[0]!, MODEL[k]![1] - mm[1]!, MODEL[k]![2] - mm[2]!];
    const px = scale * (r1[0]! * X[0]! + r1[1]! * X[1]! + r1[2]! * X[2]!);
    const py = scale * (r2[0]! * X[0]! + r2[1]! * X[1]! + r2[2]! * X[2]!);
    err += (px - (img[k]![0] - mi[0]!)) ** 2 + (py - (img[k]![1] - mi[1]!)) ** 2;
  }
  // R rows: r1, r2, r3. With R = Rz(roll) Ry(yaw) Rx(pitch):
  //   R20 = -sin(yaw), R21 = cos(yaw) sin(pitch), R22 = cos(yaw) cos(pitch),
  //   R10 = sin(roll) cos(yaw), R00 = cos(roll) cos(yaw).
  const yaw = Math.asin(Math.max(-1, Math.min(1, -r3[0]!))) * DEG;
  const pitch = Math.atan2(r3[1]!, r3[2]!) * DEG;
  const roll = Math.atan2(r2[0]!, r1[0]!) * DEG;
  return { yaw, pitch: -pitch, roll, scale, rmsPx: Math.sqrt(err / n) };
}

function invert3(m: Float64Array): Float64Array {
  const [a, b, c, d, e, f, g, h, i] = m as unknown as number[];
  const A = e! * i! - f! * h!;
  const B = -(d! * i! - f! * g!);
  const C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  if (Math.abs(det) < 1e-12) throw new HeadPoseError('head pose: the face model is degenerate');
  return Float64Array.from([A, -(b! * i! - c! * h!), b! * f! - c! * e!, B, a! * i! - c! * g!, -(a! * f! - c! * d!), C, -(a! * h! - b! * g!), a! * e! - b! * d!].map((x) => x / det));
}
