// What the CLI and the studio share when they start an encode: the quality presets,
// what --align auto means, and cleaning up after an encode that failed before it saved a frame.
import { rmSync } from 'node:fs';
import { isCancelled } from '../util/cancel';
import { openProject } from '../project';
import { DEFAULT_SETTINGS, type EncoderSettings } from './optimize';

export const ENCODE_QUALITIES = ['draft', 'normal', 'best'] as const;
export type EncodeQuality = (typeof ENCODE_QUALITIES)[number];
export type AlignRequest = 'auto' | 'face' | 'none';

export const isEncodeQuality = (q: unknown): q is EncodeQuality => typeof q === 'string' && (ENCODE_QUALITIES as readonly string[]).includes(q);

/** Optimiser iterations per quality: draft for previews and tests, best for final work. */
export function encoderSettings(quality: EncodeQuality): EncoderSettings {
  const s: EncoderSettings = structuredClone(DEFAULT_SETTINGS);
  if (quality === 'draft') {
    s.identity = { ...s.identity, candidates: 2, iterations: 300, refineIterations: 300 };
    s.frames = { ...s.frames, coarseIterations: 15, fineIterations: 40 };
  } else if (quality === 'best') {
    s.identity = { ...s.identity, iterations: 1000, refineIterations: 2500 };
    s.frames = { ...s.frames, coarseIterations: 50, fineIterations: 300 };
  }
  return s;
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
