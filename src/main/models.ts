// Finds model bundles for the start screen (the scan itself lives in core, shared with
// the CLI's model manager): subfolders of the models directory holding a manifest.json.
import { join, resolve } from 'node:path';
import { type SkippedBundle, scanBundles } from '../core/model/manager/scan';
import type { ModelSummary } from '../shared/contract';

export type { SkippedBundle };

export interface ModelScan {
  models: ModelSummary[];
  skipped: SkippedBundle[];
}

export interface ModelsDirInputs {
  env: Record<string, string | undefined>;
  isPackaged: boolean;
  /** app.getAppPath(): the repository root in development. */
  appPath: string;
  /** process.resourcesPath of a packaged app. */
  resourcesPath: string;
}

/** STYLECAST_MODELS_DIR wins; otherwise <repo>/models in development, resources/models when packaged. */
export function resolveModelsDir({ env, isPackaged, appPath, resourcesPath }: ModelsDirInputs): string {
  const fromEnv = env.STYLECAST_MODELS_DIR?.trim();
  if (fromEnv) return resolve(fromEnv);
  return isPackaged ? join(resourcesPath, 'models') : join(appPath, 'models');
}

/** A missing models directory is an empty scan, not an error: the app still starts. */
export async function scanModelsDir(modelsDir: string): Promise<ModelScan> {
  const { models, skipped } = await scanBundles(modelsDir);
  return { models: models.map(({ id, name, resolution, path }) => ({ id, name, resolution, path })), skipped };
}
