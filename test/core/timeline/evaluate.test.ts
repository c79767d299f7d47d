import { describe, expect, it } from 'vitest';
import {
  PARAM_COUNT,
  TimelineError,
  addRangeEdit,
  emptyTimeline,
  evaluateAll,
  evaluateFrame,
  isIdentity,
  layerValue,
  setLock,
  setStrength,
  type Keyframe,
  type RangeSpec,
  type TimelineDoc
} from '../../../src/core/timeline';
import { TRACK, encodedValue, makeContext } from './fixture';

const key = (id: string, frame: number, value: number, o: Partial<Keyframe> = {}): Keyframe => ({
  id,
  frame,
  value,
  interp: 'bezier',
  auto: true,
  handleIn: { dt: -1, dv: 0 },
  handleOut: { dt: 1, dv: 0 },
  ...o
});

const withKeys = (doc: TimelineDoc, track: number, keys: Keyframe[]): TimelineDoc => ({ ...doc, layers: doc.layers.map((l, t) => (t === track ? keys : l)) });

const ctx = makeContext();
const doc0 = emptyTimeline(60);
/** The edited value minus the encoded one (the offset as evaluated). */
const offsetAt = (doc: TimelineDoc, track: number, frame: number) => evaluateFrame(doc, ctx, frame)[track]! - encodedValue(frame, track);

/** The cubic bezier's y where its x reaches t, found by dense sampling (independent of the model's bisection). */
function bezierBySampling(p: number[], t: number): number {
  const B = (a: number, b: number, c: number, d: number, s: number) => (1 - s) ** 3 * a + 3 * (1 - s) ** 2 * s * b + 3 * (1 - s) * s * s * c + s ** 3 * d;
  const n = 200_000;
  let prevX = p[0]!;
  let prevY = p[1]!;
  for (let i = 1; i <= n; i++) {
    const s = i / n;
    const x = B(p[0]!, p[2]!, p[4]!, p[6]!, s);
    const y = B(p[1]!, p[3]!, p[5]!, p[7]!, s);
    if (x >= t) return prevY + ((y - prevY) * (t - prevX)) / (x - prevX);
    prevX = x;
    prevY = y;
  }
  return p[7]!;
}

describe('keyframed offset layers', () => {
  it('linear interpolation between two keys', () => {
    const keys = [key('a', 10, 0, { interp: 'linear' }), key('b', 20, 2)];
    expect(layerValue(keys, 15)).toBe(1);
    expect(layerValue(keys, 13)).toBeCloseTo(0.6, 12);
    const doc = withKeys(doc0, TRACK.mouth0, keys);
    expect(offsetAt(doc, TRACK.mouth0, 13)).toBeCloseTo(0.6, 6);
  });

  it('hold keeps the value until the next key, and the ends hold the end values', () => {
    const keys = [key('a', 10, 1, { interp: 'hold' }), key('b', 20, 3)];
    expect(layerValue(keys, 0)).toBe(1);
    expect(layerValue(keys, 19)).toBe(1);
    expect(layerValue(keys, 20)).toBe(3);
    expect(layerValue(keys, 59)).toBe(3);
    expect(layerValue([], 5)).toBe(0);
  });

  it('bezier with flat handles at a third of the span is smoothstep', () => {
    const keys = [key('a', 0, 0, { auto: false, handleOut: { dt: 4, dv: 0 } }), key('b', 12, 4, { auto: false, handleIn: { dt: -4, dv: 0 } })];
    // x(s) = 12 s exactly, y(s) = 4 (3 s^2 - 2 s^3): at t = 3, s = 1/4 -> 4 * 10/64.
    expect(layerValue(keys, 3)).toBeCloseTo(0.625, 10);
    expect(layerValue(keys, 6)).toBeCloseTo(2, 10);
    expect(layerValue(keys, 9)).toBeCloseTo(4 - 0.625, 10);
  });

  it('bezier handles along the chord give a straight line', () => {
    const keys = [key('a', 0, 0, { auto: false, handleOut: { dt: 2, dv: 1 } }), key('b', 6, 3, { auto: false, handleIn: { dt: -2, dv: -1 } })];
    for (let t = 0; t <= 6; t++) expect(layerValue(keys, t)).toBeCloseTo(t / 2, 9);
  });

  it('After-Effects-like influence and speed: long, sloped handles match the curve sampled independently', () => {
    const keys = [key('a', 10, 1, { auto: false, handleOut: { dt: 15, dv: 3 } }), key('b', 40, -2, { auto: false, handleIn: { dt: -6, dv: 1.5 } })];
    const controls = [10, 1, 25, 4, 34, -0.5, 40, -2];
    for (const t of [11, 17, 25, 33, 39]) expect(layerValue(keys, t)).toBeCloseTo(bezierBySampling(controls, t), 6);
  });

  it('handles longer than the segment are scaled back into it, keeping their slope', () => {
    const keys = [key('a', 0, 0, { auto: false, handleOut: { dt: 20, dv: 10 } }), key('b', 10, 0, { auto: false, handleIn: { dt: -5, dv: 0 } })];
    // The out handle becomes (10, 5): control points (0,0) (10,5) (5,0) (10,0).
    const controls = [0, 0, 10, 5, 5, 0, 10, 0];
    for (const t of [1, 4, 7, 9]) expect(layerValue(keys, t)).toBeCloseTo(bezierBySampling(controls, t), 6);
  });

  it('auto handles are flat at extremes and follow the neighbours elsewhere', () => {
    // 0 -> 1 -> 0: every key flat, so each segment is smoothstep.
    expect(layerValue([key('a', 0, 0), key('b', 10, 1), key('c', 20, 0)], 5)).toBeCloseTo(0.5, 10);
    // 0 -> 1 -> 3: the middle key's slope is 3/20; on [0,10] x = 10 s and
    // y(1/2) = 3/8 * (1 - 0.15 * 10/3) + 1/8 * 1 = 0.3125.
    expect(layerValue([key('a', 0, 0), key('b', 10, 1), key('c', 20, 3)], 5)).toBeCloseTo(0.3125, 10);
  });
});

