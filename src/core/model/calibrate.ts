// Calibration: computes the edit basis of METHOD.md for a model bundle.
// This file covers models without faces (the seeded test models): pose directions are
// the principal directions of mapped latents on the coarse W+ rows, scaled to
// "pseudo-degrees", and attribute channels are the StyleSpace channels whose image
// change is most concentrated in fixed image regions of an FFHQ-aligned crop.
import { Graph } from '../graph/graph';
import { matVec } from '../util/linalg';
import { serialize } from '../graph/serialize';
import type { Runtime } from '../runtime';
import { Rng } from '../util/random';
import { throwIfAborted } from '../util/cancel';
import { numWs, styleLayers } from './architecture';
import { ATTRIBUTE_COUNT, AttributeChannel, BasisMeta, EditBasis, REGIONS, Region } from './basis';
import { ModelBundle } from './bundle';
import { ATTRIBUTE_VOCABULARY } from '../params';
import { Generator } from './generator';

/** Regions as boxes [x0, y0, x1, y1] in 0..1 crop coordinates of an FFHQ-aligned face. */
export const FIXED_REGIONS: Record<Region, [number, number, number, number][]> = {
  mouth: [[0.33, 0.66, 0.67, 0.82]],
  eyes: [[0.22, 0.4, 0.78, 0.52]],
  brows: [[0.2, 0.32, 0.8, 0.41]],
  'nose-forehead-cheeks': [
    [0.44, 0.42, 0.56, 0.62],
    [0.28, 0.15, 0.72, 0.31],
    [0.2, 0.52, 0.36, 0.68],
    [0.64, 0.52, 0.8, 0.68]
  ]
};

/** How many channels each region gets (METHOD.md: about 12 / 8 / 6 / 6). */
export const REGION_QUOTA: Record<Region, number> = { mouth: ATTRIBUTE_VOCABULARY.mouth.length, eyes: ATTRIBUTE_VOCABULARY.eyes.length, brows: ATTRIBUTE_VOCABULARY.brows.length, 'nose-forehead-cheeks': ATTRIBUTE_VOCABULARY['nose-forehead-cheeks'].length };

export interface CalibrateOptions {
  seed?: number;
  /** Mapped samples for sigma and the pose directions. */
  samples?: number;
  /** Base latents each channel is perturbed around. */
  probes?: number;
  /** Perturbation in units of the channel's sigma. */
  perturbation?: number;
  batch?: number;
  signal?: AbortSignal;
  onProgress?: (stage: string, fraction: number) => void;
  /** Landmark calibration's steps (calibrate-landmarks.ts); absent = fixed regions and pseudo-degrees. */
  hooks?: CalibrationHooks;
  /** A generator of this bundle already built (its graphs are kept), instead of a new one. */
  generator?: Generator;
  /**
   * Localise only this many conv channels, drawn with the seed (default: all). For benchmark
   * models whose full calibration would take hours on a CPU; the basis is then chosen from fewer.
   */
  maxCandidates?: number;
}

/** What calibration knows when it calls a hook. */
export interface CalibrationContext {
  gen: Generator;
  /** Mapped samples, each [batch, wDim]. */
  ws: Float32Array[];
  /** Mean w and the principal directions of w (unit vectors) with their variances. */
  mean: Float64Array;
  directions: Float64Array[];
  variances: number[];
  /** W+ rows the pose directions act on. */
  poseLayers: number[];
  /** StyleSpace standard deviation per channel. */
  sigma: Float32Array;
  signal?: AbortSignal;
  report: (stage: string, fraction: number) => void;
}

/** The steps a calibration with a face landmark detector replaces. */
export interface CalibrationHooks {
  /** How many principal directions of w the pose step wants. */
  principalDirections: number;
  /** Pose directions [3, numWs, wDim] in degrees. */
  pose(ctx: CalibrationContext): Promise<Float32Array>;
  /** Region masks (res x res, 0..1) for one base image [1, 3, res, res]. */
  masks(ctx: CalibrationContext, baseImage: Float32Array): Promise<Record<Region, Float32Array>>;
  /** Names and orients the chosen channels in place, around the first probe's styles and its render [1, 3, res, res]. */
  name(ctx: CalibrationContext, attributes: AttributeChannel[], baseStyles: Float32Array, baseImage: Float32Array): Promise<void>;
}

