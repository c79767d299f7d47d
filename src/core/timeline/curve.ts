// One keyframed offset layer as a curve: handles, segment evaluation and
// shape-preserving key insertion. Before the first key and after the last the
// layer holds the end values (as in After Effects and Blender); a layer with no
// keys is 0 everywhere.
import type { Handle, Interp, Keyframe } from './types';

/** The handles a key's segments actually use (auto ones computed from its neighbours). */
export function effectiveHandles(keys: readonly Keyframe[], i: number): { handleIn: Handle; handleOut: Handle } {
  const k = keys[i]!;
  if (!k.auto) return { handleIn: k.handleIn, handleOut: k.handleOut };
  const prev = keys[i - 1];
  const next = keys[i + 1];
  const spanIn = prev ? k.frame - prev.frame : next ? next.frame - k.frame : 3;
  const spanOut = next ? next.frame - k.frame : spanIn;
  let slope = 0;
  // Auto-clamped: flat at the ends and at extremes, otherwise the slope of the neighbours' chord.
  if (prev && next && (k.value - prev.value) * (next.value - k.value) > 0) slope = (next.value - prev.value) / (next.frame - prev.frame);
  return {
    handleIn: { dt: -spanIn / 3, dv: (-spanIn / 3) * slope },
    handleOut: { dt: spanOut / 3, dv: (spanOut / 3) * slope }
  };
}

/** The keys with their auto handles turned into the stored handles they amount to. */
export function freezeHandles(keys: readonly Keyframe[]): Keyframe[] {
  return keys.map((k, i) => (k.auto ? { ...k, auto: false, ...effectiveHandles(keys, i) } : k));
}

/** Control points of the bezier segment from key a to key b, handles clamped into the segment so time stays monotonic. */
export function segmentControls(a: Keyframe, aOut: Handle, b: Keyframe, bIn: Handle): [number, number, number, number, number, number, number, number] {
  const span = b.frame - a.frame;
  const clampOut = aOut.dt > span ? span / aOut.dt : 1;
  const clampIn = -bIn.dt > span ? span / -bIn.dt : 1;
  const odt = Math.max(0, aOut.dt * clampOut);
  const idt = Math.min(0, bIn.dt * clampIn);
  return [a.frame, a.value, a.frame + odt, a.value + aOut.dv * clampOut, b.frame + idt, b.value + bIn.dv * clampIn, b.frame, b.value];
}

const cubic = (p0: number, p1: number, p2: number, p3: number, s: number): number => {
  const r = 1 - s;
  return r * r * r * p0 + 3 * r * r * s * p1 + 3 * r * s * s * p2 + s * s * s * p3;
};

