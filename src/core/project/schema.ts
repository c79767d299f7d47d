// The project document (project.json) of a NAME.stylecast folder: types, constants,
// and the validation every document passes on open and before every save.
// docs/FORMAT.md is the prose version of this file; keep them together.
import { PARAM_COUNT, POSE_NAMES } from '../params';
import { ProjectError, type ProjectErrorCode } from './errors';

export const PROJECT_FORMAT = 'stylecast-project';
/** The schema this app writes. Bump it only together with a migration in migrations.ts. */
export const SCHEMA_VERSION = 2;
/** The largest start time a project's source may record, in seconds (a day). */
export const MAX_START_SEC = 86_400;
export const PROJECT_FILE = 'project.json';
export const PROJECT_EXTENSION = '.stylecast';
/** Numbers per frame: yaw, pitch, roll and 32 attributes (METHOD.md, "Terms"). */
export { PARAM_COUNT } from '../params';
export const POSE_PARAM_NAMES = POSE_NAMES;
/** Numbers per frame of the crop->source affine (src/core/face/types.ts). */
export const TRANSFORM_SIZE = 6;
export const FLOAT32_LE = 'float32-le';

/** One binary array in the folder: raw little-endian float32, row-major, no header. */
export interface ArrayFile {
  /** A plain file name inside the project folder (no separators, no "..", not absolute). */
  file: string;
  dtype: typeof FLOAT32_LE;
  shape: number[];
}

/** The binary arrays of a project, by role. Unknown extra roles are kept verbatim but not loaded. */
export interface ProjectFiles {
  /** The identity latent w_ID in W+, [numWs, wDim]. */
  wid: ArrayFile;
  /** p_t per encoded frame, [frames.count, 35]. */
  params: ArrayFile;
  /** T_t per encoded frame, [frames.count, 6]: the crop->source Affine. */
  transforms: ArrayFile;
  /** Final encoder loss per encoded frame, [frames.count]. */
  loss: ArrayFile;
  /** A copy of the pose directions of the edit basis, [3, numWs, wDim], when the project carries one. */
  basis?: ArrayFile;
}

export type ArrayRole = 'wid' | 'params' | 'transforms' | 'loss' | 'basis';
export const REQUIRED_ROLES = ['wid', 'params', 'transforms', 'loss'] as const;
export const DEFAULT_FILE_NAMES: Record<ArrayRole, string> = {
  wid: 'wid.f32',
  params: 'params.f32',
  transforms: 'transforms.f32',
  loss: 'loss.f32',
  basis: 'basis.f32',
};

export interface SourceRef {
  /** Absolute path of the video, as given when the project was created. Only ever read. */
  path: string;
  /** The same file relative to the project folder, '/'-separated, for projects moved together with their video. */
  relativePath: string;
  /** sha256 of the whole video file, lowercase hex. */
  sha256: string;
  /** Bytes. */
  size: number;
  width: number;
  height: number;
  fps: number;
  /** ffprobe's exact rate, "30000/1001" (or a decimal when the stream has none). */
  fpsRational: string;
  frameCount: number;
  durationSec: number;
  hasAudio: boolean;
  /**
   * When the video's first frame is shown, in seconds from the start of the file (a video stream
   * that starts after the sound). Frame k's sound is at videoStartSec + k / fps. Absent (a project
   * made before 2026-12-07): read from the source when needed.
   */
  videoStartSec?: number;
  /** The file's start time (ffprobe's format start_time), which a browser's media clock keeps when positive; absent: 0. */
  fileStartSec?: number;
  /**
   * An HDR video's curve ('pq', 'hlg'), mapped to standard range as its frames are read; null for
   * standard range. Absent (a project made before 2026-12-07): frames read as standard range.
   */
  hdr?: 'pq' | 'hlg' | null;
  /** 'bt709': an untagged HD stream read as BT.709, as players read it. Absent or null: read as ffmpeg does (BT.601 when untagged). */
  assumedMatrix?: 'bt709' | null;
}

export interface ModelRef {
  /** The bundle's id (a hash of its architecture and weights). */
  id: string;
  name: string;
  resolution: number;
  /** Where the bundle was when the project was last saved; a hint, the id is what counts. */
  path?: string;
}

