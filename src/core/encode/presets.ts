// What the CLI and the studio share when they start an encode: the quality presets (each a
// schedule, see schedule.ts), what --align auto means, and cleaning up after an encode that
// failed before it saved anything worth resuming.
import { rmSync } from 'node:fs';
import { isCancelled } from '../util/cancel';
import { ProjectError, openProject } from '../project';
import { hasIdentityProgress } from './identity-progress';
import { type EncodeQuality, type EncodeSchedule, ENCODE_QUALITIES, isEncodeQuality, qualitySchedule } from './schedule';

export { ENCODE_QUALITIES, isEncodeQuality, type EncodeQuality };
export type AlignRequest = 'auto' | 'face' | 'none';

/** The schedule of a quality: draft for previews and tests, best for final work. */
export function encoderSchedule(quality: EncodeQuality): EncodeSchedule {
  return qualitySchedule(quality);
}

/**
 * 'auto' treats a video that is square at the model's resolution as aligned crops
 * already ('none'); any other video gets face detection and alignment ('face').
 */
export function resolveAlign(request: AlignRequest, video: { width: number; height: number }, resolution: number): 'face' | 'none' {
  if (request !== 'auto') return request;
  return video.width === resolution && video.height === resolution ? 'none' : 'face';
}

/**
 * After an encode threw: a project folder this encode created is removed unless it holds work
 * worth resuming, an identity, part of its search or encoded frames (no partial output otherwise). A cancelled one
 * stays, as does one that existed before. Returns what was kept in a new folder, to add to the
 * error ("the identity is saved"), or null.
 */
export async function discardFailedEncode(projectDir: string, existedBefore: boolean, error: unknown): Promise<string | null> {
  // Refused because another process writes the folder: it is that process's, whatever it holds.
  if (existedBefore || isCancelled(error) || (error instanceof ProjectError && error.code === 'BUSY')) return null;
  const p = await openProject(projectDir).catch(() => null);
  const e = p?.doc.encoding;
  // The identity is saved before the first frame: at 1024 it is hours of work.
  // So is a part of the identity search (identity-progress.ts): the same command goes on from it.
  const kept = !e ? null : e.encodedThrough > 0 ? `frames 0 to ${e.encodedThrough - 1} are saved` : e.identityFrame !== null ? 'the identity is saved' : hasIdentityProgress(projectDir) ? 'part of the identity search is saved' : null;
  if (!kept) rmSync(projectDir, { recursive: true, force: true });
  return kept;
}
