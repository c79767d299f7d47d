// The encode setup form: defaults from the probed video, frames <-> seconds, validation
// with messages that say what to change, and the request sent to encode:start.
import { ALIGN_MODES, MAX_FRAMES, PROJECT_EXTENSION, QUALITIES, fileName, type EncodeRequest, type ModelSummary, type VideoInfo } from '../../../shared/contract';
import { siblingPath, stem } from '../ui/paths';
import { planCosts, qualitySchedule, scheduleSummary } from '../../../core/encode/schedule';

export type Quality = (typeof QUALITIES)[number];
export type AlignMode = (typeof ALIGN_MODES)[number];

export interface EncodeForm {
  /** The model bundle folder, or null when none is installed. */
  model: string | null;
  /** First source frame and the number of frames to encode. */
  start: number;
  count: number;
  quality: Quality;
  align: AlignMode;
  /** 'auto' lets the encoder pick; a number is an encoded-frame index (0 = the first frame of the range). */
  identity: 'auto' | number;
  /** The NAME.stylecast folder to write. */
  out: string;
}

export type FormErrors = Partial<Record<'model' | 'start' | 'count' | 'identity' | 'out', string>>;

/** What each quality does, in the words shown beside the choice (from src/core/encode/presets.ts). */
/** Each quality is an encode schedule (src/core/encode/schedule.ts): the hint says what it runs, from the same table. */
const costOf = (q: Quality) => planCosts(qualitySchedule(q), { frames: 250, align: true }).reduce((a, c) => a + c.cost, 0);
const relative = (q: Quality) => {
  const r = costOf(q) / costOf('normal');
  return r < 1 ? `About ${(1 / r).toFixed(1)}× faster than Normal` : `About ${r.toFixed(1)}× slower than Normal`;
};
export const QUALITY_INFO: Record<Quality, { label: string; summary: string }> = {
  draft: { label: 'Draft', summary: `${relative('draft')}: ${scheduleSummary(qualitySchedule('draft'))}. For previews and trying settings.` },
  normal: { label: 'Normal', summary: `${scheduleSummary(qualitySchedule('normal'))}. The right choice for most clips.` },
  best: { label: 'Best', summary: `${relative('best')}: ${scheduleSummary(qualitySchedule('best'))}, for final work where fine detail matters.` }
};

export const ALIGN_INFO: Record<AlignMode, { label: string; summary: string }> = {
  auto: { label: 'Auto', summary: 'Detects and aligns the face, unless the video is already a square face crop at the model’s resolution.' },
  face: { label: 'Face', summary: 'Always detect the face in every frame, align it like the model’s training faces and smooth the crop over time.' },
  none: { label: 'None', summary: 'The video is already aligned face crops: the centred square of each frame is used as is.' }
};

/** Frames in the video; when the container does not say, estimated from the duration. */
export function totalFrames(video: Pick<VideoInfo, 'frames' | 'fps' | 'durationSec'>): number {
  if (video.frames > 0) return video.frames;
  return Math.max(0, Math.floor(video.durationSec * video.fps));
}

export const framesToSeconds = (frames: number, fps: number): number => (fps > 0 ? frames / fps : 0);
export const secondsToFrames = (seconds: number, fps: number): number => Math.round(seconds * fps);

/** The default project folder: NAME.stylecast beside the video (where main lets an encode write without asking). */
export function defaultProjectPath(videoPath: string): string {
  return siblingPath(videoPath, `${stem(videoPath)}${PROJECT_EXTENSION}`);
}

export function initialForm(video: VideoInfo, models: readonly ModelSummary[]): EncodeForm {
  return {
    model: models[0]?.path ?? null,
    start: 0,
    count: Math.max(1, totalFrames(video)),
    quality: 'normal',
    align: 'auto',
    identity: 'auto',
    out: defaultProjectPath(video.path)
  };
}

/** Keeps the range inside the video and the identity frame inside the range after one field changed. */
export function clampForm(f: EncodeForm, video: VideoInfo): EncodeForm {
  const total = Math.max(1, totalFrames(video));
  const start = Math.min(Math.max(0, Math.round(f.start)), total - 1);
  const count = Math.min(Math.max(1, Math.round(f.count)), total - start);
  const identity = f.identity === 'auto' ? 'auto' : Math.min(Math.max(0, Math.round(f.identity)), count - 1);
  return { ...f, start, count, identity };
}

export function validateForm(f: EncodeForm, video: VideoInfo, models: readonly ModelSummary[]): FormErrors {
  const errors: FormErrors = {};
  const total = totalFrames(video);
  if (models.length === 0) errors.model = 'No model bundle is installed. Create the seeded model with “npx stylecast model create”, or import one in Models.';
  else if (!f.model || !models.some((m) => m.path === f.model)) errors.model = 'Choose a model bundle.';
  if (total < 1) errors.start = `${fileName(video.path)} has no frames Stylecast can read.`;
  else if (!Number.isInteger(f.start) || f.start < 0 || f.start >= total) errors.start = `Start must be a frame from 0 to ${total - 1}.`;
  if (!Number.isInteger(f.count) || f.count < 1) errors.count = 'Encode at least 1 frame.';
  else if (f.count > MAX_FRAMES) errors.count = `At most ${MAX_FRAMES.toLocaleString('en-US')} frames fit in one project.`;
  else if (!errors.start && f.start + f.count > total) errors.count = `Only ${total - f.start} frames follow frame ${f.start}; lower the count.`;
  if (f.identity !== 'auto' && (!Number.isInteger(f.identity) || f.identity < 0 || f.identity >= f.count)) errors.identity = `The identity frame must be inside the range (0 to ${Math.max(0, f.count - 1)}).`;
  if (!f.out.endsWith(PROJECT_EXTENSION)) errors.out = `The project folder name must end in ${PROJECT_EXTENSION}.`;
  else if (!/^(\/|[A-Za-z]:[\\/]|\\\\)/.test(f.out)) errors.out = 'The project folder must be a full path; choose it with Change….';
  return errors;
}

export const hasErrors = (e: FormErrors): boolean => Object.values(e).some(Boolean);

export function toEncodeRequest(f: EncodeForm, video: VideoInfo): EncodeRequest {
  if (!f.model) throw new Error('toEncodeRequest needs a model; validate the form first');
  return {
    video: video.path,
    model: f.model,
    out: f.out,
    start: f.start,
    count: f.count,
    quality: f.quality,
    align: f.align,
    identityFrame: f.identity === 'auto' ? null : f.identity
  };
}