export interface EncodingInfo {
  /** The source frames that are encoded: encoded frame i is source frame start + i. */
  frames: { start: number; count: number };
  numWs: number;
  wDim: number;
  paramCount: typeof PARAM_COUNT;
  /** 'yaw', 'pitch', 'roll', then the 32 attribute names of the basis, in p_t order. */
  paramNames: string[];
  /** The encoded frame (0-based, like every frame index here) whose inversion is w_ID; null until chosen. */
  identityFrame: number | null;
  /** Encoded frames [0, encodedThrough) are complete; encoding resumes at encodedThrough. */
  encodedThrough: number;
  /** Free-form encoder settings, kept verbatim. */
  settings: Record<string, unknown>;
  /** The role in `files` of the per-frame loss array ('loss'). */
  losses?: string;
}

export interface BasisRef {
  /** The model the basis was calibrated for; equals model.id. */
  modelId: string;
  /** sha256 of the bundle's basis file when the project was encoded: a different one means the model was recalibrated. */
  sha256?: string;
  /** The role in `files` ('basis') of a copy of the pose directions, when the project carries one. */
  file?: string;
  /** A copy of the basis metadata (attribute channels), kept verbatim. */
  meta?: unknown;
}

/**
 * The generator fine-tuning delta of a project (schema 2; src/core/tune): a float16 file of
 * low-rank factors whose layout follows from the model's architecture and `rank`.
 */
export interface TuneRecord {
  /** A plain file name inside the project folder, not one of `files`. */
  file: string;
  dtype: typeof FLOAT16_LE;
  /** Size of the file: 2 bytes per value. */
  bytes: number;
  /** sha256 of the file, to tell a damaged delta from a good one. */
  sha256: string;
  rank: number;
  /** sha256 of the w_ID bytes it was tuned for (the delta belongs to that identity). */
  widSha256: string;
  /** Free-form: settings, frames and figures of the tuning run; kept verbatim. */
  [key: string]: unknown;
}

export const FLOAT16_LE = 'float16-le';

export interface ProjectDoc {
  format: typeof PROJECT_FORMAT;
  schemaVersion: number;
  /** The app that wrote the file. */
  app: { name: string; version: string };
  /** ISO 8601 timestamps. */
  created: string;
  modified: string;
  source: SourceRef;
  model: ModelRef;
  encoding: EncodingInfo;
  basis: BasisRef;
  files: ProjectFiles;
  /** The fine-tuning delta, or null for an untuned project (schema 2). */
  tune: TuneRecord | null;
  /** The undoable editing document (tracks, keyframes); owned by the studio, kept verbatim here. */
  edits?: unknown;
  /** Persisted view state (zoom, panels); owned by the studio, kept verbatim here. */
  view?: unknown;
}

/** 2*log2(res) - 2: the number of W+ rows of a StyleGAN2 generator at that resolution. */
export function numWsForResolution(resolution: number): number {
  return 2 * Math.log2(resolution) - 2;
}

export function expectedShape(doc: ProjectDoc, role: ArrayRole): number[] {
  const { numWs, wDim, frames } = doc.encoding;
  switch (role) {
    case 'wid':
      return [numWs, wDim];
    case 'params':
      return [frames.count, PARAM_COUNT];
    case 'transforms':
      return [frames.count, TRANSFORM_SIZE];
    case 'loss':
      return [frames.count];
    case 'basis':
      return [POSE_PARAM_NAMES.length, numWs, wDim];
  }
}

export const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

const RESERVED_SUFFIXES = ['.tmp', '.commit', '.bak'];
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

/**
 * Why `name` is not a plain file name inside the project folder, or null when it is.
 * Letters, digits, '.', '_' and '-' only, not starting with '.', so no separators,
 * no "..", no drive letters and no absolute paths can get through.
 */
