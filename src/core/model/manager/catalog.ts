// The catalogue of models Stylecast knows how to fetch (resources/models.catalog.json):
// where each file officially lives, how big it is, its SHA-256 when one is known, its
// licence and what it is for. The file is data from disk, so it is validated field by field.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CATALOG_FORMAT = 'stylecast-model-catalog';

export type CatalogKind = 'generator' | 'perceptual-backbone' | 'perceptual-heads';
const KINDS: readonly CatalogKind[] = ['generator', 'perceptual-backbone', 'perceptual-heads'];

export interface CatalogEntry {
  /** Catalogue name, used on the command line: `stylecast models download NAME`. */
  name: string;
  kind: CatalogKind;
  /** Local file name of the download (also its name on a mirror). */
  file: string;
  /** The official URL. */
  url: string;
  /** Exact size in bytes, or null where the publisher gives none. */
  bytes: number | null;
  /** Full SHA-256 (hex), or null where none is known: then only the size and the import checks verify the file. */
  sha256: string | null;
  /** A published prefix of the SHA-256 (torchvision names files by one), checked when present. */
  sha256Prefix: string | null;
  /** Where the size and digest come from, or why there are none. */
  verification: string;
  /** Generators: the bundle folder the download is imported into. */
  bundle?: string;
  licence: string;
  homepage: string;
  purpose: string;
}

export interface Catalog {
  entries: CatalogEntry[];
  path: string;
}

export class CatalogError extends Error {
  readonly code = 'CATALOG';
}

/**
 * resources/models.catalog.json of the installation: the first one up from this module, which
 * is src/core/model/manager in a checkout and out/main (inside app.asar) in a built app.
 */
export function defaultCatalogPath(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, 'resources', 'models.catalog.json');
    if (existsSync(candidate) || dirname(dir) === dir) return candidate;
  }
}

const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HEX64 = /^[0-9a-f]{64}$/;

function validateEntry(v: unknown, i: number, where: string): CatalogEntry {
  const at = `${where}: models[${i}]`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CatalogError(`${at} is not an object`);
  const o = v as Record<string, unknown>;
  const str = (k: string): string => {
    const s = o[k];
    if (typeof s !== 'string' || s.trim() === '') throw new CatalogError(`${at}: "${k}" must be a non-empty string`);
    return s;
  };
  const name = str('name');
  if (!SAFE_FILE.test(name)) throw new CatalogError(`${at}: name "${name}" may hold only letters, digits, '.', '_' and '-'`);
  const kind = o.kind as CatalogKind;
  if (!KINDS.includes(kind)) throw new CatalogError(`${at}: "kind" must be one of ${KINDS.join(', ')}`);
  const file = str('file');
  if (!SAFE_FILE.test(file)) throw new CatalogError(`${at}: file "${file}" must be a plain file name`);
  const url = str('url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CatalogError(`${at}: "url" is not a URL`);
  }
  if (parsed.protocol !== 'https:') throw new CatalogError(`${at}: "url" must be https`);
  const bytes = o.bytes;
  if (bytes !== null && !(typeof bytes === 'number' && Number.isSafeInteger(bytes) && bytes > 0)) {
    throw new CatalogError(`${at}: "bytes" must be a positive integer or null`);
  }
  const sha256 = o.sha256;
  if (sha256 !== null && !(typeof sha256 === 'string' && HEX64.test(sha256))) throw new CatalogError(`${at}: "sha256" must be 64 lower-case hex digits or null`);
  const prefix = o.sha256Prefix ?? null;
  if (prefix !== null && !(typeof prefix === 'string' && /^[0-9a-f]{8,64}$/.test(prefix))) throw new CatalogError(`${at}: "sha256Prefix" must be hex digits or null`);
  if (typeof sha256 === 'string' && typeof prefix === 'string' && !sha256.startsWith(prefix)) {
    throw new CatalogError(`${at}: "sha256" does not start with "sha256Prefix"`);
  }
  let bundle: string | undefined;
  if (kind === 'generator') {
    bundle = str('bundle');
    if (!SAFE_FILE.test(bundle)) throw new CatalogError(`${at}: bundle "${bundle}" must be a plain folder name`);
  }
  return {
    name,
    kind,
    file,
    url,
    bytes: bytes as number | null,
    sha256: sha256 as string | null,
    sha256Prefix: prefix as string | null,
    verification: str('verification'),
    ...(bundle ? { bundle } : {}),
    licence: str('licence'),
    homepage: str('homepage'),
    purpose: str('purpose')
  };
}

export function parseCatalog(json: unknown, where: string): CatalogEntry[] {
  const o = json as Record<string, unknown> | null;
  if (typeof o !== 'object' || o === null || o.format !== CATALOG_FORMAT) throw new CatalogError(`${where} is not a Stylecast model catalogue`);
  if (o.version !== 1) throw new CatalogError(`${where} has catalogue version ${String(o.version)}; this Stylecast reads version 1`);
  if (!Array.isArray(o.models)) throw new CatalogError(`${where}: "models" must be a list`);
  const entries = o.models.map((m, i) => validateEntry(m, i, where));
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new CatalogError(`${where}: the name "${e.name}" appears twice`);
    seen.add(e.name);
  }
  return entries;
}

export function loadCatalog(path = defaultCatalogPath()): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CatalogError(`cannot read the model catalogue ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CatalogError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  return { entries: parseCatalog(json, path), path };
}

export function findEntry(catalog: Catalog, name: string): CatalogEntry {
  const e = catalog.entries.find((x) => x.name === name);
  if (!e) throw new CatalogError(`"${name}" is not in the model catalogue; known: ${catalog.entries.map((x) => x.name).join(', ')}`);
  return e;
}

/**
 * Where to fetch an entry from: the official URL, or `<mirror>/<file>` when a mirror
 * is set (env STYLECAST_MODEL_MIRROR: a base URL that serves the files under their
 * catalogue file names, e.g. a local server or an organisation's cache).
 */
export function downloadUrl(entry: CatalogEntry, mirror = process.env.STYLECAST_MODEL_MIRROR): string {
  const m = mirror?.trim();
  if (!m) return entry.url;
  let base: URL;
  try {
    base = new URL(m.endsWith('/') ? m : `${m}/`);
  } catch {
    throw new CatalogError(`STYLECAST_MODEL_MIRROR="${m}" is not a URL`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new CatalogError(`STYLECAST_MODEL_MIRROR must be an http(s) URL, got "${m}"`);
  return new URL(entry.file, base).toString();
}

/** Perceptual weights live in <models>/perceptual/ under their catalogue file names. */
export const perceptualDir = (modelsDir: string): string => join(modelsDir, 'perceptual');
/** Downloads in progress (NAME.part) and finished raw checkpoints. */
export const downloadsDir = (modelsDir: string): string => join(modelsDir, 'downloads');
