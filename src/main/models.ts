// Finds model bundles for the start screen (the scan itself lives in core, shared with
// the CLI's model manager): subfolders of the models directory holding a manifest.json.
import { join } from 'node:path';
import { type SkippedBundle, scanBundles } from '../core/model/manager/scan';
import { type LegacyEntry, resolveModelsDir as resolveUserModelsDir } from '../core/model/user-models';
import type { ModelSummary } from '../shared/contract';

export type { SkippedBundle };

export interface ModelScan {
  models: ModelSummary[];
  skipped: SkippedBundle[];
}

export interface ModelsDirInputs {
  env: Record<string, string | undefined>;
  /** app.getPath('userData'), which main sets to core's userDataDir() so the CLI finds the same folder. */
  userData: string;
}

/** STYLECAST_MODELS_DIR wins; otherwise <userData>/models, the folder the CLI uses too. */
export function resolveModelsDir({ env, userData }: ModelsDirInputs): string {
  return resolveUserModelsDir(env, userData);
}

/** Where earlier versions kept bundles: <repo>/models in development, resources/models in a packaged app. */
export function legacyModelsDir({ isPackaged, appPath, resourcesPath }: { isPackaged: boolean; appPath: string; resourcesPath: string }): string {
  return isPackaged ? join(resourcesPath, 'models') : join(appPath, 'models');
}

/** The start-up question when old bundles are found: move them, or leave them for now. */
export function legacyModelsPrompt(found: LegacyEntry[], legacyDir: string, modelsDir: string) {
  const names = found.map((e) => e.name).join(', ');
  return {
    type: 'question' as const,
    buttons: ['Move them', 'Not now'],
    defaultId: 0,
    cancelId: 1,
    noLink: true,
    message: `Move ${found.length} model folder${found.length === 1 ? '' : 's'} to your models folder?`,
    detail: `${names} ${found.length === 1 ? 'is' : 'are'} in ${legacyDir}, where earlier versions kept models. Models now live in ${modelsDir}, shared with the stylecast command line. Nothing there is overwritten.`
  };
}

/** A missing models directory is an empty scan, not an error: the app still starts. */
export async function scanModelsDir(modelsDir: string): Promise<ModelScan> {
  const { models, skipped } = await scanBundles(modelsDir);
  return { models: models.map(({ id, name, resolution, path }) => ({ id, name, resolution, path })), skipped };
}
