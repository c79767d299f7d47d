// EncodeJob: a video in, a NAME.stylecast project out. Streams the video (never holds
// it in memory), saves every window of frames as it goes (a crash or cancel loses at
// most the window in flight) and resumes from what the project says is done. The project
// is made before face alignment, which saves its own progress in it (align-progress.ts).
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { alignVideo, trackerSettings, type FaceNetsLike } from '../face/pipeline';
import type { Affine, Landmarks68 } from '../face/types';
import { warpToCrop } from '../face/warp';
import { EditBasis, PARAM_COUNT, paramNames } from '../model/basis';
import { ModelBundle } from '../model/bundle';
import { PerceptualBundle } from '../perceptual/bundle';
import { findPerceptualBundle } from '../perceptual/find';
import { StyleGan2 } from '../model/stylegan2';
import { COMMIT_FILE, PROJECT_EXTENSION, PROJECT_FILE, Project, type ProjectLock, createProject, isLockFileName, isProjectSource, lockProject, openProject, saveProject, sourceDecoding, writeFrames } from '../project';
import { fromRgb8 } from '../render/image';
import type { Runtime } from '../runtime';
import { isCancelled, throwIfAborted } from '../util/cancel';
import { defaultMaxBatch } from './memory';
import { type DecodeOptions, VideoInfo, decodeFrames, probeVideo } from '../video';
import type { AlignVideoResult } from '../face/pipeline';
import { AlignProgressWriter, readAlignProgress, removeAlignProgress, type AlignProgressKey } from './align-progress';
import { ParamDecoder } from './decoder';
import { Evaluator, NewtonSolver, StageCost, invertFrames, lowerLoss, needsRestart, ownLoss, runFrameStages, solveFromStarts, stackFrames, WARM_START_HISTORY, warmStart } from './optimize';
import { type RefineOptions, probeFrames, refineIdentity } from './refine';
import { IdentityProgress, removeIdentityProgress } from './identity-progress';
import { EncodePhase, EncodeSchedule, lossTerms, planFractions, qualitySchedule, scheduleProblem } from './schedule';

export type EncodeStage = EncodePhase | 'done';

export interface EncodeProgress {
  stage: EncodeStage;
  /** 0..1 over the whole job. */
  fraction: number;
  /** Encoded-frame index and count, in the frames stage. */
  frame?: number;
  of?: number;
  loss?: number;
  etaSec: number | null;
  message: string;
}

export class EncodeError extends Error {
  constructor(
    readonly code: 'BAD_RANGE' | 'MISMATCH' | 'NO_NETS' | 'BAD_SCHEDULE',
    message: string
  ) {
    super(message);
  }
}

export interface EncodeJobOptions {
  video: string;
  bundle: ModelBundle;
  basis: EditBasis;
  rt: Runtime;
  /** The NAME.stylecast folder; an existing one for the same video and model resumes. */
  projectDir: string;
  /** Source frame range (default: all). */
  frames?: { start: number; count: number };
  /**
   * 'face': detect, align (FFHQ) and smooth the crop per frame (needs `nets`).
   * 'none': the frames are aligned crops already; the square centre of each is scaled to the model.
   */
  align: 'face' | 'none';
  nets?: FaceNetsLike;
  /** Crop smoothing strength in frames (face alignment only). */
  smoothingSigma?: number;
  /** Encoded-frame index to take the identity from (default: chosen by the encoder). */
  identityFrame?: number;
  /** The stages to run (default: the 'normal' quality). */
  schedule?: EncodeSchedule;
  /**
   * A W+ identity [numWs * wDim] to keep instead of finding one: the identity and refine stages
   * do not run. The benchmark gives a synthetic clip's true w_ID, to time the frames of a large
   * model without its hours of identity stages.
   */
  givenIdentity?: Float32Array;
  /** Most frames in one loss-and-gradient run (default: what fits in free memory, see memory.ts). */
  maxBatch?: number;
  /** Face alignment already computed for these frames (the benchmark aligns once for two schedules). */
  aligned?: Pick<AlignVideoResult, 'affines' | 'frames' | 'faceFoundFraction' | 'jitterPx'>;
  /**
   * LPIPS-VGG weights for the losses (METHOD.md). Left out: looked up beside the model
   * (see perceptual/find.ts); null: none, the losses use the MS-SSIM proxy.
   */
  perceptual?: PerceptualBundle | null;
  signal?: AbortSignal;
  onProgress?: (p: EncodeProgress) => void;
  /** Called after each window of frames is saved, with what the encoder saw and found (live previews). */
  onFrames?: (f: EncodedFrames) => void | Promise<void>;
  /** How often the identity search saves the state of the step under way (identity-progress.ts); default 2 minutes. */
  identitySaveEveryMs?: number;
}

