import { describe, expect, it } from 'vitest';
import {
  beginGesture,
  canRedo,
  canUndo,
  cancelGesture,
  commitGesture,
  createHistory,
  emptyTimeline,
  moveKeys,
  pushEdit,
  redo,
  redoLabel,
  setKey,
  undo,
  undoLabel,
  updateGesture
} from '../../../src/core/timeline';

const base = setKey(emptyTimeline(30), 3, 10, 0, 'k1');

describe('History', () => {
  it('undoes and redoes steps with their labels', () => {
    let h = createHistory(base);
    const a = setKey(base, 3, 20, 1, 'k2');
    const b = setKey(a, 4, 5, 2, 'k3');
    h = pushEdit(h, a, 'Add key');
    h = pushEdit(h, b, 'Add key on mouth');
    expect(undoLabel(h)).toBe('Add key on mouth');
    h = undo(h);
    expect(h.present).toBe(a);
    expect(redoLabel(h)).toBe('Add key on mouth');
    h = undo(h);
    expect(h.present).toBe(base);
    expect(canUndo(h)).toBe(false);
    expect(undo(h)).toBe(h);
    h = redo(redo(h));
    expect(h.present).toBe(b);
    expect(canRedo(h)).toBe(false);
  });

  it('a drag of many updates is one step back to where it started', () => {
    let h = createHistory(base);
    h = beginGesture(h, 'Move keys');
    for (let i = 1; i <= 25; i++) h = updateGesture(h, moveKeys(base, ['k1'], 0, i * 0.1));
    expect(h.present.layers[3]![0]!.value).toBeCloseTo(2.5, 12);
    expect(h.past).toHaveLength(0);
    h = commitGesture(h);
    expect(h.past).toHaveLength(1);
    expect(undoLabel(h)).toBe('Move keys');
    h = undo(h);
    expect(h.present).toBe(base);
    h = redo(h);
    expect(h.present.layers[3]![0]!.value).toBeCloseTo(2.5, 12);
  });

  it('undo during a drag ends it first and then undoes it; cancel drops it', () => {
    let h = beginGesture(createHistory(base), 'Rotate head');
    h = updateGesture(h, setKey(base, 0, 10, 15, 'k9'));
    expect(canUndo(h)).toBe(true);
    expect(undo(h).present).toBe(base);
    h = cancelGesture(h);
    expect(h.present).toBe(base);
    expect(h.past).toHaveLength(0);
  });

  it('after an undo in the middle of a drag, the rest of that drag is dropped, not recorded move by move', () => {
    let h = beginGesture(createHistory(base), 'Rotate head');
    h = updateGesture(h, setKey(base, 0, 10, 15, 'k9'));
    h = undo(h);
    expect(h.present).toBe(base);
    expect(h.future).toHaveLength(1);
    // The pointer keeps moving: no step, no lost redo.
    for (let i = 0; i < 20; i++) h = updateGesture(h, setKey(base, 0, 10, 16 + i, 'k9'));
    expect(h.present).toBe(base);
    expect(h.past).toHaveLength(0);
    expect(h.future).toHaveLength(1);
    // The drag ends (its commit), and the next drag records one step as usual.
    h = commitGesture(h);
    expect(h.past).toHaveLength(0);
    h = updateGesture(beginGesture(h, 'Move key'), setKey(base, 0, 12, 3, 'k9'));
    h = commitGesture(h);
    expect(h.past.map((e) => e.label)).toEqual(['Move key']);
    // Outside any drag, an update is a plain edit again.
    h = updateGesture(h, base);
    expect(h.past.map((e) => e.label)).toEqual(['Move key', 'Edit']);
  });

  it('a gesture that changes nothing, or a no-op edit, records no step', () => {
    let h = commitGesture(beginGesture(createHistory(base), 'Drag'));
    h = pushEdit(h, h.present, 'Nothing');
    expect(h.past).toHaveLength(0);
  });

  it('a new edit after undo drops the redo steps; depth is bounded', () => {
    let h = createHistory(base, 3);
    let doc = base;
    for (let i = 1; i <= 5; i++) {
      doc = setKey(doc, 3, 10, i, 'k1');
      h = pushEdit(h, doc, `Set ${i}`);
    }
    expect(h.past.map((e) => e.label)).toEqual(['Set 3', 'Set 4', 'Set 5']);
    h = undo(h);
    h = pushEdit(h, setKey(h.present, 5, 1, 1, 'k2'), 'Other');
    expect(canRedo(h)).toBe(false);
    h = undo(undo(undo(h)));
    expect(h.present.layers[3]![0]!.value).toBe(2);
    expect(canUndo(h)).toBe(false);
  });
});
