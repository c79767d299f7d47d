import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const modelsDir = (): string => resolve(process.env.STYLECAST_MODELS_DIR ?? join(repoRoot, 'models'));
export const defaultModelDir = (): string => join(modelsDir(), 'seeded-64');