/** One saved window of encoded frames. */
export interface EncodedFrames {
  /** Encoded-frame index of the first frame. */
  start: number;
  /** [n, 35] parameters, [n] losses. */
  params: Float32Array;
  loss: Float32Array;
  /** The n aligned source crops, [3, res, res] floats in -1..1 each, as the encoder's targets. */
  crops: Float32Array[];
  wid: Float32Array;
  resolution: number;
}

export interface EncodeResult {
  project: Project;
  resumed: boolean;
  framesEncoded: number;
  secondsPerFrame: number;
  identityFrame: number;
  /** Face alignment: how much of it an interrupted run had saved (framesReused), and its quality. */
  align: { faceFoundFraction: number; jitterPx: { smoothed: number; raw: number }; framesReused: number } | null;
  /** What each stage of the schedule cost, in this run and the stopped runs it resumed (as they saved it). */
  stageCosts: StageCost[];
  /** Processor and wall time of the identity phases and of the frames phase, in ms, with the stopped runs' (see `stageCosts`). */
  time: EncodeTime;
  /** Frames per loss-and-gradient run that this encode used. */
  maxBatch: number;
  /** Encoded-frame indices that the schedule's restart rule solved again (frames.restart). */
  restarts: number[];
  /** The frames the identity was refined on, their mean loss after the first round, and the held-out frames solved with that identity (null when no refinement ran: resumed past the identity, a given one, one frame). */
  identity: { refineFrames: number[]; refinedLoss: number; probes: { frame: number; loss: number }[] } | null;
}

export interface EncodeTime {
  identityCpuMs: number;
  identityWallMs: number;
  framesCpuMs: number;
  framesWallMs: number;
}

/**
 * What the encode has cost so far, saved in the project (encoding.settings) with the identity
 * and with every window of frames: a resumed encode adds to it, so its figures are those of the
 * whole encode (the bench's, across stopped runs). Work a stop threw away is not in it.
 */
const COST_KEY = 'cost';
const IDENTITY_INFO_KEY = 'identityRefinement';

function savedCost(v: unknown): (EncodeTime & { stages: StageCost[] }) | null {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Record<string, unknown>;
  const ok = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (![c.identityCpuMs, c.identityWallMs, c.framesCpuMs, c.framesWallMs].every(ok) || !Array.isArray(c.stages)) return null;
  const stages = (c.stages as Record<string, unknown>[]).filter((st) => typeof st?.id === 'string' && [st.evaluations, st.renders, st.cpuMs, st.wallMs].every(ok)) as unknown as StageCost[];
  return { identityCpuMs: c.identityCpuMs as number, identityWallMs: c.identityWallMs as number, framesCpuMs: c.framesCpuMs as number, framesWallMs: c.framesWallMs as number, stages: stages.map((st) => ({ ...st })) };
}

function savedIdentityInfo(v: unknown): EncodeResult['identity'] {
  if (typeof v !== 'object' || v === null) return null;
  const c = v as Record<string, unknown>;
  const ints = (x: unknown) => Array.isArray(x) && x.every((i) => Number.isInteger(i));
  if (!ints(c.refineFrames) || typeof c.refinedLoss !== 'number' || !Array.isArray(c.probes)) return null;
  const probes = (c.probes as { frame?: unknown; loss?: unknown }[]).filter((q) => Number.isInteger(q?.frame) && typeof q?.loss === 'number') as { frame: number; loss: number }[];
  return { refineFrames: c.refineFrames as number[], refinedLoss: c.refinedLoss, probes: probes.map((q) => ({ frame: q.frame, loss: q.loss })) };
}

/** What a saved identity search must have been made for to be resumed: the same video, range, model, basis, losses, schedule and frames. */
function identityProgressKey(project: Project, o: EncodeJobOptions, s: EncodeSchedule, perceptual: PerceptualBundle | null, frames: { candidates: number[]; refineIdx: number[]; probeIdx: number[] }, affines: readonly Affine[]): string {
  const d = project.doc;
  // The crops of those frames too: another alignment or smoothing gives other targets.
  const crops = [...new Set([...frames.candidates, ...frames.refineIdx, ...frames.probeIdx])].sort((a, b) => a - b).map((i) => Array.from(affines[i]!));
  return JSON.stringify({ source: d.source.sha256, range: d.encoding.frames, model: o.bundle.manifest.id, basis: o.basis.meta.sha256, perceptual: perceptual?.manifest.id ?? null, schedule: s, ...frames, crops });
}

