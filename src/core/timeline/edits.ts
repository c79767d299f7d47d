// Edits: pure functions from a document to a new one. They take new ids from
// the caller (an IdSource) so the same call always gives the same document.
import type { ParamGroup } from '../../shared/contract';
import { effectiveHandles, freezeHandles, insertKeyOnCurve, keyIndexAtOrBefore, layerValue, makeKey } from './curve';
import { checkContext, evaluateTrack, rangeOffset } from './evaluate';
import {
  LIMITS,
  MAX_SMOOTH_SIGMA,
  PARAM_COUNT,
  TimelineError,
  defaultStrengths,
  type BakedSegment,
  type EvalContext,
  type Handle,
  type IdSource,
  type Interp,
  type KeyRef,
  type Keyframe,
  type RangeEdit,
  type RegionLock,
  type TimelineDoc
} from './types';

// ---- ids and lookup ---------------------------------------------------------

/** Fresh ids ("k1", "k2", ...) above every id the document already uses. */
export function createIdSource(doc: TimelineDoc, prefix = 'k'): IdSource {
  let n = 0;
  const see = (id: string) => {
    const m = /^[a-z](\d{1,9})$/.exec(id);
    if (m) n = Math.max(n, Number(m[1]));
  };
  doc.layers.forEach((keys) => keys.forEach((k) => see(k.id)));
  doc.ranges.forEach((r) => see(r.id));
  return () => `${prefix}${++n}`;
}

export function findKey(doc: TimelineDoc, id: string): { track: number; index: number; key: Keyframe } | null {
  for (let track = 0; track < doc.layers.length; track++) {
    const keys = doc.layers[track]!;
    const index = keys.findIndex((k) => k.id === id);
    if (index >= 0) return { track, index, key: keys[index]! };
  }
  return null;
}

export function countKeys(doc: TimelineDoc): number {
  return doc.layers.reduce((n, keys) => n + keys.length, 0);
}

function checkTrack(track: number): void {
  if (!Number.isInteger(track) || track < 0 || track >= PARAM_COUNT) throw new TimelineError(`track ${track} does not exist (tracks are 0..${PARAM_COUNT - 1})`);
}

function checkFrame(doc: TimelineDoc, frame: number, what = 'frame'): void {
  if (!Number.isInteger(frame) || frame < 0 || frame >= doc.frames) throw new TimelineError(`${what} ${frame} is outside the clip's frames 0..${doc.frames - 1}`);
}

function checkValue(v: number, what = 'value'): void {
  if (!Number.isFinite(v) || Math.abs(v) > LIMITS.value) throw new TimelineError(`${what} ${v} must be a finite number within ±${LIMITS.value}`);
}

function withLayers(doc: TimelineDoc, changes: ReadonlyMap<number, readonly Keyframe[]>): TimelineDoc {
  if (changes.size === 0) return doc;
  const layers = doc.layers.map((keys, t) => changes.get(t) ?? keys);
  const next = { ...doc, layers };
  if (countKeys(next) > LIMITS.keys) throw new TimelineError(`a timeline holds at most ${LIMITS.keys} keys`);
  return next;
}

const withLayer = (doc: TimelineDoc, track: number, keys: readonly Keyframe[]) => withLayers(doc, new Map([[track, keys]]));

// ---- keys -------------------------------------------------------------------

/** Sets the offset at a frame: updates the key there, or adds an auto bezier key. */
export function setKey(doc: TimelineDoc, track: number, frame: number, value: number, id: string): TimelineDoc {
  checkTrack(track);
  checkFrame(doc, frame);
  checkValue(value);
  const keys = doc.layers[track]!;
  const i = keyIndexAtOrBefore(keys, frame);
  if (i >= 0 && keys[i]!.frame === frame) return withLayer(doc, track, keys.map((k, j) => (j === i ? { ...k, value } : k)));
  return withLayer(doc, track, [...keys.slice(0, i + 1), makeKey(id, frame, value), ...keys.slice(i + 1)]);
}

