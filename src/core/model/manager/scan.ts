// Finds model bundles in a models directory: subfolders holding a manifest.json.
// Only the manifest JSON is read (weights are checked when a bundle is loaded for
// real), so a listing stays fast with gigabyte checkpoints around. Shared by the
// CLI's model manager and the Electron start screen.
import { lstat, readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BUNDLE_FORMAT, BUNDLE_VERSION } from '../bundle';

export interface BundleSummary {
  id: string;
  name: string;
  resolution: number;
  /** The bundle folder (absolute). */
  path: string;
  /** The folder's name inside the models directory. */
  folder: string;
  calibrated: boolean;
  /** Total size of the folder's files in bytes (symbolic links are not followed). */
  bytes: number;
  /** Where the bundle came from (import or seeded creation), when the manifest says. */
  source?: Record<string, unknown>;
}

export interface SkippedBundle {
  path: string;
  reason: string;
}

export interface BundleScan {
  models: BundleSummary[];
  skipped: SkippedBundle[];
}

/** Validates the manifest fields a listing needs; throws with the reason a bundle is unusable. */
export function summarizeManifest(json: unknown, dir: string): Omit<BundleSummary, 'folder' | 'bytes'> {
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
  const source = typeof m.source === 'object' && m.source !== null && !Array.isArray(m.source) ? (m.source as Record<string, unknown>) : undefined;
  return { id: m.id, name: m.name, resolution, path: dir, calibrated: typeof m.basis === 'object' && m.basis !== null, ...(source ? { source } : {}) };
}

/** Bytes of the files under `dir`, not following symbolic links. */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const s = await lstat(join(dir, name));
    if (s.isDirectory()) total += await folderBytes(join(dir, name));
    else if (s.isFile()) total += s.size;
  }
  return total;
}

/** A missing models directory is an empty scan, not an error: the app still starts. */
export async function scanBundles(modelsDir: string): Promise<BundleScan> {
  const root = resolve(modelsDir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { models: [], skipped: [] };
    throw e;
  }
  const models: BundleSummary[] = [];
  const skipped: SkippedBundle[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.')) continue; // temporary folders of an atomic write or removal
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
      const summary = summarizeManifest(JSON.parse(text), dir);
      models.push({ ...summary, folder: name, bytes: await folderBytes(dir) });
    } catch (e) {
      const reason = e instanceof SyntaxError ? `not valid JSON (${e.message})` : (e as Error).message;
      skipped.push({ path: manifestPath, reason });
    }
  }
  models.sort((a, b) => a.name.localeCompare(b.name));
  return { models, skipped };
}
