// The two optimisations of the encoder: identity inversion into W+, and the 35
// per-frame parameters with warm start, coarse-to-fine and temporal smoothness.
import type { Runtime } from '../runtime';
import { PARAM_COUNT } from '../model/basis';
import { throwIfAborted } from '../util/cancel';
import { Adam, cosineSchedule } from './adam';
import { ParamDecoder } from './decoder';
import { DEFAULT_LOSS, LossWeights } from './losses';

export interface IdentitySettings {
  /** Candidate frames inverted into W+ (the best one seeds the identity). */
  candidates: number;
  iterations: number;
  lr: number;
  /** Frames spread over the clip on which the identity is then refined jointly with their parameters. */
  refineFrames: number;
  refineIterations: number;
  refineLr: number;
}

export interface FrameSettings {
  /** Frames optimised together in one batch. */
  window: number;
  /** Pose-only iterations on the half-resolution render. */
  coarseIterations: number;
  /** All-parameter iterations at full resolution. */
  fineIterations: number;
  /** Adam step sizes: pose in its units (degrees), attributes in sigma units. */
  poseLr: number;
  attributeLr: number;
  /** Weight of the squared frame-to-frame difference of the parameters. */
  smoothness: number;
}

export interface EncoderSettings {
  loss: LossWeights;
  identity: IdentitySettings;
  frames: FrameSettings;
}

export const DEFAULT_SETTINGS: EncoderSettings = {
  loss: DEFAULT_LOSS,
  identity: { candidates: 4, iterations: 600, lr: 0.05, refineFrames: 16, refineIterations: 1200, refineLr: 0.03 },
  frames: { window: 8, coarseIterations: 30, fineIterations: 150, poseLr: 0.5, attributeLr: 0.08, smoothness: 1e-5 }
};

export interface Progress {
  iteration: number;
  of: number;
  loss: number;
}

/** 2x2 average pooling of [B, 3, R, R] images. */
export function halve(img: Float32Array, batch: number, res: number): Float32Array {
  const h = res / 2;
  const out = new Float32Array(batch * 3 * h * h);
  for (let p = 0; p < batch * 3; p++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < h; x++) {
        const i = p * res * res + 2 * y * res + 2 * x;
        out[p * h * h + y * h + x] = (img[i]! + img[i + 1]! + img[i + res]! + img[i + res + 1]!) / 4;
      }
    }
  }
  return out;
}

/**
 * Inverts K target frames into W+ jointly (one batch), starting from w_avg.
 * Returns the latents [K, L, D] and each frame's final loss.
 */
export async function invertFrames(
  dec: ParamDecoder,
  rt: Runtime,
  targets: Float32Array,
  k: number,
  s: EncoderSettings = DEFAULT_SETTINGS,
  signal?: AbortSignal,
  onProgress?: (p: Progress) => void
): Promise<{ wplus: Float32Array; losses: Float32Array }> {
  const L = dec.numWs;
  const D = dec.wDim;
  const wAvg = dec.net.wAvg;
  const wplus = new Float32Array(k * L * D);
  for (let i = 0; i < wplus.length; i++) wplus[i] = wAvg[i % D]!;
  const graph = dec.inversionGraph(k, s.loss);
  const adam = new Adam(wplus.length, () => s.identity.lr);
  const n = s.identity.iterations;
  let losses: Float32Array = new Float32Array(k);
  const best = Float32Array.from(wplus);
  const bestLoss = new Float32Array(k).fill(Infinity);
  for (let it = 0; it <= n; it++) {
    throwIfAborted(signal);
    const out = await rt.run(graph, { wplus: { data: wplus, dims: [k, L, D] }, target: { data: targets, dims: [k, 3, dec.res, dec.res] } });
    losses = out.loss!.data;
    for (let j = 0; j < k; j++) {
      if (losses[j]! < bestLoss[j]!) {
        bestLoss[j] = losses[j]!;
        best.set(wplus.subarray(j * L * D, (j + 1) * L * D), j * L * D);
      }
    }
    onProgress?.({ iteration: it, of: n, loss: losses.reduce((a, b) => a + b, 0) / k });
    if (it === n) break;
    adam.step(wplus, out.grad!.data, cosineSchedule(it, n));
  }
  return { wplus: best, losses: bestLoss };
}

export interface WindowResult {
  params: Float32Array; // [B, 35]
  losses: Float32Array; // [B]
}

