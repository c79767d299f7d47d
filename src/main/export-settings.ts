// What the export dialog's choices mean for the encoder.
import { extname } from 'node:path';
import type { ExportRequest } from '../shared/contract';

/** x264 constant rate factor per quality: draft is small and quick to share, high is near-lossless. */
export const EXPORT_CRF: Record<ExportRequest['quality'], number> = { draft: 28, normal: 20, high: 12 };

/** Containers the video writer produces (src/core/video/encode.ts). */
const EXPORT_EXTENSIONS = ['.mp4', '.m4v', '.mov', '.mkv'];

export const exportExtensionOk = (path: string): boolean => EXPORT_EXTENSIONS.includes(extname(path).toLowerCase());
