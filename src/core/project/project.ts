// A NAME.stylecast project folder: project.json plus raw float32 arrays (docs/FORMAT.md).
//
// Crash safety rests on two protocols:
//  - saveProject: every file is written to NAME.tmp and fsynced, then project.json.tmp
//    is written and renamed to project.json.commit: that rename is the commit point.
//    Only then are the NAME.tmp files renamed over their targets and the commit record
//    renamed to project.json. Opening (or saving) a folder that holds a commit record
//    finishes those renames (roll forward); stray .tmp files without one are deleted
//    (roll back). Either way the folder holds one complete save, old or new.
//  - writeFrames / writeFrameParams: the rows of the frames are written in place into
//    the preallocated arrays and fsynced; then project.json, with encodedThrough
//    advanced, replaces the old one by an fsynced rename. Rows at or past encodedThrough
//    are not trusted, so a crash loses at most the frames of the call in flight.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Affine } from '../face/types';
import { bytesToF32, f32ToBytes, firstNonFinite, fsyncDir, pwriteDurable, readFileNoFollow, readJsonIfPresent, removeIfPresent, renameDurable, writeDurable } from './binary';
import { verifySource } from './locate';
import { ProjectError, fsError } from './errors';
import { isLockFileName, projectWriter } from './lock';
import { hashFile } from './hash';
import { migrateDoc, type MigrationSet, type ProjectJson } from './migrations';
import {
  DEFAULT_FILE_NAMES,
  FLOAT32_LE,
  PARAM_COUNT,
  PROJECT_EXTENSION,
  PROJECT_FILE,
  PROJECT_FORMAT,
  REQUIRED_ROLES,
  SCHEMA_VERSION,
  TRANSFORM_SIZE,
  elementCount,
  expectedShape,
  numWsForResolution,
  unsafeFileName,
  validateDoc,
  type ArrayFile,
  type ArrayRole,
  type CheckContext,
  type ModelRef,
  type ProjectDoc,
  type TuneRecord,
} from './schema';

const TMP = '.tmp';
export const COMMIT_FILE = `${PROJECT_FILE}.commit`;
const BYTES = 4;

/** An open project. `doc` and the arrays are the in-memory state; saveProject persists all of it. */
export interface Project {
  /** Absolute path of the NAME.stylecast folder. */
  readonly dir: string;
  doc: ProjectDoc;
  /** w_ID, [numWs, wDim] row-major. */
  wid: Float32Array;
  /** p_t, [frames.count, 35] row-major. Rows at or past encodedThrough are not encoded yet. */
  params: Float32Array;
  /** T_t, [frames.count, 6]: the crop->source Affine of each encoded frame. */
  transforms: Float32Array;
  /** Final encoder loss per encoded frame, [frames.count]. */
  loss: Float32Array;
  /** The copy of the basis pose directions, [3, numWs, wDim], when files.basis exists. */
  basisPose?: Float32Array;
}

/** What the video probe gives (a VideoInfo fits), plus the hash and size when the caller already has them. */
export interface SourceInit {
  path: string;
  width: number;
  height: number;
  fps: number;
  fpsRational: string;
  frameCount: number;
  durationSec: number;
  hasAudio: boolean;
  /** When the first frame is shown, in seconds from the file's start (VideoInfo.videoStartSec); absent: read from the source. */
  videoStartSec?: number;
  /** The file's own start time (VideoInfo.fileStartSec); 0 when absent. */
  fileStartSec?: number;
  /** HDR mapped to standard range as the frames are read (VideoInfo.hdr); absent: read as standard range. */
  hdr?: 'pq' | 'hlg' | null;
  /** The matrix assumed for an untagged HD stream (VideoInfo.assumedMatrix); absent: read as BT.601. */
  assumedMatrix?: 'bt709' | null;
  /** Computed with hashFile when absent (reads the whole video). */
  sha256?: string;
  size?: number;
}

