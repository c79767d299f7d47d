// Feathered face masks in crop space, for pasting a rendered crop back into
// its frame (warp.ts pasteBack).
//
// Shape: by default a fixed ellipse in FFHQ-aligned crop coordinates (the
// FFHQ crop puts every face at nearly the same place, see
// DEFAULT_FACE_ELLIPSE), or, when 68 landmarks in crop pixels are given, the
// convex hull of the jaw line (0-16) and the brows (17-26) with the brows
// raised to cover the forehead.
//
// Falloff: the mask is a function of the signed distance d to the shape's
// outline (negative inside): m = 1 - smootherstep((d + F/2) / F), with F the
// feather width (a fraction of N). smootherstep (6t^5 - 15t^4 + 10t^3) is C2,
// so there is no visible edge even in flat skin, and the falloff is monotone
// along every ray from inside the shape (the distance to an ellipse or a convex
// polygon grows along such rays). The mask is also multiplied by the same
// smootherstep ramp over the outer F of the crop (0 on the outermost pixels),
// so the crop's own square border never shows; where the two ramps overlap
// (FFHQ crops are tight at the chin) the slope is at most twice the one ramp's.
//
// Stability over time: a mask in crop space moves in the frame with the crop
// transform, so it is only as steady as that transform: build the paste-back
// affines from the SMOOTHED quads (smooth.ts), never per-frame ones. The
// default ellipse is then perfectly steady in crop space. Per-frame landmarks
// are noisy, so a landmark mask must be built from landmarks smoothed over time
// (smoothCropLandmarks), or its edge flickers, which is what users complain of.
import { FaceAlignError } from './errors';
import type { Point } from './align';
import { smoothSeries } from './smooth';

/** An ellipse in fractions of the crop size: centre, radii (the outline is where the mask is 0.5). */
export interface MaskEllipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/**
 * Where the face is in an FFHQ-aligned crop. With the recipe of align.ts a
 * mean face (test/core/face/fixtures.ts) lands with its eye centres at
 * v ~ 0.47 N and 0.29 N apart, its brows at v ~ 0.38 N, its mouth corners at
 * v ~ 0.745 N, its chin at v ~ 0.95 N (FFHQ crops are tight at the bottom)
 * and its jaw from u ~ 0.21 N to 0.80 N. This ellipse (outline where the mask
 * is 0.5) runs from the forehead (0.18 N) to the chin (0.94 N) and from cheek
 * to cheek (0.17 N..0.83 N).
 */
export const DEFAULT_FACE_ELLIPSE: Readonly<MaskEllipse> = { cx: 0.5, cy: 0.56, rx: 0.33, ry: 0.38 };

export interface MaskOptions {
  /** Width of the falloff, as a fraction of N (default 0.1). */
  feather?: number;
  /** The ellipse, when no landmarks are given (default DEFAULT_FACE_ELLIPSE). */
  ellipse?: MaskEllipse;
  /** 68 landmarks in crop pixels ([x0, y0, ...]); smoothed over time, see the header. */
  landmarks?: ArrayLike<number>;
  /** How far the brows are raised to cover the forehead, as a fraction of the brow-to-chin height (default 0.35). */
  foreheadLift?: number;
}

const smootherstep = (t: number): number => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * t * (t * (6 * t - 15) + 10));

type Pt = Point;