/** The curve parameter where the segment's time equals t (time is monotonic in it, so bisection always converges). */
export function solveBezierTime(x0: number, x1: number, x2: number, x3: number, t: number): number {
  if (t <= x0) return 0;
  if (t >= x3) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (cubic(x0, x1, x2, x3, mid) < t) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Value of segment i (from keys[i] to keys[i+1]) at time t inside it. */
export function segmentValue(keys: readonly Keyframe[], i: number, t: number): number {
  const a = keys[i]!;
  const b = keys[i + 1]!;
  if (t <= a.frame) return a.value;
  if (t >= b.frame) return b.value;
  switch (a.interp) {
    case 'hold':
      return a.value;
    case 'linear':
      return a.value + ((b.value - a.value) * (t - a.frame)) / (b.frame - a.frame);
    case 'bezier': {
      const c = segmentControls(a, effectiveHandles(keys, i).handleOut, b, effectiveHandles(keys, i + 1).handleIn);
      const s = solveBezierTime(c[0], c[2], c[4], c[6], t);
      return cubic(c[1], c[3], c[5], c[7], s);
    }
  }
}

/** Index of the last key at or before t (-1 when t is before the first key). */
export function keyIndexAtOrBefore(keys: readonly Keyframe[], t: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]!.frame <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export function layerValue(keys: readonly Keyframe[], t: number): number {
  if (keys.length === 0) return 0;
  const i = keyIndexAtOrBefore(keys, t);
  if (i < 0) return keys[0]!.value;
  if (i >= keys.length - 1) return keys[keys.length - 1]!.value;
  return segmentValue(keys, i, t);
}

/** Adds the layer's value at frames start..start+out.length-1 into out. */
export function addLayerInto(keys: readonly Keyframe[], start: number, out: Float64Array): void {
  if (keys.length === 0) return;
  let i = keyIndexAtOrBefore(keys, start);
  for (let j = 0; j < out.length; j++) {
    const t = start + j;
    while (i + 1 < keys.length && keys[i + 1]!.frame <= t) i++;
    out[j]! += i < 0 ? keys[0]!.value : i >= keys.length - 1 ? keys[keys.length - 1]!.value : segmentValue(keys, i, t);
  }
}

export function makeKey(id: string, frame: number, value: number, interp: Interp = 'bezier'): Keyframe {
  return { id, frame, value, interp, auto: true, handleIn: { dt: -1, dv: 0 }, handleOut: { dt: 1, dv: 0 } };
}

/**
 * Inserts a key at `frame` without changing the curve: a bezier segment is split
 * exactly (de Casteljau), its neighbours' handles frozen; a linear or hold
 * segment, or the held ends, get a key of the same interpolation and value.
 * A key already at the frame is kept as it is.
 */
export function insertKeyOnCurve(keys: readonly Keyframe[], frame: number, id: string): Keyframe[] {
  const i = keyIndexAtOrBefore(keys, frame);
  if (i >= 0 && keys[i]!.frame === frame) return keys.slice();
  if (i < 0 || i >= keys.length - 1) {
    const end = keys.length === 0 ? null : i < 0 ? keys[0]! : keys[keys.length - 1]!;
    const key = makeKey(id, frame, end ? end.value : 0, end ? end.interp : 'bezier');
    return i < 0 ? [key, ...keys] : [...keys, key];
  }
  const a = keys[i]!;
  // Freeze every handle that auto mode would recompute once a key is inserted: the two keys
  // around it take their slopes from their neighbours, and the new key becomes one of those.
  const frozen = keys.map((k, j) => ((j === i || j === i + 1) && k.auto ? { ...k, auto: false, ...effectiveHandles(keys, j) } : k));
  if (a.interp !== 'bezier') {
    return [...frozen.slice(0, i + 1), { ...makeKey(id, frame, segmentValue(keys, i, frame), a.interp), auto: false }, ...frozen.slice(i + 1)];
  }
  const fa = frozen[i]!;
  const fb = frozen[i + 1]!;
  const c = segmentControls(fa, fa.handleOut, fb, fb.handleIn);
  const s = solveBezierTime(c[0], c[2], c[4], c[6], frame);
  const lerp = (p: number, q: number) => p + (q - p) * s;
  const x01 = lerp(c[0], c[2]), y01 = lerp(c[1], c[3]);
  const x12 = lerp(c[2], c[4]), y12 = lerp(c[3], c[5]);
  const x23 = lerp(c[4], c[6]), y23 = lerp(c[5], c[7]);
  const x012 = lerp(x01, x12), y012 = lerp(y01, y12);
  const x123 = lerp(x12, x23), y123 = lerp(y12, y23);
  const x = lerp(x012, x123), y = lerp(y012, y123);
  const left: Keyframe = { ...fa, handleOut: { dt: x01 - c[0], dv: y01 - c[1] } };
  const mid: Keyframe = { id, frame, value: y, interp: 'bezier', auto: false, handleIn: { dt: x012 - x, dv: y012 - y }, handleOut: { dt: x123 - x, dv: y123 - y } };
  const right: Keyframe = { ...fb, handleIn: { dt: x23 - c[6], dv: y23 - c[7] } };
  return [...frozen.slice(0, i), left, mid, right, ...frozen.slice(i + 2)];
}
