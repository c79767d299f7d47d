// Landmark metrics: average keypoint distance (AKD), an AED-like expression
// distance after similarity alignment, and temporal jitter of landmark tracks.
//
// Landmark sets are flat [x0, y0, x1, y1, ...] arrays (the 68-point iBUG
// layout of Landmarks68 in src/core/face/types.ts), in pixels. Any number of
// points works except for the inter-ocular normalisation, which needs the
// 68-point indices. A point with a non-finite coordinate in either set counts
// as missing and is skipped; a metric with no usable point is NaN.

/** A flat [x0, y0, x1, y1, ...] landmark set (Landmarks68 is one). */
export type LandmarkSet = ArrayLike<number>;

/** 0-based iBUG-68 indices of the outer eye corners (left image side first). */
export const OUTER_EYE_CORNERS: readonly [number, number] = [36, 45];

function checkPair(a: LandmarkSet, b: LandmarkSet, what: string): number {
  if (a.length !== b.length) throw new RangeError(`${what}: landmark sets differ in length (${a.length} vs ${b.length})`);
  if (a.length % 2 !== 0) throw new RangeError(`${what}: a landmark set needs an even length, got ${a.length}`);
  return a.length / 2;
}

function usableBoth(a: LandmarkSet, b: LandmarkSet, i: number): boolean {
  return Number.isFinite(a[2 * i]) && Number.isFinite(a[2 * i + 1]) && Number.isFinite(b[2 * i]) && Number.isFinite(b[2 * i + 1]);
}

/**
 * Average keypoint distance in pixels: the mean over points of the Euclidean
 * distance between corresponding points of `a` and `b`.
 */
export function akd(a: LandmarkSet, b: LandmarkSet): number {
  const n = checkPair(a, b, 'akd');
  let sum = 0;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!usableBoth(a, b, i)) continue;
    sum += Math.hypot(a[2 * i]! - b[2 * i]!, a[2 * i + 1]! - b[2 * i + 1]!);
    count++;
  }
  return count ? sum / count : NaN;
}

/**
 * Inter-ocular distance of a 68-point set: the distance between the outer eye
 * corners (points 36 and 45, 0-based), the normaliser of the 300-W benchmark.
 */
export function interOcularDistance(landmarks: LandmarkSet): number {
  if (landmarks.length !== 136) throw new RangeError(`interOcularDistance: needs 68 points (136 numbers), got ${landmarks.length}`);
  const [i, j] = OUTER_EYE_CORNERS;
  return Math.hypot(landmarks[2 * i]! - landmarks[2 * j]!, landmarks[2 * i + 1]! - landmarks[2 * j + 1]!);
}

/**
 * AKD divided by the inter-ocular distance of `a`, the reference set (for
 * example the source frame's landmarks): a fraction of the face size,
 * comparable across resolutions. NaN when that distance is 0 or missing.
 */
export function akdNormalised(a: LandmarkSet, b: LandmarkSet): number {
  const iod = interOcularDistance(a);
  return iod > 0 ? akd(a, b) / iod : NaN;
}

/** A 2-D similarity map p -> scale * R(rotation) p + translation. */
export interface SimilarityTransform {
  scale: number;
  /** Radians: x' = cos*x - sin*y, y' = sin*x + cos*y (clockwise on screen, where y points down). */
  rotation: number;
  translation: [number, number];
}

/** Apply a similarity transform to a flat landmark set. */
export function applySimilarity(points: LandmarkSet, t: SimilarityTransform): Float64Array {
  const out = new Float64Array(points.length);
  const c = t.scale * Math.cos(t.rotation);
  const s = t.scale * Math.sin(t.rotation);
  for (let i = 0; i < points.length; i += 2) {
    const x = points[i]!;
    const y = points[i + 1]!;
    out[i] = c * x - s * y + t.translation[0];
    out[i + 1] = s * x + c * y + t.translation[1];
  }
  return out;
}