export interface ProjectInit {
  app?: { name: string; version: string };
  source: SourceInit;
  model: ModelRef;
  encoding: {
    /** Defaults to every source frame. */
    frames?: { start: number; count: number };
    wDim: number;
    /** Defaults to 2*log2(model.resolution) - 2. */
    numWs?: number;
    /** 'yaw', 'pitch', 'roll', then the 32 attribute names (paramNames(basis) in model/basis.ts). */
    paramNames: string[];
    settings?: Record<string, unknown>;
    identityFrame?: number | null;
    /** Frames already encoded in `params` (defaults to all of them when params is given, else 0). */
    encodedThrough?: number;
  };
  wid?: Float32Array;
  params?: Float32Array;
  transforms?: Float32Array;
  loss?: Float32Array;
  /** The edit basis the encoding is relative to: its file hash, and optionally a copy carried in the project. */
  basis?: { sha256?: string; pose?: Float32Array; meta?: unknown };
  /** A fine-tuning delta already in the folder (see src/core/tune); null or absent: untuned. */
  tune?: TuneRecord | null;
  edits?: unknown;
  view?: unknown;
  /** Stops the source hash. */
  signal?: AbortSignal;
}

export interface OpenOptions {
  /** Re-hash the source video and compare it with the recorded size and sha256 (reads the whole video). */
  verifySource?: boolean;
  signal?: AbortSignal;
  /** The migrations to read older schemas with; PROJECT_MIGRATIONS unless a test or tool supplies its own. */
  migrations?: MigrationSet;
  /**
   * Finish or undo a save a crash interrupted (default true). False reads the committed state
   * and changes nothing: for a folder a running job writes, whose temporary files are its own.
   */
  recover?: boolean;
}

export interface BytesPerFrame {
  /** p_t: 35 float32. */
  perFrameParams: number;
  /** T_t: 6 float32 (needed for paste-back, not for the crop video). */
  perFrameTransform: number;
  /** w_ID: numWs * wDim float32, once per project. */
  identityBytes: number;
  frames: number;
  /** perFrameParams + perFrameTransform + identityBytes / frames. The model and its basis are shared and not counted. */
  perFrameTotal: number;
}

interface State {
  /** The document as it is on disk now: what writeFrames patches. */
  persisted: ProjectDoc;
  /** Serialises this project's disk writes. */
  queue: Promise<unknown>;
  /** Opened from an older schema: the disk still holds it until the next full save. */
  migratedFrom?: { version: number; text: string };
  /** A save failed after its commit point: finish it before the next write. */
  interrupted: boolean;
}

const states = new WeakMap<Project, State>();

function stateOf(p: Project): State {
  const st = states.get(p);
  if (!st) throw new ProjectError('INVALID', `project ${p.dir} was not opened with openProject or createProject`, p.dir);
  return st;
}

function exclusive<T>(p: Project, fn: () => Promise<T>): Promise<T> {
  const st = stateOf(p);
  const run = st.queue.then(fn, fn);
  st.queue = run.catch(() => undefined);
  return run;
}

const nowIso = (): string => new Date().toISOString();

// ---- create -------------------------------------------------------------------

/**
 * Creates NAME.stylecast at `dir` (which must not exist, or be empty), hashing the source
 * video unless init.source.sha256 is given, and saves it. Arrays not given start as zeros.
 */
