// A small clip of known encoded values for the timeline tests.
import type { ParamGroup } from '../../../src/shared/contract';
import { PARAM_COUNT, type EvalContext } from '../../../src/core/timeline';

export const GROUPS_OF_TRACKS: ParamGroup[] = [
  ...Array<ParamGroup>(3).fill('pose'),
  ...Array<ParamGroup>(12).fill('mouth'),
  ...Array<ParamGroup>(8).fill('eyes'),
  ...Array<ParamGroup>(6).fill('brows'),
  ...Array<ParamGroup>(6).fill('nose-forehead-cheeks')
];

/** Encoded value of track p at frame t (stored as float32 like a project's). */
export const encodedValue = (t: number, p: number): number => Math.fround(Math.sin(0.3 * t + p) * (1 + p / 10));

export function makeContext(frames = 60, neutralFrame = 2): EvalContext {
  const encoded = new Float32Array(frames * PARAM_COUNT);
  for (let t = 0; t < frames; t++) for (let p = 0; p < PARAM_COUNT; p++) encoded[t * PARAM_COUNT + p] = encodedValue(t, p);
  return { encoded, frames, groups: GROUPS_OF_TRACKS, neutralFrame };
}

/** Track indices by group in the fixture's layout. */
export const TRACK = { yaw: 0, pitch: 1, roll: 2, mouth0: 3, mouth1: 4, eyes0: 15, brows0: 23, nose0: 29 } as const;
