// Encoding step 1 (METHOD.md): decode a video, find the face and its 68
// landmarks in every frame, turn them into FFHQ quads, bridge short runs with
// no face, smooth the quads over time and derive the crop transforms T_t.
//
// Memory: frames are streamed from decodeFrames and dropped once their
// landmarks are taken; only the per-frame boxes, landmarks (136 floats) and
// quads are kept, so a long video costs a few hundred bytes a frame.
//
// Detection:
//  - The detector runs on a box-filtered copy downscaled by a whole factor so
//    that its longer side is at most `detectMaxSide` (default 640): detectors
//    look at a few hundred pixels anyway, and an area-filtered copy is both
//    faster to hand over and free of the aliasing of a nearest-pixel resize.
//    Boxes are scaled back; landmarks always run on the full-resolution frame.
//  - Among several faces: the one overlapping the previous frame's face most
//    (IoU >= 0.1), so the track stays on one person; else the largest.
//    Detections scoring below `minScore` (default 0.5) are ignored.
//  - When the detector misses (motion blur, a hand, a hard turn) but the
//    previous frame had a face, the previous box, moved by the previous
//    frame's landmark motion, is given to the landmark network as a hint, for
//    at most `maxHintFrames` frames in a row (default 8). Hinted landmarks are
//    kept only if they are plausible: their quad's centre inside the hint box
//    grown by half and its size within 1/1.5..1.5 of the previous quad's;
//    otherwise the frame has no face. Hinted frames are listed in the result,
//    and their box has score 0.
// Then fillGaps (smooth.ts) bridges runs of at most `maxGap` frames with no
// face (default 8) and throws NO_FACE for longer ones, and smoothQuads applies
// the user's smoothing strength.
//
// Resuming: detection and landmarks are the expensive part, and each frame's
// result depends on the frames before only through the tracker's state (the
// last box, the last two landmark sets, the hint run). `onCheckpoint` hands out
// the per-frame results after every frame; given back as `resume`, they restore
// that state exactly and detection continues at the next frame, so a resumed
// alignment equals an uninterrupted one. Gap filling and smoothing, which need
// the whole sequence, always run at the end.
import type { Runtime } from '../runtime';
import { throwIfAborted } from '../util/cancel';
import { decodeFrames, probeVideo, type VideoInfo } from '../video';
import { FaceAlignError } from './errors';
import { ffhqQuad, quadToAffine, type Quad } from './align';
import { alignedLandmarkJitter } from './jitter';
import { fillGaps, resolveSmoothing, smoothQuads, type SmoothingOptions } from './smooth';
import type { Affine, FaceBox, FrameFace, Landmarks68 } from './types';
import { downscaleArea } from './warp';

/** What the pipeline needs of the face networks (FaceNets in nets/ fits; tests pass fakes). */
export interface FaceNetsLike {
  /** Faces in an RGB (HWC, bytes) image of width x height, in that image's pixels. */
  detect(rgb: Uint8Array, width: number, height: number): FaceBox[] | Promise<FaceBox[]>;
  /** 68 iBUG landmarks of the face in `box`, in the image's pixels (pixel centres at +0.5, types.ts). */
  landmarks(rgb: Uint8Array, width: number, height: number, box: FaceBox): Landmarks68 | Promise<Landmarks68>;
}

export interface AlignVideoOptions {
  path: string;
  /**
   * The runtime the networks were loaded on. Not used by the pipeline itself
   * (it only calls `nets`); accepted so callers can hand over one context.
   */
  rt?: Runtime;
  nets: FaceNetsLike;
  /** Output crop size the affines are made for (default 256). */
  size?: number;
  /** Temporal smoothing strength (default { sigmaFrames: 10 }; sigmaFrames 0 = off). */
  smoothing?: Partial<SmoothingOptions>;
  /** Longest run of frames without a face that is bridged (default 8). */
  maxGap?: number;
  /** Frame range (default: all). */
  frames?: { start?: number; count?: number };
  /** Longest side of the detector's copy of the frame (default 640). */
  detectMaxSide?: number;
  /** Lowest detector score accepted (default 0.5). */
  minScore?: number;
  /** Most consecutive frames that may reuse a hint box (default 8). */
  maxHintFrames?: number;
  /** A probe of this file, to skip probing again. */
  info?: VideoInfo;
  signal?: AbortSignal;
  /** Called after each frame with the number of frames done and the number expected. */
  onProgress?(done: number, total: number): void;
  /** Frames already detected by an earlier, interrupted run with the same video, range and tracker settings. */
  resume?: AlignCheckpoint;
  /** Called after each frame with everything detected so far (what `resume` takes). */
  onCheckpoint?(c: AlignCheckpoint): void;
}

/**
 * The per-frame results of detection so far: enough to continue where it stopped. The
 * arrays handed to `onCheckpoint` are the pipeline's own and keep growing: a caller that
 * keeps them for later copies the first `frames.length` entries.
 */