/**
 * Least-squares similarity alignment (orthogonal Procrustes with scale, no
 * reflection) of `moving` onto `reference`: the scale, rotation and
 * translation minimising sum |reference_i - T(moving_i)|^2 over the points
 * usable in both. In complex form, with both sets centred, the optimal
 * scale * e^{i rotation} is sum(r_i conj(m_i)) / sum |m_i|^2.
 * `alignOn` restricts the fit to those point indices (default all).
 * Returns the aligned copy of `moving` (all points, missing ones stay NaN).
 */
export function procrustesAlign(
  reference: LandmarkSet,
  moving: LandmarkSet,
  alignOn?: readonly number[],
): { aligned: Float64Array; transform: SimilarityTransform } {
  const n = checkPair(reference, moving, 'procrustesAlign');
  const use = new Uint8Array(n);
  for (const i of alignOn ?? Array.from({ length: n }, (_, k) => k)) {
    if (!(Number.isInteger(i) && i >= 0 && i < n)) throw new RangeError(`procrustesAlign: point index ${i} out of range 0..${n - 1}`);
    use[i] = 1;
  }
  const usable = (ref: LandmarkSet, mov: LandmarkSet, i: number) => use[i] === 1 && usableBoth(ref, mov, i);
  let count = 0;
  let rcx = 0, rcy = 0, mcx = 0, mcy = 0;
  for (let i = 0; i < n; i++) {
    if (!usable(reference, moving, i)) continue;
    rcx += reference[2 * i]!;
    rcy += reference[2 * i + 1]!;
    mcx += moving[2 * i]!;
    mcy += moving[2 * i + 1]!;
    count++;
  }
  if (count === 0) {
    return { aligned: new Float64Array(moving.length).fill(NaN), transform: { scale: NaN, rotation: NaN, translation: [NaN, NaN] } };
  }
  rcx /= count; rcy /= count; mcx /= count; mcy /= count;
  let re = 0, im = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    if (!usable(reference, moving, i)) continue;
    const rx = reference[2 * i]! - rcx;
    const ry = reference[2 * i + 1]! - rcy;
    const mx = moving[2 * i]! - mcx;
    const my = moving[2 * i + 1]! - mcy;
    // r * conj(m) = (rx + i ry)(mx - i my)
    re += rx * mx + ry * my;
    im += ry * mx - rx * my;
    norm += mx * mx + my * my;
  }
  // A degenerate moving set (all points equal) can only be translated.
  const scale = norm > 0 ? Math.hypot(re, im) / norm : 0;
  const rotation = norm > 0 ? Math.atan2(im, re) : 0;
  const c = scale * Math.cos(rotation);
  const s = scale * Math.sin(rotation);
  const transform: SimilarityTransform = { scale, rotation, translation: [rcx - (c * mcx - s * mcy), rcy - (s * mcx + c * mcy)] };
  return { aligned: applySimilarity(moving, transform), transform };
}

export interface ExpressionDistanceOptions {
  /** Divide by the inter-ocular distance of `a` (needs 68 points). Default false: pixels of `a`. */
  normalise?: boolean;
  /**
   * Fit the alignment on these point indices only (default: all points, the
   * plain Procrustes distance). STABLE_POINTS_68 keeps a moving mouth or brow
   * from pulling the alignment; the distance is still averaged over all points.
   */
  alignOn?: readonly number[];
}

/**
 * Points of the 68-point layout that expressions barely move: the eye corners
 * (36, 39, 42, 45) and the nose bridge and base (27-35).
 */
export const STABLE_POINTS_68: readonly number[] = [27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45];

/**
 * Expression distance, a landmark stand-in for AED: align `b` onto `a` with
 * the best similarity transform (`procrustesAlign`: translation, in-plane
 * rotation and uniform scale removed), then take the mean point distance, in
 * the pixels of `a` (or a fraction of its inter-ocular distance with
 * `normalise`). The least-squares fit over all points spreads a local change
 * over the whole set (10 lower-lip points moved 12 px give about 3.0 px on a
 * 200 px face, where the unaligned AKD is 120/68 = 1.76); `alignOn:
 * STABLE_POINTS_68` fits on rigid points instead and reports such a change
 * as exactly 1.76. What remains is shape change: mouth opening, brows, eyelids,
 * but also the shape change that out-of-plane head rotation (yaw, pitch)
 * causes, which a 2-D similarity cannot remove. The AED of FOMM and
 * LivePortrait compares the embeddings of an expression network instead;
 * this one needs no network and is reproducible from landmarks alone.
 */
