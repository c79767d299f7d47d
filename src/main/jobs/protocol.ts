// Messages between main and a job process (an Electron utility process in the
// app, a forked Node process under tsx in tests). Both sides use structured
// clone, so typed arrays travel as they are. Specs are built by main from
// validated requests; the job process trusts them.
import type { AlignRequest, EncodeQuality } from '../../core/encode/presets';
import type { JobStatus } from '../../shared/contract';
import type { Catalog } from '../../core/model/manager/catalog';
import type { TuneEstimate } from '../../core/tune/estimate';

/**
 * modelWritable: whether the bundle's real path lies inside the models folder. Only then may
 * a job calibrate it (write basis.f32 and the manifest); main decides, the job obeys.
 */
export interface EncodeSpec {
  kind: 'encode';
  video: string;
  model: string;
  modelWritable: boolean;
  out: string;
  start: number;
  count: number | null;
  quality: EncodeQuality;
  align: AlignRequest;
  identityFrame: number | null;
}

export interface ExportSpec {
  kind: 'export';
  project: string;
  /** The bundle folder the project was encoded with (main located it). */
  model: string;
  modelWritable: boolean;
  /** The source video as main checked it (null: missing or not trusted; no paste-back or audio). */
  source: string | null;
  out: string;
  size: number;
  pasteBack: boolean;
  audio: boolean;
  crf: number;
  lossless: boolean;
  /** Timeline edits JSON (main has parsed it once already); null = the encoded values. */
  edits: unknown;
  start: number | null;
  count: number | null;
  /** The project's delta is damaged or missing and the user chose to render untuned. */
  ignoreDelta: boolean;
}

export type PortraitIdentity = { kind: 'portrait'; path: string; /** Already inverted (cached by main). */ wid: Float32Array | null };
export type ProjectIdentity = { kind: 'project'; path: string };

export interface PuppeteerSpec {
  kind: 'puppeteer';
  motion: string;
  model: string;
  modelWritable: boolean;
  identity: PortraitIdentity | ProjectIdentity;
  mode: 'relative' | 'absolute';
  lock: 'pose' | 'expression' | 'mouth' | 'eyes' | null;
  strength: number;
  out: string;
  /** Tune on the portrait (a portrait identity only); steps null: the default. */
  tune: { steps: number | null } | null;
  /** The identity project's delta is damaged or missing and the user chose to go on untuned. */
  ignoreDelta: boolean;
}

/** Evaluates a project as `stylecast eval` does, writing eval.json and eval.png into it. */
export interface EvaluateSpec {
  kind: 'evaluate';
  project: string;
  /** The bundle folder the project was encoded with (main located it). */
  model: string;
  modelWritable: boolean;
}

/** Inverts a portrait into W+ for puppeteering (the preview caches the result). */
export interface InvertPortraitSpec {
  kind: 'invert-portrait';
  path: string;
  model: string;
  modelWritable: boolean;
}

/** Fine-tunes a project's generator (runTune); a cancelled run resumes from its checkpoint. */
export interface TuneSpec {
  kind: 'tune';
  project: string;
  model: string;
  modelWritable: boolean;
  steps: number;
  rank: number;
}

/** Times one tuning step of a project (the cost the Fine-tune dialog shows first). */
export interface TuneEstimateSpec {
  kind: 'tune-estimate';
  project: string;
  model: string;
  modelWritable: boolean;
  rank: number;
  maxRankAsked: number;
}

/**
 * Imports a checkpoint the user chose into a new bundle of the models folder. It runs in a job
 * process with a V8 heap limit (IMPORT_HEAP_LIMIT_MB), so a hostile file that gets past the
 * importer's bounds checks takes down that process, not the app.
 */
export interface ImportModelSpec {
  kind: 'import-model';
  file: string;
  modelsDir: string;
  /** The catalogue main uses (recognises perceptual weights by size and digest). */
  catalog: Catalog;
  /** The bundle folder to write (default: from the file name). */
  name?: string;
  /** The file's SHA-256 as a download just computed it (see ImportOptions.knownSha256). */
  knownSha256?: string;
}

/** Writes a constant-rate copy of a video (conformVideo) at the rate constantRateOf picks. */
export interface ConformSpec {
  kind: 'conform';
  video: string;
  out: string;
}

export type JobSpec = EncodeSpec | ExportSpec | PuppeteerSpec | EvaluateSpec | InvertPortraitSpec | ImportModelSpec | TuneSpec | TuneEstimateSpec | ConformSpec;
/** Helper jobs whose result main needs: no events, run with JobManager.run. */
export type HelperSpec = InvertPortraitSpec | TuneEstimateSpec;

/** Old-space limit of an import's job process: config-f needs well under 1 GiB of heap. */
export const IMPORT_HEAP_LIMIT_MB = 2048;

export type ToWorker = { type: 'start'; spec: JobSpec } | { type: 'cancel' };

export interface ProgressMessage {
  type: 'progress';
  stage: string;
  fraction: number;
  etaSec: number | null;
  message: string;
  frame: number | null;
  of: number | null;
  loss: number | null;
}

export interface FrameMessage {
  type: 'frame';
  frame: number;
  loss: number;
  /** PNG data URLs, at most THUMBNAIL_SIZE square. */
  source: string;
  render: string;
}

export interface ResultMessage {
  type: 'result';
  wid: Float32Array;
}

export interface EstimateMessage {
  type: 'estimate';
  estimate: TuneEstimate;
}

export interface DoneMessage {
  type: 'done';
  status: JobStatus;
  message: string;
  path: string | null;
}

export type FromWorker = ProgressMessage | FrameMessage | ResultMessage | EstimateMessage | DoneMessage;
