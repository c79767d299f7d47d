// Undo and redo over immutable document snapshots (documents share what an
// edit did not change, so a snapshot costs little). A gesture (a drag) is
// bracketed by beginGesture / commitGesture: every update in between replaces
// the present without a step, and the commit records one step from the state
// the gesture started in. The History itself is immutable too, so it can live
// in React state.

export interface HistoryEntry<T> {
  /** The document before the step (in `past`) or after it (in `future`). */
  readonly doc: T;
  /** What the step did, for the Edit menu ("Undo Move keys"). */
  readonly label: string;
}

export interface History<T> {
  readonly past: readonly HistoryEntry<T>[];
  readonly present: T;
  readonly future: readonly HistoryEntry<T>[];
  /** The open gesture: the document it started from, and its label. */
  readonly gesture: { readonly base: T; readonly label: string } | null;
  readonly limit: number;
  /**
   * An undo or redo ended a gesture that is still under way (Ctrl+Z in the middle of a drag):
   * its further updates are dropped until it commits or cancels, instead of each becoming a step.
   */
  readonly interrupted?: boolean;
}

export const DEFAULT_HISTORY_LIMIT = 200;

export function createHistory<T>(present: T, limit = DEFAULT_HISTORY_LIMIT): History<T> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`history limit must be a positive whole number, got ${limit}`);
  return { past: [], present, future: [], gesture: null, limit };
}

function closeGesture<T>(h: History<T>): History<T> {
  return h.gesture ? commitGesture(h) : h;
}

/** Records one step. An edit that returns the same document records nothing. */
export function pushEdit<T>(h0: History<T>, next: T, label: string): History<T> {
  const h = closeGesture(h0);
  if (next === h.present) return h;
  const past = [...h.past, { doc: h.present, label }];
  return { ...h, past: past.length > h.limit ? past.slice(past.length - h.limit) : past, present: next, future: [], interrupted: false };
}

export function beginGesture<T>(h0: History<T>, label: string): History<T> {
  const h = closeGesture(h0);
  return { ...h, gesture: { base: h.present, label }, interrupted: false };
}

/**
 * Shows a gesture's intermediate document (no step). Outside a gesture it is a plain edit,
 * except after an undo or redo interrupted the gesture: then it is dropped.
 */
export function updateGesture<T>(h: History<T>, next: T): History<T> {
  if (!h.gesture) return h.interrupted ? h : pushEdit(h, next, 'Edit');
  return { ...h, present: next };
}

export function commitGesture<T>(h: History<T>): History<T> {
  if (!h.gesture) return markInterrupted(h, false);
  const { base, label } = h.gesture;
  const open = { ...h, gesture: null, present: base };
  return pushEdit(open, h.present, label);
}

/** Abandons a gesture (Escape during a drag): back to where it started. */
export function cancelGesture<T>(h: History<T>): History<T> {
  if (!h.gesture) return markInterrupted(h, false);
  return { ...h, present: h.gesture.base, gesture: null };
}

export const canUndo = <T>(h: History<T>): boolean => h.past.length > 0 || h.gesture !== null;
export const canRedo = <T>(h: History<T>): boolean => h.future.length > 0 && h.gesture === null;
export const undoLabel = <T>(h: History<T>): string | null => (h.gesture ? h.gesture.label : (h.past[h.past.length - 1]?.label ?? null));
export const redoLabel = <T>(h: History<T>): string | null => h.future[0]?.label ?? null;

/** `h` with its interrupted flag set to `on` (the same object when it already is, so a no-op stays one). */
function markInterrupted<T>(h: History<T>, on: boolean): History<T> {
  return (h.interrupted ?? false) === on ? h : { ...h, interrupted: on };
}

export function undo<T>(h0: History<T>): History<T> {
  const h = markInterrupted(closeGesture(h0), h0.gesture !== null || h0.interrupted === true);
  const last = h.past[h.past.length - 1];
  if (!last) return h;
  return { ...h, past: h.past.slice(0, -1), present: last.doc, future: [{ doc: h.present, label: last.label }, ...h.future] };
}

export function redo<T>(h0: History<T>): History<T> {
  const h = markInterrupted(closeGesture(h0), h0.gesture !== null || h0.interrupted === true);
  const next = h.future[0];
  if (!next) return h;
  return { ...h, past: [...h.past, { doc: h.present, label: next.label }], present: next.doc, future: h.future.slice(1) };
}