export async function createProject(dir: string, init: ProjectInit): Promise<Project> {
  const root = resolve(dir);
  if (!root.endsWith(PROJECT_EXTENSION)) {
    throw new ProjectError('INVALID', `A project folder's name must end in "${PROJECT_EXTENSION}" (got "${root}"). Choose a name like "interview${PROJECT_EXTENSION}".`, root);
  }
  const created = await prepareEmptyFolder(root);
  try {
    const src = init.source;
    const srcPath = resolve(src.path);
    let size = src.size;
    if (size === undefined) {
      try {
        size = (await stat(srcPath)).size;
      } catch (err) {
        const e = fsError(err, srcPath, 'read the source video');
        throw new ProjectError(e.code, `${e.message} Choose the video again.`, srcPath);
      }
    }
    const sha256 = src.sha256 ?? (await hashFile(srcPath, init.signal));
    const frames = init.encoding.frames ?? { start: 0, count: src.frameCount };
    const numWs = init.encoding.numWs ?? numWsForResolution(init.model.resolution);
    const at = nowIso();
    const name = (role: ArrayRole, shape: number[]): ArrayFile => ({ file: DEFAULT_FILE_NAMES[role], dtype: FLOAT32_LE, shape });
    const doc: ProjectDoc = {
      format: PROJECT_FORMAT,
      schemaVersion: SCHEMA_VERSION,
      app: init.app ?? { name: 'Stylecast Studio', version: 'unknown' },
      created: at,
      modified: at,
      source: {
        path: srcPath,
        relativePath: relative(root, srcPath).split(sep).join('/'),
        sha256,
        size,
        width: src.width,
        height: src.height,
        fps: src.fps,
        fpsRational: src.fpsRational,
        frameCount: src.frameCount,
        durationSec: src.durationSec,
        hasAudio: src.hasAudio,
        ...(src.videoStartSec !== undefined ? { videoStartSec: src.videoStartSec, fileStartSec: src.fileStartSec ?? 0 } : {}),
        ...(src.hdr !== undefined ? { hdr: src.hdr } : {}),
        ...(src.assumedMatrix !== undefined ? { assumedMatrix: src.assumedMatrix } : {}),
      },
      model: { ...init.model, ...(init.model.path !== undefined ? { path: resolve(init.model.path) } : {}) },
      encoding: {
        frames: { ...frames },
        numWs,
        wDim: init.encoding.wDim,
        paramCount: PARAM_COUNT,
        paramNames: [...init.encoding.paramNames],
        identityFrame: init.encoding.identityFrame ?? null,
        encodedThrough: init.encoding.encodedThrough ?? (init.params ? frames.count : 0),
        settings: { ...(init.encoding.settings ?? {}) },
        losses: 'loss',
      },
      basis: {
        modelId: init.model.id,
        ...(init.basis?.sha256 !== undefined ? { sha256: init.basis.sha256 } : {}),
        ...(init.basis?.pose ? { file: 'basis' } : {}),
        ...(init.basis?.meta !== undefined ? { meta: init.basis.meta } : {}),
      },
      files: {
        wid: name('wid', [numWs, init.encoding.wDim]),
        params: name('params', [frames.count, PARAM_COUNT]),
        transforms: name('transforms', [frames.count, TRANSFORM_SIZE]),
        loss: name('loss', [frames.count]),
        ...(init.basis?.pose ? { basis: name('basis', [3, numWs, init.encoding.wDim]) } : {}),
      },
      tune: init.tune ?? null,
      ...(init.edits !== undefined ? { edits: init.edits } : {}),
      ...(init.view !== undefined ? { view: init.view } : {}),
    };
    const sized = (a: Float32Array | undefined, n: number): Float32Array => (a ? Float32Array.from(a) : new Float32Array(Math.max(0, n)));
    const count = Number.isInteger(frames.count) ? frames.count : 0;
    const project: Project = {
      dir: root,
      doc,
      wid: sized(init.wid, numWs * init.encoding.wDim),
      params: sized(init.params, count * PARAM_COUNT),
      transforms: sized(init.transforms, count * TRANSFORM_SIZE),
      loss: sized(init.loss, count),
      ...(init.basis?.pose ? { basisPose: Float32Array.from(init.basis.pose) } : {}),
    };
    states.set(project, { persisted: doc, queue: Promise.resolve(), interrupted: false });
    await saveProject(project);
    return project;
  } catch (err) {
    if (created) await rm(root, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
}

/** Makes `root` an existing empty folder; true when this call created it. */
async function prepareEmptyFolder(root: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      try {
        // Create missing parents first, but never mkdir -p a path whose parent exists:
        // recursive mkdir loops forever on some special filesystems (/proc).
        const parent = dirname(root);
        if (!(await stat(parent).then(() => true, () => false))) await mkdir(parent, { recursive: true });
        await mkdir(root);
      } catch (e) {
        throw fsError(e, root, 'create the project folder');
      }
      return true;
    }
    if (code === 'ENOTDIR') throw new ProjectError('EXISTS', `Cannot create a project at "${root}": a file with that name exists. Choose another name.`, root);
    throw fsError(err, root, 'read the project folder');
  }
  // The writer lock of the encode creating it (lock.ts) is not content.
  if (entries.some((e) => !isLockFileName(e))) {
    throw new ProjectError('EXISTS', `Cannot create a project at "${root}": the folder already exists and is not empty. Open it instead, or choose another name.`, root);
  }
  return false;
}

// ---- open ---------------------------------------------------------------------

const CORRUPT_ADVICE = 'The project file is damaged: restore the project from a backup, or create it again from the source video.';