/** Adds a key at a frame on the current curve, so nothing changes until it is moved (the K key). */
export function insertKey(doc: TimelineDoc, track: number, frame: number, id: string): TimelineDoc {
  checkTrack(track);
  checkFrame(doc, frame);
  return withLayer(doc, track, insertKeyOnCurve(doc.layers[track]!, frame, id));
}

export function deleteKeys(doc: TimelineDoc, ids: Iterable<string>): TimelineDoc {
  const drop = new Set(ids);
  const changes = new Map<number, Keyframe[]>();
  doc.layers.forEach((keys, t) => {
    if (keys.some((k) => drop.has(k.id))) changes.set(t, keys.filter((k) => !drop.has(k.id)));
  });
  return withLayers(doc, changes);
}

/**
 * Moves keys by whole frames and by a value offset. The frame shift is limited
 * so every moved key stays in the clip; a moved key replaces an unmoved one it
 * lands on.
 */
export function moveKeys(doc: TimelineDoc, ids: Iterable<string>, dFrame: number, dValue: number): TimelineDoc {
  const move = new Set(ids);
  checkValue(dValue, 'value change');
  let lo = -Infinity;
  let hi = Infinity;
  doc.layers.forEach((keys) =>
    keys.forEach((k) => {
      if (!move.has(k.id)) return;
      lo = Math.max(lo, -k.frame);
      hi = Math.min(hi, doc.frames - 1 - k.frame);
    })
  );
  if (lo === -Infinity) return doc;
  const df = Math.min(hi, Math.max(lo, Math.round(dFrame)));
  if (df === 0 && dValue === 0) return doc;
  const changes = new Map<number, Keyframe[]>();
  doc.layers.forEach((keys, t) => {
    const moved = keys.filter((k) => move.has(k.id)).map((k) => ({ ...k, frame: k.frame + df, value: clampValue(k.value + dValue) }));
    if (moved.length === 0) return;
    const taken = new Set(moved.map((k) => k.frame));
    const kept = keys.filter((k) => !move.has(k.id) && !taken.has(k.frame));
    changes.set(t, [...kept, ...moved].sort((a, b) => a.frame - b.frame));
  });
  return withLayers(doc, changes);
}

const clampValue = (v: number) => Math.max(-LIMITS.value, Math.min(LIMITS.value, v));

/** Sets a key's frame and/or value exactly (the numeric fields of the key inspector). */
export function updateKey(doc: TimelineDoc, id: string, patch: { frame?: number; value?: number }): TimelineDoc {
  const found = findKey(doc, id);
  if (!found) throw new TimelineError(`key ${id} does not exist`);
  if (patch.frame !== undefined) checkFrame(doc, patch.frame, 'key frame');
  const moved = patch.frame === undefined ? doc : moveKeys(doc, [id], patch.frame - found.key.frame, 0);
  const value = patch.value;
  if (value === undefined) return moved;
  checkValue(value);
  return withLayer(moved, found.track, moved.layers[found.track]!.map((k) => (k.id === id ? { ...k, value } : k)));
}

export function setInterp(doc: TimelineDoc, ids: Iterable<string>, interp: Interp): TimelineDoc {
  const set = new Set(ids);
  const changes = new Map<number, Keyframe[]>();
  doc.layers.forEach((keys, t) => {
    if (keys.some((k) => set.has(k.id) && k.interp !== interp)) changes.set(t, keys.map((k) => (set.has(k.id) ? { ...k, interp } : k)));
  });
  return withLayers(doc, changes);
}

/**
 * Sets one handle of a key (making its handles free). With `mirror`, the other
 * handle takes the same speed (slope) and keeps its influence (length in time),
 * as After Effects' continuous bezier does.
 */