export function expressionDistance(a: LandmarkSet, b: LandmarkSet, opts: ExpressionDistanceOptions = {}): number {
  const { aligned } = procrustesAlign(a, b, opts.alignOn);
  const d = akd(a, aligned);
  return opts.normalise ? d / interOcularDistance(a) : d;
}

// ---------------------------------------------------------------------------
// Temporal metrics

/** A landmark track: one set per frame, or null where no face was found. */
export type LandmarkSequence = ReadonlyArray<LandmarkSet | null | undefined>;

/**
 * RMS landmark speed of one track in pixels per frame:
 * sqrt(mean over consecutive frame pairs and points of |L_{t+1,i} - L_{t,i}|^2).
 * Pairs with a missing frame, and missing points, are skipped. NaN with fewer
 * than two usable frames.
 */
export function velocityRms(seq: LandmarkSequence): number {
  let sum = 0;
  let count = 0;
  for (let t = 0; t + 1 < seq.length; t++) {
    const p = seq[t];
    const q = seq[t + 1];
    if (!p || !q) continue;
    const n = checkPair(p, q, 'velocityRms');
    for (let i = 0; i < n; i++) {
      if (!usableBoth(p, q, i)) continue;
      const vx = q[2 * i]! - p[2 * i]!;
      const vy = q[2 * i + 1]! - p[2 * i + 1]!;
      sum += vx * vx + vy * vy;
      count++;
    }
  }
  return count ? Math.sqrt(sum / count) : NaN;
}

/**
 * Temporal jitter of track `b` (e.g. landmarks of the rendered frames)
 * against track `a` (the source), in pixels per frame: the RMS over
 * consecutive frame pairs and points of the Euclidean norm of the velocity
 * difference, sqrt(mean |(B_{t+1} - B_t) - (A_{t+1} - A_t)|^2). Motion the
 * two share cancels; frame-to-frame wobble that only one has remains. A
 * constant offset between the tracks gives 0; alternating noise of +-e on
 * one track gives 2e. Both tracks must be in the same coordinates (map crop
 * landmarks back to source pixels first) and have the same frame count.
 * Pairs where any of the four frames is missing are skipped.
 */
export function temporalJitter(a: LandmarkSequence, b: LandmarkSequence): number {
  if (a.length !== b.length) throw new RangeError(`temporalJitter: sequences differ in length (${a.length} vs ${b.length} frames)`);
  let sum = 0;
  let count = 0;
  for (let t = 0; t + 1 < a.length; t++) {
    const a0 = a[t], a1 = a[t + 1], b0 = b[t], b1 = b[t + 1];
    if (!a0 || !a1 || !b0 || !b1) continue;
    const n = checkPair(a0, b0, 'temporalJitter');
    checkPair(a1, b1, 'temporalJitter');
    checkPair(a0, a1, 'temporalJitter');
    for (let i = 0; i < n; i++) {
      if (!usableBoth(a0, a1, i) || !usableBoth(b0, b1, i)) continue;
      const dx = b1[2 * i]! - b0[2 * i]! - (a1[2 * i]! - a0[2 * i]!);
      const dy = b1[2 * i + 1]! - b0[2 * i + 1]! - (a1[2 * i + 1]! - a0[2 * i + 1]!);
      sum += dx * dx + dy * dy;
      count++;
    }
  }
  return count ? Math.sqrt(sum / count) : NaN;
}

/** `temporalJitter` of each frame and the next, one value per frame (null for the last, and where a landmark set is missing). */
export function temporalJitterPerFrame(a: LandmarkSequence, b: LandmarkSequence): (number | null)[] {
  if (a.length !== b.length) throw new RangeError(`temporalJitterPerFrame: sequences differ in length (${a.length} vs ${b.length} frames)`);
  return Array.from({ length: a.length }, (_, t) => {
    if (t + 1 >= a.length) return null;
    const j = temporalJitter(a.slice(t, t + 2), b.slice(t, t + 2));
    return Number.isNaN(j) ? null : j;
  });
}
