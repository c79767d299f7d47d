// The model manager: what is installed in a models directory, what the catalogue offers,
// downloading (resumable, verified), importing a file by hand, and removing a bundle.
// Layout of a models directory:
//   <models>/<bundle>/            model bundles (manifest.json + weights.bin [+ basis, report])
//   <models>/perceptual/<file>    perceptual weights by catalogue file name (vgg16-397923af.pth, lpips-v0.1-vgg.pth)
//   <models>/perceptual/lpips-vgg/ the LPIPS-VGG bundle built from those two once both are there
//   <models>/downloads/<file>     generator checkpoints while they download (NAME.part) and until imported
import { copyFileSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SEEDED_DEFAULT } from '../defaults';
import { Catalog, CatalogEntry, downloadUrl, downloadsDir, findEntry, loadCatalog, perceptualDir } from './catalog';
import { DownloadError, DownloadProgress, downloadFile, partialState, sha256OfFile } from './download';
import { BundleSummary, SkippedBundle, scanBundles } from './scan';

export { CatalogError, loadCatalog, downloadUrl, perceptualDir, downloadsDir } from './catalog';
export type { Catalog, CatalogEntry, CatalogKind } from './catalog';
export { DownloadError, downloadFile, sha256OfFile } from './download';
export type { DownloadProgress, DownloadResult } from './download';
export { scanBundles } from './scan';
export type { BundleSummary, SkippedBundle } from './scan';

export class ManagerError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'EXISTS' | 'CONTAINMENT' | 'PROTECTED' | 'DOWNLOAD' | 'IMPORT' | 'BAD_NAME',
    message: string
  ) {
    super(message);
    this.name = 'ManagerError';
  }
}

export interface InstalledBundle extends BundleSummary {
  /** The catalogue entry this bundle was imported from, by folder name. */
  catalogName?: string;
  /** The default seeded model: `remove` protects it. */
  isDefault: boolean;
}

export interface PerceptualFile {
  name: string;
  kind: CatalogEntry['kind'];
  path: string;
  bytes: number;
}

export interface AvailableEntry {
  name: string;
  kind: CatalogEntry['kind'];
  bytes: number | null;
  licence: string;
  purpose: string;
  url: string;
  /** A cut download that `download NAME` resumes. */
  partial?: { received: number; bytes: number | null };
}

export interface ModelListing {
  modelsDir: string;
  bundles: InstalledBundle[];
  skipped: SkippedBundle[];
  perceptual: PerceptualFile[];
  /** The LPIPS-VGG bundle the encoder uses, when built. */
  perceptualBundle: string | null;
  available: AvailableEntry[];
}

/** Where a catalogue entry's file lands (generators: the raw checkpoint before import). */
export function downloadTarget(modelsDir: string, e: CatalogEntry): string {
  return e.kind === 'generator' ? join(downloadsDir(modelsDir), e.file) : join(perceptualDir(modelsDir), e.file);
}

function installedPath(modelsDir: string, e: CatalogEntry): string {
  return e.kind === 'generator' ? join(modelsDir, e.bundle!) : join(perceptualDir(modelsDir), e.file);
}

export async function listModels(modelsDir: string, catalog: Catalog = loadCatalog()): Promise<ModelListing> {
  const root = resolve(modelsDir);
  const { models, skipped } = await scanBundles(root);
  const bundles: InstalledBundle[] = models.map((m) => {
    const entry = catalog.entries.find((e) => e.kind === 'generator' && e.bundle === m.folder);
    return { ...m, ...(entry ? { catalogName: entry.name } : {}), isDefault: m.folder === SEEDED_DEFAULT.name };
  });
  const perceptual: PerceptualFile[] = [];
  const available: AvailableEntry[] = [];
  for (const e of catalog.entries) {
    const at = installedPath(root, e);
    if (e.kind !== 'generator' && existsSync(at)) {
      perceptual.push({ name: e.name, kind: e.kind, path: at, bytes: statSync(at).size });
      continue;
    }
    if (e.kind === 'generator' && existsSync(join(at, 'manifest.json'))) continue;
    const partial = partialState(downloadTarget(root, e));
    available.push({
      name: e.name,
      kind: e.kind,
      bytes: e.bytes,
      licence: e.licence,
      purpose: e.purpose,
      url: e.url,
      ...(partial ? { partial: { received: partial.received, bytes: partial.bytes } } : {})
    });
  }
  const lpips = join(perceptualDir(root), 'lpips-vgg'); // DEFAULT_PERCEPTUAL_NAME, where src/core/perceptual/find.ts looks
  return { modelsDir: root, bundles, skipped, perceptual, perceptualBundle: existsSync(join(lpips, 'manifest.json')) ? lpips : null, available };
}

