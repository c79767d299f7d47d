// Reading timeline documents from untrusted JSON (project files, the renderer):
// known fields only, finite numbers, bounded sizes, keys inside the clip.
import {
  EASES,
  GROUPS,
  INTERPS,
  LIMITS,
  PARAM_COUNT,
  REGION_LOCK_VALUES,
  TimelineError,
  type BakedSegment,
  type Handle,
  type Keyframe,
  type RangeEdit,
  type TimelineDoc
} from './types';

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new TimelineError(`timeline edits: ${path} ${message}`);
}

function object(v: unknown, path: string, fields: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, 'must be an object');
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) fail(path, 'must be a plain object');
  for (const k of Object.keys(v)) if (!fields.includes(k)) fail(path, `has an unknown field "${k}"`);
  for (const k of fields) if (!Object.hasOwn(v, k)) fail(path, `is missing the field "${k}"`);
  return v as Obj;
}

function array(v: unknown, path: string, max: number): unknown[] {
  if (!Array.isArray(v)) fail(path, 'must be an array');
  if (v.length > max) fail(path, `has ${v.length} entries, more than the ${max} allowed`);
  return v;
}

function num(v: unknown, path: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(path, 'must be a finite number');
  if (v < lo || v > hi) fail(path, `is ${v}, outside ${lo}..${hi}`);
  return v;
}

function int(v: unknown, path: string, lo: number, hi: number): number {
  const n = num(v, path, lo, hi);
  if (!Number.isInteger(n)) fail(path, `must be a whole number, got ${n}`);
  return n;
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(path, `must be one of ${values.join(', ')}`);
  return v as T;
}

function id(v: unknown, path: string, seen: Set<string>): string {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]+$/.test(v) || v.length > LIMITS.idLength) fail(path, `must be an id of letters, digits, _ or - (at most ${LIMITS.idLength})`);
  if (seen.has(v)) fail(path, `repeats the id "${v}"`);
  seen.add(v);
  return v;
}

function label(v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > LIMITS.labelLength || /[\u0000-\u001f]/.test(v)) fail(path, `must be text of 1..${LIMITS.labelLength} characters`);
  return v;
}

function handle(v: unknown, path: string, frames: number, sign: -1 | 1): Handle {
  const o = object(v, path, ['dt', 'dv']);
  const dt = num(o.dt, `${path}.dt`, sign < 0 ? -frames : 0, sign < 0 ? 0 : frames);
  return { dt, dv: num(o.dv, `${path}.dv`, -LIMITS.value, LIMITS.value) };
}

function keyframe(v: unknown, path: string, frames: number, ids: Set<string>): Keyframe {
  const o = object(v, path, ['id', 'frame', 'value', 'interp', 'auto', 'handleIn', 'handleOut']);
  if (typeof o.auto !== 'boolean') fail(`${path}.auto`, 'must be true or false');
  return {
    id: id(o.id, `${path}.id`, ids),
    frame: int(o.frame, `${path}.frame`, 0, frames - 1),
    value: num(o.value, `${path}.value`, -LIMITS.value, LIMITS.value),
    interp: oneOf(o.interp, `${path}.interp`, INTERPS),
    auto: o.auto,
    handleIn: handle(o.handleIn, `${path}.handleIn`, frames, -1),
    handleOut: handle(o.handleOut, `${path}.handleOut`, frames, 1)
  };
}

