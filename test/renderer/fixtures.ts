import type { ProjectSummary } from '../../src/shared/contract';

/** A fully encoded project summary as project:open returns it (no frames data: the form logic reads none). */
export function projectFixture(p: Partial<ProjectSummary> = {}): ProjectSummary {
  return {
    path: '/work/talk.stylecast',
    name: 'talk',
    fps: 30,
    frameCount: 8,
    encodedThrough: 8,
    identityFrame: 2,
    model: { id: 'seeded-64', name: 'Seeded 64', resolution: 64, path: '/models/seeded-64' },
    source: { path: '/work/talk.mp4', width: 640, height: 360, hasAudio: true, firstFrame: 0, firstFrameAtSec: 0 },
    paramNames: [],
    paramGroups: [],
    poseUnit: 'pseudo-degree',
    params: [],
    loss: [],
    edits: null,
    editsWarning: null,
    notices: [],
    puppeteeredFrom: null,
    tune: null,
    tuneCheckpoint: false,
    identitySearchSaved: false,
    ...p
  };
}
