// Calibration for models that draw faces (METHOD.md, "Edit basis"): the renders are
// read with the 68-point landmark detector, so that
//   - pose directions are measured in degrees: head pose of each sampled render by a
//     weak-perspective fit (face/headpose.ts), regressed on the principal coordinates
//     of w, then rescaled so that one unit on the coarse W+ rows turns the head by
//     one degree;
//   - the regions a channel is scored against come from each probe's own landmarks
//     instead of fixed boxes;
//   - each chosen channel is named from the landmark motion it causes (ATTRIBUTE_VOCABULARY)
//     and oriented so that +1 unit is the named motion.
// The seeded test models draw no faces: `calibrateModel` detects that and falls back to
// fixed regions and pseudo-degrees (calibrate.ts).
import type { FaceNetsLike } from '../face/pipeline';
import { choleskySolve } from '../util/linalg';
import { headPose, type HeadPose } from '../face/headpose';
import type { Landmarks68 } from '../face/types';
import { ATTRIBUTE_VOCABULARY } from '../params';
import { toRgb8 } from '../render/image';
import type { Runtime } from '../runtime';
import { throwIfAborted } from '../util/cancel';
import { Rng } from '../util/random';
import { numWs } from './architecture';
import { REGIONS, type AttributeChannel, type EditBasis, type Region } from './basis';
import type { ModelBundle } from './bundle';
import { calibrateFixedRegions, regionMask, type CalibrateOptions, type CalibrationContext, type CalibrationHooks } from './calibrate';
import { Generator } from './generator';

export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

// ---- regions from landmarks ------------------------------------------------

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Fills the ellipse around the bounding box of some landmarks, grown by `grow` of its size (at least `minPx`). */
function fillEllipse(m: Float32Array, res: number, lm: ArrayLike<number>, idx: readonly number[], grow: number, minPx: number): void {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const i of idx) {
    x0 = Math.min(x0, lm[2 * i]!);
    x1 = Math.max(x1, lm[2 * i]!);
    y0 = Math.min(y0, lm[2 * i + 1]!);
    y1 = Math.max(y1, lm[2 * i + 1]!);
  }
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const rx = Math.max(((x1 - x0) / 2) * (1 + grow), minPx);
  const ry = Math.max(((y1 - y0) / 2) * (1 + grow), minPx);
  for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(res, Math.ceil(cy + ry)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(res, Math.ceil(cx + rx)); x++) {
      if (((x + 0.5 - cx) / rx) ** 2 + ((y + 0.5 - cy) / ry) ** 2 <= 1) m[y * res + x] = 1;
    }
  }
}

/**
 * Region masks (res x res, 0 or 1) from 68 landmarks in the same pixels: the mouth,
 * both eyes, both brows, and nose + forehead + cheeks.
 */
export function landmarkRegionMasks(lm: Landmarks68 | ArrayLike<number>, res: number): Record<Region, Float32Array> {
  const eyeDist = Math.hypot(lm[2 * 45]! - lm[2 * 36]!, lm[2 * 45 + 1]! - lm[2 * 36 + 1]!);
  const min = eyeDist * 0.08;
  const masks = Object.fromEntries(REGIONS.map((r) => [r, new Float32Array(res * res)])) as Record<Region, Float32Array>;
  fillEllipse(masks.mouth, res, lm, range(48, 67), 0.45, min);
  fillEllipse(masks.eyes, res, lm, range(36, 41), 0.6, min);
  fillEllipse(masks.eyes, res, lm, range(42, 47), 0.6, min);
  fillEllipse(masks.brows, res, lm, range(17, 21), 0.35, min * 1.5);
  fillEllipse(masks.brows, res, lm, range(22, 26), 0.35, min * 1.5);
  const nfc = masks['nose-forehead-cheeks'];
  fillEllipse(nfc, res, lm, range(27, 35), 0.25, min);
  // Forehead: a band above the brows as tall as 0.6 of the brow-to-nose-tip height.
  const browY = Math.min(...range(17, 26).map((i) => lm[2 * i + 1]!));
  const rise = (lm[2 * 33 + 1]! - browY) * 0.6;
  const fore = [lm[2 * 17]!, browY - rise, lm[2 * 26]!, browY - rise * 0.15];
  fillEllipse(nfc, res, fore, [0, 1], 0, min);
  // Cheeks: between the outer eye corner, the jaw line and the mouth corner on each side.
  fillEllipse(nfc, res, lm, [1, 2, 3, 31, 41], 0.05, min);
  fillEllipse(nfc, res, lm, [13, 14, 15, 35, 46], 0.05, min);
  // A pixel belongs to one region: the specific ones win over nose/forehead/cheeks.
  for (let i = 0; i < res * res; i++) {
    if (masks.brows[i]) masks.eyes[i] = 0;
    if (masks.mouth[i] || masks.eyes[i] || masks.brows[i]) nfc[i] = 0;
  }
  return masks;
}

