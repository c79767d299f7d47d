// The bundled default model: generated from a seed on first use, never stored in git.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../runtime';
import { makeArchitecture } from './architecture';
import { ModelBundle, loadBundle } from './bundle';
import { createSeededModel } from './create';

export const SEEDED_DEFAULT = { name: 'seeded-64', seed: 1, resolution: 64, channelBase: 2048, channelMax: 128 } as const;

/** Loads the default seeded model from `dir`, creating it first if it is not there. */
export async function ensureSeededModel(dir: string, runtime: Runtime, log: (s: string) => void = () => {}): Promise<ModelBundle> {
  if (!existsSync(join(dir, 'manifest.json'))) {
    log(`creating the seeded test model in ${dir} (seed ${SEEDED_DEFAULT.seed}, ${SEEDED_DEFAULT.resolution}x${SEEDED_DEFAULT.resolution})`);
    const arch = makeArchitecture({ resolution: SEEDED_DEFAULT.resolution, channelBase: SEEDED_DEFAULT.channelBase, channelMax: SEEDED_DEFAULT.channelMax });
    await createSeededModel(dir, arch, SEEDED_DEFAULT.seed, runtime, SEEDED_DEFAULT.name);
  }
  return loadBundle(dir);
}