export function setHandle(doc: TimelineDoc, id: string, side: 'in' | 'out', handle: Handle, mirror: boolean): TimelineDoc {
  const found = findKey(doc, id);
  if (!found) throw new TimelineError(`key ${id} does not exist`);
  checkValue(handle.dv, 'handle value');
  if (!Number.isFinite(handle.dt) || Math.abs(handle.dt) > doc.frames) throw new TimelineError(`handle time ${handle.dt} must be within ±${doc.frames} frames`);
  const { track, index } = found;
  const keys = doc.layers[track]!;
  const current = effectiveHandles(keys, index);
  const h: Handle = side === 'in' ? { dt: Math.min(0, handle.dt), dv: handle.dv } : { dt: Math.max(0, handle.dt), dv: handle.dv };
  const other = side === 'in' ? current.handleOut : current.handleIn;
  const otherNext: Handle = mirror && h.dt !== 0 ? { dt: other.dt, dv: clampValue((other.dt * h.dv) / h.dt) } : other;
  const next: Keyframe = { ...keys[index]!, auto: false, handleIn: side === 'in' ? h : otherNext, handleOut: side === 'out' ? h : otherNext };
  return withLayer(doc, track, keys.map((k, j) => (j === index ? next : k)));
}

/** Returns keys to auto handles. */
export function setAutoHandles(doc: TimelineDoc, ids: Iterable<string>): TimelineDoc {
  const set = new Set(ids);
  const changes = new Map<number, Keyframe[]>();
  doc.layers.forEach((keys, t) => {
    if (keys.some((k) => set.has(k.id) && !k.auto)) changes.set(t, keys.map((k) => (set.has(k.id) ? { ...k, auto: true } : k)));
  });
  return withLayers(doc, changes);
}

// ---- box select -------------------------------------------------------------

/** Keys of the given tracks with frames in [f0, f1] (the dope sheet's rectangle over rows). */
export function keysInFrameTrackRect(doc: TimelineDoc, tracks: Iterable<number>, f0: number, f1: number): KeyRef[] {
  return keysInFrameValueRect(doc, tracks, f0, f1, -Infinity, Infinity);
}

/**
 * Keys of the given tracks inside a frame x value rectangle (the graph editor's).
 * `valueOf` says where a key is drawn (by default its offset value).
 */
export function keysInFrameValueRect(
  doc: TimelineDoc,
  tracks: Iterable<number>,
  f0: number,
  f1: number,
  v0: number,
  v1: number,
  valueOf: (track: number, key: Keyframe) => number = (_t, k) => k.value
): KeyRef[] {
  const [fa, fb] = f0 <= f1 ? [f0, f1] : [f1, f0];
  const [va, vb] = v0 <= v1 ? [v0, v1] : [v1, v0];
  const out: KeyRef[] = [];
  for (const track of tracks) {
    for (const k of doc.layers[track] ?? []) {
      if (k.frame < fa || k.frame > fb) continue;
      const v = valueOf(track, k);
      if (v >= va && v <= vb) out.push({ track, id: k.id });
    }
  }
  return out;
}

// ---- copy and paste ---------------------------------------------------------

export interface KeyClipboard {
  /** Frames are relative to the earliest copied key. */
  readonly keys: readonly (Omit<Keyframe, 'id'> & { readonly track: number })[];
}

export function copyKeys(doc: TimelineDoc, ids: Iterable<string>): KeyClipboard | null {
  const set = new Set(ids);
  const keys: (Omit<Keyframe, 'id'> & { track: number })[] = [];
  doc.layers.forEach((layer, track) =>
    layer.forEach((k, i) => {
      if (!set.has(k.id)) return;
      const { id: _id, ...rest } = k;
      // Auto handles depend on the neighbours, which the paste target does not share: copy them as they look.
      keys.push({ ...rest, ...(k.auto ? { ...effectiveHandles(layer, i), auto: false } : {}), track });
    })
  );
  if (keys.length === 0) return null;
  const first = Math.min(...keys.map((k) => k.frame));
  return { keys: keys.map((k) => ({ ...k, frame: k.frame - first })) };
}

/**
 * Pastes keys with the earliest at frame `at` (the playhead), on their own
 * tracks, or all on `targetTrack` when they came from one track. Keys past the
 * clip's end are dropped; a pasted key replaces one at the same frame.
 */
