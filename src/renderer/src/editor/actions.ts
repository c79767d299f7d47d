// Editor actions built from the timeline model's edits (pure: tested without a DOM).
import { evaluateTrack, findKey, insertKey, setKey, type EvalContext, type IdSource, type TimelineDoc } from '../../../core/timeline';

/** Keys at `frame` on each track (added on the curve where missing); returns their ids. */
export function keysAt(doc: TimelineDoc, tracks: readonly number[], frame: number, newId: IdSource): { doc: TimelineDoc; ids: string[] } {
  let next = doc;
  const ids: string[] = [];
  for (const t of tracks) {
    next = insertKey(next, t, frame, newId());
    ids.push(next.layers[t]!.find((k) => k.frame === frame)!.id);
  }
  return { doc: next, ids };
}

/**
 * Adds `delta` to the keyed offset of each track at `frame`, through a key
 * there (what a gizmo drag or a nudge does): the curve elsewhere only changes
 * as far as that key's neighbourhood.
 */
export function offsetAt(doc: TimelineDoc, frame: number, deltas: readonly (readonly [track: number, delta: number])[], newId: IdSource): TimelineDoc {
  let next = doc;
  for (const [t, delta] of deltas) {
    if (delta === 0) continue;
    const { doc: keyed, ids } = keysAt(next, [t], frame, newId);
    const key = findKey(keyed, ids[0]!)!.key;
    next = setKey(keyed, t, frame, key.value + delta, key.id);
  }
  return next;
}

/** Makes the edited value of a track at a frame equal `value` by keying its offset there. */
export function setEditedValueAt(doc: TimelineDoc, ctx: EvalContext, track: number, frame: number, value: number, newId: IdSource): TimelineDoc {
  const now = evaluateTrack(doc, ctx, track, frame, 1)[0]!;
  return offsetAt(doc, frame, [[track, value - now]], newId);
}

/** The keys among `ids` that lie on tracks the region lock leaves editable (nudge, delete, drag). */
export function editableKeyIds(doc: TimelineDoc, ids: ReadonlySet<string> | readonly string[], editable: readonly boolean[]): string[] {
  const want = new Set(ids);
  const out: string[] = [];
  doc.layers.forEach((layer, t) => {
    if (!editable[t]) return;
    for (const k of layer) if (want.has(k.id)) out.push(k.id);
  });
  return out;
}

/**
 * The copied keys a paste may write: all of them onto `target` when they come from one track
 * and a target track is given (pasteKeys moves them there), else those whose own track is
 * editable. Keys of locked tracks are never written.
 */
export function pastableKeys<K extends { track: number }>(keys: readonly K[], editable: readonly boolean[], target: number | undefined): K[] {
  const oneTrack = new Set(keys.map((k) => k.track)).size === 1;
  if (oneTrack && target !== undefined) return editable[target] ? [...keys] : [];
  return keys.filter((k) => editable[k.track]);
}