/** Opens and fully validates a project folder, finishing or undoing a save that a crash interrupted. */
export async function openProject(dir: string, opts: OpenOptions = {}): Promise<Project> {
  const root = resolve(dir);
  let info;
  try {
    info = await stat(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ProjectError('NOT_FOUND', `No project at "${root}": the folder does not exist. It may have been moved, renamed or deleted; choose its new location.`, root);
    }
    throw fsError(err, root, 'read the project folder');
  }
  if (!info.isDirectory()) {
    throw new ProjectError('NOT_A_PROJECT', `"${root}" is a file, not a project folder. Choose the NAME${PROJECT_EXTENSION} folder.`, root);
  }
  // Another process's save in flight is not a crash's leftover: only without a live writer (lock.ts).
  if (opts.recover !== false && projectWriter(root) === null) await recoverInterruptedSave(root);

  const file = join(root, PROJECT_FILE);
  let text: string;
  try {
    text = await readFileNoFollow(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ProjectError('NOT_FOUND', `"${root}" has no ${PROJECT_FILE}: it is not a Stylecast project folder, or its first save never finished. Choose the NAME${PROJECT_EXTENSION} folder itself.`, file);
    }
    throw fsError(err, file, 'read');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ProjectError('CORRUPT', `${file} is not valid JSON (${(err as Error).message}). ${CORRUPT_ADVICE}`, file);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProjectError('CORRUPT', `${file} does not hold a JSON object. ${CORRUPT_ADVICE}`, file);
  }
  const json = raw as ProjectJson;
  if (json.format !== undefined && json.format !== PROJECT_FORMAT) {
    throw new ProjectError('NOT_A_PROJECT', `${file} is not a Stylecast project file (its "format" is ${JSON.stringify(json.format)}).`, file);
  }
  const { doc: migrated, from } = migrateDoc(json, file, opts.migrations);
  const doc = validateDoc(migrated, { file, code: 'CORRUPT', advice: CORRUPT_ADVICE });

  const load = async (role: ArrayRole): Promise<Float32Array> => {
    const a = await readArray(root, doc, role);
    checkValues(doc, role, a, (msg) => {
      throw new ProjectError('CORRUPT', `${join(root, doc.files[role]!.file)} ${msg}. ${CORRUPT_ADVICE}`, join(root, doc.files[role]!.file));
    });
    return a;
  };
  const project: Project = {
    dir: root,
    doc,
    wid: await load('wid'),
    params: await load('params'),
    transforms: await load('transforms'),
    loss: await load('loss'),
    ...(doc.files.basis ? { basisPose: await load('basis') } : {}),
  };
  states.set(project, {
    persisted: structuredClone(doc),
    queue: Promise.resolve(),
    interrupted: false,
    ...(from !== SCHEMA_VERSION ? { migratedFrom: { version: from, text } } : {}),
  });
  if (opts.verifySource) await verifySource(project, opts.signal);
  return project;
}

/** Reads one array file, checking its size against the shape recorded in the document. */
async function readArray(root: string, doc: ProjectDoc, role: ArrayRole): Promise<Float32Array> {
  const entry = doc.files[role]!;
  const path = join(root, entry.file);
  let buf: Buffer;
  try {
    buf = await readFileNoFollow(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ProjectError('CORRUPT', `${path} is missing (${PROJECT_FILE} lists it as files.${role}). ${CORRUPT_ADVICE}`, path);
    }
    throw fsError(err, path, 'read');
  }
  const want = elementCount(entry.shape) * BYTES;
  if (buf.byteLength !== want) {
    throw new ProjectError(
      'CORRUPT',
      `${path} has ${buf.byteLength} bytes, but ${PROJECT_FILE} records files.${role} as float32 [${entry.shape.join(', ')}] = ${want} bytes: the file is ${buf.byteLength < want ? 'truncated' : 'too long'}. ${CORRUPT_ADVICE}`,
      path,
    );
  }
  return bytesToF32(buf);
}

/** Value checks shared by open (CORRUPT) and save (INVALID): finite numbers, invertible transforms for encoded frames. */
function checkValues(doc: ProjectDoc, role: ArrayRole, a: Float32Array, fail: (msg: string) => never): void {
  const shape = doc.files[role]!.shape;
  const bad = firstNonFinite(a);
  if (bad >= 0) fail(`holds a non-finite value (${a[bad]}) at [${unravel(bad, shape).join(', ')}]`);
  if (role === 'transforms') {
    for (let r = 0; r < doc.encoding.encodedThrough; r++) {
      const o = r * TRANSFORM_SIZE;
      const det = a[o]! * a[o + 4]! - a[o + 1]! * a[o + 3]!;
      if (!(Math.abs(det) > 0)) fail(`row ${r} (encoded frame ${r}) is not an invertible affine map (determinant 0)`);
    }
  }
}

