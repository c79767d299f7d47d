// Synthetic ground truth: a known identity latent and smooth random per-frame
// parameters, for measuring how well the encoder recovers them.
import { PARAM_COUNT } from '../model/basis';
import { broadcastW, truncate } from '../model/stylegan2';
import type { Generator } from '../model/generator';
import { Rng } from '../util/random';

export interface SynthTruth {
  seed: number;
  frames: number;
  /** [numWs, wDim] */
  wid: Float32Array;
  /** [frames, 35] */
  params: Float32Array;
}

export interface SynthOptions {
  seed: number;
  frames: number;
  /** Peak pose amplitude in pose units (degrees or pseudo-degrees). */
  poseAmplitude?: number;
  /** Peak attribute amplitude in sigma units. */
  attributeAmplitude?: number;
  truncation?: number;
}

/** Smooth random curves: a sum of three sinusoids per track, random frequencies and phases. */
export function smoothCurves(rng: Rng, frames: number, tracks: number, amplitude: (track: number) => number): Float32Array {
  const out = new Float32Array(frames * tracks);
  for (let k = 0; k < tracks; k++) {
    const amp = amplitude(k);
    const parts = [0, 1, 2].map(() => ({ f: 0.5 + 2.5 * rng.uniform(), ph: 2 * Math.PI * rng.uniform(), a: 0.3 + 0.7 * rng.uniform() }));
    const norm = parts.reduce((s, p) => s + p.a, 0);
    for (let t = 0; t < frames; t++) {
      const u = t / Math.max(1, frames - 1);
      let v = 0;
      for (const p of parts) v += p.a * Math.sin(2 * Math.PI * p.f * u + p.ph);
      out[t * tracks + k] = (amp * v) / norm;
    }
  }
  return out;
}

export async function makeTruth(gen: Generator, opts: SynthOptions): Promise<SynthTruth> {
  const rng = new Rng(opts.seed);
  const a = gen.net.arch;
  const w = await gen.mapping(rng.normals(a.zDim), 1);
  const wt = truncate(w, gen.net.wAvg, opts.truncation ?? 0.7);
  const wid = broadcastW(wt, 1, gen.net.numWs, a.wDim);
  const pose = opts.poseAmplitude ?? 12;
  const attr = opts.attributeAmplitude ?? 1.5;
  const params = smoothCurves(rng, opts.frames, PARAM_COUNT, (k) => (k < 3 ? pose : attr));
  return { seed: opts.seed, frames: opts.frames, wid, params };
}

/** Renders the truth to a bit-exact (lossless RGB) clip at the model's resolution. */
export async function writeSynthClip(
  dec: import('./decoder').ParamDecoder,
  rt: import('../runtime').Runtime,
  truth: SynthTruth,
  path: string,
  fps: number,
  onProgress?: (done: number, total: number) => void
): Promise<void> {
  const { createVideoWriter } = await import('../video');
  const { toRgb8 } = await import('../render/image');
  const res = dec.res;
  const writer = await createVideoWriter({ path, width: res, height: res, fps, lossless: true });
  const batch = 8;
  const graph = dec.renderGraph(batch);
  try {
    for (let t = 0; t < truth.frames; t += batch) {
      const n = Math.min(batch, truth.frames - t);
      const p = new Float32Array(batch * PARAM_COUNT);
      p.set(truth.params.subarray(t * PARAM_COUNT, (t + n) * PARAM_COUNT));
      const img = (await rt.run(graph, { wid: { data: truth.wid, dims: [1, dec.numWs, dec.wDim] }, params: { data: p, dims: [batch, PARAM_COUNT] } })).image!.data;
      for (let k = 0; k < n; k++) await writer.write(toRgb8(img, k, res, res));
      onProgress?.(t + n, truth.frames);
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

/** The truth file `stylecast synth` writes and `eval --truth` reads. */
export function truthDocument(truth: SynthTruth, o: { modelId: string; model: string; fps: number; numWs: number; wDim: number; paramNames: string[] }) {
  return {
    kind: 'stylecast-synth-truth',
    version: 1,
    seed: truth.seed,
    ...o,
    frames: truth.frames,
    wid: Array.from(truth.wid),
    params: Array.from({ length: truth.frames }, (_, t) => Array.from(truth.params.subarray(t * PARAM_COUNT, (t + 1) * PARAM_COUNT)))
  };
}