export function regionMask(res: number, region: Region): Float32Array {
  const m = new Float32Array(res * res);
  for (const [x0, y0, x1, y1] of FIXED_REGIONS[region]) {
    for (let y = Math.floor(y0 * res); y < Math.ceil(y1 * res); y++) for (let x = Math.floor(x0 * res); x < Math.ceil(x1 * res); x++) m[y * res + x] = 1;
  }
  return m;
}

/** Top-k eigenvectors of a symmetric matrix by power iteration with deflation. */
function topEigen(cov: Float64Array, n: number, k: number, rng: Rng): { vectors: Float64Array[]; values: number[] } {
  const vectors: Float64Array[] = [];
  const values: number[] = [];
  const a = Float64Array.from(cov);
  for (let e = 0; e < k; e++) {
    let v = Float64Array.from(rng.normals(n));
    let lambda = 0;
    for (let it = 0; it < 300; it++) {
      const nv = matVec(a, v, n);
      let norm = 0;
      for (const x of nv) norm += x * x;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      for (let i = 0; i < n; i++) nv[i]! /= norm;
      const converged = Math.abs(norm - lambda) < 1e-10 * norm;
      lambda = norm;
      v = nv;
      if (converged) break;
    }
    vectors.push(v);
    values.push(lambda);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j]! -= lambda * v[i]! * v[j]!;
  }
  return { vectors, values };
}