function range(v: unknown, path: string, frames: number, ids: Set<string>): RangeEdit {
  const o = object(v, path, ['id', 'label', 'start', 'end', 'blendIn', 'blendOut', 'easeIn', 'easeOut', 'offsets', 'preset', 'amount']);
  const start = int(o.start, `${path}.start`, 0, frames - 1);
  const end = int(o.end, `${path}.end`, start, frames - 1);
  const offsets = array(o.offsets, `${path}.offsets`, PARAM_COUNT).map((x, i) => num(x, `${path}.offsets[${i}]`, -LIMITS.value, LIMITS.value));
  if (offsets.length !== PARAM_COUNT) fail(`${path}.offsets`, `must have ${PARAM_COUNT} entries, one per track`);
  return {
    id: id(o.id, `${path}.id`, ids),
    label: label(o.label, `${path}.label`),
    start,
    end,
    blendIn: int(o.blendIn, `${path}.blendIn`, 0, end - start),
    blendOut: int(o.blendOut, `${path}.blendOut`, 0, end - start),
    easeIn: oneOf(o.easeIn, `${path}.easeIn`, EASES),
    easeOut: oneOf(o.easeOut, `${path}.easeOut`, EASES),
    offsets,
    preset: o.preset === null ? null : label(o.preset, `${path}.preset`),
    amount: num(o.amount, `${path}.amount`, -LIMITS.value, LIMITS.value)
  };
}

function baked(v: unknown, path: string, frames: number, budget: { left: number }): BakedSegment | null {
  if (v === null) return null;
  const o = object(v, path, ['start', 'values']);
  const start = int(o.start, `${path}.start`, 0, frames - 1);
  const values = array(o.values, `${path}.values`, Math.min(frames - start, budget.left)).map((x, i) => num(x, `${path}.values[${i}]`, -LIMITS.value, LIMITS.value));
  if (values.length === 0) fail(`${path}.values`, 'must not be empty (use null for no correction)');
  budget.left -= values.length;
  return { start, values };
}

/**
 * Validates untrusted JSON as a timeline for a clip of `frames` frames.
 * Throws TimelineError naming the first bad field.
 */
export function parseTimeline(json: unknown, frames: number): TimelineDoc {
  if (!Number.isInteger(frames) || frames < 1) throw new TimelineError(`a timeline needs a whole number of frames (at least 1), got ${frames}`);
  const o = object(json, 'the document', ['version', 'frames', 'layers', 'ranges', 'baked', 'strength', 'lock']);
  if (o.version !== 1) fail('version', `is ${JSON.stringify(o.version)}; this version of Stylecast reads version 1`);
  // The stored clip length is informative; what counts is that everything lies inside this clip.
  int(o.frames, 'frames', 1, Number.MAX_SAFE_INTEGER);
  const ids = new Set<string>();
  let keyCount = 0;
  const layerList = array(o.layers, 'layers', PARAM_COUNT);
  if (layerList.length !== PARAM_COUNT) fail('layers', `must have ${PARAM_COUNT} entries, one per track`);
  const layers = layerList.map((l, t) => {
    const list = array(l, `layers[${t}]`, LIMITS.keys - keyCount);
    keyCount += list.length;
    const keys = list.map((k, i) => keyframe(k, `layers[${t}][${i}]`, frames, ids));
    for (let i = 1; i < keys.length; i++) if (keys[i]!.frame <= keys[i - 1]!.frame) fail(`layers[${t}][${i}].frame`, `must come after the previous key's frame ${keys[i - 1]!.frame}`);
    return keys;
  });
  const ranges = array(o.ranges, 'ranges', LIMITS.ranges).map((r, i) => range(r, `ranges[${i}]`, frames, ids));
  const budget = { left: LIMITS.bakedSamples };
  const bakedList = array(o.baked, 'baked', PARAM_COUNT);
  if (bakedList.length !== PARAM_COUNT) fail('baked', `must have ${PARAM_COUNT} entries, one per track`);
  const bakedSegs = bakedList.map((b, t) => baked(b, `baked[${t}]`, frames, budget));
  const s = object(o.strength, 'strength', GROUPS);
  const strength = Object.fromEntries(GROUPS.map((g) => [g, num(s[g], `strength.${g}`, 0, LIMITS.strength)])) as TimelineDoc['strength'];
  const lock = o.lock === null ? null : oneOf(o.lock, 'lock', REGION_LOCK_VALUES);
  return { version: 1, frames, layers, ranges, baked: bakedSegs, strength, lock };
}

/** Plain JSON of a document (what project:saveEdits and export:start carry). */
export function serializeTimeline(doc: TimelineDoc): unknown {
  return JSON.parse(JSON.stringify(doc)) as unknown;
}
