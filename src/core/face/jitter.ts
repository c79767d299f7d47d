// How much the crop transform itself shakes the face, measured on landmarks.
//
// Definition (alignedLandmarkJitter). Landmarks k in the eyes and mouth
// (iBUG 36-47 and 48-67), frames t with landmarks and transforms in both t-1 and
// t. Every crop transform A_t (crop -> source, types.ts) is measured as the
// crop of size C = cropSize (256 by default): if A_t was made for an N-crop,
// crop coordinates are rescaled by C / N. With s_t the quad's half side and
// theta_t its angle (from A_t's similarity part):
//   u_{t,k}  = (C / N) * A_t^{-1}(p_{t,k})                      the landmark in the C-crop
//   du_{t,k} = u_{t,k} - u_{t-1,k}                               its motion in the crop
//   e_{t,k}  = (C / (2 s_t)) * R(-theta_t) * (p_{t,k} - p_{t-1,k})  the source motion in C-crop units
//   jitter   = sqrt( mean over t,k of |du_{t,k} - e_{t,k}|^2 )    (crop pixels of a C-crop)
// A constant transform gives du = e exactly: jitter 0 whatever the face does
// (a perfectly stabilised crop shows the face's own motion and nothing else).
// A transform that moves adds its own motion: a translation of the crop by
// delta source pixels between two frames adds C * |delta| / (2 s) crop pixels,
// a zoom or a turn adds the displacement it causes at the landmarks. Landmark
// noise enters only through the transform (the frame-to-frame landmark motion
// cancels), so the number compares stabilisers, not landmark detectors.
// Units: crop pixels of a 256 crop by default, the same whatever size the crop
// is rendered at.
//
// rmsVelocity is the plain RMS frame-to-frame motion of the same landmarks,
// in the units of the points given (source pixels, or crop pixels after
// landmarksToCrop): the face's motion plus the crop's.
import { FaceAlignError } from './errors';
import { affineToQuad, invertAffine } from './align';
import type { Affine } from './types';

/** Eyes (36-47) and mouth (48-67), iBUG numbering. */
export const EYE_MOUTH_INDICES: readonly number[] = Array.from({ length: 32 }, (_, i) => 36 + i);

type Points = ArrayLike<number>;

/**
 * The jitter the crop transforms add to the eye and mouth landmarks (see the
 * header), in pixels of a `cropSize` crop. `affineSize` is the crop size the
 * affines were made for (default: cropSize). Frame pairs with a missing
 * landmark set or transform are skipped; NaN when no pair is left.
 */
export function alignedLandmarkJitter(
  landmarksPerFrame: readonly (Points | null)[],
  affinesPerFrame: readonly (Affine | null)[],
  cropSize = 256,
  affineSize = cropSize,
  indices: readonly number[] = EYE_MOUTH_INDICES
): number {
  if (landmarksPerFrame.length !== affinesPerFrame.length) {
    throw new FaceAlignError(
      'INVALID_ARGUMENT',
      `landmarks and affines must cover the same frames (${landmarksPerFrame.length} vs ${affinesPerFrame.length})`
    );
  }
  if (!(cropSize > 0 && affineSize > 0)) throw new FaceAlignError('INVALID_ARGUMENT', 'crop sizes must be > 0');
  const r = cropSize / affineSize;
  let sum = 0;
  let count = 0;
  let prevInv: Affine | null = null;
  for (let t = 0; t < landmarksPerFrame.length; t++) {
    const A = affinesPerFrame[t];
    const inv = A ? invertAffine(A) : null;
    const p = landmarksPerFrame[t];
    const q = t > 0 ? landmarksPerFrame[t - 1] : null;
    if (A && inv && prevInv && p && q) {
      const quad = affineToQuad(A, affineSize);
      const k = cropSize / (2 * quad.s);
      const cos = Math.cos(quad.theta);
      const sin = Math.sin(quad.theta);
      for (const i of indices) {
        const px = p[2 * i];
        const py = p[2 * i + 1];
        const qx = q[2 * i];
        const qy = q[2 * i + 1];
        const dux = r * (inv[0] * px + inv[1] * py + inv[2] - (prevInv[0] * qx + prevInv[1] * qy + prevInv[2]));
        const duy = r * (inv[3] * px + inv[4] * py + inv[5] - (prevInv[3] * qx + prevInv[4] * qy + prevInv[5]));
        const dpx = px - qx;
        const dpy = py - qy;
        // R(-theta) (dx, dy) = (cos dx + sin dy, -sin dx + cos dy)
        const ex = k * (cos * dpx + sin * dpy);
        const ey = k * (-sin * dpx + cos * dpy);
        sum += (dux - ex) ** 2 + (duy - ey) ** 2;
        count++;
      }
    }
    prevInv = inv;
  }
  return count > 0 ? Math.sqrt(sum / count) : NaN;
}

/**
 * RMS frame-to-frame displacement of the given landmarks (default eyes and
 * mouth), in the units of the points. Pairs with a missing frame are skipped;
 * NaN when no pair is left.
 */
export function rmsVelocity(pointsPerFrame: readonly (Points | null)[], indices: readonly number[] = EYE_MOUTH_INDICES): number {
  let sum = 0;
  let count = 0;
  for (let t = 1; t < pointsPerFrame.length; t++) {
    const p = pointsPerFrame[t];
    const q = pointsPerFrame[t - 1];
    if (!p || !q) continue;
    for (const i of indices) {
      sum += (p[2 * i] - q[2 * i]) ** 2 + (p[2 * i + 1] - q[2 * i + 1]) ** 2;
      count++;
    }
  }
  return count > 0 ? Math.sqrt(sum / count) : NaN;
}