export interface AlignCheckpoint {
  /** The frames done, in order from the first frame of the range. */
  frames: readonly FrameFace[];
  /** Source indices of the frames among them whose landmarks came from a hint box. */
  hintedFrames: readonly number[];
  /** Hint boxes used since the detector last found a face (the tracker's one state not in the frames). */
  hintRun: number;
}

/** The tracker settings, defaults filled in: a checkpoint is only valid for the same ones. */
export interface TrackerSettings {
  detectMaxSide: number;
  minScore: number;
  maxHintFrames: number;
}

export function trackerSettings(opts: Pick<AlignVideoOptions, 'detectMaxSide' | 'minScore' | 'maxHintFrames'> = {}): TrackerSettings {
  return { detectMaxSide: opts.detectMaxSide ?? 640, minScore: opts.minScore ?? 0.5, maxHintFrames: opts.maxHintFrames ?? 8 };
}

export interface AlignVideoResult {
  /** Source frame size. */
  width: number;
  height: number;
  fps: number;
  /** Crop size the affines are for. */
  size: number;
  /** Source index of the first frame (frames[i].index = start + i). */
  start: number;
  frames: FrameFace[];
  /** Per-frame FFHQ quads before gap filling and smoothing (null: no face). */
  quadsRaw: (Quad | null)[];
  quadsSmoothed: Quad[];
  /** Crop -> source transforms T_t of the smoothed quads, for `size`. */
  affines: Affine[];
  /** Frames with landmarks (found or hinted) / frames. */
  faceFoundFraction: number;
  /** Source indices of the frames whose landmarks came from a hint box. */
  hintedFrames: number[];
  /** alignedLandmarkJitter in pixels of a 256 crop, of the smoothed and of the raw (per-frame) transforms. */
  jitterPx: { smoothed: number; raw: number };
}

function iou(a: FaceBox, b: FaceBox): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** The face to follow among `boxes` (see the header). */
export function pickFace(boxes: FaceBox[], previous: FaceBox | null, minScore: number): FaceBox | null {
  const ok = boxes.filter((b) => b.score >= minScore && b.width > 0 && b.height > 0);
  if (ok.length === 0) return null;
  if (previous) {
    let best: FaceBox | null = null;
    let bestIou = 0.1;
    for (const b of ok) {
      const v = iou(b, previous);
      if (v >= bestIou) {
        bestIou = v;
        best = b;
      }
    }
    if (best) return best;
  }
  return ok.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
}

function tryQuad(lm: Landmarks68 | null | undefined): Quad | null {
  if (!lm) return null;
  try {
    return ffhqQuad(lm);
  } catch {
    return null;
  }
}

function centroid(lm: Landmarks68): [number, number] {
  let x = 0;
  let y = 0;
  for (let i = 0; i < 68; i++) {
    x += lm[2 * i];
    y += lm[2 * i + 1];
  }
  return [x / 68, y / 68];
}

function checkCount(name: string, v: number, min: number): void {
  if (!(Number.isInteger(v) && v >= min)) throw new FaceAlignError('INVALID_ARGUMENT', `${name} must be a whole number >= ${min}, got ${v}`);
}