/** The crop -> source map that scales the centred square of a frame to n x n. */
export function centreSquareAffine(width: number, height: number, n: number): Affine {
  const side = Math.min(width, height);
  const s = side / n;
  return [s, 0, (width - side) / 2, 0, s, (height - side) / 2];
}

/** Yaw proxy from landmarks: how far the nose tip sits from the eyes' midline, in eye distances. */
export function frontalness(lm: Landmarks68): number {
  const eye = (from: number) => {
    let x = 0;
    for (let i = from; i < from + 6; i++) x += lm[2 * i]!;
    return x / 6;
  };
  const l = eye(36);
  const r = eye(42);
  const d = Math.abs(r - l) || 1;
  return Math.abs(lm[60]! - (l + r) / 2) / d;
}

/** Whether a folder holds a project, or the committed first save of one that a crash interrupted. */
export function holdsProject(dir: string): boolean {
  return existsSync(join(dir, PROJECT_FILE)) || existsSync(join(dir, COMMIT_FILE));
}

/**
 * Whether a folder without a project is what a stopped first encode left: empty (stopped while
 * hashing the video) or holding only the temporary files of a first save that never committed.
 * An encode into it starts afresh.
 */
export function isInterruptedCreation(dir: string): boolean {
  if (holdsProject(dir)) return false;
  try {
    return readdirSync(dir, { withFileTypes: true }).every((e) => e.isFile() && (e.name.endsWith('.tmp') || isLockFileName(e.name)));
  } catch {
    return false;
  }
}

function clearInterruptedCreation(dir: string): void {
  if (!existsSync(dir) || !isInterruptedCreation(dir)) return;
  for (const name of readdirSync(dir)) if (!isLockFileName(name)) rmSync(join(dir, name), { force: true });
}

/** Creates a new project folder (and missing parents, never mkdir -p over an existing parent); its errors are left to createProject's checks. */
function makeFolder(dir: string): void {
  try {
    if (!existsSync(dirname(dir))) mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir);
  } catch {
    // exists already, or cannot be made: lockProject and createProject say which
  }
}

/** Where the project keeps the refinement's numbers of its frames (encoding.settings). */
const REFINED_KEY = 'refinedFrames';

/** The refinement's numbers saved in a project (untrusted: anything malformed is left out). */
function savedRefined(v: unknown, count: number): Map<number, Float32Array> {
  const out = new Map<number, Float32Array>();
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return out;
  for (const [k, p] of Object.entries(v as Record<string, unknown>)) {
    const f = Number(k);
    if (!Number.isInteger(f) || f < 0 || f >= count || !Array.isArray(p) || p.length !== PARAM_COUNT) continue;
    if (!p.every((x) => typeof x === 'number' && Number.isFinite(x) && Math.abs(x) < 1e6)) continue;
    out.set(f, Float32Array.from(p as number[]));
  }
  return out;
}

/** A stage's done share, 0..1: a stage of one evaluation reports 0 of 0 (NaN), which is all of it. */
const share = (f: number): number => (Number.isNaN(f) ? 1 : Math.min(1, Math.max(0, f)));

/** How many of the frames before one the restart rule takes the median loss of. */
const RESTART_HISTORY = 50;

function spread(count: number, k: number): number[] {
  if (k >= count) return Array.from({ length: count }, (_, i) => i);
  return Array.from({ length: k }, (_, j) => Math.round((j * (count - 1)) / Math.max(1, k - 1)));
}

/** Collects the crops of a few encoded frames in one decoding pass. */
async function cropsAt(video: string, start: number, decoding: Pick<DecodeOptions, 'size' | 'hdr' | 'assumedMatrix'>, affines: Affine[], indices: number[], res: number, signal?: AbortSignal): Promise<Map<number, Float32Array>> {
  const want = new Set(indices);
  const last = Math.max(...indices);
  const out = new Map<number, Float32Array>();
  let next = start; // the first frame not decoded yet
  for await (const f of decodeFrames(video, { start, count: last + 1, ...decoding, signal })) {
    next = f.index + 1;
    const i = f.index - start;
    if (want.has(i)) out.set(i, fromRgb8(warpToCrop(f.data, f.width, f.height, affines[i]!, res), res, res));
    if (out.size === want.size) break;
  }
  if (out.size < want.size) throw endedEarly(video, next, start);
  return out;
}

/**
 * A video whose frames run out before the count its header gives: frames whose data cannot be
 * decoded at its end (ffprobe counts their packets; a cut file is refused earlier, as truncated).
 */