export interface DownloadModelOptions {
  modelsDir: string;
  catalog?: Catalog;
  /** Base URL of a mirror (default env STYLECAST_MODEL_MIRROR). */
  mirror?: string;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Import and other messages. */
  onLog?: (msg: string) => void;
  retries?: number;
  retryDelayMs?: number;
  idleTimeoutMs?: number;
  /** Keep the raw generator checkpoint in downloads/ after importing it. */
  keepFile?: boolean;
  /**
   * Imports the downloaded generator checkpoint into `outDir` (default: the importer in this
   * process). The studio passes one that runs the import in a heap-limited job process.
   */
  importer?: (file: string, outDir: string, opts: { name: string; knownSha256: string; signal?: AbortSignal }) => Promise<unknown>;
}

export interface DownloadOutcome {
  name: string;
  kind: CatalogEntry['kind'];
  url: string;
  /** The installed file (perceptual weights) or bundle folder (generators). */
  path: string;
  bytes: number;
  sha256: string;
  /** False where the catalogue has no digest: verified by size and import checks only. */
  sha256Verified: boolean;
  resumedFrom: number;
  alreadyInstalled: boolean;
  /** The importer's report, for generators. */
  import?: unknown;
  /** The LPIPS-VGG bundle's import report, when this download completed the pair. */
  perceptual?: unknown;
}

/** buildPerceptualBundle after storing `file` (whose digest is `sha256` where just computed); a failure names the file and keeps it. */
async function buildPerceptual(root: string, catalog: Catalog, file: string, onLog?: (msg: string) => void, sha256?: string): Promise<unknown> {
  try {
    return await buildPerceptualBundle(root, catalog, onLog, sha256 === undefined ? undefined : { file, sha256 });
  } catch (err) {
    throw new ManagerError('IMPORT', `stored ${file}, but building the LPIPS-VGG bundle from it failed: ${(err as Error).message}`);
  }
}

const importHint = (e: CatalogEntry) =>
  `To install it without this download, fetch ${e.url} by any other means and run "stylecast models import FILE"`;

export async function downloadModel(name: string, o: DownloadModelOptions): Promise<DownloadOutcome> {
  const catalog = o.catalog ?? loadCatalog();
  const e = findEntry(catalog, name);
  const root = resolve(o.modelsDir);
  const url = downloadUrl(e, o.mirror);
  const installed = installedPath(root, e);
  const base = { name: e.name, kind: e.kind, url, sha256Verified: Boolean(e.sha256 || e.sha256Prefix) };
  if (e.kind === 'generator' ? existsSync(join(installed, 'manifest.json')) : existsSync(installed)) {
    o.onLog?.(`${e.name} is already installed at ${installed}`);
    const bytes = statSync(e.kind === 'generator' ? join(installed, 'weights.bin') : installed).size;
    return { ...base, path: installed, bytes, sha256: '', sha256Verified: false, resumedFrom: 0, alreadyInstalled: true };
  }
  const dest = downloadTarget(root, e);
  mkdirSync(join(dest, '..'), { recursive: true });
  let got;
  try {
    got = await downloadFile({
      url,
      dest,
      bytes: e.bytes,
      sha256: e.sha256,
      sha256Prefix: e.sha256Prefix,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.retries !== undefined ? { retries: o.retries } : {}),
      ...(o.retryDelayMs !== undefined ? { retryDelayMs: o.retryDelayMs } : {}),
      ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {})
    });
  } catch (err) {
    if (!(err instanceof DownloadError)) throw err;
    if (err.code === 'OFFLINE') throw new ManagerError('DOWNLOAD', `cannot download ${e.name}: ${err.message}; this machine seems to be offline. ${importHint(e)}`);
    if (err.code === 'HTTP') throw new ManagerError('DOWNLOAD', `cannot download ${e.name}: ${err.message}. ${importHint(e)}`);
    if (err.code === 'CUT') {
      const part = partialState(dest);
      throw new ManagerError('DOWNLOAD', `cannot download ${e.name}: ${err.message}; ${part ? `${part.received} bytes are kept, run the same command again to resume` : 'run the same command again'}. ${importHint(e)}`);
    }
    throw new ManagerError('DOWNLOAD', `cannot download ${e.name}: ${err.message}`);
  }
  if (e.kind !== 'generator') {
    o.onLog?.(`stored ${e.name} at ${dest}`);
    // The download hashed the bytes as it wrote them (and checked the catalogue's digest where
    // there is one): the import records that digest instead of reading the file again.
    const perceptual = await buildPerceptual(root, catalog, dest, o.onLog, got.sha256);
    return { ...base, path: dest, bytes: got.bytes, sha256: got.sha256, resumedFrom: got.resumedFrom, alreadyInstalled: false, ...(perceptual ? { perceptual } : {}) };
  }
  o.onLog?.(`importing ${dest} into ${installed}`);
  let report: unknown;
  try {
    report = o.importer
      ? await o.importer(dest, installed, { name: e.bundle!, knownSha256: got.sha256, ...(o.signal ? { signal: o.signal } : {}) })
      : await importCheckpoint(dest, installed, { name: e.bundle!, knownSha256: got.sha256, ...(o.signal ? { signal: o.signal } : {}), ...(o.onLog ? { onProgress: o.onLog } : {}) });
  } catch (err) {
    throw new ManagerError('IMPORT', `downloaded ${e.name} to ${dest}, but importing it failed: ${(err as Error).message}`);
  }
  if (!o.keepFile) rmSync(dest, { force: true });
  return { ...base, path: installed, bytes: got.bytes, sha256: got.sha256, resumedFrom: got.resumedFrom, alreadyInstalled: false, import: report };
}