function unravel(index: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    out[d] = index % shape[d]!;
    index = Math.floor(index / shape[d]!);
  }
  return out;
}

// ---- save ---------------------------------------------------------------------

/** The plain (safe) file names a parsed document refers to; unsafe names are never touched. */
function fileNamesOf(doc: unknown): string[] {
  const files = (doc as { files?: unknown } | null)?.files;
  if (typeof files !== 'object' || files === null) return [];
  const out: string[] = [];
  for (const e of Object.values(files)) {
    const name = (e as { file?: unknown } | null)?.file;
    if (unsafeFileName(name) === null) out.push(name as string);
  }
  return out;
}

/**
 * Leaves `root` holding exactly one complete save. A commit record means a save got past
 * its commit point: its NAME.tmp files are complete, so they are renamed into place and
 * the record becomes project.json (roll forward). NAME.tmp files without one belong to a
 * save (or progress update) that never committed and are deleted (roll back).
 */
export async function recoverInterruptedSave(root: string): Promise<void> {
  const commit = join(root, COMMIT_FILE);
  const rec = await readJsonIfPresent(commit);
  if (rec.ok) {
    try {
      for (const name of fileNamesOf(rec.value)) {
        const tmp = join(root, name + TMP);
        if (await exists(tmp)) await renameDurable(tmp, join(root, name));
      }
      await renameDurable(commit, join(root, PROJECT_FILE));
      await fsyncDir(root);
    } catch (err) {
      const e = err as ProjectError;
      throw new ProjectError(
        e.code ?? 'NOT_WRITABLE',
        `A save of "${root}" was interrupted and must be finished before the project can be used, but that failed: ${e.message}`,
        root,
      );
    }
  } else if (rec.present) {
    // Cannot happen (the record is renamed into place only once complete); treat it as uncommitted.
    await removeIfPresent(commit).catch(() => undefined);
  }
  const current = await readJsonIfPresent(join(root, PROJECT_FILE));
  const names = [PROJECT_FILE, ...(current.ok ? fileNamesOf(current.value) : [])];
  for (const name of names) await removeIfPresent(join(root, name + TMP)).catch(() => undefined);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw fsError(err, path, 'read');
  }
}

function arrayOf(p: Project, role: ArrayRole): Float32Array | undefined {
  return role === 'basis' ? p.basisPose : p[role];
}

function rolesOf(doc: ProjectDoc): ArrayRole[] {
  return doc.files.basis ? [...REQUIRED_ROLES, 'basis'] : [...REQUIRED_ROLES];
}

/** Validates the in-memory project as if it were being opened; INVALID names what is wrong. */
function validateForSave(p: Project, doc: ProjectDoc): string {
  const file = join(p.dir, PROJECT_FILE);
  const ctx: CheckContext = { file, code: 'INVALID', advice: 'Nothing was saved; the project on disk is unchanged.' };
  validateDoc(doc, ctx);
  for (const role of rolesOf(doc)) {
    const a = arrayOf(p, role);
    const what = role === 'basis' ? 'project.basisPose' : `project.${role}`;
    const fail = (msg: string): never => {
      throw new ProjectError('INVALID', `Cannot save ${file}: ${what} ${msg}. ${ctx.advice}`, file);
    };
    if (!(a instanceof Float32Array)) fail('is not a Float32Array');
    const want = elementCount(expectedShape(doc, role));
    if (a!.length !== want) fail(`has ${a!.length} values, but [${expectedShape(doc, role).join(', ')}] needs ${want}`);
    checkValues(doc, role, a!, fail);
  }
  try {
    return `${JSON.stringify(doc, null, 2)}\n`;
  } catch (err) {
    throw new ProjectError('INVALID', `Cannot save ${file}: the document cannot be written as JSON (${(err as Error).message}). ${ctx.advice}`, file);
  }
}

/**
 * Saves everything atomically (see the top of this file): after a crash at any moment the
 * folder opens as the previous save or as this one, never a mix. Validates first.
 */
export async function saveProject(project: Project): Promise<void> {
  return exclusive(project, () => saveLocked(project));
}

