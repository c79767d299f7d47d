// Finds model bundles for the start screen: subfolders of the models directory
// holding a manifest.json. Only the manifest JSON is read; weights are checked
// when core loads a bundle for real.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BUNDLE_FORMAT, BUNDLE_VERSION } from '../core/model/bundle';
import type { ModelSummary } from '../shared/contract';

export interface SkippedBundle {
  path: string;
  reason: string;
}

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

function summarize(json: unknown, dir: string): ModelSummary {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('the manifest is not a JSON object');
  const m = json as Record<string, unknown>;
  if (m.format !== BUNDLE_FORMAT) throw new Error(`"format" is ${JSON.stringify(m.format)}, expected "${BUNDLE_FORMAT}"`);
  if (typeof m.version !== 'number' || m.version > BUNDLE_VERSION) {
    throw new Error(`bundle version ${String(m.version)} is newer than this app reads (${BUNDLE_VERSION}): update Stylecast`);
  }
  if (typeof m.id !== 'string' || m.id === '') throw new Error('"id" is missing');
  if (typeof m.name !== 'string' || m.name.trim() === '') throw new Error('"name" is missing');
  const arch = m.architecture as Record<string, unknown> | undefined;
  const resolution = arch?.resolution;
  if (typeof resolution !== 'number' || !Number.isInteger(resolution) || resolution < 4 || (resolution & (resolution - 1)) !== 0) {
    throw new Error(`"architecture.resolution" must be a power of two of at least 4, got ${JSON.stringify(resolution)}`);
  }
  return { id: m.id, name: m.name, resolution, path: dir };
}

/** A missing models directory is an empty scan, not an error: the app still starts. */
export async function scanModelsDir(modelsDir: string): Promise<ModelScan> {
  const root = resolve(modelsDir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { models: [], skipped: [] };
    throw e;
  }
  const models: ModelSummary[] = [];
  const skipped: SkippedBundle[] = [];
  for (const name of names.sort()) {
    const dir = join(root, name);
    const manifestPath = join(dir, 'manifest.json');
    const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
    if (!isDir) continue;
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch {
      continue; // a folder without a manifest is not a bundle
    }
    try {
      models.push(summarize(JSON.parse(text), dir));
    } catch (e) {
      const reason = e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message;
      skipped.push({ path: manifestPath, reason });
    }
  }
  models.sort((a, b) => a.name.localeCompare(b.name));
  return { models, skipped };
}
