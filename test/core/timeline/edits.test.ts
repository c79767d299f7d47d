import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTE_VOCABULARY,
} from '../../../src/core/params';
import {
  PARAM_COUNT,
  PRESETS,
  VOCABULARY_NAMES,
  addRangeEdit,
  copyKeys,
  createIdSource,
  emptyTimeline,
  evaluateAll,
  evaluateTrack,
  findKey,
  findPreset,
  insertKey,
  keysInFrameTrackRect,
  keysInFrameValueRect,
  layerValue,
  moveKeys,
  pasteKeys,
  presetAvailability,
  presetOffsets,
  resetAll,
  resetRange,
  resetTracks,
  setHandle,
  setInterp,
  setKey,
  setStrength,
  smoothRange,
  updateKey,
  type TimelineDoc
} from '../../../src/core/timeline';
import { TRACK, encodedValue, makeContext } from './fixture';

const ctx = makeContext();

/** A document with keys on three tracks: k1..k3 on mouth0, k4 on mouth1, k5..k6 on eyes0. */
function sample(): TimelineDoc {
  let doc = emptyTimeline(60);
  doc = setKey(doc, TRACK.mouth0, 5, 1, 'k1');
  doc = setKey(doc, TRACK.mouth0, 15, -1, 'k2');
  doc = setKey(doc, TRACK.mouth0, 30, 2, 'k3');
  doc = setKey(doc, TRACK.mouth1, 12, 0.5, 'k4');
  doc = setKey(doc, TRACK.eyes0, 8, 3, 'k5');
  doc = setKey(doc, TRACK.eyes0, 40, 0, 'k6');
  return doc;
}

const ids = (refs: { id: string }[]) => refs.map((r) => r.id).sort();
const frameValues = (doc: TimelineDoc, track: number) => doc.layers[track]!.map((k) => [k.frame, k.value]);

describe('box select', () => {
  it('selects keys in a frame x track rectangle', () => {
    expect(ids(keysInFrameTrackRect(sample(), [TRACK.mouth0, TRACK.mouth1], 5, 14))).toEqual(['k1', 'k4']);
    expect(ids(keysInFrameTrackRect(sample(), [TRACK.eyes0], 40, 0))).toEqual(['k5', 'k6']);
    expect(keysInFrameTrackRect(sample(), [TRACK.yaw], 0, 59)).toEqual([]);
  });

  it('selects keys in a frame x value rectangle, by offset or by a drawn value', () => {
    const doc = sample();
    const all = [TRACK.mouth0, TRACK.mouth1, TRACK.eyes0];
    expect(ids(keysInFrameValueRect(doc, all, 0, 59, 0.4, 2.5))).toEqual(['k1', 'k3', 'k4']);
    // Drawn at edited values (encoded + offset): k2 sits at sin(0.3*15+3)*1.3 - 1.
    const drawn = (track: number, k: { frame: number; value: number }) => encodedValue(k.frame, track) + k.value;
    const y = drawn(TRACK.mouth0, { frame: 15, value: -1 });
    expect(ids(keysInFrameValueRect(doc, all, 14, 16, y - 0.01, y + 0.01, drawn))).toEqual(['k2']);
  });
});

