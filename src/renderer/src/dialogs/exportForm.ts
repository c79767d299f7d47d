// The export dialog's choices, their defaults from the project and model, and the request.
import { EXPORT_QUALITIES, type ExportRequest, type ModelInfo, type ProjectSummary } from '../../../shared/contract';
import { siblingPath, stem } from '../ui/paths';

export type ExportQuality = (typeof EXPORT_QUALITIES)[number];

/** The largest render size the export offers: 1024 covers what users ask for and stays within a frame's memory. */
export const MAX_EXPORT_SIZE = 1024;

export interface ExportForm {
  size: number;
  pasteBack: boolean;
  audio: boolean;
  quality: ExportQuality;
  /** The video file chosen in the save dialog; null until chosen. */
  out: string | null;
}

export const EXPORT_QUALITY_INFO: Record<ExportQuality, { label: string; summary: string }> = {
  draft: { label: 'Draft', summary: 'Fast encode and a small file with visible compression: for checking timing.' },
  normal: { label: 'Normal', summary: 'Good quality at a reasonable size: for sharing.' },
  high: { label: 'High', summary: 'Close to lossless and a large file: for further editing or grading.' },
  lossless: { label: 'Lossless', summary: 'Bit-exact RGB frames (H.264 4:4:4): very large files for compositing or grading tools; many players cannot play them.' }
};

/** Render sizes offered: the model's own sizes up to MAX_EXPORT_SIZE, smallest first. */
export function exportSizes(info: Pick<ModelInfo, 'sizes' | 'resolution'> | null): number[] {
  const sizes = (info?.sizes.length ? info.sizes : info ? [info.resolution] : []).filter((s) => s > 0 && s <= MAX_EXPORT_SIZE);
  return [...new Set(sizes)].sort((a, b) => a - b);
}

/** A file name that never collides with the source video: NAME-edit.mp4 beside the project folder. */
export function defaultExportPath(project: Pick<ProjectSummary, 'path' | 'name'>): string {
  return siblingPath(project.path, `${stem(project.path) || project.name}-edit.mp4`);
}

export function initialExportForm(project: ProjectSummary, info: ModelInfo | null): ExportForm {
  const sizes = exportSizes(info);
  return {
    size: sizes[sizes.length - 1] ?? project.model.resolution,
    pasteBack: project.source.path !== null,
    audio: project.source.hasAudio && project.source.path !== null,
    quality: 'normal',
    out: null
  };
}

/** Why paste-back or audio cannot be chosen, or null when they can. */
export function pasteBackBlocker(project: ProjectSummary): string | null {
  return project.source.path === null ? 'The source video is not where the project says, so the face cannot be pasted back into it.' : null;
}

export function audioBlocker(project: ProjectSummary): string | null {
  if (!project.source.hasAudio) return 'The source video has no audio track.';
  if (project.source.path === null) return 'The source video is missing, and the audio comes from it.';
  return null;
}

/** The output frame size for the summary line. */
export function outputSize(project: ProjectSummary, form: Pick<ExportForm, 'size' | 'pasteBack'>): { width: number; height: number } {
  return form.pasteBack ? { width: project.source.width, height: project.source.height } : { width: form.size, height: form.size };
}

export function validateExport(project: ProjectSummary, form: ExportForm, sizes: readonly number[]): string | null {
  if (project.encodedThrough < 1) return 'No frame of this project is encoded yet; finish or resume the encode first.';
  if (!sizes.includes(form.size)) return `Choose a resolution the model offers (${sizes.join(', ')} px).`;
  if (form.pasteBack && pasteBackBlocker(project)) return pasteBackBlocker(project);
  if (form.audio && audioBlocker(project)) return audioBlocker(project);
  return null;
}

export function toExportRequest(project: ProjectSummary, form: ExportForm, edits: unknown, out: string): ExportRequest {
  return {
    project: project.path,
    out,
    size: form.size,
    pasteBack: form.pasteBack,
    audio: form.audio,
    quality: form.quality,
    edits: edits === undefined ? null : (edits as ExportRequest['edits']),
    start: null,
    count: null
  };
}