export function unsafeFileName(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'is not a file name';
  if (name.length > 128) return 'is longer than 128 characters';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    return 'is not a plain file name inside the project folder (only letters, digits, ".", "_" and "-"; no folders, no "..", no absolute paths)';
  }
  if (WINDOWS_DEVICE.test(name)) return 'is a reserved device name on Windows';
  const lower = name.toLowerCase();
  if (lower === PROJECT_FILE || lower.startsWith(`${PROJECT_FILE}.`)) return 'is reserved for the project document';
  if (RESERVED_SUFFIXES.some((s) => lower.endsWith(s))) return `ends with a suffix reserved for temporary files (${RESERVED_SUFFIXES.join(', ')})`;
  return null;
}

// ---- validation --------------------------------------------------------------

export interface CheckContext {
  /** The file named in messages. */
  file: string;
  code: Extract<ProjectErrorCode, 'CORRUPT' | 'INVALID'>;
  /** What to do about it, appended to every message. */
  advice: string;
}

type Obj = Record<string, unknown>;

class Checker {
  constructor(private readonly ctx: CheckContext) {}

  fail(path: string, problem: string, code: ProjectErrorCode = this.ctx.code): never {
    throw new ProjectError(code, `${this.ctx.file}: ${path} ${problem}. ${this.ctx.advice}`, this.ctx.file);
  }
  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, `must be an object (got ${describe(v)})`);
    return v as Obj;
  }
  str(v: unknown, path: string, nonEmpty = true): string {
    if (typeof v !== 'string' || (nonEmpty && v.length === 0)) this.fail(path, `must be a${nonEmpty ? ' non-empty' : ''} string (got ${describe(v)})`);
    return v as string;
  }
  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(path, `must be true or false (got ${describe(v)})`);
    return v as boolean;
  }
  int(v: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, `must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`} (got ${describe(v)})`);
    }
    return v as number;
  }
  /** A finite number > min (or >= min when inclusive). */
  num(v: unknown, path: string, min: number, inclusive: boolean): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || (inclusive ? v < min : v <= min)) {
      this.fail(path, `must be a finite number ${inclusive ? '>=' : '>'} ${min} (got ${describe(v)})`);
    }
    return v as number;
  }
  timestamp(v: unknown, path: string): string {
    const s = this.str(v, path);
    if (Number.isNaN(Date.parse(s))) this.fail(path, `must be an ISO 8601 date (got ${describe(v)})`);
    return s;
  }
  hex64(v: unknown, path: string): string {
    if (typeof v !== 'string' || !/^[0-9a-f]{64}$/.test(v)) this.fail(path, `must be a sha256 as 64 lowercase hex digits (got ${describe(v)})`);
    return v as string;
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s === undefined ? typeof v : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/**
 * Checks that `raw` is a complete, self-consistent current-schema document and returns it,
 * typed, as the same object: fields it does not know (edits, view, anything a newer
 * minor writer added) stay exactly as they were.
 */
export function validateDoc(raw: unknown, ctx: CheckContext): ProjectDoc {
  const c: Checker = new Checker(ctx);
  const d = c.obj(raw, 'the document');
  if (d.format !== PROJECT_FORMAT) {
    throw new ProjectError('NOT_A_PROJECT', `${ctx.file} is not a Stylecast project file (its "format" is ${describe(d.format)}, expected "${PROJECT_FORMAT}").`, ctx.file);
  }
  if (d.schemaVersion !== SCHEMA_VERSION) c.fail('schemaVersion', `must be ${SCHEMA_VERSION} (got ${describe(d.schemaVersion)})`);
  const app = c.obj(d.app, 'app');
  c.str(app.name, 'app.name');
  c.str(app.version, 'app.version');
  c.timestamp(d.created, 'created');
  c.timestamp(d.modified, 'modified');

  const s = c.obj(d.source, 'source');
  const srcPath = c.str(s.path, 'source.path');
  if (!isAbsolutePath(srcPath)) c.fail('source.path', `must be an absolute path (got ${describe(srcPath)})`);
  c.str(s.relativePath, 'source.relativePath');
  c.hex64(s.sha256, 'source.sha256');
  c.int(s.size, 'source.size', 0);
  c.int(s.width, 'source.width', 1);
  c.int(s.height, 'source.height', 1);
  const fps = c.num(s.fps, 'source.fps', 0, false);
  const rational = c.str(s.fpsRational, 'source.fpsRational');
  const rv = parseRate(rational);
  if (rv === null) c.fail('source.fpsRational', `must be "num/den" or a decimal (got ${describe(rational)})`);
  if (Math.abs(rv - fps) > 1e-3 * fps) c.fail('source.fpsRational', `(${rational}) disagrees with source.fps (${fps})`);
  const sourceFrames = c.int(s.frameCount, 'source.frameCount', 1);
  c.num(s.durationSec, 'source.durationSec', 0, true);
  c.bool(s.hasAudio, 'source.hasAudio');
  if (s.videoStartSec !== undefined && (c.num(s.videoStartSec, 'source.videoStartSec', 0, true) as number) > MAX_START_SEC) c.fail('source.videoStartSec', `must be at most ${MAX_START_SEC} (got ${describe(s.videoStartSec)})`);
  if (s.fileStartSec !== undefined && !(typeof s.fileStartSec === 'number' && Math.abs(s.fileStartSec) <= MAX_START_SEC)) c.fail('source.fileStartSec', `must be a number within ±${MAX_START_SEC} (got ${describe(s.fileStartSec)})`);
  if (s.hdr !== undefined && s.hdr !== null && s.hdr !== 'pq' && s.hdr !== 'hlg') c.fail('source.hdr', `must be "pq", "hlg" or null (got ${describe(s.hdr)})`);
  if (s.assumedMatrix !== undefined && s.assumedMatrix !== null && s.assumedMatrix !== 'bt709') c.fail('source.assumedMatrix', `must be "bt709" or null (got ${describe(s.assumedMatrix)})`);

  const m = c.obj(d.model, 'model');
  const modelId = c.str(m.id, 'model.id');
  c.str(m.name, 'model.name');
  const res = c.int(m.resolution, 'model.resolution', 4, 65536);
  if ((res & (res - 1)) !== 0) c.fail('model.resolution', `must be a power of two (got ${res})`);
  if (m.path !== undefined) c.str(m.path, 'model.path');

  const e = c.obj(d.encoding, 'encoding');
  const fr = c.obj(e.frames, 'encoding.frames');
  const start = c.int(fr.start, 'encoding.frames.start', 0, sourceFrames - 1);
  const count = c.int(fr.count, 'encoding.frames.count', 1, sourceFrames - start);
  const numWs = c.int(e.numWs, 'encoding.numWs', 1);
  if (numWs !== numWsForResolution(res)) c.fail('encoding.numWs', `must be ${numWsForResolution(res)} for a ${res}x${res} model (got ${numWs})`);
  c.int(e.wDim, 'encoding.wDim', 1);
  if (e.paramCount !== PARAM_COUNT) c.fail('encoding.paramCount', `must be ${PARAM_COUNT} (got ${describe(e.paramCount)})`);
  if (!Array.isArray(e.paramNames) || e.paramNames.length !== PARAM_COUNT) {
    c.fail('encoding.paramNames', `must list ${PARAM_COUNT} names (got ${Array.isArray(e.paramNames) ? `${e.paramNames.length}` : describe(e.paramNames)})`);
  }
  const names = e.paramNames as unknown[];
  names.forEach((n, i) => c.str(n, `encoding.paramNames[${i}]`));
  POSE_PARAM_NAMES.forEach((p, i) => {
    if (names[i] !== p) c.fail(`encoding.paramNames[${i}]`, `must be "${p}" (p_t starts with yaw, pitch, roll; got ${describe(names[i])})`);
  });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) c.fail('encoding.paramNames', `names ${describe(dup)} twice; every parameter needs its own track name`);
  if (e.identityFrame !== null) c.int(e.identityFrame, 'encoding.identityFrame', 0, count - 1);
  c.int(e.encodedThrough, 'encoding.encodedThrough', 0, count);
  c.obj(e.settings, 'encoding.settings');

  const f = c.obj(d.files, 'files');
  const seen = new Map<string, string>();
  for (const [role, entry] of Object.entries(f)) {
    const en = c.obj(entry, `files.${role}`);
    const why = unsafeFileName(en.file);
    if (why) c.fail(`files.${role}.file`, `(${describe(en.file)}) ${why}`, 'UNSAFE_PATH');
    const name = (en.file as string).toLowerCase();
    if (seen.has(name)) c.fail(`files.${role}.file`, `(${en.file}) is also used by files.${seen.get(name)}`);
    seen.set(name, role);
    if (en.dtype !== FLOAT32_LE) c.fail(`files.${role}.dtype`, `must be "${FLOAT32_LE}" (got ${describe(en.dtype)})`);
    if (!Array.isArray(en.shape) || en.shape.length === 0) c.fail(`files.${role}.shape`, `must be a list of dimensions (got ${describe(en.shape)})`);
    (en.shape as unknown[]).forEach((n, i) => c.int(n, `files.${role}.shape[${i}]`, 1));
  }
  for (const role of REQUIRED_ROLES) if (f[role] === undefined) c.fail(`files.${role}`, 'is missing');

  const b = c.obj(d.basis, 'basis');
  const basisModel = c.str(b.modelId, 'basis.modelId');
  if (basisModel !== modelId) c.fail('basis.modelId', `(${basisModel}) is not the project's model (${modelId}); the parameters would mean something else`);
  if (b.sha256 !== undefined) c.hex64(b.sha256, 'basis.sha256');
  if (b.file !== undefined && b.file !== 'basis') c.fail('basis.file', `must be "basis", the role of the basis copy in files (got ${describe(b.file)})`);
  if (b.file !== undefined && f.basis === undefined) c.fail('basis.file', 'refers to files.basis, which is missing');
  if (b.file === undefined && f.basis !== undefined) c.fail('files.basis', 'is present but basis.file does not refer to it');
  if (e.losses !== undefined && e.losses !== 'loss') c.fail('encoding.losses', `must be "loss", the role of the loss array in files (got ${describe(e.losses)})`);

  if (!('tune' in d)) c.fail('tune', 'is missing (null for a project that is not fine-tuned)');
  if (d.tune !== null) {
    const t = c.obj(d.tune, 'tune');
    const why = unsafeFileName(t.file);
    if (why) c.fail('tune.file', `(${describe(t.file)}) ${why}`, 'UNSAFE_PATH');
    if (seen.has((t.file as string).toLowerCase())) c.fail('tune.file', `(${t.file}) is also used by files.${seen.get((t.file as string).toLowerCase())}`);
    if (t.dtype !== FLOAT16_LE) c.fail('tune.dtype', `must be "${FLOAT16_LE}" (got ${describe(t.dtype)})`);
    const bytes = c.int(t.bytes, 'tune.bytes', 2);
    if (bytes % 2) c.fail('tune.bytes', `must be even, 2 bytes per float16 value (got ${bytes})`);
    c.hex64(t.sha256, 'tune.sha256');
    c.int(t.rank, 'tune.rank', 1);
    c.hex64(t.widSha256, 'tune.widSha256');
  }

  const doc = d as unknown as ProjectDoc;
  const roles: ArrayRole[] = [...REQUIRED_ROLES, ...(f.basis !== undefined ? (['basis'] as const) : [])];
  for (const role of roles) {
    const want = expectedShape(doc, role);
    const got = doc.files[role]!.shape;
    if (got.length !== want.length || got.some((n, i) => n !== want[i])) {
      c.fail(`files.${role}.shape`, `is [${got.join(', ')}] but the encoding needs [${want.join(', ')}] for ${doc.files[role]!.file}`);
    }
  }
  return doc;
}

/** "30000/1001" or "25" or "29.97" -> the rate; null when it is none of these. */
export function parseRate(s: string): number | null {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (m) {
    const den = Number(m[2]);
    return den > 0 && Number(m[1]) > 0 ? Number(m[1]) / den : null;
  }
  if (!/^\d+(\.\d+)?$/.test(s)) return null;
  const v = Number(s);
  return v > 0 ? v : null;
}

function isAbsolutePath(p: string): boolean {
  // Either platform's absolute form: a project saved on Windows still opens (source path as a hint) on macOS.
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}
