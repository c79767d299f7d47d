import { describe, expect, it } from 'vitest';
import { createIdSource, emptyTimeline, evaluateTrack, layerValue, setKey } from '../../../src/core/timeline';
import { editableKeyIds, keysAt, offsetAt, pastableKeys, setEditedValueAt } from '../../../src/renderer/src/editor/actions';
import { audioTimeOf, frameAtAudioTime } from '../../../src/renderer/src/editor/playback';
import { makeContext, encodedValue } from '../../core/timeline/fixture';

const ctx = makeContext();

describe('editor actions', () => {
  it('K adds keys on the curve and reuses keys already at the frame', () => {
    const doc = setKey(setKey(emptyTimeline(60), 3, 10, 1, 'k1'), 3, 30, 3, 'k2');
    const { doc: next, ids } = keysAt(doc, [3, 4], 20, createIdSource(doc));
    expect(ids).toEqual(['k3', 'k4']);
    expect(layerValue(next.layers[3]!, 20)).toBeCloseTo(layerValue(doc.layers[3]!, 20), 12);
    expect(next.layers[4]!.map((k) => [k.frame, k.value])).toEqual([[20, 0]]);
    expect(keysAt(next, [3], 10, createIdSource(next)).ids).toEqual(['k1']);
  });

  it('a gizmo drag adds its delta to the pose offsets at the playhead through keys', () => {
    const doc = offsetAt(emptyTimeline(60), 12, [[0, 15], [1, 0], [2, -4]], createIdSource(emptyTimeline(60)));
    expect(doc.layers[0]!.map((k) => [k.frame, k.value])).toEqual([[12, 15]]);
    expect(doc.layers[1]).toEqual([]);
    expect(doc.layers[2]!.map((k) => [k.frame, k.value])).toEqual([[12, -4]]);
    const again = offsetAt(doc, 12, [[0, 5]], createIdSource(doc));
    expect(again.layers[0]!.map((k) => [k.id, k.value])).toEqual([['k1', 20]]);
  });

  it('sets the edited value at a frame exactly', () => {
    const doc = setEditedValueAt(emptyTimeline(60), ctx, 5, 7, 1.5, () => 'k1');
    expect(evaluateTrack(doc, ctx, 5, 7, 1)[0]).toBeCloseTo(1.5, 12);
    expect(doc.layers[5]![0]!.value).toBeCloseTo(1.5 - encodedValue(7, 5), 12);
  });
});

describe('playback against the source audio', () => {
  it('seeks the sound to the source time of the playhead, and reads the playhead back from it, for a project of a range', () => {
    // Project frame 0 is source frame 300 of a 25 fps video: 12 s into the sound.
    expect(audioTimeOf(0, 300, 25)).toBe(12);
    expect(audioTimeOf(10, 300, 25)).toBeCloseTo(12.4, 12);
    expect(frameAtAudioTime(12.4, 300, 25)).toBe(10);
    for (let f = 0; f < 50; f++) expect(frameAtAudioTime(audioTimeOf(f, 300, 30000 / 1001), 300, 30000 / 1001)).toBe(f);
    expect(frameAtAudioTime(audioTimeOf(7, 0, 25), 0, 25)).toBe(7);
  });

  it('counts from the first frame, not from the start of the sound, when the video starts late', () => {
    // The video's first frame is shown 0.5 s into the sound: frame 10 of 25 fps sounds at 0.9 s.
    expect(audioTimeOf(10, 0, 25, 0.5)).toBeCloseTo(0.9, 12);
    expect(audioTimeOf(0, 300, 25, 0.033)).toBeCloseTo(12.033, 12);
    expect(frameAtAudioTime(0.9, 0, 25, 0.5)).toBe(10);
    expect(frameAtAudioTime(0.9, 0, 25)).toBe(22); // without the offset: 12 frames late
    for (let f = 0; f < 50; f++) expect(frameAtAudioTime(audioTimeOf(f, 40, 30000 / 1001, 0.0330078), 40, 30000 / 1001, 0.0330078)).toBe(f);
  });
});

describe('the region lock in key actions', () => {
  it('nudges and deletes only keys of editable tracks, and pastes only onto editable tracks', () => {
    let doc = emptyTimeline(30);
    doc = setKey(doc, 0, 5, 1, 'yaw5');
    doc = setKey(doc, 3, 5, 0.5, 'mouth5');
    doc = setKey(doc, 3, 9, 0.2, 'mouth9');
    const editable = Array.from({ length: 35 }, (_, t) => t !== 0); // the lock leaves yaw out
    expect(editableKeyIds(doc, new Set(['yaw5', 'mouth5', 'mouth9']), editable)).toEqual(['mouth5', 'mouth9']);
    expect(editableKeyIds(doc, ['yaw5'], editable)).toEqual([]);
    const clip = [{ track: 0, frame: 0 }, { track: 3, frame: 4 }];
    // Keys of several tracks land on their own tracks: the locked one's are left out.
    expect(pastableKeys(clip, editable, 3)).toEqual([{ track: 3, frame: 4 }]);
    expect(pastableKeys(clip, editable, undefined)).toEqual([{ track: 3, frame: 4 }]);
    // Keys of one track go to the target track when it is editable, whatever their own.
    expect(pastableKeys([{ track: 0, frame: 0 }], editable, 3)).toEqual([{ track: 0, frame: 0 }]);
    expect(pastableKeys([{ track: 3, frame: 0 }], editable, 0)).toEqual([]);
  });
});
