// Numbered migrations of project.json (after tldraw's versioned schemas). A project
// written at schema n is read by running migrations n -> n+1 -> ... -> SCHEMA_VERSION
// in memory; the file on disk stays at n until the next save (which first keeps a
// copy, project.json.v<n>.bak). Migrations are pure functions of the parsed JSON.
//
// To change the format: bump SCHEMA_VERSION in schema.ts, append ONE migration here
// that turns a version-(SCHEMA_VERSION - 1) document into the new shape, add a test
// that migrates a real old document, and describe the change in docs/FORMAT.md.
// A migration only rewrites the document; a change of a binary layout gets a new
// file name and role, written on the next save.
import { ProjectError } from './errors';
import { SCHEMA_VERSION } from './schema';

export type ProjectJson = Record<string, unknown>;
/** Turns a version-n document into a version-(n+1) document. It may mutate and return its argument. */
export type Migration = (doc: ProjectJson) => ProjectJson;

/** The oldest schema this app can read. */
export const OLDEST_SCHEMA_VERSION = 1;

/** Schema 2 adds `tune`, the generator fine-tuning delta: a project written before it was never tuned. */
export const addTuneRecord: Migration = (doc) => ({ ...doc, tune: null });

/** MIGRATIONS[k] migrates schema OLDEST_SCHEMA_VERSION + k to OLDEST_SCHEMA_VERSION + k + 1. Version 1 is the first. */
export const MIGRATIONS: readonly Migration[] = [addTuneRecord];

export interface MigrationSet {
  migrations: readonly Migration[];
  oldest: number;
  /** The version the migrations end at (the app's SCHEMA_VERSION). */
  current: number;
}

export const PROJECT_MIGRATIONS: MigrationSet = { migrations: MIGRATIONS, oldest: OLDEST_SCHEMA_VERSION, current: SCHEMA_VERSION };

export interface Migrated {
  doc: ProjectJson;
  /** The schema version the document had before migration. */
  from: number;
}

/**
 * Brings a parsed project.json to `set.current`. Refuses documents from a newer app
 * (NEWER_SCHEMA) or older than any migration (TOO_OLD), naming `file`.
 */
export function migrateDoc(raw: ProjectJson, file: string, set: MigrationSet = PROJECT_MIGRATIONS): Migrated {
  if (set.migrations.length !== set.current - set.oldest) {
    throw new Error(`project migrations: ${set.migrations.length} migrations cannot take schema ${set.oldest} to ${set.current}`);
  }
  const from = raw.schemaVersion;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 0) {
    throw new ProjectError('CORRUPT', `${file}: schemaVersion must be a whole number (got ${JSON.stringify(from) ?? 'nothing'}). The file is damaged: restore it from a backup.`, file);
  }
  if (from > set.current) {
    throw new ProjectError(
      'NEWER_SCHEMA',
      `${file} was saved by a newer version of Stylecast (project schema ${from}; this version reads up to ${set.current}). Update Stylecast to open this project.`,
      file,
    );
  }
  if (from < set.oldest) {
    throw new ProjectError('TOO_OLD', `${file} uses project schema ${from}, older than this version of Stylecast can read (${set.oldest} or later). Open and save it with an older Stylecast first.`, file);
  }
  let doc = raw;
  for (let v = from; v < set.current; v++) {
    const step = set.migrations[v - set.oldest]!;
    try {
      doc = { ...step(doc), schemaVersion: v + 1 };
    } catch (err) {
      throw new ProjectError('CORRUPT', `${file}: could not upgrade from project schema ${v} to ${v + 1}: ${(err as Error).message}. The file may be damaged: restore it from a backup.`, file);
    }
  }
  return { doc, from };
}
