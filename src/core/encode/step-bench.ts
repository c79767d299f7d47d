// Two measurements of `stylecast bench` that need a config-f 1024 network but no calibration:
// the resident memory of one encoder step (the loss-and-gradient graph at the batch the
// encoder would choose here, measured in its own process so nothing else counts), and the
// editor's preview render (a truncated synthesis with Winograd convolutions) per frame, against
// the exact truncated render.
import { spawn } from 'node:child_process';
import { ATTRIBUTE_COUNT, EditBasis, PARAM_COUNT } from '../model/basis';
import { styleLayers } from '../model/architecture';
import type { StyleGan2 } from '../model/stylegan2';
import { toRgb8 } from '../render/image';
import type { Runtime } from '../runtime';
import { timeInterleaved } from '../model/bench';
import { ParamDecoder } from './decoder';
import { DEFAULT_LOSS } from './schedule';

/**
 * A basis of the right shape for graphs whose cost, not whose meaning, is measured: zero pose
 * directions and the first channel of each of 32 conv layers (cycling) with sigma 1.
 */
export function standInBasis(net: StyleGan2): EditBasis {
  const convs = styleLayers(net.arch).filter((l) => l.kind === 'conv');
  const attributes = Array.from({ length: ATTRIBUTE_COUNT }, (_, k) => {
    const l = convs[k % convs.length]!;
    const channel = Math.floor(k / convs.length);
    return { name: `c${k}`, region: 'mouth' as const, layer: l.name, channel, sIndex: l.sOffset + channel, sigma: 1, localisation: 0 };
  });
  return {
    meta: { version: 1, modelId: 'stand-in', poseMethod: 'principal-directions', poseUnit: 'pseudo-degree', poseLayers: [], regionMethod: 'fixed-regions', attributes, file: '', sha256: '', samples: 0, seed: 0 },
    pose: new Float32Array(3 * net.numWs * net.arch.wDim)
  };
}

/** One encoder step (loss and gradient of `batch` frames' numbers), run twice; returns this process's peak resident memory. */
export async function runEncoderStep(net: StyleGan2, rt: Runtime, batch: number): Promise<{ peakRssMB: number; stepMs: number }> {
  const dec = new ParamDecoder(net, standInBasis(net));
  const res = dec.res;
  const wid = new Float32Array(dec.numWs * dec.wDim).map((_, i) => net.wAvg[i % dec.wDim]!);
  const feeds = {
    wid: { data: wid, dims: [1, dec.numWs, dec.wDim] },
    params: { data: new Float32Array(batch * PARAM_COUNT), dims: [batch, PARAM_COUNT] },
    target: { data: new Float32Array(batch * 3 * res * res), dims: [batch, 3, res, res] }
  };
  const graph = dec.paramLossGraph(batch, DEFAULT_LOSS);
  await rt.run(graph, feeds);
  const t0 = performance.now();
  await rt.run(graph, feeds);
  return { peakRssMB: process.resourceUsage().maxRSS / 1024, stepMs: performance.now() - t0 };
}

/** Runs `stylecast bench step` in a child process and returns what it printed (its own peak memory). */
export function encoderStepInChild(cli: string, resolution: number, batch: number): Promise<{ peakRssMB: number; stepMs: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cli, 'bench', 'step', '--config-f', String(resolution), '--batch', String(batch)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the encoder step at ${resolution}x${resolution}, batch ${batch}, failed (exit ${code}): ${err.trim().split('\n').pop()}`));
      try {
        resolvePromise(JSON.parse(out) as { peakRssMB: number; stepMs: number });
      } catch {
        reject(new Error(`the encoder step printed no result: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** One preview size: median milliseconds of a render (the skip image after that block), batch 1. */
export interface PreviewTiming {
  size: number;
  /** The editor's moving preview (Winograd convolutions), median of `runs`. */
  msPerFrame: number;
  framesPerSecond: number;
  /** The same truncated synthesis with direct convolutions (what the preview drew before), timed in the same run. */
  exactMsPerFrame: number;
  /** Largest difference between the two images, in 8-bit levels. */
  maxLevelDiff: number;
}

/**
 * Times the editor's preview of a model at each size, batch 1, against the exact truncated render.
 * The two graphs run in turn (preview, exact, preview, ...), so that a shared host's slow spells
 * fall on both and their ratio holds even where the milliseconds move.
 */
export async function previewTimings(net: StyleGan2, rt: Runtime, sizes: number[], runs = 9): Promise<PreviewTiming[]> {
  const dec = new ParamDecoder(net, standInBasis(net));
  const wid = new Float32Array(dec.numWs * dec.wDim).map((_, i) => net.wAvg[i % dec.wDim]!);
  const feeds = { wid: { data: wid, dims: [1, dec.numWs, dec.wDim] }, params: { data: new Float32Array(PARAM_COUNT), dims: [1, PARAM_COUNT] } };
  const out: PreviewTiming[] = [];
  for (const size of sizes) {
    const graphs = [dec.renderGraph(1, size, { preview: true }), dec.renderGraph(1, size)];
    const [fast, exact] = (await timeInterleaved(rt, graphs.map((model) => ({ model, feeds })), runs)).map((t) => t.wallMs) as [number, number];
    const [a, b] = [(await rt.run(graphs[0]!, feeds)).image!.data as Float32Array, (await rt.run(graphs[1]!, feeds)).image!.data as Float32Array];
    await rt.release();
    out.push({ size, msPerFrame: fast, framesPerSecond: 1000 / fast, exactMsPerFrame: exact, maxLevelDiff: maxLevelDiff(a, b, size) });
  }
  return out;
}

/** Largest difference of two batches of size x size images in -1..1, in the 8-bit levels they are shown at. */
export function maxLevelDiff(a: Float32Array, b: Float32Array, size: number): number {
  let m = 0;
  for (let k = 0; k < a.length / (3 * size * size); k++) {
    const [x, y] = [toRgb8(a, k, size, size), toRgb8(b, k, size, size)];
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}
