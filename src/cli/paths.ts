import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLegacyModels, legacyModelsNotice, userModelsDir } from '../core/model/user-models';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where bundles were written before they moved to the per-user folder. */
export const legacyModelsDir = (): string => join(repoRoot, 'models');

let noticed = false;

/**
 * The per-user models folder shared with the studio (STYLECAST_MODELS_DIR overrides). Says once on
 * stderr when old bundles wait in <repo>/models, unless STYLECAST_MODELS_DIR names the folder to use.
 */
export const modelsDir = (): string => {
  const dir = userModelsDir();
  if (!noticed && !process.env.STYLECAST_MODELS_DIR?.trim()) {
    noticed = true;
    const old = findLegacyModels(legacyModelsDir(), dir);
    if (old.length) process.stderr.write(`stylecast: note: ${legacyModelsNotice(old, legacyModelsDir(), dir)}\n`);
  }
  return dir;
};
export const defaultModelDir = (): string => join(modelsDir(), 'seeded-64');