async function saveLocked(p: Project): Promise<void> {
  const st = stateOf(p);
  const doc: ProjectDoc = { ...p.doc, schemaVersion: SCHEMA_VERSION, modified: nowIso() };
  const text = validateForSave(p, doc);
  await recoverInterruptedSave(p.dir);
  st.interrupted = false;
  if (st.migratedFrom) {
    // The first save after a migration keeps the old file, for an older Stylecast or a bug report.
    const bak = join(p.dir, `${PROJECT_FILE}.v${st.migratedFrom.version}.bak`);
    if (!(await exists(bak))) await writeDurable(bak, st.migratedFrom.text);
  }
  const roles = rolesOf(doc);
  for (const role of roles) await writeDurable(join(p.dir, doc.files[role]!.file + TMP), f32ToBytes(arrayOf(p, role)!));
  const docTmp = join(p.dir, PROJECT_FILE + TMP);
  const commit = join(p.dir, COMMIT_FILE);
  await writeDurable(docTmp, text);
  await renameDurable(docTmp, commit);
  await fsyncDir(p.dir);
  // Committed: from here on a crash rolls forward.
  try {
    for (const role of roles) await renameDurable(join(p.dir, doc.files[role]!.file + TMP), join(p.dir, doc.files[role]!.file));
    await renameDurable(commit, join(p.dir, PROJECT_FILE));
    await fsyncDir(p.dir);
  } catch (err) {
    st.interrupted = true;
    throw err;
  }
  // Files the previous save used and this one does not (a dropped basis copy).
  const keep = new Set(fileNamesOf(doc));
  for (const name of fileNamesOf(st.persisted)) if (!keep.has(name)) await removeIfPresent(join(p.dir, name)).catch(() => undefined);
  st.persisted = structuredClone(doc);
  st.migratedFrom = undefined;
  p.doc.schemaVersion = doc.schemaVersion;
  p.doc.modified = doc.modified;
}

// ---- progressive encoding ------------------------------------------------------

/**
 * Persists one encoded frame: p_t, T_t and the final loss, written in place into the
 * preallocated arrays, then encodedThrough advanced in project.json. Frames are written
 * in order: frameIndex may be at most encodedThrough (rewriting an earlier frame is allowed).
 */
export async function writeFrameParams(project: Project, frameIndex: number, params: ArrayLike<number>, transform: Affine, loss: number): Promise<void> {
  return writeFrames(project, frameIndex, params, transform, [loss]);
}

/**
 * Persists `n` consecutive encoded frames from `start` (params: n*35, transforms: n*6,
 * loss: n values) with one fsync per file, for encoders that batch frames. A crash loses
 * at most these n frames; encodedThrough then still says where to resume. `settings` are
 * merged into encoding.settings in the same write (the encoder's cost so far).
 */