/** Aligns every frame of a video (see the header). Throws NO_FACE when faces are missing for too long. */
export async function alignVideo(opts: AlignVideoOptions): Promise<AlignVideoResult> {
  const { path, nets, signal } = opts;
  const size = opts.size ?? 256;
  const maxGap = opts.maxGap ?? 8;
  const { detectMaxSide, minScore, maxHintFrames } = trackerSettings(opts);
  checkCount('size', size, 1);
  checkCount('maxGap', maxGap, 0);
  checkCount('detectMaxSide', detectMaxSide, 16);
  checkCount('maxHintFrames', maxHintFrames, 0);
  throwIfAborted(signal);

  resolveSmoothing(opts.smoothing); // a bad sigma fails now, not after every frame is aligned
  const info = opts.info ?? (await probeVideo(path));
  const start = opts.frames?.start ?? 0;
  const count = opts.frames?.count;
  if (count !== undefined && start + count > info.frameCount) {
    throw new FaceAlignError('INVALID_ARGUMENT', `frames ${start}:${start + count} are outside "${path}", which has ${info.frameCount} frames (0:${info.frameCount})`);
  }
  const total = Math.max(0, Math.min(count ?? Infinity, info.frameCount - start));
  const factor = Math.max(1, Math.ceil(Math.max(info.width, info.height) / detectMaxSide));

  const frames: FrameFace[] = [];
  const quadsRaw: (Quad | null)[] = [];
  const hintedFrames: number[] = [];
  let prevBox: FaceBox | null = null;
  let prevLm: Landmarks68 | null = null;
  let prevPrevLm: Landmarks68 | null = null;
  let prevQuad: Quad | null = null;
  let hintRun = 0;

  if (opts.resume && opts.resume.frames.length > 0) {
    const r = opts.resume;
    const k = r.frames.length;
    if (k > total || r.frames.some((f, i) => f.index !== start + i) || r.hintedFrames.some((i) => i < start || i >= start + k)) {
      throw new FaceAlignError('INVALID_ARGUMENT', `the alignment to resume holds frames ${r.frames[0]!.index}-${r.frames[k - 1]!.index}, not the first ${k} of frames ${start}-${start + total - 1}`);
    }
    for (const f of r.frames) {
      const quad = tryQuad(f.landmarks);
      if (Boolean(quad) !== Boolean(f.landmarks) || Boolean(f.box) !== Boolean(f.landmarks)) {
        throw new FaceAlignError('INVALID_ARGUMENT', `the alignment to resume has an inconsistent frame ${f.index}`);
      }
      frames.push({ index: f.index, box: f.box ? { ...f.box } : null, landmarks: f.landmarks ? Float32Array.from(f.landmarks) : null });
      quadsRaw.push(quad);
    }
    hintedFrames.push(...r.hintedFrames);
    hintRun = r.hintRun;
    // The state the loop below leaves after the last of these frames.
    prevBox = frames[k - 1]!.box;
    prevLm = frames[k - 1]!.landmarks;
    prevQuad = quadsRaw[k - 1]!;
    prevPrevLm = prevQuad && k > 1 ? frames[k - 2]!.landmarks : null;
    opts.onProgress?.(k, total);
  }
  const resumed = frames.length;

  for await (const frame of decodeFrames(path, { start: start + resumed, count: count === undefined ? undefined : count - resumed, signal, info })) {
    throwIfAborted(signal);
    const { width: w, height: h, data } = frame;
    const small = downscaleArea(data, w, h, factor);
    const found = await nets.detect(small.data, small.width, small.height);
    throwIfAborted(signal); // before the landmarks: a stop waits for one network, not two
    const scaled = found.map((b) => ({ ...b, x: b.x * factor, y: b.y * factor, width: b.width * factor, height: b.height * factor }));
    let box = pickFace(scaled, prevBox, minScore);
    let lm: Landmarks68 | null = null;
    let quad: Quad | null = null;
    if (box) {
      lm = await nets.landmarks(data, w, h, box);
      quad = tryQuad(lm);
      hintRun = 0;
    } else if (prevBox && prevLm && prevQuad && hintRun < maxHintFrames) {
      // Move the previous box with the face's last known motion, and ask for landmarks there.
      let dx = 0;
      let dy = 0;
      if (prevPrevLm) {
        const [ax, ay] = centroid(prevLm);
        const [bx, by] = centroid(prevPrevLm);
        dx = ax - bx;
        dy = ay - by;
      }
      const hint: FaceBox = { x: prevBox.x + dx, y: prevBox.y + dy, width: prevBox.width, height: prevBox.height, score: 0 };
      const cand = await nets.landmarks(data, w, h, hint);
      const q = tryQuad(cand);
      const ratio = q ? q.s / prevQuad.s : 0;
      const inBox =
        q !== null &&
        q.cx >= hint.x - hint.width / 4 &&
        q.cx <= hint.x + (hint.width * 5) / 4 &&
        q.cy >= hint.y - hint.height / 4 &&
        q.cy <= hint.y + (hint.height * 5) / 4;
      if (q && inBox && ratio > 1 / 1.5 && ratio < 1.5) {
        box = hint;
        lm = cand;
        quad = q;
        hintRun++;
        hintedFrames.push(frame.index);
      }
    }
    if (!quad) {
      box = null;
      lm = null;
    }
    // A copy: the networks may hand back a buffer they reuse.
    const kept = lm ? Float32Array.from(lm) : null;
    frames.push({ index: frame.index, box, landmarks: kept });
    quadsRaw.push(quad);
    prevPrevLm = quad && prevLm ? prevLm : null;
    prevBox = box;
    prevLm = kept;
    prevQuad = quad;
    opts.onCheckpoint?.({ frames, hintedFrames, hintRun });
    opts.onProgress?.(frames.length, Math.max(total, frames.length));
  }
  throwIfAborted(signal);
  if (frames.length === 0) {
    throw new FaceAlignError('INVALID_ARGUMENT', `no frames to align in "${path}" from frame ${start}`);
  }

  const filled = fillGaps(quadsRaw, maxGap, frames[0].index);
  const quadsSmoothed = smoothQuads(filled, opts.smoothing);
  const affines = quadsSmoothed.map((q) => quadToAffine(q, size));
  const landmarks = frames.map((f) => f.landmarks);
  const rawAffines = quadsRaw.map((q) => (q ? quadToAffine(q, size) : null));
  const found = frames.filter((f) => f.landmarks !== null).length;
  return {
    width: info.width,
    height: info.height,
    fps: info.fps,
    size,
    start: frames[0].index,
    frames,
    quadsRaw,
    quadsSmoothed,
    affines,
    faceFoundFraction: found / frames.length,
    hintedFrames,
    jitterPx: {
      smoothed: alignedLandmarkJitter(landmarks, affines, 256, size),
      raw: alignedLandmarkJitter(landmarks, rawAffines, 256, size),
    },
  };
}
