// What the export dialog's choices mean for the encoder.
import { extname } from 'node:path';
import type { ExportRequest } from '../shared/contract';

/** How each quality encodes: x264 crf (draft is small and quick to share, high is near-lossless), or bit-exact RGB. */
export const EXPORT_ENCODING: Record<ExportRequest['quality'], { crf: number; lossless: boolean }> = {
  draft: { crf: 28, lossless: false },
  normal: { crf: 20, lossless: false },
  high: { crf: 12, lossless: false },
  lossless: { crf: 0, lossless: true }
};

/** Containers the video writer produces (src/core/video/encode.ts). */
const EXPORT_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv'];

export const exportExtensionOk = (path: string): boolean => EXPORT_EXTENSIONS.includes(extname(path).toLowerCase());