const endedEarly = (video: string, frame: number, start: number): EncodeError =>
  new EncodeError('BAD_RANGE', `${video} ends at frame ${frame}, though its header counts more frames (the rest cannot be decoded): encode a range that ends there${frame > start ? ` (--frames ${start}:${frame})` : ''}, or export the video again`);

/**
 * Face alignment of the encoded frames, saving its progress in the project folder as it
 * goes and continuing from what an interrupted run saved there (align-progress.ts).
 */
async function alignResumably(
  o: EncodeJobOptions,
  project: Project,
  range: { start: number; count: number; res: number; info: VideoInfo },
  onProgress: (done: number, total: number, reused: boolean) => void
): Promise<{ aligned: AlignVideoResult; framesReused: number }> {
  const key: AlignProgressKey = { sourceSha256: project.doc.source.sha256, start: range.start, count: range.count, tracker: trackerSettings() };
  const resume = await readAlignProgress(project.dir, key);
  const saver = new AlignProgressWriter(project.dir, key);
  const framesReused = resume?.frames.length ?? 0;
  let aligned: AlignVideoResult;
  try {
    aligned = await alignVideo({
      path: o.video,
      nets: o.nets!,
      size: range.res,
      info: range.info,
      frames: { start: range.start, count: range.count },
      smoothing: o.smoothingSigma !== undefined ? { sigmaFrames: o.smoothingSigma } : undefined,
      signal: o.signal,
      ...(resume ? { resume } : {}),
      onCheckpoint: (c) => saver.update(c),
      onProgress: (done, total) => onProgress(done, total, done === framesReused && framesReused > 0)
    });
  } catch (e) {
    if (isCancelled(e)) saver.flush();
    throw e;
  }
  // Kept until the encode finishes: a stop in a later stage does not align again.
  saver.flush();
  return { aligned, framesReused };
}

export async function runEncodeJob(o: EncodeJobOptions): Promise<EncodeResult> {
  // The project is held for writing from when it exists until the encode ends (lock.ts).
  const held: { lock: ProjectLock | null } = { lock: null };
  try {
    return await encode(o, held);
  } finally {
    held.lock?.release();
  }
}