export async function writeFrames(project: Project, start: number, params: ArrayLike<number>, transforms: ArrayLike<number>, loss: ArrayLike<number>, settings?: Record<string, unknown>): Promise<void> {
  const st = stateOf(project);
  const count = st.persisted.encoding.frames.count;
  const n = loss.length;
  const bad = (msg: string): never => {
    throw new ProjectError('INVALID', `Cannot write encoded frame ${start} of ${project.dir}: ${msg}.`, project.dir);
  };
  if (!Number.isInteger(start) || start < 0 || start >= count) bad(`the frame index must be in 0..${count - 1}`);
  if (n < 1 || start + n > count) bad(`${n} frames from ${start} do not fit in the ${count} encoded frames`);
  const p32 = Float32Array.from(params);
  const t32 = Float32Array.from(transforms);
  const l32 = Float32Array.from(loss);
  if (p32.length !== n * PARAM_COUNT) bad(`expected ${n * PARAM_COUNT} parameters (${PARAM_COUNT} per frame), got ${p32.length}`);
  if (t32.length !== n * TRANSFORM_SIZE) bad(`expected ${n * TRANSFORM_SIZE} transform values (${TRANSFORM_SIZE} per frame), got ${t32.length}`);
  // After the float32 conversion, so a double beyond float32's range is caught as the infinity it became.
  for (const [name, a] of [['parameters', p32], ['transform', t32], ['loss', l32]] as const) {
    const i = firstNonFinite(a);
    if (i >= 0) bad(`the ${name} hold a non-finite value (${a[i]}) at ${i}; the encoder diverged`);
  }
  for (let k = 0; k < n; k++) {
    const o = k * TRANSFORM_SIZE;
    if (!(Math.abs(t32[o]! * t32[o + 4]! - t32[o + 1]! * t32[o + 3]!) > 0)) bad(`the transform of frame ${start + k} is not invertible`);
  }
  return exclusive(project, async () => {
    if (st.interrupted) {
      await recoverInterruptedSave(project.dir);
      st.interrupted = false;
    }
    // A migrated project is still old on disk: rewrite it whole (in-memory edits included,
    // the one exception to "a frame write persists only encodedThrough") before patching rows.
    if (st.migratedFrom) await saveLocked(project);
    const disk = st.persisted;
    const through = disk.encoding.encodedThrough;
    if (start > through) {
      bad(`frames ${through}..${start - 1} are not encoded yet (encoding resumes at frame ${through}); write frames in order`);
    }
    await pwriteDurable(join(project.dir, disk.files.params.file), start * PARAM_COUNT * BYTES, f32ToBytes(p32));
    await pwriteDurable(join(project.dir, disk.files.transforms.file), start * TRANSFORM_SIZE * BYTES, f32ToBytes(t32));
    await pwriteDurable(join(project.dir, disk.files.loss.file), start * BYTES, f32ToBytes(l32));
    project.params.set(p32, start * PARAM_COUNT);
    project.transforms.set(t32, start * TRANSFORM_SIZE);
    project.loss.set(l32, start);
    // The rows are durable; advancing encodedThrough is what makes them count.
    const next: ProjectDoc = { ...disk, modified: nowIso(), encoding: { ...disk.encoding, encodedThrough: Math.max(through, start + n), ...(settings ? { settings: { ...disk.encoding.settings, ...settings } } : {}) } };
    const docTmp = join(project.dir, PROJECT_FILE + TMP);
    await writeDurable(docTmp, `${JSON.stringify(next, null, 2)}\n`);
    await renameDurable(docTmp, join(project.dir, PROJECT_FILE));
    await fsyncDir(project.dir);
    st.persisted = next;
    project.doc.encoding.encodedThrough = next.encoding.encodedThrough;
    if (settings) project.doc.encoding.settings = { ...project.doc.encoding.settings, ...settings };
    project.doc.modified = next.modified;
  });
}

/** p_t of every encoded frame as it is on disk now, [frames.count, 35] (e.g. while another process encodes). */
export async function readParams(project: Project): Promise<Float32Array> {
  const st = stateOf(project);
  return exclusive(project, async () => {
    const a = await readArray(project.dir, st.persisted, 'params');
    const path = join(project.dir, st.persisted.files.params.file);
    checkValues(st.persisted, 'params', a, (msg) => {
      throw new ProjectError('CORRUPT', `${path} ${msg}. ${CORRUPT_ADVICE}`, path);
    });
    return a;
  });
}

// ---- sizes, source and model -------------------------------------------------

export function bytesPerFrame(project: Project): BytesPerFrame {
  const { numWs, wDim, frames } = project.doc.encoding;
  const perFrameParams = PARAM_COUNT * BYTES;
  const perFrameTransform = TRANSFORM_SIZE * BYTES;
  const identityBytes = numWs * wDim * BYTES;
  return { perFrameParams, perFrameTransform, identityBytes, frames: frames.count, perFrameTotal: perFrameParams + perFrameTransform + identityBytes / frames.count };
}

/** The source frame that encoded frame `i` was made from. */
export const sourceFrameOf = (project: Project, i: number): number => project.doc.encoding.frames.start + i;

/**
 * How the project's source frames are decoded: as they were when it was made, so its crop
 * transforms and its fitted frames stay where they were measured. `size`: as recorded (since
 * 2026-12-07 the size as shown, in square pixels; before, a video with non-square pixels was read
 * at its stored size). `hdr`: HDR mapped to standard range when recorded so; `assumedMatrix`: an
 * untagged HD stream read as BT.709 when recorded so. A project made before 2026-12-07 records
 * neither: it read HDR as standard range and untagged streams as BT.601, which it keeps.
 */
export const sourceDecoding = (project: Project): { size: { width: number; height: number }; hdr: 'pq' | 'hlg' | null; assumedMatrix: 'bt709' | null } => ({
  size: { width: project.doc.source.width, height: project.doc.source.height },
  hdr: project.doc.source.hdr ?? null,
  assumedMatrix: project.doc.source.assumedMatrix ?? null
});

/** T_t of encoded frame `i`: crop pixels -> source pixels. */
export function frameTransform(project: Project, i: number): Affine {
  const o = i * TRANSFORM_SIZE;
  return Array.from(project.transforms.subarray(o, o + TRANSFORM_SIZE)) as Affine;
}
