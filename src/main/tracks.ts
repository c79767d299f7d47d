// The 35 tracks of a project: names, groups and pose unit, from the copy of the
// basis metadata the project carries (what it was encoded against), or from the
// model's own basis for projects without one.
import type { BasisMeta, EditBasis } from '../core/model/basis';
import { POSE_NAMES } from '../core/params';
import type { Project } from '../core/project';
import { PARAM_COUNT, PARAM_GROUPS, type ParamGroup } from '../shared/contract';

export interface Tracks {
  names: string[];
  groups: ParamGroup[];
  poseUnit: 'degree' | 'pseudo-degree';
}

const isGroup = (g: unknown): g is ParamGroup => typeof g === 'string' && (PARAM_GROUPS as readonly string[]).includes(g);

/** Tracks from basis metadata, or null when it is not usable (missing, or from another layout). */
export function tracksFromMeta(meta: unknown): Tracks | null {
  const m = meta as Partial<BasisMeta> | null | undefined;
  if (!m || !Array.isArray(m.attributes) || m.attributes.length !== PARAM_COUNT - POSE_NAMES.length) return null;
  const names: string[] = [...POSE_NAMES];
  const groups: ParamGroup[] = ['pose', 'pose', 'pose'];
  for (const a of m.attributes) {
    if (typeof a?.name !== 'string' || a.name.trim() === '' || !isGroup(a.region) || (a.region as string) === 'pose') return null;
    names.push(a.name);
    groups.push(a.region);
  }
  return { names, groups, poseUnit: m.poseUnit === 'degree' ? 'degree' : 'pseudo-degree' };
}

/** The project's tracks; `modelBasis` is consulted only when the project carries no basis metadata. */
export function projectTracks(project: Project, modelBasis?: EditBasis | null): Tracks {
  const own = tracksFromMeta(project.doc.basis.meta);
  const tracks = own ?? (modelBasis ? tracksFromMeta(modelBasis.meta) : null);
  if (!tracks) {
    throw new Error(`${project.dir} does not say which attribute each track is, and its model is not here to tell: install the model "${project.doc.model.name}" and open the project again.`);
  }
  // The encoded names win (a recalibrated model may name channels differently).
  const encoded = project.doc.encoding.paramNames;
  if (Array.isArray(encoded) && encoded.length === PARAM_COUNT && encoded.every((n) => typeof n === 'string' && n.trim() !== '')) tracks.names = [...encoded];
  return tracks;
}
