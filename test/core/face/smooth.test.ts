import { describe, expect, it } from 'vitest';
import type { Quad } from '../../../src/core/face/align';
import { FaceAlignError } from '../../../src/core/face/errors';
import { fillGaps, resolveSmoothing, smoothQuads, smoothSeries, unwrapAngles, wrapAngle } from '../../../src/core/face/smooth';
import { normal, rng } from './fixtures';

const T = 240;
/** A slow pan, zoom and turn: linear in centre, log-scale and angle. */
const truth = (t: number): Quad => ({ cx: 300 + 0.8 * t, cy: 200 - 0.3 * t, s: 150 * Math.exp(0.001 * t), theta: wrapAngle(0.1 + 0.002 * t) });

function rms(xs: number[]): number {
  return Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);
}

/** RMS error to the truth, and RMS of the frame-to-frame change after removing the true change (the jitter). */
function errors(qs: Quad[]) {
  const centre = qs.map((q, t) => Math.hypot(q.cx - truth(t).cx, q.cy - truth(t).cy));
  const scale = qs.map((q, t) => Math.log(q.s / truth(t).s));
  const angle = qs.map((q, t) => wrapAngle(q.theta - truth(t).theta));
  const dCentre = qs.slice(1).map((q, i) => Math.hypot(q.cx - qs[i].cx - 0.8, q.cy - qs[i].cy + 0.3));
  const dScale = qs.slice(1).map((q, i) => Math.log(q.s / qs[i].s) - 0.001);
  return { centre: rms(centre), scale: rms(scale), angle: rms(angle), dCentre: rms(dCentre), dScale: rms(dScale) };
}

function noisy(seed: number): Quad[] {
  const n = normal(rng(seed));
  return Array.from({ length: T }, (_, t) => {
    const q = truth(t);
    return { cx: q.cx + 1.5 * n(), cy: q.cy + 1.5 * n(), s: q.s * Math.exp(0.02 * n()), theta: wrapAngle(q.theta + 0.01 * n()) };
  });
}

describe('smoothSeries', () => {
  it('keeps constants and straight lines exactly, ends included', () => {
    const line = Array.from({ length: 50 }, (_, t) => 3 - 0.7 * t);
    for (const sigma of [0.5, 2, 6, 30]) {
      const s = smoothSeries(line, sigma);
      line.forEach((v, t) => expect(s[t]).toBeCloseTo(v, 9));
      const c = smoothSeries(new Array(20).fill(4.25), sigma);
      c.forEach((v) => expect(v).toBeCloseTo(4.25, 12));
    }
  });

  it('is a plain Gaussian blur away from the ends (zero phase)', () => {
    const x = Array.from({ length: 60 }, (_, t) => Math.sin(t * 0.9) + (t === 30 ? 5 : 0));
    const s = smoothSeries(x, 2);
    let num = 0;
    let den = 0;
    for (let d = -8; d <= 8; d++) {
      const w = Math.exp(-(d * d) / 8);
      num += w * x[30 + d];
      den += w;
    }
    expect(s[30]).toBeCloseTo(num / den, 12);
    // An impulse stays centred: its smoothed response is symmetric.
    const imp = smoothSeries(Array.from({ length: 41 }, (_, t) => (t === 20 ? 1 : 0)), 3);
    for (let d = 1; d <= 10; d++) expect(imp[20 - d]).toBeCloseTo(imp[20 + d], 12);
  });

  it('returns a copy for sigma 0 and rejects negative sigma', () => {
    expect(Array.from(smoothSeries([1, 5, 2], 0))).toEqual([1, 5, 2]);
    expect(() => smoothSeries([1, 2], -1)).toThrow(FaceAlignError);
  });
});

describe('unwrapAngles', () => {
  it('removes 2 pi jumps', () => {
    const raw = [3.1, -3.1, -3.0, 3.05, 2.9];
    const u = unwrapAngles(raw);
    for (let i = 1; i < u.length; i++) expect(Math.abs(u[i] - u[i - 1])).toBeLessThan(Math.PI);
    expect(u[1]).toBeCloseTo(-3.1 + 2 * Math.PI, 12);
  });
});