// ---- pose ------------------------------------------------------------------

/** Solves the symmetric positive-definite system A x = b (n x n, row-major) by Cholesky. */
function solveSpd(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const x = choleskySolve(A, b, n);
  if (!x) throw new CalibrationError('pose regression is singular: too few renders with a detected face');
  return x;
}

/**
 * Fits angles ~ A z + c over samples (ridge `lambda` relative to the mean variance of z)
 * and returns, for each of the three angles, the minimum-norm step in z that changes
 * that angle by one degree and leaves the other two unchanged: the columns of
 * A^T (A A^T)^-1.
 */
export function fitPoseDirections(z: readonly ArrayLike<number>[], angles: readonly (readonly [number, number, number])[], lambda = 1e-3): Float64Array[] {
  const n = z.length;
  const k = z[0]?.length ?? 0;
  if (n !== angles.length) throw new CalibrationError(`pose fit: ${n} latents but ${angles.length} angle triples`);
  if (n < k + 2) throw new CalibrationError(`pose fit: ${n} renders with a face are too few for ${k} directions (need ${k + 2})`);
  const m = k + 1;
  const XtX = new Float64Array(m * m);
  let varSum = 0;
  const row = new Float64Array(m);
  const XtY = [new Float64Array(m), new Float64Array(m), new Float64Array(m)];
  for (let s = 0; s < n; s++) {
    for (let j = 0; j < k; j++) row[j] = z[s]![j]!;
    row[k] = 1;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) XtX[i * m + j]! += row[i]! * row[j]!;
      for (let a = 0; a < 3; a++) XtY[a]![i]! += row[i]! * angles[s]![a]!;
    }
    for (let j = 0; j < k; j++) varSum += row[j]! ** 2;
  }
  const ridge = lambda * (varSum / Math.max(1, k));
  for (let j = 0; j < k; j++) XtX[j * m + j]! += ridge;
  const A = XtY.map((y) => solveSpd(XtX, y, m).subarray(0, k)); // 3 rows of length k
  const G = new Float64Array(9);
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) for (let j = 0; j < k; j++) G[a * 3 + b]! += A[a]![j]! * A[b]![j]!;
  const out: Float64Array[] = [];
  for (let a = 0; a < 3; a++) {
    const e = new Float64Array(3);
    e[a] = 1;
    const g = solveSpd(G, e, 3);
    const v = new Float64Array(k);
    for (let b = 0; b < 3; b++) for (let j = 0; j < k; j++) v[j]! += A[b]![j]! * g[b]!;
    out.push(v);
  }
  return out;
}

// ---- naming ----------------------------------------------------------------

type Pt = (i: number) => [number, number];

/**
 * The landmark motion each vocabulary name stands for, as a signed scalar of the
 * displacement d (landmarks at +unit minus at -unit, over 2) around the base
 * landmarks b, in units of the eye distance, image y pointing down. Left and right
 * are the subject's: the subject's left is the image's right (landmarks 42-47, 22-26, 54).
 */