export function pasteKeys(doc: TimelineDoc, clip: KeyClipboard, at: number, newId: IdSource, targetTrack?: number): { doc: TimelineDoc; ids: string[] } {
  checkFrame(doc, at, 'paste frame');
  const oneTrack = new Set(clip.keys.map((k) => k.track)).size === 1;
  if (targetTrack !== undefined) checkTrack(targetTrack);
  const byTrack = new Map<number, Keyframe[]>();
  const ids: string[] = [];
  for (const { track, ...k } of clip.keys) {
    const frame = at + k.frame;
    if (frame >= doc.frames) continue;
    const t = oneTrack && targetTrack !== undefined ? targetTrack : track;
    const id = newId();
    ids.push(id);
    byTrack.set(t, [...(byTrack.get(t) ?? []), { ...k, id, frame }]);
  }
  const changes = new Map<number, Keyframe[]>();
  for (const [t, pasted] of byTrack) {
    const frames = new Set(pasted.map((k) => k.frame));
    changes.set(t, [...doc.layers[t]!.filter((k) => !frames.has(k.frame)), ...pasted].sort((a, b) => a.frame - b.frame));
  }
  return { doc: withLayers(doc, changes), ids };
}

// ---- range edits, strengths, lock ------------------------------------------

export type RangeSpec = Omit<RangeEdit, 'id'>;

export function checkRange(r: RangeSpec, frames: number): void {
  const int = (v: number, what: string, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new TimelineError(`range edit ${what} ${v} must be a whole number in ${lo}..${hi}`);
  };
  int(r.start, 'start frame', 0, frames - 1);
  int(r.end, 'end frame', r.start, frames - 1);
  int(r.blendIn, 'blend-in length', 0, r.end - r.start);
  int(r.blendOut, 'blend-out length', 0, r.end - r.start);
  if (r.offsets.length !== PARAM_COUNT) throw new TimelineError(`a range edit needs ${PARAM_COUNT} offsets, got ${r.offsets.length}`);
  r.offsets.forEach((o, i) => checkValue(o, `offset of track ${i}`));
  checkValue(r.amount, 'amount');
  if (r.label.length === 0 || r.label.length > LIMITS.labelLength) throw new TimelineError(`a range edit label must have 1..${LIMITS.labelLength} characters`);
}

export function addRangeEdit(doc: TimelineDoc, spec: RangeSpec, id: string): TimelineDoc {
  checkRange(spec, doc.frames);
  if (doc.ranges.length >= LIMITS.ranges) throw new TimelineError(`a timeline holds at most ${LIMITS.ranges} range edits`);
  return { ...doc, ranges: [...doc.ranges, { ...spec, offsets: [...spec.offsets], id }] };
}

export function updateRangeEdit(doc: TimelineDoc, id: string, patch: Partial<RangeSpec>): TimelineDoc {
  const i = doc.ranges.findIndex((r) => r.id === id);
  if (i < 0) throw new TimelineError(`range edit ${id} does not exist`);
  const next = { ...doc.ranges[i]!, ...patch };
  checkRange(next, doc.frames);
  return { ...doc, ranges: doc.ranges.map((r, j) => (j === i ? next : r)) };
}

export function removeRangeEdit(doc: TimelineDoc, id: string): TimelineDoc {
  return { ...doc, ranges: doc.ranges.filter((r) => r.id !== id) };
}

export function setStrength(doc: TimelineDoc, group: ParamGroup, value: number): TimelineDoc {
  if (!Number.isFinite(value) || value < 0 || value > LIMITS.strength) throw new TimelineError(`strength ${value} must be within 0..${LIMITS.strength}`);
  return { ...doc, strength: { ...doc.strength, [group]: value } };
}

export function setLock(doc: TimelineDoc, lock: RegionLock | null): TimelineDoc {
  return { ...doc, lock };
}

// ---- baked corrections: smoothing and reset ----------------------------------

function bakedSamples(doc: TimelineDoc): number {
  return doc.baked.reduce((n, b) => n + (b ? b.values.length : 0), 0);
}