/**
 * Optimises the parameters of a window of consecutive frames, warm-started from
 * `init` ([B, 35]) and tied to `prev` (the previous window's last frame) by the
 * smoothness term. Pose first on half-resolution renders, then everything at full.
 */
export async function encodeWindow(
  dec: ParamDecoder,
  rt: Runtime,
  wid: Float32Array,
  targets: Float32Array,
  batch: number,
  init: Float32Array,
  prev: Float32Array | null,
  s: EncoderSettings = DEFAULT_SETTINGS,
  signal?: AbortSignal
): Promise<WindowResult> {
  const P = PARAM_COUNT;
  const res = dec.res;
  const params = Float32Array.from(init);
  const f = s.frames;
  const lambda = f.smoothness;
  const smoothGrad = (grad: Float32Array) => {
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < P; i++) {
        const x = params[b * P + i]!;
        const before = b > 0 ? params[(b - 1) * P + i]! : prev ? prev[i]! : null;
        const after = b + 1 < batch ? params[(b + 1) * P + i]! : null;
        if (before !== null) grad[b * P + i]! += 2 * lambda * (x - before);
        if (after !== null) grad[b * P + i]! += 2 * lambda * (x - after);
      }
    }
  };
  const widFeed = { data: wid, dims: [1, dec.numWs, dec.wDim] };
  const coarseTargets = halve(targets, batch, res);
  const stages = [
    { coarse: true, iterations: f.coarseIterations, poseOnly: true },
    { coarse: false, iterations: f.fineIterations, poseOnly: false }
  ];
  let losses: Float32Array = new Float32Array(batch);
  for (const stage of stages) {
    if (stage.iterations <= 0) continue;
    const graph = dec.paramLossGraph(batch, s.loss, stage.coarse);
    const r = stage.coarse ? res / 2 : res;
    const adam = new Adam(params.length, (i) => (i % P < 3 ? f.poseLr : stage.poseOnly ? 0 : f.attributeLr));
    for (let it = 0; it <= stage.iterations; it++) {
      throwIfAborted(signal);
      const out = await rt.run(graph, {
        wid: widFeed,
        params: { data: params, dims: [batch, P] },
        target: { data: stage.coarse ? coarseTargets : targets, dims: [batch, 3, r, r] }
      });
      losses = out.loss!.data;
      if (it === stage.iterations) break;
      const grad = Float32Array.from(out.grad!.data);
      smoothGrad(grad);
      adam.step(params, grad, cosineSchedule(it, stage.iterations));
    }
  }
  return { params, losses };
}

/**
 * Refines the identity latent over several frames at once: each frame's parameters are
 * first fitted with the identity fixed, then identity and parameters are optimised
 * together. A single inverted frame leaves directions of W+ that it does not show
 * unconstrained; frames with other poses and expressions pin them down.
 */
export async function refineIdentity(
  dec: ParamDecoder,
  rt: Runtime,
  wid: Float32Array,
  targets: Float32Array,
  batch: number,
  s: EncoderSettings = DEFAULT_SETTINGS,
  signal?: AbortSignal,
  onProgress?: (p: Progress) => void
): Promise<{ wid: Float32Array; params: Float32Array; losses: Float32Array }> {
  const P = PARAM_COUNT;
  const first = await encodeWindow(dec, rt, wid, targets, batch, new Float32Array(batch * P), null, { ...s, frames: { ...s.frames, smoothness: 0 } }, signal);
  const params = Float32Array.from(first.params);
  const w = Float32Array.from(wid);
  const graph = dec.jointLossGraph(batch, s.loss);
  const n = s.identity.refineIterations;
  const adamP = new Adam(params.length, (i) => (i % P < 3 ? s.frames.poseLr : s.frames.attributeLr) * 0.5);
  const adamW = new Adam(w.length, () => s.identity.refineLr);
  let losses: Float32Array = first.losses;
  for (let it = 0; it <= n; it++) {
    throwIfAborted(signal);
    const out = await rt.run(graph, {
      wid: { data: w, dims: [1, dec.numWs, dec.wDim] },
      params: { data: params, dims: [batch, P] },
      target: { data: targets, dims: [batch, 3, dec.res, dec.res] }
    });
    losses = out.loss!.data;
    onProgress?.({ iteration: it, of: n, loss: losses.reduce((a, b) => a + b, 0) / batch });
    if (it === n) break;
    const scale = cosineSchedule(it, n);
    adamP.step(params, out.grad!.data, scale);
    adamW.step(w, out.gradWid!.data, scale);
  }
  return { wid: w, params, losses };
}
