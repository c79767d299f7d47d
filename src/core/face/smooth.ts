// Temporal stabilisation of the per-frame FFHQ quads, and bridging of short
// runs of frames with no face.
//
// What is smoothed: the centre (cx, cy), log(s) and the unwrapped angle, each
// as its own time series. log(s) rather than s, so a zoom is smoothed as a
// ratio and the filter is symmetric between growing and shrinking; the angle is
// unwrapped first so a head turning through +-pi is not averaged to zero.
//
// The filter: a Gaussian kernel of standard deviation sigma (in frames),
// truncated at 4 sigma and applied as a locally weighted LINEAR regression:
// at frame t we fit a line to the samples in the window with the Gaussian
// weights and take its value at t. For offline video this is
//  - zero-phase (the kernel is symmetric: no lag, unlike a causal filter);
//  - in the interior, exactly a Gaussian blur (with a symmetric window the
//    fitted slope drops out of the value at t);
//  - at the two ends of the clip, edge-corrected: it reproduces a linear
//    trend exactly (a pan or a zoom stays a pan or a zoom up to the first and
//    last frame), where plain even reflection would flatten the trend (the crop
//    would lag at the clip's ends) and odd (point) reflection would pin the end
//    frame to its own noisy value. It is the order-1 Savitzky–Golay idea with
//    Gaussian weights.
// The scale is smoothed with a wider kernel than the centre (default 3x): the
// face moves, and the crop must follow it quickly, but its size hardly changes
// and any residual breathing of the crop's scale reads as the face pumping.
// Strength 0 turns smoothing off (the raw quads come back unchanged).
import { FaceAlignError, type FrameGap } from './errors';
import type { Quad } from './align';

export interface SmoothingOptions {
  /** Gaussian sigma, in frames, for the centre; 0 turns all smoothing off. */
  sigmaFrames: number;
  /** Sigma for log-scale (default 3 * sigmaFrames). */
  scaleSigmaFrames?: number;
  /** Sigma for the angle (default 1.5 * sigmaFrames). */
  angleSigmaFrames?: number;
}

export const DEFAULT_SMOOTHING: Readonly<SmoothingOptions> = { sigmaFrames: 10 };
export const SCALE_SIGMA_FACTOR = 3;
export const ANGLE_SIGMA_FACTOR = 1.5;

export interface ResolvedSmoothing {
  centre: number;
  scale: number;
  angle: number;
}

function checkSigma(name: string, v: number): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new FaceAlignError('INVALID_ARGUMENT', `${name} must be a number >= 0 (frames), got ${v}`);
}

/** The three sigmas a SmoothingOptions stands for. */
export function resolveSmoothing(opts: Partial<SmoothingOptions> = {}): ResolvedSmoothing {
  const centre = opts.sigmaFrames ?? DEFAULT_SMOOTHING.sigmaFrames;
  checkSigma('sigmaFrames', centre);
  const scale = opts.scaleSigmaFrames ?? centre * SCALE_SIGMA_FACTOR;
  const angle = opts.angleSigmaFrames ?? centre * ANGLE_SIGMA_FACTOR;
  checkSigma('scaleSigmaFrames', scale);
  checkSigma('angleSigmaFrames', angle);
  if (centre === 0) return { centre: 0, scale: 0, angle: 0 };
  return { centre, scale, angle };
}

/**
 * Zero-phase Gaussian smoothing of a series (sigma in samples), with the
 * local-linear edge correction described above. sigma = 0 returns a copy.
 */
export function smoothSeries(values: ArrayLike<number>, sigma: number): Float64Array {
  checkSigma('sigma', sigma);
  const n = values.length;
  const out = new Float64Array(n);
  if (sigma === 0 || n < 2) {
    for (let i = 0; i < n; i++) out[i] = values[i];
    return out;
  }
  const radius = Math.max(1, Math.ceil(4 * sigma));
  const w = new Float64Array(radius + 1);
  for (let k = 0; k <= radius; k++) w[k] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let t = 0; t < n; t++) {
    const lo = Math.max(0, t - radius);
    const hi = Math.min(n - 1, t + radius);
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let t0 = 0;
    let t1 = 0;
    for (let j = lo; j <= hi; j++) {
      const d = j - t;
      const wj = w[d < 0 ? -d : d];
      const y = values[j];
      s0 += wj;
      s1 += wj * d;
      s2 += wj * d * d;
      t0 += wj * y;
      t1 += wj * d * y;
    }
    const det = s0 * s2 - s1 * s1;
    // Value at d = 0 of the weighted least-squares line; with a symmetric window s1 = 0 and this is t0/s0.
    out[t] = Math.abs(s1) < 1e-12 * s0 || !(det > 1e-12 * s0 * s2) ? t0 / s0 : (s2 * t0 - s1 * t1) / det;
  }
  return out;
}

