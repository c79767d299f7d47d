// The timeline document: what the user edits on top of the encoded parameter
// sequence. Pure data (JSON as it is), immutable by convention: every edit
// returns a new document that shares the parts it did not change, so undo can
// keep whole snapshots cheaply. Used by the editor (renderer), export and the
// CLI alike; no node: imports, no DOM.
import type { ParamGroup } from '../../shared/contract';
import { PARAM_COUNT } from '../params';

export { PARAM_COUNT };

export type Interp = 'bezier' | 'linear' | 'hold';
export const INTERPS: readonly Interp[] = ['bezier', 'linear', 'hold'];

/** Ease of a range edit's blend: linear, ease in-out (smoothstep) or cubic ease in-out. */
export type Ease = 'linear' | 'smooth' | 'cubic';
export const EASES: readonly Ease[] = ['linear', 'smooth', 'cubic'];

export type RegionLock = 'pose' | 'expression' | 'mouth' | 'eyes';
export const REGION_LOCK_VALUES: readonly RegionLock[] = ['pose', 'expression', 'mouth', 'eyes'];

/** Track groups in display order (the same list as PARAM_GROUPS in the IPC contract). */
export const GROUPS = ['pose', 'mouth', 'eyes', 'brows', 'nose-forehead-cheeks'] as const satisfies readonly ParamGroup[];

/**
 * A bezier handle relative to its key, in frames (dt) and track units (dv), as
 * in After Effects' graph editor: dt is the influence along time, dv/dt the
 * speed. The in handle points back in time (dt <= 0), the out handle forward.
 */
export interface Handle {
  readonly dt: number;
  readonly dv: number;
}

export interface Keyframe {
  /** Unique within the document ("k12"). */
  readonly id: string;
  /** Integer frame. */
  readonly frame: number;
  /** The offset added to the track at this frame, in track units. */
  readonly value: number;
  /** Interpolation of the segment that leaves this key. */
  readonly interp: Interp;
  /**
   * Auto handles follow the neighbouring keys (auto-clamped: flat at the ends
   * and at local extremes, so the curve never overshoots); otherwise the
   * stored handles are used.
   */
  readonly auto: boolean;
  readonly handleIn: Handle;
  readonly handleOut: Handle;
}

/**
 * An offset over a frame range, with blends inside the range: the weight
 * rises from 0 at `start` to 1 at `start + blendIn`, stays 1, and falls back
 * to 0 at `end` over the last `blendOut` frames (the eased minimum of the
 * two ramps when they overlap). Frames outside [start, end] never change.
 */
export interface RangeEdit {
  readonly id: string;
  /** What the user sees in the list ("Smile", "Offset"). */
  readonly label: string;
  readonly start: number;
  readonly end: number;
  readonly blendIn: number;
  readonly blendOut: number;
  readonly easeIn: Ease;
  readonly easeOut: Ease;
  /** Offsets at full weight, one per track (track units). */
  readonly offsets: readonly number[];
  /** The preset it came from (its offsets are already resolved into `offsets`) and the amount applied. */
  readonly preset: string | null;
  readonly amount: number;
}

/** A dense correction added to a track from `start` on (what smoothing writes). */
export interface BakedSegment {
  readonly start: number;
  readonly values: readonly number[];
}

export type GroupStrengths = Readonly<Record<ParamGroup, number>>;

export interface TimelineDoc {
  readonly version: 1;
  /** Frames of the clip the edits are for. */
  readonly frames: number;
  /** One keyframed offset layer per track, keys in frame order with distinct frames. */
  readonly layers: readonly (readonly Keyframe[])[];
  readonly ranges: readonly RangeEdit[];
  /** One baked correction per track, or null. */
  readonly baked: readonly (BakedSegment | null)[];
  /** Multiplier of each group's motion around the neutral frame (1 = as encoded). */
  readonly strength: GroupStrengths;
  /** When set, edits act only on that region's tracks; the others show the encoded values. */
  readonly lock: RegionLock | null;
}

export interface EvalContext {
  /** Encoded parameters, [frames, PARAM_COUNT] row-major. */
  encoded: ArrayLike<number>;
  frames: number;
  /** Group of each of the PARAM_COUNT tracks. */
  groups: readonly ParamGroup[];
  /** The identity frame: strengths scale motion around its values. */
  neutralFrame: number;
}

export class TimelineError extends Error {
  override name = 'TimelineError';
}

/** A key addressed by its track and id. */
export interface KeyRef {
  readonly track: number;
  readonly id: string;
}

/** Gives fresh ids; edits take ids from the caller so they stay pure. */
export type IdSource = () => string;

// Bounds on documents (parseTimeline enforces them; edits keep within them).
export const LIMITS = {
  keys: 50_000,
  ranges: 256,
  bakedSamples: 600_000,
  /** Largest |value| of an offset, handle or preset amount, in track units. */
  value: 1000,
  strength: 3,
  idLength: 32,
  labelLength: 80
} as const;

export const MAX_SMOOTH_SIGMA = 60;

export function defaultStrengths(): GroupStrengths {
  return { pose: 1, mouth: 1, eyes: 1, brows: 1, 'nose-forehead-cheeks': 1 };
}

export function emptyTimeline(frames: number): TimelineDoc {
  if (!Number.isInteger(frames) || frames < 1) throw new TimelineError(`a timeline needs a whole number of frames (at least 1), got ${frames}`);
  return {
    version: 1,
    frames,
    layers: Array.from({ length: PARAM_COUNT }, () => []),
    ranges: [],
    baked: new Array<BakedSegment | null>(PARAM_COUNT).fill(null),
    strength: defaultStrengths(),
    lock: null
  };
}

/** Whether a lock lets edits act on a track of `group`. Eyes include the brows, as in puppeteering. */
export function lockAllows(lock: RegionLock | null, group: ParamGroup): boolean {
  switch (lock) {
    case null:
      return true;
    case 'pose':
      return group === 'pose';
    case 'expression':
      return group !== 'pose';
    case 'mouth':
      return group === 'mouth';
    case 'eyes':
      return group === 'eyes' || group === 'brows';
  }
}

/** Which tracks the document's lock leaves editable. */
export function editableTracks(doc: TimelineDoc, groups: readonly ParamGroup[]): boolean[] {
  return groups.map((g) => lockAllows(doc.lock, g));
}