/** The checkpoint importer, loaded on first use: listing and removing never need it. */
async function importCheckpoint(...args: Parameters<typeof import('../import/index').importCheckpoint>): Promise<unknown> {
  const mod = await import('../import/index');
  return mod.importCheckpoint(...args);
}

/**
 * Once both the VGG16 backbone and the LPIPS heads are stored, builds the LPIPS-VGG
 * perceptual bundle from them at perceptual/lpips-vgg, where the encoder looks for it
 * (src/core/perceptual/find.ts). Returns the importer's report, or null while one is missing.
 * `known`: the digest of a file the caller just hashed (importPerceptual's option).
 */
export async function buildPerceptualBundle(modelsDir: string, catalog: Catalog, onLog?: (msg: string) => void, known?: { file: string; sha256: string }): Promise<unknown> {
  const dir = perceptualDir(resolve(modelsDir));
  const stored = (kind: CatalogEntry['kind']) => catalog.entries.filter((e) => e.kind === kind).map((e) => join(dir, e.file)).find((f) => existsSync(f));
  const vgg = stored('perceptual-backbone');
  const lpips = stored('perceptual-heads');
  if (!vgg || !lpips) return null;
  const { importPerceptual, DEFAULT_PERCEPTUAL_NAME } = await import('../../perceptual/index');
  const out = join(dir, DEFAULT_PERCEPTUAL_NAME);
  onLog?.(`building the LPIPS-VGG bundle ${out} from ${basename(vgg)} and ${basename(lpips)}`);
  return importPerceptual({ vgg, lpips, out, name: DEFAULT_PERCEPTUAL_NAME, ...(known ? { known } : {}) });
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface ImportModelOptions {
  modelsDir: string;
  /** Bundle folder name (default: from the file name, or the catalogue's for a known file). */
  name?: string;
  catalog?: Catalog;
  signal?: AbortSignal;
  onLog?: (msg: string) => void;
  /** The file's digest as a download computed it just now (see ImportOptions.knownSha256). */
  knownSha256?: string;
}

export interface ImportOutcome {
  kind: 'bundle' | 'perceptual';
  path: string;
  /** The catalogue entry the file was recognised as, if any. */
  catalogName?: string;
  report?: unknown;
}

/**
 * Installs a file the user fetched by hand. Perceptual weights are recognised by their
 * catalogue size and SHA-256 and copied to perceptual/; anything else goes through the
 * checkpoint importer into a new bundle folder.
 */
export async function importModelFile(file: string, o: ImportModelOptions): Promise<ImportOutcome> {
  const root = resolve(o.modelsDir);
  const src = resolve(file);
  let st;
  try {
    st = statSync(src);
  } catch {
    throw new ManagerError('NOT_FOUND', `cannot import ${file}: no such file`);
  }
  if (!st.isFile()) throw new ManagerError('NOT_FOUND', `cannot import ${file}: it is not a file`);
  const catalog = o.catalog ?? loadCatalog();
  const sized = catalog.entries.filter((e) => e.kind !== 'generator' && e.bytes === st.size && e.sha256);
  if (sized.length > 0) {
    const digest = await sha256OfFile(src);
    const e = sized.find((x) => x.sha256 === digest);
    if (e) {
      const dest = join(perceptualDir(root), e.file);
      mkdirSync(perceptualDir(root), { recursive: true });
      const tmp = `${dest}.tmp-${process.pid}`;
      copyFileSync(src, tmp);
      renameSync(tmp, dest);
      o.onLog?.(`recognised ${basename(src)} as ${e.name}; stored it at ${dest}`);
      const report = await buildPerceptual(root, catalog, dest, o.onLog);
      return { kind: 'perceptual', path: dest, catalogName: e.name, ...(report ? { report } : {}) };
    }
  }
  const known = catalog.entries.find((e) => e.kind === 'generator' && e.file === basename(src));
  const name = o.name ?? known?.bundle ?? basename(src, extname(src)).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  if (!SAFE_NAME.test(name)) throw new ManagerError('BAD_NAME', `"${name}" cannot name a bundle folder: use letters, digits, '.', '_' and '-' (--name NAME)`);
  const outDir = join(root, name);
  if (existsSync(outDir)) throw new ManagerError('EXISTS', `${outDir} already exists: choose another --name, or remove it first with "stylecast models remove ${name}"`);
  mkdirSync(root, { recursive: true });
  let report: unknown;
  try {
    report = await importCheckpoint(src, outDir, { name, ...(o.knownSha256 ? { knownSha256: o.knownSha256 } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(o.onLog ? { onProgress: o.onLog } : {}) });
  } catch (err) {
    throw new ManagerError('IMPORT', `cannot import ${file}: ${(err as Error).message}`);
  }
  return { kind: 'bundle', path: outDir, ...(known ? { catalogName: known.name } : {}), report };
}

export interface RemoveOptions {
  modelsDir: string;
  /** Also remove the default seeded model. */
  force?: boolean;
  catalog?: Catalog;
}

export interface RemoveOutcome {
  kind: 'bundle' | 'perceptual';
  path: string;
}

/**
 * Removes one bundle folder of the models directory (by folder name, or a path to it),
 * or stored perceptual weights by catalogue name. Refuses anything that is not a direct
 * child of the models directory, symbolic links, and the default seeded model unless forced.
 */
export function removeModel(nameOrPath: string, o: RemoveOptions): RemoveOutcome {
  const r = checkRemovable(nameOrPath, o);
  if (r.kind === 'perceptual') {
    rmSync(r.path);
    return r;
  }
  // Rename first so a half-deleted folder never looks like a bundle; rmSync does not follow links inside.
  const doomed = join(resolve(o.modelsDir), `.removing-${basename(r.path)}-${process.pid}`);
  renameSync(r.path, doomed);
  rmSync(doomed, { recursive: true, force: true });
  return r;
}

/** What removeModel would delete, after all of its checks; deletes nothing (callers confirm first). */
export function checkRemovable(nameOrPath: string, o: RemoveOptions): RemoveOutcome {
  const root = resolve(o.modelsDir);
  if (!existsSync(root)) throw new ManagerError('NOT_FOUND', `the models directory ${root} does not exist`);
  if (nameOrPath.trim() === '') throw new ManagerError('BAD_NAME', 'name a model to remove');
  const looksLikePath = isAbsolute(nameOrPath) || nameOrPath.includes('/') || nameOrPath.includes(sep) || nameOrPath === '.' || nameOrPath === '..';
  const target = looksLikePath ? resolve(nameOrPath) : join(root, nameOrPath);
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.includes(sep) || rel.includes('/')) {
    throw new ManagerError('CONTAINMENT', `refusing to remove ${target}: only bundle folders directly inside ${root} can be removed`);
  }
  let st;
  try {
    st = lstatSync(target);
  } catch {
    const catalog = o.catalog ?? loadCatalog();
    const e = catalog.entries.find((x) => x.name === nameOrPath && x.kind !== 'generator');
    const file = e ? join(perceptualDir(root), e.file) : null;
    if (file && existsSync(file)) return { kind: 'perceptual', path: file };
    throw new ManagerError('NOT_FOUND', `there is no model "${nameOrPath}" in ${root} (see "stylecast models list")`);
  }
  if (st.isSymbolicLink()) {
    throw new ManagerError('CONTAINMENT', `refusing to remove ${target}: it is a symbolic link (to ${readlinkSync(target)}); delete the link by hand if you mean to`);
  }
  // The real location must still be inside the real models directory.
  if (relative(realpathSync(root), realpathSync(target)) !== rel) {
    throw new ManagerError('CONTAINMENT', `refusing to remove ${target}: it resolves outside ${root}`);
  }
  if (!st.isDirectory() || !existsSync(join(target, 'manifest.json'))) {
    throw new ManagerError('NOT_FOUND', `${target} is not a model bundle (no manifest.json); not removing it`);
  }
  if (rel === SEEDED_DEFAULT.name && !o.force) {
    throw new ManagerError('PROTECTED', `${rel} is the default seeded model that the demo and the tests use; pass --force to remove it (it is re-created on next use)`);
  }
  return { kind: 'bundle', path: target };
}