/** Removes 2*pi jumps so consecutive angles differ by at most pi. */
export function unwrapAngles(theta: ArrayLike<number>): Float64Array {
  const out = new Float64Array(theta.length);
  let offset = 0;
  for (let i = 0; i < theta.length; i++) {
    if (i > 0) {
      const d = theta[i] + offset - out[i - 1];
      offset -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
    }
    out[i] = theta[i] + offset;
  }
  return out;
}

/** Wraps an angle to (-pi, pi]. */
export function wrapAngle(a: number): number {
  const w = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
  return w === -Math.PI ? Math.PI : w;
}

/** Smooths a gap-free sequence of quads over time (see the header). Angles come back wrapped to (-pi, pi]. */
export function smoothQuads(quads: readonly Quad[], opts: Partial<SmoothingOptions> = {}): Quad[] {
  const sig = resolveSmoothing(opts);
  const n = quads.length;
  if (sig.centre === 0) return quads.map((q) => ({ ...q }));
  const cx = smoothSeries(quads.map((q) => q.cx), sig.centre);
  const cy = smoothSeries(quads.map((q) => q.cy), sig.centre);
  const ls = smoothSeries(quads.map((q) => Math.log(q.s)), sig.scale);
  const th = smoothSeries(unwrapAngles(quads.map((q) => q.theta)), sig.angle);
  const out: Quad[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { cx: cx[i], cy: cy[i], s: Math.exp(ls[i]), theta: wrapAngle(th[i]) };
  return out;
}

/** Linear interpolation between two quads at fraction f: centre and log-scale linearly, angle along the shorter way. */
export function lerpQuad(a: Quad, b: Quad, f: number): Quad {
  const dTheta = wrapAngle(b.theta - a.theta);
  return {
    cx: a.cx + (b.cx - a.cx) * f,
    cy: a.cy + (b.cy - a.cy) * f,
    s: Math.exp(Math.log(a.s) + (Math.log(b.s) - Math.log(a.s)) * f),
    theta: wrapAngle(a.theta + dTheta * f),
  };
}

/** "frames 12-40 (29 frames), 50 (1 frame)", or "frame 7 (1 frame)" for one single frame. */
function describeGaps(gaps: FrameGap[]): string {
  const one = (g: FrameGap) => {
    const len = g.end - g.start + 1;
    return `${g.start === g.end ? g.start : `${g.start}-${g.end}`} (${len} frame${len === 1 ? '' : 's'})`;
  };
  const single = gaps.length === 1 && gaps[0].start === gaps[0].end;
  return `${single ? 'frame' : 'frames'} ${gaps.map(one).join(', ')}`;
}

/**
 * Bridges runs of frames with no face (null). A run of at most `maxGap` frames
 * between two faces is filled by linear interpolation (lerpQuad); a run of at
 * most `maxGap` frames at the start or the end of the clip takes the nearest
 * face's quad. Longer runs throw NO_FACE, listing every one of them, e.g.
 * "no face in frames 12-40 (29 frames); the longest gap that can be filled is 8".
 * `firstIndex` is the source-frame index of frames[0], for the message.
 */
export function fillGaps(frames: readonly (Quad | null)[], maxGap: number, firstIndex = 0): Quad[] {
  if (!(Number.isInteger(maxGap) && maxGap >= 0)) {
    throw new FaceAlignError('INVALID_ARGUMENT', `maxGap must be a whole number >= 0, got ${maxGap}`);
  }
  const n = frames.length;
  if (n === 0) return [];
  const gaps: { start: number; end: number }[] = [];
  for (let i = 0; i < n; ) {
    if (frames[i] !== null) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < n && frames[j + 1] === null) j++;
    gaps.push({ start: i, end: j });
    i = j + 1;
  }
  if (gaps.length === 1 && gaps[0].start === 0 && gaps[0].end === n - 1) {
    const g = { start: firstIndex, end: firstIndex + n - 1 };
    throw new FaceAlignError('NO_FACE', `no face in any frame: ${describeGaps([g])}`, [g]);
  }
  const tooLong = gaps.filter((g) => g.end - g.start + 1 > maxGap).map((g) => ({ start: g.start + firstIndex, end: g.end + firstIndex }));
  if (tooLong.length > 0) {
    throw new FaceAlignError(
      'NO_FACE',
      `no face in ${describeGaps(tooLong)}; the longest gap that can be filled is ${maxGap}`,
      tooLong
    );
  }
  const out: Quad[] = frames.map((q) => (q ? { ...q } : (null as unknown as Quad)));
  for (const g of gaps) {
    const before = g.start > 0 ? frames[g.start - 1] : null;
    const after = g.end < n - 1 ? frames[g.end + 1] : null;
    for (let i = g.start; i <= g.end; i++) {
      if (before && after) out[i] = lerpQuad(before, after, (i - g.start + 1) / (g.end - g.start + 2));
      else out[i] = { ...(before ?? after)! };
    }
  }
  return out;
}