export async function calibrateFixedRegions(bundle: ModelBundle, rt: Runtime, opts: CalibrateOptions = {}): Promise<EditBasis> {
  const seed = opts.seed ?? 1;
  const samples = opts.samples ?? 512;
  const probes = opts.probes ?? 3;
  const delta = opts.perturbation ?? 2;
  const batch = opts.batch ?? 16;
  const report = opts.onProgress ?? (() => {});
  if (opts.generator && opts.generator.bundle !== bundle) throw new Error('calibrate: the generator given is for another bundle');
  const gen = opts.generator ?? new Generator(bundle, rt);
  const a = gen.net.arch;
  const L = numWs(a);
  const D = a.wDim;
  const S = gen.net.styleDim;
  const res = a.resolution;
  const rng = new Rng(seed);

  // 1. Mapped samples: StyleSpace sigma and the principal directions of w.
  report('sampling', 0);
  const ws: Float32Array[] = [];
  const mb = 128;
  const sSum = new Float64Array(S);
  const sSq = new Float64Array(S);
  for (let done = 0; done < samples; done += mb) {
    throwIfAborted(opts.signal);
    const w = await gen.mapping(rng.normals(mb * a.zDim), mb);
    ws.push(w);
    const wp = new Float32Array(mb * L * D);
    for (let b = 0; b < mb; b++) for (let l = 0; l < L; l++) wp.set(w.subarray(b * D, (b + 1) * D), (b * L + l) * D);
    const s = await gen.styles(wp, mb);
    for (let i = 0; i < s.length; i++) {
      sSum[i % S]! += s[i]!;
      sSq[i % S]! += s[i]! ** 2;
    }
    report('sampling', Math.min(1, (done + mb) / samples));
  }
  const count = ws.length * mb;
  const sigma = Float32Array.from(sSum, (sum, i) => Math.sqrt(Math.max(sSq[i]! / count - (sum / count) ** 2, 1e-12)));
  const mean = new Float64Array(D);
  for (const w of ws) for (let i = 0; i < w.length; i++) mean[i % D]! += w[i]! / count;
  const cov = new Float64Array(D * D);
  for (const w of ws) {
    for (let b = 0; b < mb; b++) {
      const row = w.subarray(b * D, (b + 1) * D);
      for (let i = 0; i < D; i++) {
        const di = row[i]! - mean[i]!;
        for (let j = i; j < D; j++) cov[i * D + j]! += (di * (row[j]! - mean[j]!)) / count;
      }
    }
  }
  for (let i = 0; i < D; i++) for (let j = 0; j < i; j++) cov[i * D + j] = cov[j * D + i]!;
  const hooks = opts.hooks;
  const { vectors, values } = topEigen(cov, D, Math.max(3, hooks?.principalDirections ?? 3), rng);
  const poseLayers = Array.from({ length: Math.min(4, L) }, (_, i) => i);
  const ctx: CalibrationContext = { gen, ws, mean, directions: vectors, variances: values, poseLayers, sigma, signal: opts.signal, report };
  let pose: Float32Array = new Float32Array(3 * L * D);
  if (hooks) {
    pose = await hooks.pose(ctx);
  } else {
    vectors.slice(0, 3).forEach((v, k) => {
      // One pseudo-degree is 1/30 of the standard deviation along the direction.
      const scale = Math.sqrt(values[k]!) / 30;
      for (const l of poseLayers) for (let j = 0; j < D; j++) pose[(k * L + l) * D + j] = v[j]! * scale;
    });
  }

  // 2. Localisation of every non-ToRGB channel: perturb it and see where the image changes.
  let candidates = styleLayers(a)
    .filter((l) => l.kind === 'conv')
    .flatMap((l) => Array.from({ length: l.inChannels }, (_, c) => ({ layer: l.name, channel: c, sIndex: l.sOffset + c })));
  if (opts.maxCandidates !== undefined && opts.maxCandidates < candidates.length) {
    // A seeded partial Fisher-Yates draw, kept in StyleSpace order.
    const pool = [...candidates];
    for (let i = 0; i < opts.maxCandidates; i++) {
      const j = i + Math.floor(rng.uniform() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    candidates = pool.slice(0, opts.maxCandidates).sort((x, y) => x.sIndex - y.sIndex);
  }
  const fixedMasks = Object.fromEntries(REGIONS.map((r) => [r, regionMask(res, r)])) as Record<Region, Float32Array>;
  let firstStyles: Float32Array | null = null;
  let firstImage: Float32Array | null = null;
  const inside = candidates.map(() => Object.fromEntries(REGIONS.map((r) => [r, 0])) as Record<Region, number>);
  const total = new Float64Array(candidates.length);
  const plane = res * res;
  // The first probe's change of each channel, at most 32x32 grey: to keep tracks distinct.
  const er = Math.min(res, 32);
  const f = res / er;
  const effects: Float32Array[] = candidates.map(() => new Float32Array(er * er));
  const poseEffects: Float32Array[] = [];
  const downsampled = (img: Float32Array, index: number, baseImg: Float32Array) => {
    const eff = new Float32Array(er * er);
    for (let ch = 0; ch < 3; ch++) {
      for (let y = 0; y < res; y++) {
        for (let x = 0; x < res; x++) {
          const i = y * res + x;
          eff[Math.floor(y / f) * er + Math.floor(x / f)]! += img[(index * 3 + ch) * plane + i]! - baseImg[ch * plane + i]!;
        }
      }
    }
    return eff;
  };
  for (let p = 0; p < probes; p++) {
    const w = await gen.mapping(rng.normals(a.zDim), 1);
    const wp = new Float32Array(L * D);
    for (let l = 0; l < L; l++) wp.set(w, l * D);
    const base = await gen.styles(wp, 1);
    const baseImg = await gen.synthesis(base, 1);
    firstStyles ??= base;
    firstImage ??= baseImg;
    const masks = hooks ? await hooks.masks(ctx, baseImg) : fixedMasks;
    if (p === 0) {
      for (let k = 0; k < 3; k++) {
        const moved = Float32Array.from(wp);
        for (let j = 0; j < L * D; j++) moved[j]! += 30 * pose[k * L * D + j]!;
        poseEffects.push(downsampled(await gen.render(moved, 1), 0, baseImg));
      }
    }
    for (let c0 = 0; c0 < candidates.length; c0 += batch) {
      throwIfAborted(opts.signal);
      const sb = new Float32Array(batch * S);
      for (let k = 0; k < batch; k++) {
        sb.set(base, k * S);
        const cand = candidates[c0 + k];
        if (cand) sb[k * S + cand.sIndex]! += delta * sigma[cand.sIndex]!;
      }
      // The generator's own synthesis graph: landmark naming renders through the same session.
      const img = await gen.synthesis(sb, batch);
      for (let k = 0; k < batch && c0 + k < candidates.length; k++) {
        const energy = new Float64Array(plane);
        for (let ch = 0; ch < 3; ch++) {
          for (let i = 0; i < plane; i++) energy[i]! += (img[(k * 3 + ch) * plane + i]! - baseImg[ch * plane + i]!) ** 2;
        }
        if (p === 0) effects[c0 + k] = downsampled(img, k, baseImg);
        let tot = 0;
        for (const e of energy) tot += e;
        total[c0 + k]! += tot;
        for (const r of REGIONS) {
          let e = 0;
          const m = masks[r];
          for (let i = 0; i < plane; i++) e += energy[i]! * m[i]!;
          inside[c0 + k]![r] += e;
        }
      }
      report('localising', (p + (c0 + batch) / candidates.length) / probes);
    }
  }

  // 3. Pick the most localised channels per region, each channel once, ignoring near-dead ones.
  // Only channels with at least the median effect qualify: weak channels are poorly
  // determined by the encoder, and a user wants tracks that visibly do something.
  const sortedTotals = [...total].sort((x, y) => x - y);
  const alive = sortedTotals[Math.floor(sortedTotals.length * 0.5)]!;
  const taken = new Set<number>();
  // A channel whose image change is mostly a mix of the changes already chosen cannot be
  // told apart from them by the encoder (only the mix is seen). So each candidate must keep
  // at least half its norm after projecting out the span of the chosen ones (Gram-Schmidt
  // on the 32x32 change images), starting with the three pose directions.
  const basisQ: Float64Array[] = [];
  const residualFraction = (v: Float32Array): { r: Float64Array; fraction: number } => {
    const r = Float64Array.from(v);
    let n0 = 0;
    for (const x of r) n0 += x * x;
    for (const q of basisQ) {
      let d = 0;
      for (let i = 0; i < r.length; i++) d += r[i]! * q[i]!;
      for (let i = 0; i < r.length; i++) r[i]! -= d * q[i]!;
    }
    let n1 = 0;
    for (const x of r) n1 += x * x;
    return { r, fraction: n0 > 0 ? Math.sqrt(n1 / n0) : 0 };
  };
  const accept = (r: Float64Array) => {
    let n = 0;
    for (const x of r) n += x * x;
    n = Math.sqrt(n);
    if (n > 0) basisQ.push(r.map((x) => x / n));
  };
  for (const e of poseEffects) accept(residualFraction(e).r);
  const minResidual = 0.5;
  const attributes: AttributeChannel[] = [];
  for (const r of REGIONS) {
    const ranked = candidates
      .map((c, i) => ({ c, i, score: total[i]! >= alive ? inside[i]![r] / total[i]! : 0 }))
      .sort((x, y) => y.score - x.score);
    let n = 0;
    for (const { c, i, score } of ranked) {
      if (n >= REGION_QUOTA[r]) break;
      if (taken.has(i)) continue;
      const { r: residual, fraction } = residualFraction(effects[i]!);
      if (fraction < minResidual) continue;
      taken.add(i);
      accept(residual);
      n++;
      attributes.push({ name: ATTRIBUTE_VOCABULARY[r][n - 1] ?? `${r} ${n}`, region: r, layer: c.layer, channel: c.channel, sIndex: c.sIndex, sigma: sigma[c.sIndex]!, localisation: score });
    }
  }
  if (attributes.length !== ATTRIBUTE_COUNT) throw new Error(`calibration found only ${attributes.length} usable channels`);
  if (hooks) await hooks.name(ctx, attributes, firstStyles!, firstImage!);
  const meta: BasisMeta = {
    version: 1,
    modelId: bundle.manifest.id,
    poseMethod: hooks ? 'landmark-pnp' : 'principal-directions',
    poseUnit: hooks ? 'degree' : 'pseudo-degree',
    poseLayers,
    regionMethod: hooks ? 'landmarks' : 'fixed-regions',
    attributes,
    file: 'basis.f32',
    sha256: '',
    samples: count,
    seed
  };
  report('done', 1);
  return { meta, pose };
}