const FEATURES: Record<string, (d: Pt, b: Pt) => number> = {
  'lip open': (d) => d(66)[1] - d(62)[1],
  smile: (d) => -(d(48)[1] + d(54)[1]) / 2 + (d(51)[1] + d(57)[1]) / 2 + 0.5 * (d(54)[0] - d(48)[0]),
  'jaw open': (d) => d(8)[1] - d(33)[1],
  pout: (d) => -(d(54)[0] - d(48)[0]) + (d(57)[1] - d(51)[1]),
  purse: (d) => -(d(54)[0] - d(48)[0]) - (d(57)[1] - d(51)[1]),
  grin: (d) => d(54)[0] - d(48)[0] + (d(66)[1] - d(62)[1]),
  'lip corner left': (d) => -(d(54)[1] - d(48)[1]),
  'lip corner right': (d) => -(d(48)[1] - d(54)[1]),
  'lip press': (d) => -(d(57)[1] - d(51)[1]),
  'lip stretch': (d) => d(54)[0] - d(48)[0] - Math.abs((d(48)[1] + d(54)[1]) / 2),
  'upper lip raise': (d) => -(d(51)[1] - d(33)[1]),
  'lower lip drop': (d) => d(57)[1] - d(33)[1],
  'wink left': (d) => -eyeOpen(d, 42) + eyeOpen(d, 36),
  'wink right': (d) => -eyeOpen(d, 36) + eyeOpen(d, 42),
  'eyes wide': (d) => eyeOpen(d, 36) + eyeOpen(d, 42),
  squint: (d) => -(d(40)[1] + d(41)[1] + d(46)[1] + d(47)[1]) / 4 - 0.5 * (eyeOpen(d, 36) + eyeOpen(d, 42)),
  'gaze left-right': (d) => (d(36)[0] + d(39)[0] + d(42)[0] + d(45)[0]) / 4 - d(27)[0],
  'gaze up-down': (d) => (d(37)[1] + d(38)[1] + d(43)[1] + d(44)[1]) / 4 - d(27)[1],
  blink: (d) => -(eyeOpen(d, 36) + eyeOpen(d, 42)),
  'lower lid raise': (d) => -(d(40)[1] + d(41)[1] + d(46)[1] + d(47)[1]) / 4,
  'brow raise': (d) => -mean(d, range(17, 26), 1) + mean(d, range(36, 47), 1),
  'brow furrow': (d) => -(d(22)[0] - d(21)[0]) + (d(21)[1] + d(22)[1]) / 2,
  'brow raise left': (d) => -mean(d, range(22, 26), 1) + mean(d, range(17, 21), 1),
  'brow raise right': (d) => -mean(d, range(17, 21), 1) + mean(d, range(22, 26), 1),
  'inner brow raise': (d) => -(d(21)[1] + d(22)[1]) / 2 + (d(17)[1] + d(26)[1]) / 2,
  'brow lower': (d) => mean(d, range(17, 26), 1) - mean(d, range(36, 47), 1),
  'nose wrinkle': (d) => -(d(33)[1] - d(27)[1]),
  'cheek raise': (d) => -(d(41)[1] + d(46)[1]) / 2 - (d(48)[1] + d(54)[1]) / 2,
  'cheek puff': (d) => d(13)[0] - d(3)[0],
  'forehead wrinkle': (d) => -mean(d, range(17, 26), 1),
  'nostril flare': (d) => d(35)[0] - d(31)[0],
  'cheek suck': (d) => -(d(13)[0] - d(3)[0])
};

function eyeOpen(d: Pt, first: number): number {
  // Lower lid minus upper lid: 36-41 (image left) or 42-47 (image right).
  return (d(first + 4)[1] + d(first + 5)[1]) / 2 - (d(first + 1)[1] + d(first + 2)[1]) / 2;
}

function mean(d: Pt, idx: number[], axis: 0 | 1): number {
  return idx.reduce((s, i) => s + d(i)[axis], 0) / idx.length;
}

/** Landmarks that belong to a region, for the size of a channel's motion there. */
const REGION_LANDMARKS: Record<Region, number[]> = {
  mouth: [...range(48, 67), 8],
  eyes: range(36, 47),
  brows: range(17, 26),
  'nose-forehead-cheeks': [...range(27, 35), 1, 2, 3, 13, 14, 15]
};

/** Below this RMS landmark motion (eye distances) a channel counts as not measured. */
const MIN_MOTION = 1e-3;

