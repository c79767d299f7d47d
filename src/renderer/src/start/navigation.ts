// Where the app is and where a path leads: pure, so the rules are tested without a DOM.
import { fileName, type EncodeRequest, type ProjectSummary, type VideoInfo } from '../../../shared/contract';
export { classifyPath, type PathKind } from '../../../shared/paths';

export type Screen =
  | { name: 'start' }
  | { name: 'encode'; video: VideoInfo; resume: EncodeRequest | null; priorLoss: readonly number[]; key: number }
  | { name: 'editor'; project: ProjectSummary }
  | { name: 'models'; back: Screen };

/** What opening a project leads to: the editor, or first a choice to resume its encode. */
export function projectOpening(p: Pick<ProjectSummary, 'encodedThrough' | 'frameCount'>): 'editor' | 'offer-resume' | 'must-resume' {
  if (p.encodedThrough <= 0 && p.frameCount > 0) return 'must-resume';
  return p.encodedThrough < p.frameCount ? 'offer-resume' : 'editor';
}

/**
 * The encode request that resumes a project: the remembered one when this app started
 * the encode, else one built from the project (its source, model and frame count).
 */
export function resumeRequest(p: ProjectSummary, remembered: EncodeRequest | null): EncodeRequest | { error: string } {
  if (remembered) return remembered;
  if (!p.source.path) return { error: `The source video of ${p.name} is not where the project says, so its encode cannot be resumed. Move the video back, then open the project again.` };
  if (!p.model.path) return { error: `${p.name} was encoded with the model “${p.model.name}”, which is not installed, so its encode cannot be resumed.` };
  // The range the project covers: frame 0 is the source's frame firstFrame.
  return { video: p.source.path, model: p.model.path, out: p.path, start: p.source.firstFrame, count: p.frameCount, quality: 'normal', align: 'auto', identityFrame: p.identityFrame };
}

/** Names shown in the top bar. */
export function screenTitle(s: Screen): { title: string; context: string | null } {
  switch (s.name) {
    case 'start':
      return { title: 'Start', context: null };
    case 'encode':
      return { title: s.resume ? 'Resume encode' : 'Encode', context: fileName(s.video.path) };
    case 'editor':
      return { title: 'Editor', context: s.project.name };
    case 'models':
      return { title: 'Models', context: null };
  }
}

/** Why leaving this screen needs a confirmation, or null when nothing would be lost. */
export function leaveWarning(s: Screen, activeEncodeJob: string | null): string | null {
  if (s.name === 'encode' && activeEncodeJob) return 'An encode is running. Leaving cancels it; the frames encoded so far stay in the project and you can resume later.';
  return null;
}