async function encode(o: EncodeJobOptions, held: { lock: ProjectLock | null }): Promise<EncodeResult> {
  const s = o.schedule ?? qualitySchedule('normal');
  const problem = scheduleProblem(s);
  if (problem) throw new EncodeError('BAD_SCHEDULE', `encode schedule "${s.name}": ${problem}`);
  const net = new StyleGan2(o.bundle);
  const perceptual = o.perceptual === undefined ? findPerceptualBundle(o.bundle.dir) : o.perceptual;
  const dec = new ParamDecoder(net, o.basis, perceptual?.net ?? null);
  const res = dec.res;
  const maxBatch = Math.max(1, Math.floor(o.maxBatch ?? defaultMaxBatch(res)));
  const ev = new Evaluator(dec, o.rt, s.loss, maxBatch, o.signal);
  const report = (p: Omit<EncodeProgress, 'etaSec'> & { etaSec?: number | null }) => o.onProgress?.({ etaSec: null, ...p });

  report({ stage: 'probe', fraction: 0, message: `reading ${o.video}` });
  const info: VideoInfo = await probeVideo(o.video);
  const start = o.frames?.start ?? 0;
  const count = o.frames?.count ?? info.frameCount - start;
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > info.frameCount) {
    throw new EncodeError('BAD_RANGE', `frames ${start}:${start + count} are outside ${o.video}, which has ${info.frameCount} frames (0:${info.frameCount})`);
  }
  // Progress fractions come from the schedule's own table of costs.
  const plan = planFractions(s, { frames: count, align: o.align === 'face' && !o.aligned });
  const at = (id: string, f: number) => {
    const r = plan.get(id)!;
    return r.start + (r.end - r.start) * share(f);
  };

  if (o.identityFrame !== undefined && (!Number.isInteger(o.identityFrame) || o.identityFrame < 0 || o.identityFrame >= count)) {
    throw new EncodeError('BAD_RANGE', `identity frame ${o.identityFrame} is outside the encoded frames 0..${count - 1}`);
  }
  if (o.givenIdentity && o.givenIdentity.length !== dec.numWs * dec.wDim) {
    throw new EncodeError('MISMATCH', `the given identity has ${o.givenIdentity.length} numbers; this model's W+ has ${dec.numWs * dec.wDim}`);
  }
  if (o.align === 'face' && !o.nets && !o.aligned) throw new EncodeError('NO_NETS', 'face alignment needs the face networks');
  // Open the project to resume, or create it (before alignment, which saves its progress in it).
  let project: Project;
  let resumed = false;
  if (holdsProject(o.projectDir)) {
    held.lock = lockProject(o.projectDir, 'encode');
    project = await openProject(o.projectDir); // finishes a save a crash interrupted
    const d = project.doc;
    if (d.model.id !== o.bundle.manifest.id) {
      throw new EncodeError('MISMATCH', `${o.projectDir} was encoded with model ${d.model.name} (${d.model.id}), not ${o.bundle.manifest.name} (${o.bundle.manifest.id}); choose another output folder`);
    }
    if (d.encoding.frames.start !== start || d.encoding.frames.count !== count) {
      throw new EncodeError('MISMATCH', `${o.projectDir} holds frames ${d.encoding.frames.start}:${d.encoding.frames.start + d.encoding.frames.count} of another video or range; choose another output folder`);
    }
    if (d.source.frameCount !== info.frameCount) {
      // Another video, or this one counted another way: a still picture track read before the
      // clip (before 2026-12-06), or an MP4 cut without re-encoding whose hidden packets were
      // counted (before 2026-12-07).
      throw new EncodeError(
        'MISMATCH',
        `${o.projectDir} was encoded from a video of ${d.source.frameCount} frames; ${o.video} has ${info.frameCount} frames now. Either it is another video, or this version counts its frames differently (the frames a player shows, of the clip's own stream): choose another output folder to encode it afresh`
      );
    }
    // The same frame count is not the same video: its saved identity and alignment would be another face's.
    report({ stage: 'hash', fraction: at('hash', 0), message: 'checking that the video is the one the project was encoded from' });
    if (!(await isProjectSource(o.video, project, o.signal))) {
      throw new EncodeError('MISMATCH', `${o.projectDir} was encoded from another video (${d.source.path}), not ${o.video}; choose another output folder, or resume with that video`);
    }
    resumed = true;
  } else {
    // Held before anything is written, so that two first encodes of one folder cannot interleave.
    // (A name createProject refuses is refused there, before a folder is made.)
    if (resolve(o.projectDir).endsWith(PROJECT_EXTENSION)) {
      makeFolder(o.projectDir);
      held.lock = lockProject(o.projectDir, 'encode');
    }
    if (holdsProject(o.projectDir)) throw new EncodeError('MISMATCH', `${o.projectDir} was created by another encode while this one started: run the command again to resume it`);
    clearInterruptedCreation(o.projectDir);
    report({ stage: 'hash', fraction: at('hash', 0), message: 'hashing the source video' });
    project = await createProject(o.projectDir, {
      source: { ...info, path: o.video },
      model: { id: o.bundle.manifest.id, name: o.bundle.manifest.name, resolution: res, path: o.bundle.dir },
      encoding: {
        frames: { start, count },
        wDim: dec.wDim,
        numWs: dec.numWs,
        paramNames: paramNames(o.basis),
        settings: {
          align: o.align,
          smoothingSigma: o.smoothingSigma ?? null,
          schedule: s,
          ...(perceptual ? { perceptual: { kind: perceptual.manifest.kind, id: perceptual.manifest.id, name: perceptual.manifest.name } } : {})
        } as unknown as Record<string, unknown>,
        identityFrame: null,
        encodedThrough: 0
      },
      basis: { sha256: o.basis.meta.sha256, meta: o.basis.meta },
      signal: o.signal
    });
  }

  // Frames are read at the size the project recorded (an older project of a video with non-square
  // pixels keeps its stored size), so its saved alignment and crops stay where they were measured.
  const decoding = sourceDecoding(project);
  const frameSize = decoding.size;
  // Crop transforms: from face alignment (resumed from the project's saved alignment), or the centred square.
  let affines: Affine[];
  let alignInfo: EncodeResult['align'] = null;
  let candidates: number[];
  if (o.align === 'face') {
    const { aligned, framesReused } = o.aligned ? { aligned: o.aligned, framesReused: 0 } : await alignResumably(o, project, { start, count, res, info: { ...info, ...frameSize, hdr: decoding.hdr, assumedMatrix: decoding.assumedMatrix } }, (done, total, reused) =>
      report({ stage: 'align', fraction: at('align', done / total), frame: done, of: total, message: reused ? `resuming the alignment after frame ${done} of ${total}` : `aligning frame ${done} of ${total}` })
    );
    affines = aligned.affines;
    alignInfo = { faceFoundFraction: aligned.faceFoundFraction, jitterPx: aligned.jitterPx, framesReused };
    // Identity candidates: the most frontal frame in each stretch of the clip.
    const k = Math.min(s.identity.candidates, count);
    candidates = [];
    for (let j = 0; j < k; j++) {
      const a = Math.floor((j * count) / k);
      const b = Math.max(a + 1, Math.floor(((j + 1) * count) / k));
      let best = a;
      let bestScore = Infinity;
      for (let i = a; i < b; i++) {
        const lm = aligned.frames[i]?.landmarks;
        const sc = lm ? frontalness(lm) : Infinity;
        if (sc < bestScore) {
          bestScore = sc;
          best = i;
        }
      }
      candidates.push(best);
    }
  } else {
    const a = centreSquareAffine(frameSize.width, frameSize.height, res);
    affines = Array.from({ length: count }, () => a);
    candidates = spread(count, Math.min(s.identity.candidates, count));
  }
  if (o.identityFrame !== undefined) candidates = [o.identityFrame];
  const transforms = new Float32Array(count * 6);
  affines.forEach((a, i) => transforms.set(a, i * 6));
  const identityStages = s.stages.filter((st) => st.phase === 'identity');
  const refineStages = s.stages.filter((st) => st.phase === 'refine');
  const frameStages = s.stages.filter((st) => st.phase === 'frames');
  const P = PARAM_COUNT;
  // The cost of the stopped runs this one resumes (none for a new encode).
  const before = savedCost(project.doc.encoding.settings[COST_KEY]);
  const time: EncodeTime = before ? { identityCpuMs: before.identityCpuMs, identityWallMs: before.identityWallMs, framesCpuMs: before.framesCpuMs, framesWallMs: before.framesWallMs } : { identityCpuMs: 0, identityWallMs: 0, framesCpuMs: 0, framesWallMs: 0 };
  if (before) ev.restoreCosts(before.stages);
  const costNow = (extra: Partial<EncodeTime> = {}) => ({ ...time, ...extra, stages: ev.costsNow() });
  // The numbers the refinement found for its frames, with the final identity: their warm start,
  // and where the restart rule starts again.
  const refined = new Map<number, Float32Array>();
  let identityInfo: EncodeResult['identity'] = null;

  if (o.givenIdentity && project.doc.encoding.identityFrame === null) {
    project.wid.set(o.givenIdentity);
    project.doc.encoding.identityFrame = 0;
    await saveProject(project);
  }
  // Identity: inversion of the candidates, then refinement over frames spread across the clip.
  if (project.doc.encoding.identityFrame === null) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const refineIdx = refineStages.length ? spread(count, Math.min(s.identity.refineFrames, count)) : [];
    const probeIdx = s.identity.probe && refineIdx.length > 1 ? probeFrames(refineIdx) : [];
    // The steps a stopped run of this identity search saved, and the saving of new ones.
    const L = dec.numWs * dec.wDim;
    const unknowns = Math.max(candidates.length * L, L + (refineIdx.length + probeIdx.length) * P);
    const memory = Math.max(1, ...s.stages.map((st) => (st.optimiser.kind === 'lbfgs' ? st.optimiser.memory : 1)));
    let base = { cpuMs: 0, wallMs: 0 };
    const progress = await IdentityProgress.open(project.dir, identityProgressKey(project, o, s, perceptual, { candidates, refineIdx, probeIdx }, affines), {
      everyMs: o.identitySaveEveryMs ?? 120_000,
      maxBytes: 8 * memory * unknowns + 16 * memory * memory + 512 * unknowns + (1 << 24),
      ledger: () => {
        const c = process.cpuUsage(c0);
        return { cpuMs: base.cpuMs + (c.user + c.system) / 1000, wallMs: base.wallMs + performance.now() - t0, costs: ev.costsNow() };
      }
    });
    const unsaved = () => (progress.saveProblem ? `; its progress cannot be saved (${progress.saveProblem})` : '');
    if (progress.resumedLedger) {
      base = { cpuMs: progress.resumedLedger.cpuMs, wallMs: progress.resumedLedger.wallMs };
      ev.restoreCosts(progress.resumedLedger.costs);
      const { done, live } = progress.resumedSteps;
      report({ stage: 'identity', fraction: at(identityStages[0]?.id ?? 'hash', 0), message: `resuming the identity search after ${done} finished step${done === 1 ? '' : 's'}${live ? ` and part of ${live}` : ''}` });
    }
    const crops = await cropsAt(o.video, start, decoding, affines, [...candidates, ...refineIdx, ...probeIdx], res, o.signal);
    const inv = await invertFrames(
      ev,
      identityStages,
      stackFrames(candidates.map((i) => crops.get(i)!)),
      candidates.length,
      (st, p) => report({ stage: 'identity', fraction: at(st.id, p.iteration / p.of), loss: p.loss, message: `${st.label}: ${candidates.length} frame${candidates.length > 1 ? 's' : ''} (${p.iteration}/${p.of})${unsaved()}` }),
      progress
    );
    let bestJ = 0;
    inv.losses.forEach((l, j) => (l < inv.losses[bestJ]! ? (bestJ = j) : 0));
    const wid: Float32Array = inv.wplus.slice(bestJ * L, (bestJ + 1) * L);
    if (refineIdx.length > 1) {
      // Over the whole refine phase, so that it only moves forward: the first round takes its
      // first two thirds when a second may follow (planCosts counts that as half as much again),
      // each refine stage an equal part of a round.
      const from = plan.get(refineStages[0]!.id)!.start;
      const to = plan.get(refineStages[refineStages.length - 1]!.id)!.end;
      const onProgress: RefineOptions['onProgress'] = (round, rounds, st, p, k) => {
        const [a, b] = rounds === 1 ? [0, 1] : round === 0 ? [0, 2 / 3] : [2 / 3, 1];
        const f = a + ((b - a) * (refineStages.indexOf(st) + share(p.iteration / p.of))) / refineStages.length;
        const again = round > 0 ? `, again with ${k} frames: the frames between fitted worse` : '';
        // A stage with a loss of its own reports that loss: say which, since the identity search's plot goes on from the schedule's.
        const own = ownLoss(st, ev) ? `, loss of ${lossTerms(st.loss!, ev.dec.perceptual !== null)} only` : '';
        report({ stage: 'refine', fraction: from + (to - from) * f, loss: p.loss, message: `${st.label}${again}${own} (${p.iteration}/${p.of})${unsaved()}` });
      };
      const r = await refineIdentity(ev, { refine: refineStages, frames: frameStages, window: s.frames.window, probe: s.identity.probe, onProgress, progress }, wid, refineIdx, crops);
      r.frames.forEach((p, f) => refined.set(f, p));
      identityInfo = { refineFrames: [...r.frames.keys()], refinedLoss: r.refinedLoss, probes: r.probes };
    }
    project.wid.set(wid);
    project.doc.encoding.identityFrame = candidates[bestJ]!;
    // Saved with the identity, so that a resumed encode starts those frames where this one would.
    project.doc.encoding.settings[REFINED_KEY] = Object.fromEntries([...refined].map(([f, p]) => [String(f), Array.from(p)]));
    project.doc.encoding.settings[IDENTITY_INFO_KEY] = identityInfo;
    const spent = progress.ledgerNow();
    time.identityCpuMs = spent.cpuMs;
    time.identityWallMs = spent.wallMs;
    project.doc.encoding.settings[COST_KEY] = costNow();
    await saveProject(project);
  }
  const wid = project.wid;
  // The identity is saved: a search's progress file is of no use now (a crash after the save, or a given identity).
  removeIdentityProgress(project.dir);
  // Past the identity (a resume): the refinement's numbers as it saved them.
  if (refined.size === 0) for (const [f, p] of savedRefined(project.doc.encoding.settings[REFINED_KEY], count)) refined.set(f, p);
  identityInfo ??= savedIdentityInfo(project.doc.encoding.settings[IDENTITY_INFO_KEY]);

  // Per frame, window by window, warm-started from the last saved frames.
  const from = project.doc.encoding.encodedThrough;
  const W = Math.max(1, s.frames.window);
  // The solved frames the next warm start is predicted from (oldest first); the last is the frame
  // before the next window, which the smoothness term ties it to.
  let history: Float32Array[] = [];
  for (let f = Math.max(0, from - WARM_START_HISTORY); f < from; f++) history.push(project.params.slice(f * P, (f + 1) * P));
  const solvers = new Map<string, NewtonSolver>();
  const framesBefore = { cpuMs: time.framesCpuMs, wallMs: time.framesWallMs };
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let done = 0;
  let window: Float32Array[] = [];
  let windowStart = from;
  const lastFrames = plan.get(frameStages[frameStages.length - 1]!.id)!;
  const framesRange = { start: plan.get(frameStages[0]!.id)!.start, end: lastFrames.end };
  // Losses of the frames encoded so far (the restart rule compares with their recent median),
  // and the frames solved again.
  const accepted: number[] = Array.from(project.loss.subarray(Math.max(0, from - RESTART_HISTORY), from));
  const restarts: number[] = [];
  const flush = async () => {
    if (window.length === 0) return;
    const n = window.length;
    // Adam windows keep the batch they were built for (a short last window is padded);
    // Gauss-Newton solves frame by frame, so it takes the window as it is.
    const batch = frameStages.some((st) => st.optimiser.kind === 'adam') ? W : n;
    const targets = new Float32Array(batch * 3 * res * res);
    window.forEach((c, k) => targets.set(c, k * c.length));
    for (let k = n; k < batch; k++) targets.set(window[n - 1]!, k * window[0]!.length); // pad a short last window
    const init = new Float32Array(batch * P);
    const start0 = warmStart(s.frames.warmStart, history);
    const prev = history.at(-1) ?? null;
    for (let k = 0; k < batch; k++) init.set(refined.get(windowStart + k) ?? start0, k * P);
    const losses = await runFrameStages(ev, frameStages, wid, init, targets, batch, prev, s.frames.smoothness, solvers);
    let jumped = false;
    for (let k = 0; k < n; k++) {
      const f = windowStart + k;
      if (s.frames.restart && needsRestart(losses[k]!, accepted.slice(-RESTART_HISTORY), s.frames.restart.factor)) {
        // Solved again from the neutral numbers and from the nearest refined frame (not its own
        // start), each by a fresh solver: a curvature learnt along the clip is the wrong one at a
        // distant start.
        const starts: Float32Array[] = [new Float32Array(P)];
        const near = [...refined.keys()].sort((a, b) => Math.abs(a - f) - Math.abs(b - f))[0];
        if (near !== undefined && near !== f) starts.push(refined.get(near)!);
        const before = k > 0 ? init.slice((k - 1) * P, k * P) : prev;
        const plane = window[k]!.length;
        const best = await solveFromStarts(ev, frameStages, wid, starts, targets.subarray(k * plane, (k + 1) * plane), before, s.frames.smoothness);
        const won = lowerLoss(best.loss, losses[k]!);
        if (won) {
          losses[k] = best.loss;
          init.set(best.params, k * P);
        }
        restarts.push(f);
        // The branch changed: the next frames learn their curvature afresh and start from this
        // frame, not from an extrapolation across the change (else they drift back).
        if (won) {
          solvers.clear();
          if (k === n - 1) jumped = true;
        }
      }
      accepted.push(losses[k]!);
    }
    const params = init.subarray(0, n * P);
    const c = process.cpuUsage(c0);
    const cost = costNow({ framesCpuMs: framesBefore.cpuMs + (c.user + c.system) / 1000, framesWallMs: framesBefore.wallMs + performance.now() - t0 });
    await writeFrames(project, windowStart, params, transforms.subarray(windowStart * 6, (windowStart + n) * 6), losses.subarray(0, n), { [COST_KEY]: cost });
    await o.onFrames?.({ start: windowStart, params: params.slice(), loss: losses.slice(0, n), crops: window, wid, resolution: res });
    // After a restart that won on the window's last frame the next frames start from it alone,
    // not from a prediction across the change.
    if (jumped) history = [];
    for (let k = jumped ? n - 1 : 0; k < n; k++) history.push(params.slice(k * P, (k + 1) * P));
    history = history.slice(-WARM_START_HISTORY);
    done += n;
    windowStart += n;
    window = [];
    const elapsed = (performance.now() - t0) / 1000;
    const left = count - windowStart;
    const meanLoss = losses.subarray(0, n).reduce((a, b) => a + b, 0) / n;
    report({
      stage: 'frames',
      fraction: framesRange.start + (framesRange.end - framesRange.start) * (windowStart / count),
      frame: windowStart,
      of: count,
      loss: meanLoss,
      etaSec: (elapsed / done) * left,
      message: `encoded frame ${windowStart} of ${count}`
    });
  };
  if (from < count) {
    for await (const f of decodeFrames(o.video, { start: start + from, count: count - from, ...decoding, signal: o.signal })) {
      throwIfAborted(o.signal);
      const i = f.index - start;
      window.push(fromRgb8(warpToCrop(f.data, f.width, f.height, affines[i]!, res), res, res));
      if (window.length === W) await flush();
    }
    await flush();
    if (windowStart < count) throw endedEarly(o.video, start + windowStart, start);
  }
  removeAlignProgress(project.dir);
  const c = process.cpuUsage(c0);
  time.framesCpuMs = framesBefore.cpuMs + (c.user + c.system) / 1000;
  time.framesWallMs = framesBefore.wallMs + performance.now() - t0;
  report({ stage: 'done', fraction: 1, etaSec: 0, message: `encoded ${count} frames` });
  return {
    project,
    resumed,
    framesEncoded: done,
    secondsPerFrame: done ? (performance.now() - t0) / 1000 / done : 0,
    identityFrame: project.doc.encoding.identityFrame ?? 0,
    align: alignInfo,
    stageCosts: ev.costsNow(),
    time,
    maxBatch,
    restarts,
    identity: identityInfo
  };
}
