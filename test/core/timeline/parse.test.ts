import { describe, expect, it } from 'vitest';
import {
  LIMITS,
  PARAM_COUNT,
  TimelineError,
  addRangeEdit,
  emptyTimeline,
  evaluateAll,
  parseTimeline,
  serializeTimeline,
  setHandle,
  setKey,
  setLock,
  setStrength,
  smoothRange,
  type TimelineDoc
} from '../../../src/core/timeline';
import { TRACK, makeContext } from './fixture';

const ctx = makeContext();

function edited(): TimelineDoc {
  let doc = emptyTimeline(60);
  doc = setKey(doc, TRACK.mouth0, 5, 1.25, 'k1');
  doc = setKey(doc, TRACK.mouth0, 25, -0.5, 'k2');
  doc = setHandle(doc, 'k2', 'in', { dt: -4, dv: 0.75 }, true);
  doc = addRangeEdit(doc, { label: 'Wink left', start: 30, end: 45, blendIn: 3, blendOut: 6, easeIn: 'cubic', easeOut: 'linear', offsets: Array.from({ length: PARAM_COUNT }, (_, i) => (i === TRACK.eyes0 ? 2.5 : 0)), preset: 'wink-left', amount: 1 }, 'r1');
  doc = smoothRange(doc, ctx, [TRACK.yaw], 10, 20, 1.5);
  doc = setLock(setStrength(doc, 'brows', 0.4), 'expression');
  return doc;
}

/** The serialized sample with one change made by `mutate`. */
function hostile(mutate: (j: any) => void): unknown {
  const j = serializeTimeline(edited()) as any;
  mutate(j);
  return j;
}

describe('parseTimeline', () => {
  it('round-trips through JSON text with the same evaluation', () => {
    const doc = edited();
    const text = JSON.stringify(serializeTimeline(doc));
    const back = parseTimeline(JSON.parse(text), 60);
    expect(back).toEqual(doc);
    expect(evaluateAll(back, ctx)).toEqual(evaluateAll(doc, ctx));
    expect(parseTimeline(serializeTimeline(emptyTimeline(7)), 7)).toEqual(emptyTimeline(7));
  });

  it('accepts the document for a longer clip, and rejects keys beyond a shorter one', () => {
    expect(parseTimeline(serializeTimeline(edited()), 200).frames).toBe(200);
    expect(() => parseTimeline(serializeTimeline(edited()), 20)).toThrow(/layers\[3\]\[1\]\.frame is 25, outside 0\.\.19/);
  });

  const cases: [string, (j: any) => void, RegExp][] = [
    ['not an object', () => {}, /./],
    ['an unknown top-level field', (j) => (j.script = 'alert(1)'), /unknown field "script"/],
    ['a __proto__ key', (j) => Object.defineProperty(j.strength, '__proto__', { value: {}, enumerable: true }), /unknown field "__proto__"/],
    ['a missing field', (j) => delete j.lock, /missing the field "lock"/],
    ['another version', (j) => (j.version = 2), /reads version 1/],
    ['NaN', (j) => (j.layers[3][0].value = NaN), /layers\[3\]\[0\]\.value must be a finite number/],
    ['Infinity in a handle', (j) => (j.layers[3][1].handleIn.dv = Infinity), /handleIn\.dv must be a finite number/],
    ['a number as a string', (j) => (j.ranges[0].start = '30'), /ranges\[0\]\.start must be a finite number/],
    ['a fractional frame', (j) => (j.layers[3][0].frame = 5.5), /whole number/],
    ['a huge value', (j) => (j.layers[3][0].value = 1e9), /outside -1000\.\.1000/],
    ['an in handle pointing forward', (j) => (j.layers[3][1].handleIn.dt = 2), /handleIn\.dt is 2, outside/],
    ['keys out of order', (j) => (j.layers[3][1].frame = 5), /must come after the previous key's frame 5/],
    ['a repeated id', (j) => (j.ranges[0].id = 'k1'), /repeats the id "k1"/],
    ['an id with odd characters', (j) => (j.layers[3][0].id = '<img>'), /must be an id/],
    ['too few layers', (j) => j.layers.pop(), /layers must have 35 entries/],
    ['too many layers', (j) => j.layers.push([]), /layers has 36 entries/],
    ['an unknown interpolation', (j) => (j.layers[3][0].interp = 'elastic'), /one of bezier, linear, hold/],
    ['an unknown lock', (j) => (j.lock = 'nose'), /lock must be one of pose, expression, mouth, eyes/],
    ['a strength above the limit', (j) => (j.strength.mouth = 4), /strength\.mouth is 4, outside 0\.\.3/],
    ['a blend longer than the range', (j) => (j.ranges[0].blendIn = 16), /blendIn is 16, outside 0\.\.15/],
    ['a range ending before it starts', (j) => (j.ranges[0].end = 10), /end is 10, outside 30\.\.59/],
    ['a control character in a label', (j) => (j.ranges[0].label = 'a\u0000b'), /label must be text/],
    ['an empty baked segment', (j) => (j.baked[0].values = []), /must not be empty/],
    ['a baked segment past the clip', (j) => (j.baked[0].start = 55), /baked\[0\]\.values has 11 entries, more than the 5 allowed/],
    ['a class instance', (j) => (j.strength = new Map()), /strength must be a plain object/],
    ['too many keys', (j) => (j.layers[0] = Array.from({ length: LIMITS.keys + 1 }, (_, i) => ({ id: `x${i}`, frame: i, value: 0, interp: 'linear', auto: true, handleIn: { dt: -1, dv: 0 }, handleOut: { dt: 1, dv: 0 } }))), /more than the 50000 allowed/],
    ['too many range edits', (j) => (j.ranges = Array.from({ length: LIMITS.ranges + 1 }, () => j.ranges[0])), /ranges has 257 entries/]
  ];

  for (const [what, mutate, message] of cases) {
    it(`rejects ${what}`, () => {
      const input = what === 'not an object' ? [1, 2] : hostile(mutate);
      expect(() => parseTimeline(input, 60)).toThrow(TimelineError);
      expect(() => parseTimeline(input, 60)).toThrow(message);
    });
  }

  it('rejects a bad clip length from the caller', () => {
    expect(() => parseTimeline(serializeTimeline(edited()), 0)).toThrow(/at least 1/);
  });
});
