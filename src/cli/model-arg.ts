import { resolve } from 'node:path';
import { hasBasis, saveBasis } from '../core/model/basis';
import { ModelBundle, loadBundle } from '../core/model/bundle';
import { calibrateModel } from '../core/model/calibrate-landmarks';
import { FaceNets } from '../core/face/nets';
import { ensureSeededModel } from '../core/model/defaults';
import type { Runtime } from '../core/runtime';
import { defaultModelDir } from './paths';
import { progress } from './errors';

/** The --model argument: a bundle folder, or the default seeded model (created on first use). */
export async function modelFromArg(dir: string | undefined, rt: Runtime): Promise<ModelBundle> {
  if (dir) return loadBundle(resolve(dir));
  return ensureSeededModel(defaultModelDir(), rt, progress);
}

/**
 * Makes sure the bundle has an edit basis, calibrating it (once, stored in the bundle)
 * if not: with face landmarks when the model draws faces, else with fixed regions.
 */
export async function ensureCalibrated(bundle: ModelBundle, rt: Runtime, signal?: AbortSignal): Promise<void> {
  if (hasBasis(bundle)) return;
  progress(`calibrating ${bundle.manifest.name} (first use; stored in ${bundle.dir})`);
  let last = -1;
  const nets = await FaceNets.load(rt);
  const basis = await calibrateModel(bundle, rt, nets, {
    signal,
    onProgress: (stage, f) => {
      const pct = Math.floor(f * 10) * 10;
      if (pct !== last) progress(`  ${stage} ${pct}%`);
      last = pct;
    }
  });
  saveBasis(bundle, basis);
}