describe('keys', () => {
  it('moves keys by whole frames and values, keeping them in the clip and replacing keys they land on', () => {
    const doc = moveKeys(sample(), ['k1', 'k4'], 3.4, 0.25);
    expect(frameValues(doc, TRACK.mouth0)).toEqual([[8, 1.25], [15, -1], [30, 2]]);
    expect(frameValues(doc, TRACK.mouth1)).toEqual([[15, 0.75]]);
    // k6 at 40 can move at most 19 frames: the whole selection shifts by 19.
    const clamped = moveKeys(sample(), ['k5', 'k6'], 100, 0);
    expect(frameValues(clamped, TRACK.eyes0)).toEqual([[27, 3], [59, 0]]);
    const landed = moveKeys(sample(), ['k1'], 10, 0);
    expect(landed.layers[TRACK.mouth0]!.map((k) => k.id)).toEqual(['k1', 'k3']);
  });

  it('updates a key exactly from the inspector fields', () => {
    const doc = updateKey(sample(), 'k2', { frame: 20, value: 0.3 });
    expect(findKey(doc, 'k2')!.key).toMatchObject({ frame: 20, value: 0.3 });
    expect(() => updateKey(sample(), 'k2', { frame: 60 })).toThrow(/outside the clip/);
    expect(() => updateKey(sample(), 'nope', { value: 1 })).toThrow(/does not exist/);
  });

  it('K inserts a key on the curve without changing it (a bezier segment is split exactly)', () => {
    let doc = sample();
    doc = setHandle(doc, 'k2', 'out', { dt: 6, dv: 2 }, true);
    const before = Array.from({ length: 600 }, (_, i) => layerValue(doc.layers[TRACK.mouth0]!, i / 10));
    const after = insertKey(insertKey(doc, TRACK.mouth0, 22, 'k7'), TRACK.mouth0, 9, 'k8');
    expect(after.layers[TRACK.mouth0]!.map((k) => k.frame)).toEqual([5, 9, 15, 22, 30]);
    before.forEach((v, i) => expect(layerValue(after.layers[TRACK.mouth0]!, i / 10)).toBeCloseTo(v, 9));
    // Outside the keys and on linear segments too.
    const lin = setInterp(doc, ['k1'], 'linear');
    const ins = insertKey(insertKey(lin, TRACK.mouth0, 50, 'k9'), TRACK.mouth0, 10, 'k10');
    expect(layerValue(ins.layers[TRACK.mouth0]!, 50)).toBe(2);
    expect(layerValue(ins.layers[TRACK.mouth0]!, 10)).toBeCloseTo(0, 12);
    // A key on a linear segment whose next key has auto handles: the whole curve stays (that
    // key's slope came from its neighbours, one of which the new key would have become).
    let auto = setKey(setKey(setKey(emptyTimeline(60), TRACK.mouth0, 0, 0, 'a'), TRACK.mouth0, 10, 10, 'b'), TRACK.mouth0, 20, 30, 'c');
    auto = setInterp(auto, ['a'], 'linear');
    expect(findKey(auto, 'b')!.key.auto).toBe(true);
    const linBefore = Array.from({ length: 600 }, (_, i) => layerValue(auto.layers[TRACK.mouth0]!, i / 10));
    const linAfter = insertKey(auto, TRACK.mouth0, 5, 'k11');
    linBefore.forEach((v, i) => expect(layerValue(linAfter.layers[TRACK.mouth0]!, i / 10)).toBeCloseTo(v, 9));
  });

  it('a mirrored handle takes the same slope and keeps its own length', () => {
    const doc = setHandle(sample(), 'k2', 'out', { dt: 4, dv: 2 }, true);
    const k = findKey(doc, 'k2')!.key;
    expect(k.auto).toBe(false);
    expect(k.handleOut).toEqual({ dt: 4, dv: 2 });
    // The in handle was auto (flat extreme, length 10/3): same length, slope 1/2.
    expect(k.handleIn.dt).toBeCloseTo(-10 / 3, 12);
    expect(k.handleIn.dv).toBeCloseTo(-5 / 3, 12);
    const broken = setHandle(doc, 'k2', 'in', { dt: -1, dv: 3 }, false);
    expect(findKey(broken, 'k2')!.key.handleOut).toEqual({ dt: 4, dv: 2 });
  });

  it('copies keys and pastes them relative to the playhead, replacing keys at the same frames', () => {
    const doc = sample();
    const clip = copyKeys(doc, ['k1', 'k2', 'k5'])!;
    expect(clip.keys.map((k) => [k.track, k.frame, k.value])).toEqual([[TRACK.mouth0, 0, 1], [TRACK.mouth0, 10, -1], [TRACK.eyes0, 3, 3]]);
    const { doc: pasted, ids: newIds } = pasteKeys(doc, clip, 30, createIdSource(doc));
    expect(newIds).toEqual(['k7', 'k8', 'k9']);
    expect(frameValues(pasted, TRACK.mouth0)).toEqual([[5, 1], [15, -1], [30, 1], [40, -1]]);
    expect(frameValues(pasted, TRACK.eyes0)).toEqual([[8, 3], [33, 3], [40, 0]]);
    // One track's keys go to the target track; keys past the end are dropped.
    const one = copyKeys(doc, ['k1', 'k3'])!;
    const onto = pasteKeys(doc, one, 40, createIdSource(doc), TRACK.yaw);
    expect(frameValues(onto.doc, TRACK.yaw)).toEqual([[40, 1]]);
    expect(onto.ids).toHaveLength(1);
  });
});

describe('smoothing', () => {
  it('bakes a Gaussian of the edited values over the range, fading in at its ends, and leaves the rest exact', () => {
    const doc = setStrength(sample(), 'mouth', 1.3);
    const sigma = 2;
    const smoothed = smoothRange(doc, ctx, [TRACK.mouth0], 10, 20, sigma);
    // The fade is 2 frames (sigma, at most a quarter of 11 frames): smoothstep of 1/3 and 2/3 at each end.
    const fade: Record<number, number> = { 10: 7 / 27, 11: 20 / 27, 19: 20 / 27, 20: 7 / 27 };
    const before = evaluateTrack(doc, ctx, TRACK.mouth0, 0, 60);
    const after = evaluateTrack(smoothed, ctx, TRACK.mouth0, 0, 60);
    for (let t = 0; t < 60; t++) {
      if (t < 10 || t > 20) {
        expect(after[t]).toBe(before[t]);
        continue;
      }
      // Direct definition: weights exp(-d^2 / 2 sigma^2) over |d| <= 6, normalised.
      let s = 0;
      let w = 0;
      for (let d = -6; d <= 6; d++) {
        const g = Math.exp(-(d * d) / 8);
        s += g * before[t + d]!;
        w += g;
      }
      const k = fade[t] ?? 1;
      expect(after[t]).toBeCloseTo(before[t]! + k * (s / w - before[t]!), 10);
    }
    expect(smoothed.baked[TRACK.mouth0]!.start).toBe(10);
    expect(smoothed.layers).toBe(doc.layers);
  });

  it('renormalises the window at the clip start', () => {
    const smoothed = smoothRange(emptyTimeline(60), ctx, [TRACK.yaw], 0, 0, 1);
    let s = 0;
    let w = 0;
    for (let d = 0; d <= 3; d++) {
      s += Math.exp(-(d * d) / 2) * encodedValue(d, TRACK.yaw);
      w += Math.exp(-(d * d) / 2);
    }
    expect(evaluateTrack(smoothed, ctx, TRACK.yaw, 0, 1)[0]).toBeCloseTo(s / w, 7);
    expect(() => smoothRange(emptyTimeline(60), ctx, [TRACK.yaw], 0, 0, 0)).toThrow(/sigma/);
  });
});