describe('smoothQuads', () => {
  it('leaves a slow pan, zoom and turn as it is', () => {
    const clean = Array.from({ length: T }, (_, t) => truth(t));
    const out = smoothQuads(clean, { sigmaFrames: 3 });
    out.forEach((q, t) => {
      expect(q.cx).toBeCloseTo(clean[t].cx, 8);
      expect(q.cy).toBeCloseTo(clean[t].cy, 8);
      expect(q.s).toBeCloseTo(clean[t].s, 8);
      expect(q.theta).toBeCloseTo(clean[t].theta, 10);
    });
  });

  it('removes injected jitter: centre, scale and angle errors and frame-to-frame shake all drop', () => {
    const raw = noisy(7);
    const before = errors(raw);
    const after = errors(smoothQuads(raw, { sigmaFrames: 2 }));
    // Measured (seed 7): centre 2.16 -> 0.84 px, scale 2.2% -> 0.56%, angle 0.0096 -> 0.0025 rad;
    // frame-to-frame centre shake 3.04 -> 0.31 px, scale shake 3.0% -> 0.07%.
    expect(before.centre).toBeGreaterThan(2);
    expect(after.centre).toBeLessThan(before.centre / 2.3);
    expect(after.scale).toBeLessThan(before.scale / 3.5); // scale smoothed 3x more strongly
    expect(after.angle).toBeLessThan(before.angle / 3);
    expect(after.dCentre).toBeLessThan(before.dCentre / 8);
    expect(after.dScale).toBeLessThan(before.dScale / 30);
    // Stronger smoothing removes more.
    const strong = errors(smoothQuads(raw, { sigmaFrames: 6 }));
    expect(strong.dCentre).toBeLessThan(after.dCentre);
  });

  it('smooths angles across +-pi without averaging them towards 0', () => {
    const qs: Quad[] = Array.from({ length: 30 }, (_, t) => ({ cx: 0, cy: 0, s: 1, theta: wrapAngle(Math.PI - 0.05 + 0.004 * t + (t % 2 ? 0.01 : -0.01)) }));
    const out = smoothQuads(qs, { sigmaFrames: 2 });
    out.forEach((q, t) => expect(Math.abs(wrapAngle(q.theta - (Math.PI - 0.05 + 0.004 * t)))).toBeLessThan(0.01));
  });

  it('is off at strength 0, and smooths scale 3x and angle 1.5x as strongly as the centre by default', () => {
    const raw = noisy(3);
    expect(smoothQuads(raw, { sigmaFrames: 0 })).toEqual(raw);
    expect(resolveSmoothing({ sigmaFrames: 2 })).toEqual({ centre: 2, scale: 6, angle: 3 });
    expect(resolveSmoothing({ sigmaFrames: 2, scaleSigmaFrames: 10 })).toEqual({ centre: 2, scale: 10, angle: 3 });
    expect(resolveSmoothing({ sigmaFrames: 0, scaleSigmaFrames: 10 })).toEqual({ centre: 0, scale: 0, angle: 0 });
    expect(() => resolveSmoothing({ sigmaFrames: -1 })).toThrow(/sigmaFrames/);
  });
});

describe('fillGaps', () => {
  const q = (cx: number, s = 100, theta = 0): Quad => ({ cx, cy: 2 * cx, s, theta });

  it('fills short gaps linearly (centre), geometrically (scale) and the short way round (angle)', () => {
    const out = fillGaps([q(0, 100, 3.0), null, null, q(30, 800, -3.0)], 2);
    expect(out[1].cx).toBeCloseTo(10, 12);
    expect(out[2].cy).toBeCloseTo(40, 12);
    expect(out[1].s).toBeCloseTo(200, 9);
    expect(out[2].s).toBeCloseTo(400, 9);
    // From 3.0 to -3.0 the short way is through pi: +0.0944 a step.
    const step = (2 * Math.PI - 6) / 3;
    expect(wrapAngle(out[1].theta - (3 + step))).toBeCloseTo(0, 12);
    expect(wrapAngle(out[2].theta - (3 + 2 * step))).toBeCloseTo(0, 12);
  });

  it('holds the nearest face over short gaps at the ends', () => {
    const out = fillGaps([null, null, q(5), q(6), null], 2);
    expect(out.map((x) => x.cx)).toEqual([5, 5, 5, 6, 6]);
  });

  it('throws NO_FACE listing every gap that is too long, in source-frame indices', () => {
    const frames: (Quad | null)[] = Array.from({ length: 60 }, (_, t) => (t >= 12 && t <= 40 ? null : q(t)));
    expect(() => fillGaps(frames, 8)).toThrow('no face in frames 12-40 (29 frames); the longest gap that can be filled is 8');
    frames[50] = null;
    frames.fill(null, 0, 10);
    try {
      fillGaps(frames, 8, 100);
      expect.unreachable();
    } catch (err) {
      const e = err as FaceAlignError;
      expect(e.code).toBe('NO_FACE');
      expect(e.message).toBe('no face in frames 100-109 (10 frames), 112-140 (29 frames); the longest gap that can be filled is 8');
      expect(e.gaps).toEqual([
        { start: 100, end: 109 },
        { start: 112, end: 140 },
      ]);
    }
    expect(() => fillGaps([null, null], 8, 5)).toThrow('no face in any frame: frames 5-6 (2 frames)');
    expect(() => fillGaps([q(1), null, q(2)], 0)).toThrow('no face in frame 1 (1 frame); the longest gap that can be filled is 0');
  });

  it('returns copies and leaves gap-free input as it is', () => {
    const input = [q(1), q(2)];
    const out = fillGaps(input, 3);
    expect(out).toEqual(input);
    expect(out[0]).not.toBe(input[0]);
  });
});
