// Shared test helpers: the shared media folder and a calibrated seeded model in a temp folder.
import { type EncodeSchedule, qualitySchedule } from '../src/core/encode/schedule';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasBasis, saveBasis } from '../src/core/model/basis';
import { ModelBundle } from '../src/core/model/bundle';
import { calibrateFixedRegions } from '../src/core/model/calibrate';
import { ensureSeededModel } from '../src/core/model/defaults';
import type { Runtime } from '../src/core/runtime';
import { resolveFfmpeg } from '../src/core/video';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const sharedData = resolve(repoRoot, '..', 'shared', 'data');
export const hasSharedData = existsSync(join(sharedData, 'clips'));
export const clip = (name: string): string => join(sharedData, 'clips', name);
export const portrait = (name: string): string => join(sharedData, 'portraits', name);

export { tempDir } from './temp-dirs';

/**
 * A variable-frame-rate clip made from lp_d11 (128 px, its sound copied), as a recording that
 * stalled: 4 s holding 85 frames at 25 per second with a 0.6 s pause after frame 40 (a frame taken
 * in order is up to 0.31 s from its sound).
 */
export function pausedClip(path: string): string {
  const made = spawnSync(resolveFfmpeg().path, ['-v', 'error', '-y', '-i', clip('lp_d11.mp4'), '-t', '4', '-vf', "scale=128:128,setpts='(N/25+if(gt(N,40),0.6,0))/TB'", '-vsync', 'vfr', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'copy', path]);
  if (made.status !== 0) throw new Error(`could not make ${path}: ${String(made.stderr)}`);
  return path;
}

/** The default seeded model, calibrated, in `dir` (created on first use). */
export async function calibratedSeededModel(dir: string, rt: Runtime): Promise<ModelBundle> {
  const bundle = await ensureSeededModel(dir, rt);
  if (!hasBasis(bundle)) saveBasis(bundle, await calibrateFixedRegions(bundle, rt));
  return bundle;
}

/**
 * A schedule of the 'draft' kind with every stage's budget cut to `evaluations` (per stage
 * id; others keep theirs) and the given identity sizes: quick encodes for tests of the job
 * machinery, not of quality.
 */
export function smallSchedule(evaluations: Record<string, number>, identity: Partial<EncodeSchedule['identity']> = {}): EncodeSchedule {
  const s = qualitySchedule('draft');
  s.identity = { ...s.identity, ...identity };
  for (const st of s.stages) if (evaluations[st.id] !== undefined) st.stop = { ...st.stop, maxEvaluations: evaluations[st.id]! };
  s.stages = s.stages.filter((st) => st.stop.maxEvaluations > 0);
  return s;
}

/** Largest absolute difference of two arrays and the largest magnitude of the second (the scale to compare it with). */
export function maxAbsDiff(ours: ArrayLike<number>, ref: ArrayLike<number>): { maxDiff: number; scale: number } {
  if (ours.length !== ref.length) throw new Error(`lengths differ: ${ours.length} vs ${ref.length}`);
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return { maxDiff, scale };
}