describe('reset to encoded', () => {
  const withRange = () =>
    addRangeEdit(sample(), { label: 'Smile', start: 20, end: 50, blendIn: 5, blendOut: 5, easeIn: 'smooth', easeOut: 'smooth', offsets: Array.from({ length: PARAM_COUNT }, (_, i) => (i === TRACK.mouth0 || i === TRACK.eyes0 ? 1.5 : 0)), preset: 'smile', amount: 1 }, 'r1');

  it('a track: no keys, no corrections, no share of range edits', () => {
    const doc = smoothRange(withRange(), ctx, [TRACK.mouth0], 0, 59, 3);
    const reset = resetTracks(doc, [TRACK.mouth0]);
    expect(evaluateTrack(reset, ctx, TRACK.mouth0, 0, 60)).toEqual(Float64Array.from({ length: 60 }, (_, t) => encodedValue(t, TRACK.mouth0)));
    expect(reset.ranges[0]!.offsets[TRACK.eyes0]).toBe(1.5);
    expect(evaluateTrack(reset, ctx, TRACK.eyes0, 0, 60)).toEqual(evaluateTrack(doc, ctx, TRACK.eyes0, 0, 60));
  });

  it('a range: encoded inside, every other frame as before', () => {
    const doc = smoothRange(withRange(), ctx, [TRACK.mouth0], 25, 35, 2);
    const reset = resetRange(doc, [TRACK.mouth0, TRACK.eyes0], 12, 32, createIdSource(doc));
    for (const track of [TRACK.mouth0, TRACK.eyes0]) {
      const before = evaluateTrack(doc, ctx, track, 0, 60);
      const after = evaluateTrack(reset, ctx, track, 0, 60);
      for (let t = 0; t < 60; t++) {
        if (t >= 12 && t <= 32) expect(after[t]).toBeCloseTo(encodedValue(t, track), 12);
        else expect(after[t]).toBeCloseTo(before[t]!, 9);
      }
    }
    expect(evaluateTrack(reset, ctx, TRACK.mouth1, 0, 60)).toEqual(evaluateTrack(doc, ctx, TRACK.mouth1, 0, 60));
  });

  it('all: the encoded values, with the lock kept', () => {
    const doc = { ...setStrength(withRange(), 'pose', 2), lock: 'mouth' as const };
    const reset = resetAll(doc);
    expect(reset.lock).toBe('mouth');
    expect(evaluateAll({ ...reset, lock: null }, ctx)).toEqual(ctx.encoded);
  });
});

describe('presets', () => {
  it('use only calibration vocabulary names, main track first', () => {
    expect(VOCABULARY_NAMES).toHaveLength(32);
    for (const p of PRESETS) for (const name of Object.keys(p.offsets)) expect(VOCABULARY_NAMES).toContain(name);
    expect(PRESETS.map((p) => p.id)).toEqual(expect.arrayContaining(['smile', 'wink-left', 'wink-right', 'jaw-open', 'pout', 'brow-raise', 'frown', 'surprise']));
  });

  it('resolve to offsets by track index, and are disabled without their main track', () => {
    const names = ['yaw', 'pitch', 'roll', ...Object.values(ATTRIBUTE_VOCABULARY).flat()];
    const smile = findPreset('smile')!;
    const offsets = presetOffsets(smile, names, 0.5);
    expect(offsets[names.indexOf('smile')]).toBe(1);
    expect(offsets[names.indexOf('cheek raise')]).toBe(0.5);
    expect(offsets.filter((o) => o !== 0)).toHaveLength(4);
    expect(presetAvailability(smile, names)).toEqual({ available: true, reason: null, missing: [] });
    const noCheek = names.map((n) => (n === 'cheek raise' ? 'nose-forehead-cheeks 2' : n));
    expect(presetAvailability(smile, noCheek)).toEqual({ available: true, reason: null, missing: ['cheek raise'] });
    const noSmile = names.map((n) => (n === 'smile' ? 'mouth 2' : n));
    expect(presetAvailability(smile, noSmile).available).toBe(false);
    expect(presetAvailability(smile, noSmile).reason).toMatch(/no “smile” track/);
  });
});