/** Writes `values` at frames start.. into a track's baked segment (add or replace), trimming zero ends. */
function writeBaked(seg: BakedSegment | null, start: number, values: ArrayLike<number>, mode: 'add' | 'replace'): BakedSegment | null {
  const lo = Math.min(start, seg ? seg.start : start);
  const hi = Math.max(start + values.length, seg ? seg.start + seg.values.length : start);
  const dense = new Array<number>(hi - lo).fill(0);
  if (seg) seg.values.forEach((v, i) => (dense[seg.start - lo + i] = v));
  for (let i = 0; i < values.length; i++) dense[start - lo + i] = (mode === 'add' ? dense[start - lo + i]! : 0) + values[i]!;
  let a = 0;
  let b = dense.length;
  while (a < b && dense[a] === 0) a++;
  while (b > a && dense[b - 1] === 0) b--;
  return a === b ? null : { start: lo + a, values: dense.slice(a, b) };
}

function withBaked(doc: TimelineDoc, changes: ReadonlyMap<number, BakedSegment | null>): TimelineDoc {
  if (changes.size === 0) return doc;
  const next = { ...doc, baked: doc.baked.map((b, t) => (changes.has(t) ? changes.get(t)! : b)) };
  if (bakedSamples(next) > LIMITS.bakedSamples) {
    throw new TimelineError(`smoothing this much would store more than ${LIMITS.bakedSamples} corrections: smooth a shorter range or fewer tracks`);
  }
  return next;
}

/**
 * Gaussian smoothing of frames start..end of the given tracks, of the values as
 * they are now edited. The window reaches sigma*3 frames beyond the range where
 * the clip has them (weights are renormalised at the clip's ends). The result is
 * baked as a per-frame correction (smoothed - current) added to the track's
 * baked layer: keys stay as they were, and later edits add on top of it.
 * Where the range ends inside the clip, the correction fades in and out with a
 * smoothstep over smoothTaper() frames, so the curve does not step at its edges.
 */
export function smoothRange(doc: TimelineDoc, ctx: EvalContext, tracks: Iterable<number>, start: number, end: number, sigma: number): TimelineDoc {
  checkContext(ctx);
  if (!(sigma > 0 && sigma <= MAX_SMOOTH_SIGMA)) throw new TimelineError(`smoothing sigma ${sigma} must be above 0 and at most ${MAX_SMOOTH_SIGMA} frames`);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end >= ctx.frames) {
    throw new TimelineError(`smoothing range ${start}..${end} must lie inside the encoded frames 0..${ctx.frames - 1}`);
  }
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, j) => Math.exp(-((j - radius) ** 2) / (2 * sigma * sigma)));
  const lo = Math.max(0, start - radius);
  const hi = Math.min(ctx.frames - 1, end + radius);
  const changes = new Map<number, BakedSegment | null>();
  for (const track of tracks) {
    checkTrack(track);
    const v = evaluateTrack(doc, ctx, track, lo, hi - lo + 1);
    const delta = new Float64Array(end - start + 1);
    for (let t = start; t <= end; t++) {
      let sum = 0;
      let weight = 0;
      for (let u = Math.max(lo, t - radius); u <= Math.min(hi, t + radius); u++) {
        const w = kernel[u - t + radius]!;
        sum += w * v[u - lo]!;
        weight += w;
      }
      delta[t - start] = (sum / weight - v[t - lo]!) * smoothTaperWeight(t, start, end, ctx.frames, sigma);
    }
    changes.set(track, writeBaked(doc.baked[track]!, start, delta, 'add'));
  }
  return withBaked(doc, changes);
}

/** Frames over which smoothing fades in at a range end inside the clip: sigma, at most a quarter of the range. */
export function smoothTaper(start: number, end: number, sigma: number): number {
  return Math.min(Math.ceil(sigma), Math.floor((end - start + 1) / 4));
}