export interface ChannelMotion {
  region: Region;
  /** Landmarks at +unit and -unit, in pixels. */
  plus: ArrayLike<number>;
  minus: ArrayLike<number>;
  base: ArrayLike<number>;
}

/**
 * Names the channels of one region from their landmark motion: greedy assignment of
 * the vocabulary by how much of each channel's motion a name's feature explains.
 * Returns a name and an orientation per channel (+1: +unit is the named motion).
 * Channels whose landmarks do not move measurably get the names left over, in order.
 */
export function nameByMotion(region: Region, motions: readonly ChannelMotion[]): { name: string; sign: 1 | -1; measured: boolean }[] {
  const vocab = ATTRIBUTE_VOCABULARY[region] as readonly string[];
  if (motions.length > vocab.length) throw new CalibrationError(`${motions.length} ${region} channels but only ${vocab.length} names`);
  const scores = motions.map((m) => {
    const b: Pt = (i) => [m.base[2 * i]!, m.base[2 * i + 1]!];
    const eye = Math.hypot(b(45)[0] - b(36)[0], b(45)[1] - b(36)[1]) || 1;
    const d: Pt = (i) => [(m.plus[2 * i]! - m.minus[2 * i]!) / 2 / eye, (m.plus[2 * i + 1]! - m.minus[2 * i + 1]!) / 2 / eye];
    const idx = REGION_LANDMARKS[region];
    const motion = Math.sqrt(idx.reduce((s, i) => s + d(i)[0] ** 2 + d(i)[1] ** 2, 0) / idx.length);
    return { motion, feature: vocab.map((n) => FEATURES[n]!(d, b)) };
  });
  const out: { name: string; sign: 1 | -1; measured: boolean }[] = motions.map(() => ({ name: '', sign: 1, measured: false }));
  const freeNames = new Set(vocab.map((_, i) => i));
  const freeChannels = new Set(motions.map((_, i) => i).filter((i) => scores[i]!.motion >= MIN_MOTION));
  while (freeChannels.size > 0) {
    let best: { c: number; n: number; score: number } | null = null;
    for (const c of freeChannels) {
      for (const n of freeNames) {
        const score = Math.abs(scores[c]!.feature[n]!) / scores[c]!.motion;
        if (!best || score > best.score) best = { c, n, score };
      }
    }
    if (!best) break;
    out[best.c] = { name: vocab[best.n]!, sign: scores[best.c]!.feature[best.n]! < 0 ? -1 : 1, measured: true };
    freeChannels.delete(best.c);
    freeNames.delete(best.n);
  }
  const left = [...freeNames];
  out.forEach((o) => {
    if (!o.name) o.name = vocab[left.shift()!]!;
  });
  return out;
}

// ---- the hooks -------------------------------------------------------------

export interface LandmarkCalibrateOptions extends CalibrateOptions {
  /** Sampled renders the pose regression uses (default 96). */
  poseSamples?: number;
  /** Principal directions of w the pose regression spans (default 16). */
  poseDirections?: number;
}

/** Landmarks of the most confident face in an RGB image, or null. */
async function faceLandmarks(nets: FaceNetsLike, rgb: Uint8Array, res: number): Promise<Landmarks68 | null> {
  const [box] = await nets.detect(rgb, res, res);
  return box ? nets.landmarks(rgb, res, res, box) : null;
}

/** Renders per batch: the W+ renders share the face check's graph, the style renders calibration's. */
const RENDER_BATCH = 8;

/**
 * Renders every latent in `items` (W+ for 'render', StyleSpace for 'synthesis') in batches of
 * `batch`, the last one filled up with copies of the last latent so that one graph serves
 * all, and answers the landmarks of each render (null: no face found).
 */
