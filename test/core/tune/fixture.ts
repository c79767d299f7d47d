// A small tuning fixture: a tiny seeded generator (32x32) with a hand-made edit basis, and a
// project whose "encoding" is 8 centred crops of a real clip with w_ID = w_avg and small
// random parameters, so tuning has real frames to learn and runs in seconds.
import { join } from 'node:path';
import { makeArchitecture, styleLayers } from '../../../src/core/model/architecture';
import { EditBasis, POSE_NAMES } from '../../../src/core/model/basis';
import { ModelBundle, loadBundle } from '../../../src/core/model/bundle';
import { createSeededModel } from '../../../src/core/model/create';
import { centreSquareAffine } from '../../../src/core/encode/job';
import { PARAM_COUNT, Project, createProject } from '../../../src/core/project';
import type { Runtime } from '../../../src/core/runtime';
import { Rng } from '../../../src/core/util/random';
import { probeVideo } from '../../../src/core/video';
import { clip } from '../../helpers';

export const tinyArch = makeArchitecture({ resolution: 32, channelBase: 512, channelMax: 32, zDim: 32, wDim: 32, mappingLayers: 2 });

export async function tinyModel(dir: string, rt: Runtime): Promise<{ bundle: ModelBundle; basis: EditBasis }> {
  await createSeededModel(dir, tinyArch, 5, rt, 'tiny-32');
  const bundle = loadBundle(dir);
  const layers = styleLayers(tinyArch).filter((l) => l.kind === 'conv');
  const rng = new Rng(3);
  const attributes = Array.from({ length: 32 }, (_, k) => {
    const l = layers[k % layers.length]!;
    const channel = Math.floor(rng.uniform() * l.inChannels);
    return { name: `attr${k}`, region: 'mouth' as const, layer: l.name, channel, sIndex: l.sOffset + channel, sigma: 0.5, localisation: 0.5 };
  });
  const numWs = 2 * Math.log2(tinyArch.resolution) - 2;
  const basis: EditBasis = {
    meta: { version: 1, modelId: bundle.manifest.id, poseMethod: 'principal-directions', poseUnit: 'pseudo-degree', poseLayers: [0, 1], regionMethod: 'fixed-regions', attributes, file: 'basis.f32', sha256: '0'.repeat(64), samples: 0, seed: 0 },
    pose: new Rng(4).normals(POSE_NAMES.length * numWs * tinyArch.wDim, 0.01)
  };
  return { bundle, basis };
}

/** A project over the first `frames` frames of lp_d11 (centre crops), encodedThrough `encoded`. */
export async function tinyProject(dir: string, bundle: ModelBundle, basis: EditBasis, frames = 8, encoded = frames, video = clip('lp_d11.mp4')): Promise<Project> {
  const info = await probeVideo(video);
  const a = bundle.manifest.architecture;
  const numWs = 2 * Math.log2(a.resolution) - 2;
  const wAvg = bundle.tensors.get('mapping.w_avg')!;
  const wid = new Float32Array(numWs * a.wDim);
  for (let i = 0; i < wid.length; i++) wid[i] = wAvg[i % a.wDim]!;
  const rng = new Rng(9);
  const params = new Float32Array(frames * PARAM_COUNT);
  for (let t = 0; t < frames; t++) for (let k = 3; k < PARAM_COUNT; k++) params[t * PARAM_COUNT + k] = 0.3 * rng.normal();
  const T = centreSquareAffine(info.width, info.height, a.resolution);
  return createProject(join(dir), {
    source: { ...info, path: video },
    model: { id: bundle.manifest.id, name: bundle.manifest.name, resolution: a.resolution, path: bundle.dir },
    encoding: { frames: { start: 0, count: frames }, wDim: a.wDim, paramNames: [...POSE_NAMES, ...basis.meta.attributes.map((x) => x.name)], identityFrame: 0, encodedThrough: encoded },
    wid,
    params,
    transforms: Float32Array.from({ length: frames * 6 }, (_, i) => T[i % 6]!)
  });
}
