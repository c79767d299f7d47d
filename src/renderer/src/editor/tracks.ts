// What the editor knows about the project's 35 tracks: names, groups, units,
// and the evaluation context built from the encoded parameters.
import type { ParamGroup, ProjectSummary } from '../../../shared/contract';
import { GROUPS, PARAM_COUNT, type EvalContext } from '../../../core/timeline';

export const GROUP_LABELS: Record<ParamGroup, string> = {
  pose: 'Pose',
  mouth: 'Mouth and lips',
  eyes: 'Eyes',
  brows: 'Brows',
  'nose-forehead-cheeks': 'Nose, forehead, cheeks'
};

export const GROUP_ORDER: readonly ParamGroup[] = GROUPS;

export interface TrackInfo {
  index: number;
  name: string;
  group: ParamGroup;
  /** Short unit for numbers ("°", "pseudo-°", "σ"). */
  unit: string;
  /** What the unit means, for tooltips. */
  unitHint: string;
}

export function trackInfos(project: Pick<ProjectSummary, 'paramNames' | 'paramGroups' | 'poseUnit'>): TrackInfo[] {
  return project.paramNames.map((name, index) => {
    const group = project.paramGroups[index]!;
    if (group === 'pose') {
      const pseudo = project.poseUnit === 'pseudo-degree';
      return {
        index,
        name,
        group,
        unit: pseudo ? 'pseudo-°' : '°',
        unitHint: pseudo
          ? 'Pseudo-degrees: this model has no landmark calibration, so pose is measured along its principal latent directions, scaled to look like degrees but not true angles.'
          : 'Degrees of head rotation, calibrated from facial landmarks.'
      };
    }
    return { index, name, group, unit: 'σ', unitHint: 'Track units: one unit is one standard deviation (σ) of the StyleSpace channel.' };
  });
}

/** Tracks per group in display order. */
export function tracksByGroup(tracks: readonly TrackInfo[]): { group: ParamGroup; tracks: TrackInfo[] }[] {
  return GROUP_ORDER.map((group) => ({ group, tracks: tracks.filter((t) => t.group === group) })).filter((g) => g.tracks.length > 0);
}

/** The evaluation context of the encoded frames (null when nothing is encoded yet). */
export function evalContext(project: ProjectSummary): EvalContext | null {
  const frames = project.encodedThrough;
  if (frames < 1 || project.params.length < frames * PARAM_COUNT) return null;
  const neutral = project.identityFrame !== null && project.identityFrame < frames ? project.identityFrame : 0;
  return { encoded: Float32Array.from(project.params.slice(0, frames * PARAM_COUNT)), frames, groups: project.paramGroups, neutralFrame: neutral };
}

/** Curve colours, by a track's position inside its group. */
const PALETTE = ['#4d8dff', '#f0a35e', '#4cc38a', '#d96ad9', '#e5d45a', '#5ad1e5', '#ff7a8a', '#9b8cff', '#8fd16a', '#e58f5a', '#5ae5b5', '#c0c4cc'];

export function trackColor(track: TrackInfo, tracks: readonly TrackInfo[]): string {
  const pos = tracks.filter((t) => t.group === track.group).findIndex((t) => t.index === track.index);
  return PALETTE[pos % PALETTE.length]!;
}

export function formatValue(v: number, unit: string): string {
  const digits = unit === 'σ' ? 2 : 1;
  return `${v >= 0 ? '' : '−'}${Math.abs(v).toFixed(digits)} ${unit}`;
}