/** The fade of the smoothing correction at frame t (1 away from the range's ends, and at the clip's ends). */
export function smoothTaperWeight(t: number, start: number, end: number, frames: number, sigma: number): number {
  const n = smoothTaper(start, end, sigma);
  const ramp = (d: number) => {
    const u = Math.min(1, (d + 1) / (n + 1));
    return u * u * (3 - 2 * u);
  };
  return (start > 0 && n > 0 ? ramp(t - start) : 1) * (end < frames - 1 && n > 0 ? ramp(end - t) : 1);
}

/** Removes every offset of the given tracks: keys, baked corrections and their share of range edits. */
export function resetTracks(doc: TimelineDoc, tracks: Iterable<number>): TimelineDoc {
  const set = new Set(tracks);
  const layers = new Map<number, Keyframe[]>();
  const baked = new Map<number, BakedSegment | null>();
  for (const t of set) {
    checkTrack(t);
    if (doc.layers[t]!.length > 0) layers.set(t, []);
    if (doc.baked[t]) baked.set(t, null);
  }
  const ranges = doc.ranges
    .map((r) => (r.offsets.some((o, t) => o !== 0 && set.has(t)) ? { ...r, offsets: r.offsets.map((o, t) => (set.has(t) ? 0 : o)) } : r))
    .filter((r) => r.offsets.some((o) => o !== 0));
  return withBaked(withLayers({ ...doc, ranges }, layers), baked);
}

/**
 * Makes the offsets of the given tracks zero on frames start..end and leaves
 * every other frame's value as it was: the keyed curve is split exactly at
 * start-1 and end+1, its keys inside the range replaced by zero keys at the
 * range's ends, and the range edits' share inside the range cancelled by a
 * baked correction. Group strengths are not touched (they are group-wide).
 */
export function resetRange(doc: TimelineDoc, tracks: Iterable<number>, start: number, end: number, newId: IdSource): TimelineDoc {
  checkFrame(doc, start, 'reset start');
  checkFrame(doc, end, 'reset end');
  if (end < start) throw new TimelineError(`reset range ${start}..${end} ends before it starts`);
  const layers = new Map<number, Keyframe[]>();
  const baked = new Map<number, BakedSegment | null>();
  for (const t of new Set(tracks)) {
    checkTrack(t);
    let keys: readonly Keyframe[] = doc.layers[t]!;
    if (keys.length > 0 && keys.some((k) => k.value !== 0 || !k.auto)) {
      // Frozen handles keep the curve outside the range as it is when its neighbours change.
      keys = freezeHandles(keys);
      if (start > 0) keys = insertKeyOnCurve(keys, start - 1, newId());
      if (end < doc.frames - 1) keys = insertKeyOnCurve(keys, end + 1, newId());
      const outside = keys.filter((k) => k.frame < start || k.frame > end);
      const zeros = [makeKey(newId(), start, 0, 'linear'), ...(end > start ? [makeKey(newId(), end, 0, 'linear')] : [])];
      const merged = [...outside, ...zeros].sort((a, b) => a.frame - b.frame);
      // The keys just before the range and at its end lead into it and out of it straight.
      layers.set(t, merged.map((k) => (k.frame === start - 1 || k.frame === end ? { ...k, interp: k.interp === 'hold' ? 'hold' : 'linear' } : k)));
    }
    const cancel = Array.from({ length: end - start + 1 }, (_, i) => -rangeOffset(doc, t, start + i) + 0);
    const seg = doc.baked[t]!;
    if (seg || cancel.some((v) => v !== 0)) baked.set(t, writeBaked(seg, start, cancel, 'replace'));
  }
  return withBaked(withLayers(doc, layers), baked);
}

/** Back to the encoded values: no keys, range edits or corrections, strengths 1 (the lock stays). */
export function resetAll(doc: TimelineDoc): TimelineDoc {
  return {
    ...doc,
    layers: doc.layers.map(() => []),
    ranges: [],
    baked: doc.baked.map(() => null),
    strength: defaultStrengths()
  };
}

/** The keyed offset of a track at a frame (for inspectors). */
export function keyedOffset(doc: TimelineDoc, track: number, frame: number): number {
  return layerValue(doc.layers[track]!, frame);
}