describe('range edits', () => {
  const spec = (o: Partial<RangeSpec>): RangeSpec => ({
    label: 'Offset',
    start: 10,
    end: 30,
    blendIn: 8,
    blendOut: 4,
    easeIn: 'smooth',
    easeOut: 'cubic',
    offsets: Array.from({ length: PARAM_COUNT }, (_, i) => (i === TRACK.mouth1 ? 2 : 0)),
    preset: null,
    amount: 1,
    ...o
  });

  it('ramps in and out inside the range with the chosen eases and changes nothing outside', () => {
    const doc = addRangeEdit(doc0, spec({}), 'r1');
    const off = (t: number) => offsetAt(doc, TRACK.mouth1, t);
    expect(off(9)).toBe(0);
    expect(off(10)).toBe(0);
    expect(off(12)).toBeCloseTo(2 * 0.15625, 6); // smoothstep(2/8)
    expect(off(14)).toBeCloseTo(1, 6); // smoothstep(1/2)
    for (let t = 18; t <= 26; t++) expect(off(t)).toBeCloseTo(2, 6);
    expect(off(28)).toBeCloseTo(1, 6); // cubic in-out at 1/2
    expect(off(29)).toBeCloseTo(2 * 0.0625, 6); // 4 (1/4)^3
    expect(off(30)).toBe(0);
    expect(off(31)).toBe(0);
    // Other tracks are untouched bit for bit.
    for (let t = 0; t < 60; t++) expect(evaluateFrame(doc, ctx, t)[TRACK.mouth0]).toBe(encodedValue(t, TRACK.mouth0));
  });

  it('linear blends and overlapping ramps take the smaller weight', () => {
    const doc = addRangeEdit(doc0, spec({ start: 0, end: 10, blendIn: 8, blendOut: 8, easeIn: 'linear', easeOut: 'linear' }), 'r1');
    expect(offsetAt(doc, TRACK.mouth1, 2)).toBeCloseTo(0.5, 6); // in 2/8, out 8/8
    expect(offsetAt(doc, TRACK.mouth1, 5)).toBeCloseTo(1.25, 6); // in 5/8, out 5/8
    expect(offsetAt(doc, TRACK.mouth1, 7)).toBeCloseTo(0.75, 6); // in 7/8, out 3/8
  });

  it('range edits add to keys', () => {
    const doc = addRangeEdit(withKeys(doc0, TRACK.mouth1, [key('a', 0, 0.5)]), spec({ blendIn: 0, blendOut: 0 }), 'r1');
    expect(offsetAt(doc, TRACK.mouth1, 20)).toBeCloseTo(2.5, 6);
    expect(offsetAt(doc, TRACK.mouth1, 40)).toBeCloseTo(0.5, 6);
  });
});