async function landmarksOfRenders(
  nets: FaceNetsLike,
  gen: Generator,
  entry: 'render' | 'synthesis',
  items: readonly Float32Array[],
  batch: number,
  signal?: AbortSignal,
  onBatch?: (done: number) => void
): Promise<(Landmarks68 | null)[]> {
  const res = gen.net.arch.resolution;
  const out: (Landmarks68 | null)[] = [];
  for (let i0 = 0; i0 < items.length; i0 += batch) {
    throwIfAborted(signal);
    const size = items[i0]!.length;
    const x = new Float32Array(batch * size);
    for (let k = 0; k < batch; k++) x.set(items[Math.min(i0 + k, items.length - 1)]!, k * size);
    const img = entry === 'render' ? await gen.render(x, batch) : await gen.synthesis(x, batch);
    for (let k = 0; k < batch && i0 + k < items.length; k++) out.push(await faceLandmarks(nets, toRgb8(img, k, res, res), res));
    onBatch?.(out.length);
  }
  return out;
}

export function landmarkHooks(nets: FaceNetsLike, opts: LandmarkCalibrateOptions = {}): CalibrationHooks {
  const K = opts.poseDirections ?? 16;
  const broadcast = (gen: Generator, w: ArrayLike<number>, poseLayers: number[] | null, dir?: Float64Array, t = 0): Float32Array => {
    const L = numWs(gen.net.arch);
    const D = gen.net.arch.wDim;
    const wp = new Float32Array(L * D);
    for (let l = 0; l < L; l++) for (let j = 0; j < D; j++) wp[l * D + j] = w[j]! + (dir && (!poseLayers || poseLayers.includes(l)) ? t * dir[j]! : 0);
    return wp;
  };
  return {
    principalDirections: K,

    async pose(ctx: CalibrationContext): Promise<Float32Array> {
      const gen = ctx.gen;
      const D = gen.net.arch.wDim;
      const L = numWs(gen.net.arch);
      const wanted = opts.poseSamples ?? 96;
      const all: Float32Array[] = [];
      for (const batch of ctx.ws) for (let i = 0; i * D < batch.length && all.length < wanted; i++) all.push(batch.subarray(i * D, (i + 1) * D));
      const z: Float64Array[] = [];
      const angles: [number, number, number][] = [];
      const sampled = await landmarksOfRenders(nets, gen, 'render', all.map((w) => broadcast(gen, w, null)), RENDER_BATCH, ctx.signal, (n) => ctx.report('pose', n / all.length));
      const poses: (HeadPose | null)[] = sampled.map((lm) => (lm ? headPose(lm) : null));
      poses.forEach((p, i) => {
        if (!p) return;
        z.push(Float64Array.from(ctx.directions.slice(0, K), (dir) => dir.reduce((s, v, j) => s + v * (all[i]![j]! - ctx.mean[j]!), 0)));
        angles.push([p.yaw, p.pitch, p.roll]);
      });
      if (z.length < Math.max(K + 2, all.length / 2)) {
        throw new CalibrationError(`a face was found in only ${z.length} of ${all.length} sampled renders: this model does not draw faces the landmark detector reads; calibrate it with fixed regions`);
      }
      const steps = fitPoseDirections(z, angles);
      const pose = new Float32Array(3 * L * D);
      const probes = all.filter((_, i) => poses[i] !== null).slice(0, 4);
      const dirs = [0, 1, 2].map((a) => {
        const dir = new Float64Array(D);
        steps[a]!.forEach((c, j) => ctx.directions[j]!.forEach((v, i) => (dir[i]! += c * v)));
        return dir;
      });
      // The regression moved all rows; the basis moves the coarse rows only. Rescale by the
      // measured turn on those rows: +-5 units around each probe, all rendered together,
      // in the order (axis, probe, +5 then -5).
      const turned = await landmarksOfRenders(
        nets,
        gen,
        'render',
        dirs.flatMap((dir) => probes.flatMap((w) => [broadcast(gen, w, ctx.poseLayers, dir, 5), broadcast(gen, w, ctx.poseLayers, dir, -5)])),
        RENDER_BATCH,
        ctx.signal
      );
      for (let a = 0; a < 3; a++) {
        const dir = dirs[a]!;
        const ratios: number[] = [];
        probes.forEach((_, k) => {
          const [plus, minus] = [turned[(a * probes.length + k) * 2], turned[(a * probes.length + k) * 2 + 1]];
          if (plus && minus) {
            const key = (['yaw', 'pitch', 'roll'] as const)[a];
            ratios.push((headPose(plus)[key] - headPose(minus)[key]) / 10);
          }
        });
        ratios.sort((x, y) => x - y);
        const ratio = ratios[Math.floor(ratios.length / 2)];
        if (ratio === undefined || !(Math.abs(ratio) > 0.05)) throw new CalibrationError(`the ${['yaw', 'pitch', 'roll'][a]} direction does not turn the rendered head measurably`);
        for (const l of ctx.poseLayers) for (let j = 0; j < D; j++) pose[(a * L + l) * D + j] = dir[j]! / ratio;
      }
      return pose;
    },

    async masks(ctx: CalibrationContext, baseImage: Float32Array): Promise<Record<Region, Float32Array>> {
      const res = ctx.gen.net.arch.resolution;
      const lm = await faceLandmarks(nets, toRgb8(baseImage, 0, res, res), res);
      return lm ? landmarkRegionMasks(lm, res) : (Object.fromEntries(REGIONS.map((r) => [r, regionMask(res, r)])) as Record<Region, Float32Array>);
    },

    async name(ctx: CalibrationContext, attributes: AttributeChannel[], baseStyles: Float32Array, baseImage: Float32Array): Promise<void> {
      const gen = ctx.gen;
      const res = gen.net.arch.resolution;
      const base = await faceLandmarks(nets, toRgb8(baseImage, 0, res, res), res);
      if (!base) return; // the names stay in rank order, as with fixed regions
      const delta = opts.perturbation ?? 2;
      // Every channel at +delta and -delta sigma, rendered in calibration's batches through the
      // generator's synthesis graph the localising step already compiled.
      const moved = (a: AttributeChannel, t: number): Float32Array => {
        const s = Float32Array.from(baseStyles);
        s[a.sIndex]! += t * ctx.sigma[a.sIndex]!;
        return s;
      };
      const lms = await landmarksOfRenders(nets, gen, 'synthesis', attributes.flatMap((a) => [moved(a, delta), moved(a, -delta)]), opts.batch ?? 16, ctx.signal, (n) =>
        ctx.report('naming', n / (2 * attributes.length))
      );
      for (const region of REGIONS) {
        const chosen = attributes.filter((a) => a.region === region);
        const motions: ChannelMotion[] = chosen.map((a) => {
          const k = attributes.indexOf(a);
          return { region, plus: lms[2 * k] ?? base, minus: lms[2 * k + 1] ?? base, base };
        });
        nameByMotion(region, motions).forEach((n, i) => {
          chosen[i]!.name = n.name;
          if (n.sign === -1) chosen[i]!.sign = -1;
          else delete chosen[i]!.sign;
        });
      }
    }
  };
}

