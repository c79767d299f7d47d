// The one evaluation shared by the editor preview and the export:
//   value(p,t) = neutral(p) + strength[group(p)] * (encoded(p,t) - neutral(p)) + offset(p,t)
//   offset(p,t) = keyed layer(p,t) + sum of range edits weight_r(t) * offsets_r[p] + baked(p,t)
// where neutral is the encoded value at the identity frame. Tracks a region lock
// leaves out show the encoded values untouched.
import { addLayerInto, effectiveHandles } from './curve';
import { GROUPS, PARAM_COUNT, TimelineError, lockAllows, type Ease, type EvalContext, type RangeEdit, type TimelineDoc } from './types';

export function ease(kind: Ease, u: number): number {
  const x = Math.min(1, Math.max(0, u));
  switch (kind) {
    case 'linear':
      return x;
    case 'smooth':
      return x * x * (3 - 2 * x);
    case 'cubic':
      return x < 0.5 ? 4 * x * x * x : 1 - (2 - 2 * x) ** 3 / 2;
  }
}

/** Weight of a range edit at frame t: 0 outside [start, end], eased ramps inside its ends. */
export function rangeWeight(r: RangeEdit, t: number): number {
  if (t < r.start || t > r.end) return 0;
  const wIn = r.blendIn > 0 ? ease(r.easeIn, (t - r.start) / r.blendIn) : 1;
  const wOut = r.blendOut > 0 ? ease(r.easeOut, (r.end - t) / r.blendOut) : 1;
  return Math.min(wIn, wOut);
}

/** The range edits' summed offset of one track at frame t. */
export function rangeOffset(doc: TimelineDoc, track: number, t: number): number {
  let sum = 0;
  for (const r of doc.ranges) {
    const o = r.offsets[track]!;
    if (o !== 0) sum += o * rangeWeight(r, t);
  }
  return sum;
}

export function checkContext(ctx: EvalContext): void {
  if (!Number.isInteger(ctx.frames) || ctx.frames < 1) throw new TimelineError(`the clip needs at least one encoded frame, got ${ctx.frames}`);
  if (ctx.encoded.length < ctx.frames * PARAM_COUNT) throw new TimelineError(`the encoded parameters hold ${ctx.encoded.length} values, fewer than ${ctx.frames} frames x ${PARAM_COUNT}`);
  if (ctx.groups.length !== PARAM_COUNT) throw new TimelineError(`expected a group for each of the ${PARAM_COUNT} tracks, got ${ctx.groups.length}`);
  if (!Number.isInteger(ctx.neutralFrame) || ctx.neutralFrame < 0 || ctx.neutralFrame >= ctx.frames) {
    throw new TimelineError(`the neutral frame ${ctx.neutralFrame} is outside the encoded frames 0..${ctx.frames - 1}`);
  }
}

/** Edited values of one track over frames start..start+count-1 (inside the clip). */
export function evaluateTrack(doc: TimelineDoc, ctx: EvalContext, track: number, start: number, count: number): Float64Array {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > ctx.frames) {
    throw new TimelineError(`frames ${start}..${start + count - 1} are outside the encoded frames 0..${ctx.frames - 1}`);
  }
  const out = new Float64Array(count);
  const enc = ctx.encoded;
  const group = ctx.groups[track]!;
  if (!lockAllows(doc.lock, group)) {
    for (let j = 0; j < count; j++) out[j] = enc[(start + j) * PARAM_COUNT + track]!;
    return out;
  }
  const k = doc.strength[group];
  const n = enc[ctx.neutralFrame * PARAM_COUNT + track]!;
  for (let j = 0; j < count; j++) {
    const e = enc[(start + j) * PARAM_COUNT + track]!;
    // Strength 1 keeps the encoded value bit for bit.
    out[j] = k === 1 ? e : n + k * (e - n);
  }
  addLayerInto(doc.layers[track]!, start, out);
  for (const r of doc.ranges) {
    const o = r.offsets[track]!;
    if (o === 0) continue;
    for (let t = Math.max(start, r.start); t <= Math.min(start + count - 1, r.end); t++) out[t - start]! += o * rangeWeight(r, t);
  }
  const b = doc.baked[track];
  if (b) {
    for (let t = Math.max(start, b.start); t < Math.min(start + count, b.start + b.values.length); t++) out[t - start]! += b.values[t - b.start]!;
  }
  return out;
}

export function evaluateFrame(doc: TimelineDoc, ctx: EvalContext, frame: number): Float32Array {
  checkContext(ctx);
  if (!Number.isInteger(frame) || frame < 0 || frame >= ctx.frames) throw new TimelineError(`frame ${frame} is outside the encoded frames 0..${ctx.frames - 1}`);
  const out = new Float32Array(PARAM_COUNT);
  for (let p = 0; p < PARAM_COUNT; p++) out[p] = evaluateTrack(doc, ctx, p, frame, 1)[0]!;
  return out;
}

/** All edited values, [frames, PARAM_COUNT] row-major. */
export function evaluateAll(doc: TimelineDoc, ctx: EvalContext): Float32Array {
  checkContext(ctx);
  const out = new Float32Array(ctx.frames * PARAM_COUNT);
  for (let p = 0; p < PARAM_COUNT; p++) {
    const v = evaluateTrack(doc, ctx, p, 0, ctx.frames);
    for (let t = 0; t < ctx.frames; t++) out[t * PARAM_COUNT + p] = v[t]!;
  }
  return out;
}

/**
 * True when no edit changes any value: every strength a lock leaves active is
 * 1 and every offset is zero. Offsets on tracks a lock leaves out still count
 * (the document does not know the tracks' groups), so false can be returned for
 * a document whose only edits are locked out.
 */
export function isIdentity(doc: TimelineDoc): boolean {
  if (GROUPS.some((g) => lockAllows(doc.lock, g) && doc.strength[g] !== 1)) return false;
  for (const keys of doc.layers) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k.value !== 0) return false;
      if (k.interp === 'bezier' && i + 1 < keys.length) {
        const h = effectiveHandles(keys, i).handleOut;
        const hNext = effectiveHandles(keys, i + 1).handleIn;
        if (h.dv !== 0 || hNext.dv !== 0) return false;
      }
    }
  }
  if (doc.ranges.some((r) => r.offsets.some((o) => o !== 0) && rangeWeightNonZero(r))) return false;
  return doc.baked.every((b) => !b || b.values.every((v) => v === 0));
}

function rangeWeightNonZero(r: RangeEdit): boolean {
  for (let t = r.start; t <= r.end; t++) if (rangeWeight(r, t) !== 0) return true;
  return false;
}