describe('strengths, locks and the neutral frame', () => {
  it('a group strength scales motion around the neutral frame', () => {
    const doc = setStrength(doc0, 'mouth', 0.5);
    const n = encodedValue(2, TRACK.mouth0);
    for (const t of [0, 2, 7, 33]) {
      const v = evaluateFrame(doc, ctx, t);
      expect(v[TRACK.mouth0]).toBeCloseTo(n + 0.5 * (encodedValue(t, TRACK.mouth0) - n), 6);
      expect(v[TRACK.eyes0]).toBe(encodedValue(t, TRACK.eyes0));
    }
    expect(evaluateFrame(doc, ctx, 2)[TRACK.mouth0]).toBe(n);
  });

  it('a lock applies offsets and strengths to its region only', () => {
    let doc = withKeys(doc0, TRACK.yaw, [key('a', 0, 5)]);
    doc = withKeys(doc, TRACK.mouth0, [key('b', 0, 1)]);
    doc = withKeys(doc, TRACK.brows0, [key('c', 0, 1)]);
    doc = setStrength(doc, 'pose', 2);
    const mouthOnly = setLock(doc, 'mouth');
    expect(offsetAt(mouthOnly, TRACK.yaw, 9)).toBe(0);
    expect(offsetAt(mouthOnly, TRACK.mouth0, 9)).toBeCloseTo(1, 6);
    expect(offsetAt(mouthOnly, TRACK.brows0, 9)).toBe(0);
    const eyes = setLock(doc, 'eyes');
    expect(offsetAt(eyes, TRACK.brows0, 9)).toBeCloseTo(1, 6);
    expect(offsetAt(eyes, TRACK.mouth0, 9)).toBe(0);
    const pose = setLock(doc, 'pose');
    const n = encodedValue(2, TRACK.yaw);
    expect(evaluateFrame(pose, ctx, 9)[TRACK.yaw]).toBeCloseTo(n + 2 * (encodedValue(9, TRACK.yaw) - n) + 5, 5);
    expect(offsetAt(pose, TRACK.mouth0, 9)).toBe(0);
    const expression = setLock(doc, 'expression');
    expect(offsetAt(expression, TRACK.yaw, 9)).toBe(0);
    expect(offsetAt(expression, TRACK.brows0, 9)).toBeCloseTo(1, 6);
  });

  it('an empty timeline gives the encoded values bit for bit; evaluateAll agrees with evaluateFrame', () => {
    expect(evaluateAll(doc0, ctx)).toEqual(ctx.encoded);
    const doc = setStrength(withKeys(doc0, TRACK.roll, [key('a', 5, 0, { interp: 'linear' }), key('b', 25, 3)]), 'eyes', 1.5);
    const all = evaluateAll(doc, ctx);
    for (const t of [0, 5, 13, 25, 59]) expect(all.subarray(t * PARAM_COUNT, (t + 1) * PARAM_COUNT)).toEqual(evaluateFrame(doc, ctx, t));
  });

  it('rejects frames and contexts that do not fit', () => {
    expect(() => evaluateFrame(doc0, ctx, 60)).toThrow(TimelineError);
    expect(() => evaluateFrame(doc0, { ...ctx, neutralFrame: 99 }, 0)).toThrow(/neutral frame 99/);
    expect(() => evaluateAll(doc0, { ...ctx, encoded: new Float32Array(10) })).toThrow(/fewer than 60 frames/);
  });
});

describe('isIdentity', () => {
  it('is true only when nothing changes a value', () => {
    expect(isIdentity(doc0)).toBe(true);
    expect(isIdentity(withKeys(doc0, 4, [key('a', 3, 0), key('b', 9, 0)]))).toBe(true);
    expect(isIdentity(withKeys(doc0, 4, [key('a', 3, 0.1)]))).toBe(false);
    expect(isIdentity(withKeys(doc0, 4, [key('a', 3, 0, { auto: false, handleOut: { dt: 2, dv: 1 } }), key('b', 9, 0)]))).toBe(false);
    expect(isIdentity(setStrength(doc0, 'brows', 0.9))).toBe(false);
    // A strength the lock leaves out changes nothing.
    expect(isIdentity(setLock(setStrength(doc0, 'brows', 0.9), 'pose'))).toBe(true);
  });
});