/**
 * Calibrates a bundle: with landmarks when its renders are faces the detector reads
 * (at least 6 of 8 sampled renders), else with fixed regions.
 */
export async function calibrateModel(bundle: ModelBundle, rt: Runtime, nets: FaceNetsLike | null, opts: LandmarkCalibrateOptions = {}): Promise<EditBasis> {
  if (!nets) return calibrateFixedRegions(bundle, rt, opts);
  const gen = new Generator(bundle, rt);
  const a = gen.net.arch;
  const rng = new Rng((opts.seed ?? 1) + 7919);
  const w = await gen.mapping(rng.normals(RENDER_BATCH * a.zDim), RENDER_BATCH);
  const L = numWs(a);
  const wp = new Float32Array(RENDER_BATCH * L * a.wDim);
  for (let b = 0; b < RENDER_BATCH; b++) for (let l = 0; l < L; l++) wp.set(w.subarray(b * a.wDim, (b + 1) * a.wDim), (b * L + l) * a.wDim);
  const img = await gen.render(wp, RENDER_BATCH);
  let faces = 0;
  for (let i = 0; i < RENDER_BATCH; i++) if (await faceLandmarks(nets, toRgb8(img, i, a.resolution, a.resolution), a.resolution)) faces++;
  opts.onProgress?.(`faces in ${faces} of ${RENDER_BATCH} sampled renders`, 1);
  return calibrateFixedRegions(bundle, rt, { ...opts, generator: gen, ...(faces >= 6 ? { hooks: landmarkHooks(nets, opts) } : {}) });
}
