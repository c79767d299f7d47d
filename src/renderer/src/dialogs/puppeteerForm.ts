// The puppeteer dialog's choices: whose motion drives which face, how, and where the new project goes.
import { PROJECT_EXTENSION, PUPPET_MODES, REGION_LOCKS, type PuppeteerPreviewRequest, type PuppeteerRequest } from '../../../shared/contract';
import { siblingPath, stem } from '../ui/paths';

export type PuppetMode = (typeof PUPPET_MODES)[number];
export type RegionLock = (typeof REGION_LOCKS)[number];

export interface MotionSource {
  path: string;
  name: string;
  /** Encoded frames, the range the preview frame can take. */
  frames: number;
  /** Frames the project covers; puppeteering needs all of them encoded. */
  total: number;
}

export interface PuppetForm {
  motion: MotionSource;
  identity: { kind: 'project' | 'portrait'; path: string } | null;
  mode: PuppetMode;
  lock: RegionLock | null;
  strength: number;
  /** Motion frame shown in the preview. */
  frame: number;
  /** The new project folder; null = the default beside the motion project. */
  out: string | null;
  /** Fine-tune the generator on the portrait (a portrait identity only; a project brings its own delta). */
  tunePortrait: boolean;
}

export const MAX_STRENGTH = 3;

export const MODE_INFO: Record<PuppetMode, { label: string; summary: string }> = {
  relative: { label: 'Relative', summary: 'Transfers the change from the motion’s neutral frame, so the driven face keeps its own resting expression and head pose. Best across identities.' },
  absolute: { label: 'Absolute', summary: 'Copies the motion’s values (times the strength) as they are. Use it when both faces are the same person or rest alike; otherwise the driven face may drift.' }
};

export const LOCK_INFO: Record<'none' | RegionLock, { label: string; summary: string }> = {
  none: { label: 'None', summary: 'All motion is transferred: head pose and every expression.' },
  pose: { label: 'Pose', summary: 'Only head yaw, pitch and roll; the driven face keeps its neutral expression.' },
  expression: { label: 'Expression', summary: 'Only the 32 expression tracks; the head stays in the driven face’s neutral pose.' },
  mouth: { label: 'Mouth', summary: 'Only mouth and lips (for dubbing and lip sync); everything else stays neutral.' },
  eyes: { label: 'Eyes', summary: 'Only eyes, gaze and brows (they move together); everything else stays neutral.' }
};

export function initialPuppetForm(motion: MotionSource): PuppetForm {
  return { motion, identity: null, mode: 'relative', lock: null, strength: 1, frame: Math.floor(Math.max(0, motion.frames - 1) / 2), out: null, tunePortrait: false };
}

/** NAME-driven-by-MOTION.stylecast beside the motion project. */
export function defaultPuppetOut(motionPath: string, identityPath: string): string {
  return siblingPath(motionPath, `${stem(identityPath)}-driven-by-${stem(motionPath)}${PROJECT_EXTENSION}`);
}

export const puppetOut = (f: PuppetForm): string | null => f.out ?? (f.identity ? defaultPuppetOut(f.motion.path, f.identity.path) : null);

export function validatePuppet(f: PuppetForm): string | null {
  if (f.motion.frames < 1) return `${f.motion.name} has no encoded frame to take motion from.`;
  if (f.motion.frames < f.motion.total) return `${f.motion.name} is not fully encoded (${f.motion.frames} of ${f.motion.total} frames); resume its encode first, or choose another motion source.`;
  if (!f.identity) return 'Choose whose face to drive: a project or a portrait image.';
  if (f.identity.kind === 'project' && f.identity.path === f.motion.path) return 'The identity and the motion are the same project; choose another face, or edit this project directly.';
  if (!(f.strength >= 0 && f.strength <= MAX_STRENGTH)) return `Motion strength must be between 0 and ${MAX_STRENGTH}.`;
  const out = puppetOut(f);
  if (out && !out.endsWith(PROJECT_EXTENSION)) return `The new project folder must end in ${PROJECT_EXTENSION}.`;
  if (out === f.motion.path || (f.identity.kind === 'project' && out === f.identity.path)) return 'The new project would replace one of its sources; choose another folder.';
  return null;
}

function settings(f: PuppetForm) {
  if (!f.identity) throw new Error('puppeteer settings need an identity; validate the form first');
  return { motion: f.motion.path, identity: { ...f.identity }, mode: f.mode, lock: f.lock, strength: f.strength };
}

/** Whether the start tunes on the portrait: only a portrait identity can be (steps: the CLI's default). */
export const tunesOnPortrait = (f: PuppetForm): boolean => f.tunePortrait && f.identity?.kind === 'portrait';

export function toPuppeteerRequest(f: PuppetForm): PuppeteerRequest {
  return { ...settings(f), out: puppetOut(f)!, tune: tunesOnPortrait(f) ? { steps: null } : null };
}

export function toPreviewRequest(f: PuppetForm): PuppeteerPreviewRequest {
  return { ...settings(f), frame: Math.min(Math.max(0, f.frame), Math.max(0, f.motion.frames - 1)) };
}

/** A stable key of what the preview depends on, to skip identical requests. */
export const previewKey = (f: PuppetForm): string => JSON.stringify(f.identity ? toPreviewRequest(f) : null);