/** Convex hull (Andrew's monotone chain), counter-clockwise in a y-up sense, no repeated end point. */
function convexHull(points: Pt[]): Pt[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: Pt, a: Pt, b: Pt) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Pt[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Pt[] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** The face outline from crop-space landmarks: hull of the jaw and of the brows raised over the forehead. */
export function faceHull(lm: ArrayLike<number>, foreheadLift = 0.35): Pt[] {
  if (lm.length !== 136) throw new FaceAlignError('BAD_LANDMARKS', `expected 68 landmarks (136 numbers), got ${lm.length} numbers`);
  const pts: Pt[] = [];
  for (let i = 0; i <= 16; i++) pts.push([lm[2 * i], lm[2 * i + 1]]);
  let browY = 0;
  for (let i = 17; i <= 26; i++) browY += lm[2 * i + 1] / 10;
  const chinY = lm[2 * 8 + 1];
  const lift = Math.max(0, chinY - browY) * foreheadLift;
  for (let i = 17; i <= 26; i++) {
    pts.push([lm[2 * i], lm[2 * i + 1]]);
    pts.push([lm[2 * i], lm[2 * i + 1] - lift]);
  }
  for (const [x, y] of pts) {
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new FaceAlignError('BAD_LANDMARKS', 'the mask landmarks are not all finite');
  }
  return convexHull(pts);
}

/** The signed distance (negative inside) to a convex polygon, as a function of (x, y). */
function polygonDistance(poly: Pt[]): (x: number, y: number) => number {
  const k = poly.length;
  const ax = new Float64Array(k);
  const ay = new Float64Array(k);
  const ex = new Float64Array(k);
  const ey = new Float64Array(k);
  const inv = new Float64Array(k);
  // The hull's orientation decides which side is inside; take it from its signed area.
  let area = 0;
  for (let i = 0; i < k; i++) {
    const [x0, y0] = poly[i];
    const [x1, y1] = poly[(i + 1) % k];
    ax[i] = x0;
    ay[i] = y0;
    ex[i] = x1 - x0;
    ey[i] = y1 - y0;
    const len2 = ex[i] * ex[i] + ey[i] * ey[i];
    inv[i] = len2 > 0 ? 1 / len2 : 0;
    area += x0 * y1 - x1 * y0;
  }
  const sign = area >= 0 ? 1 : -1;
  return (x, y) => {
    let best = Infinity;
    let inside = true;
    for (let i = 0; i < k; i++) {
      const px = x - ax[i];
      const py = y - ay[i];
      if (sign * (ex[i] * py - ey[i] * px) < 0) inside = false;
      const t = Math.min(1, Math.max(0, (px * ex[i] + py * ey[i]) * inv[i]));
      const dx = px - t * ex[i];
      const dy = py - t * ey[i];
      const d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2;
    }
    const d = Math.sqrt(best);
    return inside ? -d : d;
  };
}

/**
 * Approximate signed distance to an ellipse (first order: (q - 1) / |grad q|
 * with q the normalised radius): exact on the outline and linear along rays
 * from the centre, so monotone.
 */
function ellipseDistance(e: { cx: number; cy: number; rx: number; ry: number }, x: number, y: number): number {
  const dx = x - e.cx;
  const dy = y - e.cy;
  const nx = dx / e.rx;
  const ny = dy / e.ry;
  const q = Math.sqrt(nx * nx + ny * ny);
  if (q < 1e-12) return -Math.min(e.rx, e.ry);
  const gx = nx / e.rx;
  const gy = ny / e.ry;
  const g = Math.sqrt(gx * gx + gy * gy) / q;
  return (q - 1) / g;
}

/** An N x N feathered face mask in crop space, values 0..1 (row-major). See the header. */
export function faceMask(n: number, opts: MaskOptions = {}): Float32Array {
  if (!(Number.isInteger(n) && n > 0)) throw new FaceAlignError('INVALID_ARGUMENT', `mask size must be a whole number > 0, got ${n}`);
  const feather = opts.feather ?? 0.1;
  if (!(feather > 0 && feather <= 1)) throw new FaceAlignError('INVALID_ARGUMENT', `feather must be in (0, 1], got ${feather}`);
  const band = feather * n;
  let dist: (x: number, y: number) => number;
  if (opts.landmarks) {
    const hull = faceHull(opts.landmarks, opts.foreheadLift ?? 0.35);
    if (hull.length < 3) throw new FaceAlignError('BAD_LANDMARKS', 'the mask landmarks are degenerate');
    dist = polygonDistance(hull);
  } else {
    const el = opts.ellipse ?? DEFAULT_FACE_ELLIPSE;
    if (!(el.rx > 0 && el.ry > 0)) throw new FaceAlignError('INVALID_ARGUMENT', 'the mask ellipse needs radii > 0');
    const e = { cx: el.cx * n, cy: el.cy * n, rx: el.rx * n, ry: el.ry * n };
    dist = (x, y) => ellipseDistance(e, x, y);
  }
  const out = new Float32Array(n * n);
  const borderBand = band;
  for (let j = 0; j < n; j++) {
    const y = j + 0.5;
    for (let i = 0; i < n; i++) {
      const x = i + 0.5;
      const shape = 1 - smootherstep((dist(x, y) + band / 2) / band);
      // Distance of the pixel's centre from the crop's border, less half a pixel: 0 on the outer pixels.
      const edge = Math.min(x, y, n - x, n - y) - 0.5;
      out[j * n + i] = shape * smootherstep(edge / borderBand);
    }
  }
  return out;
}

/**
 * Smooths crop-space landmarks over time (the same zero-phase Gaussian as the
 * quads, smooth.ts) so a landmark mask does not flicker. Frames with null
 * landmarks take values interpolated linearly from their neighbours (held at
 * the ends) before smoothing.
 */
export function smoothCropLandmarks(perFrame: readonly (ArrayLike<number> | null)[], sigmaFrames: number): Float32Array[] {
  const n = perFrame.length;
  const known: number[] = [];
  for (let t = 0; t < n; t++) if (perFrame[t]) known.push(t);
  if (n === 0) return [];
  if (known.length === 0) throw new FaceAlignError('NO_FACE', 'no landmarks in any frame');
  const len = perFrame[known[0]]!.length;
  const out = Array.from({ length: n }, () => new Float32Array(len));
  const series = new Float64Array(n);
  for (let k = 0; k < len; k++) {
    let next = 0;
    for (let t = 0; t < n; t++) {
      const cur = perFrame[t];
      if (cur) {
        series[t] = cur[k];
        continue;
      }
      while (next < known.length && known[next] < t) next++;
      const after = next < known.length ? known[next] : -1;
      const before = next > 0 ? known[next - 1] : -1;
      if (before < 0) series[t] = perFrame[after]![k];
      else if (after < 0) series[t] = perFrame[before]![k];
      else series[t] = perFrame[before]![k] + ((perFrame[after]![k] - perFrame[before]![k]) * (t - before)) / (after - before);
    }
    const sm = smoothSeries(series, sigmaFrames);
    for (let t = 0; t < n; t++) out[t][k] = sm[t];
  }
  return out;
}
