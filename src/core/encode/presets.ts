// What the CLI and the studio share when they start an encode: the quality presets (each a
// schedule, see schedule.ts), what --align auto means, and cleaning up after an encode that
// failed before it saved a frame.
import { rmSync } from 'node:fs';
import { isCancelled } from '../util/cancel';
import { openProject } from '../project';
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
 * After an encode threw: a project folder this encode created that holds no encoded
 * frame is removed (no partial output). A cancelled or partly encoded one stays, to resume.
 */
export async function discardFailedEncode(projectDir: string, existedBefore: boolean, error: unknown): Promise<void> {
  if (existedBefore || isCancelled(error)) return;
  const p = await openProject(projectDir).catch(() => null);
  if (!p || p.doc.encoding.encodedThrough === 0) rmSync(projectDir, { recursive: true, force: true });
}
