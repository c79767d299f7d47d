// The model manager: what is installed in a models directory, what the catalogue offers,
// downloading (resumable, verified), importing a file by hand, and removing a bundle.
// Layout of a models directory:
//   <models>/<bundle>/            model bundles (manifest.json + weights.bin [+ basis, report])
//   <models>/perceptual/<file>    perceptual weights by catalogue file name (vgg16-397923af.pth, lpips-v0.1-vgg.pth)
//   <models>/perceptual/lpips-vgg/ the LPIPS-VGG bundle built from those two once both are there
//   <models>/downloads/<file>     generator checkpoints while they download (NAME.part) and until imported
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { writeFileAtomicSync } from '../../util/fs';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SEEDED_DEFAULT } from '../defaults';
import { Catalog, CatalogEntry, downloadUrl, downloadsDir, findEntry, loadCatalog, perceptualDir } from './catalog';
import { DownloadError, DownloadProgress, downloadFile, partialState, proxyFromEnv, sha256OfFile } from './download';
import { BundleSummary, SkippedBundle, scanBundles } from './scan';

export { CatalogError, loadCatalog, downloadUrl, perceptualDir, downloadsDir } from './catalog';
export type { Catalog, CatalogEntry, CatalogKind } from './catalog';
export { DEFAULT_MAX_DOWNLOAD_BYTES, DownloadError, downloadFile, insecureUrl, proxyFromEnv, proxyFromPac, sha256OfFile } from './download';
export type { DownloadProgress, DownloadResult } from './download';
export { scanBundles } from './scan';
export type { BundleSummary, SkippedBundle } from './scan';

export class ManagerError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'EXISTS' | 'CONTAINMENT' | 'PROTECTED' | 'DOWNLOAD' | 'IMPORT' | 'BAD_NAME' | 'UNPINNED',
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
   * Install an entry that has no full SHA-256 (in the catalogue or recorded by an earlier
   * download) on trust: its digest and size are recorded on success and pinned from then on.
   * Without it such an entry is refused before anything is fetched.
   */
  acceptUnpinned?: boolean;
  /**
   * The proxy for a URL (see DownloadOptions.proxy): default HTTPS_PROXY / NO_PROXY from the
   * environment (proxyFromEnv); the studio passes the system's, from Electron's session.
   */
  proxyFor?: (url: string) => string | null | Promise<string | null>;
  /** The most bytes of a download whose size nobody gives (see DownloadOptions.maxBytes). */
  maxBytes?: number;
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
  /** True when a known digest (the catalogue's, or one recorded earlier) matched; false on first use. */
  sha256Verified: boolean;
  /** Where the digest checked came from: the catalogue, a recording of the first download, or none yet (recorded now). */
  trust: 'catalogue' | 'recorded' | 'first-use' | 'installed';
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

/** Digests recorded on the first, user-accepted download of entries the publisher gives none for. */
export const pinsPath = (modelsDir: string): string => join(resolve(modelsDir), 'trusted-downloads.json');

export interface RecordedPin {
  url: string;
  sha256: string;
  bytes: number;
  recorded: string;
}

/** The recorded pins by catalogue name; a missing or damaged file holds none (damaged entries are skipped). */
export function readPins(modelsDir: string): Record<string, RecordedPin> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(pinsPath(modelsDir), 'utf8'));
  } catch {
    return {};
  }
  const pins = (raw as { pins?: unknown } | null)?.pins;
  const out: Record<string, RecordedPin> = {};
  if (typeof pins !== 'object' || pins === null) return out;
  for (const [name, p] of Object.entries(pins as Record<string, Partial<RecordedPin>>)) {
    if (typeof p?.sha256 === 'string' && /^[0-9a-f]{64}$/.test(p.sha256) && Number.isSafeInteger(p.bytes) && (p.bytes as number) > 0) {
      out[name] = { url: String(p.url ?? ''), sha256: p.sha256, bytes: p.bytes as number, recorded: String(p.recorded ?? '') };
    }
  }
  return out;
}

function recordPin(modelsDir: string, name: string, pin: RecordedPin): void {
  const pins = { ...readPins(modelsDir), [name]: pin };
  writeFileAtomicSync(pinsPath(modelsDir), `${JSON.stringify({ format: 'stylecast-download-pins', version: 1, pins }, null, 1)}\n`);
}

/** Whether downloading `name` needs the user to accept it on trust (no full digest known). */
export function needsTrustOnFirstUse(modelsDir: string, catalog: Catalog, name: string): boolean {
  const e = findEntry(catalog, name);
  return !e.sha256 && !readPins(modelsDir)[e.name];
}

const importHint = (e: CatalogEntry) =>
  `To install it without this download, fetch ${e.url} by any other means and run "stylecast models import FILE"`;

export async function downloadModel(name: string, o: DownloadModelOptions): Promise<DownloadOutcome> {
  const catalog = o.catalog ?? loadCatalog();
  const e = findEntry(catalog, name);
  const root = resolve(o.modelsDir);
  const url = downloadUrl(e, o.mirror);
  const installed = installedPath(root, e);
  const pinned = e.sha256 ? null : (readPins(root)[e.name] ?? null);
  const sha256 = e.sha256 ?? pinned?.sha256 ?? null;
  const trust = e.sha256 ? 'catalogue' : pinned ? 'recorded' : 'first-use';
  const base = { name: e.name, kind: e.kind, url, sha256Verified: sha256 !== null, trust } as const;
  if (e.kind === 'generator' ? existsSync(join(installed, 'manifest.json')) : existsSync(installed)) {
    o.onLog?.(`${e.name} is already installed at ${installed}`);
    const bytes = statSync(e.kind === 'generator' ? join(installed, 'weights.bin') : installed).size;
    return { ...base, path: installed, bytes, sha256: '', sha256Verified: false, trust: 'installed', resumedFrom: 0, alreadyInstalled: true };
  }
  if (!sha256 && !o.acceptUnpinned) {
    throw new ManagerError(
      'UNPINNED',
      `${e.name}: no SHA-256 is published for ${e.file} (${e.verification}), so Stylecast cannot verify the download. To install it on trust, run "stylecast models download ${e.name} --accept-unpinned" (the studio asks you): the SHA-256 and size of what arrives are recorded in ${pinsPath(root)}, and every later download of it must match them. Nothing was downloaded.`
    );
  }
  const dest = downloadTarget(root, e);
  mkdirSync(join(dest, '..'), { recursive: true });
  let got;
  try {
    got = await downloadFile({
      url,
      dest,
      bytes: e.bytes ?? pinned?.bytes ?? null,
      sha256,
      sha256Prefix: e.sha256Prefix,
      proxy: o.proxyFor ? await o.proxyFor(url) : proxyFromEnv(new URL(url)),
      ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
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
    if (trust === 'first-use') recordPin(root, e.name, { url, sha256: got.sha256, bytes: got.bytes, recorded: new Date().toISOString() });
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
  // Pinned only once the file proved to be a checkpoint that imports.
  if (trust === 'first-use') {
    recordPin(root, e.name, { url, sha256: got.sha256, bytes: got.bytes, recorded: new Date().toISOString() });
    o.onLog?.(`recorded the SHA-256 of ${e.file} (${got.sha256}, ${got.bytes} bytes) in ${pinsPath(root)}: later downloads must match it`);
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
      // A new temporary file of a random name, created exclusively (a link planted there is never written through).
      const tmp = `${dest}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
      copyFileSync(src, tmp, fsConstants.COPYFILE_EXCL);
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
