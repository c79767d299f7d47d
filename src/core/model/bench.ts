// Forward and VJP timings of the synthesis network, for `stylecast bench`.
import { cpus, totalmem } from 'node:os';
import { gradients } from '../graph/autodiff';
import { Graph, numel } from '../graph/graph';
import { SerializedModel, serialize } from '../graph/serialize';
import { Runtime, ortVersion } from '../runtime';
import { Rng } from '../util/random';
import { CONFIG_F } from './architecture';
import { ModelBundle } from './bundle';
import { seededTensors } from './create';
import { StyleGan2 } from './stylegan2';

export interface BenchRow {
  model: string;
  resolution: number;
  batch: number;
  /** Median milliseconds of one run over the whole batch. */
  forwardMs: number;
  vjpMs: number;
  forwardMsPerFrame: number;
  vjpMsPerFrame: number;
  vjpOverForward: number;
  runs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** s -> image, and the VJP graph (s, image cotangent) -> d/ds. */
export function synthesisGraphs(net: StyleGan2, batch: number): { forward: SerializedModel; vjp: SerializedModel } {
  const g = new Graph();
  const s = g.input('s', [batch, net.styleDim]);
  const img = net.synthesis(g, s);
  const forward = serialize(g, [{ name: 'image', value: img }], { graphName: 'synthesis' });
  const ct = g.input('cotangent', img.shape);
  const [ds] = gradients(g, g.sumAll(g.mul(img, ct)), [s]);
  const vg = serialize(g, [{ name: 'ds', value: ds! }], { graphName: 'synthesis-vjp' });
  return { forward, vjp: vg };
}

async function timeRuns(rt: Runtime, m: SerializedModel, feeds: Parameters<Runtime['run']>[1], runs: number): Promise<number> {
  // Two warm-up runs: the first pays for session memory growth, which is slow here.
  await rt.run(m, feeds);
  await rt.run(m, feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await rt.run(m, feeds);
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function benchModel(rt: Runtime, name: string, net: StyleGan2, batch: number, runs: number): Promise<BenchRow> {
  const { forward, vjp } = synthesisGraphs(net, batch);
  const rng = new Rng(7);
  const sData = rng.normals(batch * net.styleDim, 0.3).map((v) => v + 1);
  const res = net.arch.resolution;
  const sFeed = { data: sData, dims: [batch, net.styleDim] };
  const forwardMs = await timeRuns(rt, forward, { s: sFeed }, runs);
  const ctDims = [batch, 3, res, res];
  const vjpMs = await timeRuns(rt, vjp, { s: sFeed, cotangent: { data: rng.normals(numel(ctDims)), dims: ctDims } }, runs);
  await rt.release();
  return {
    model: name,
    resolution: res,
    batch,
    forwardMs,
    vjpMs,
    forwardMsPerFrame: forwardMs / batch,
    vjpMsPerFrame: vjpMs / batch,
    vjpOverForward: vjpMs / forwardMs,
    runs
  };
}

export function configFNet(resolution: number): StyleGan2 {
  const arch = CONFIG_F(resolution);
  const bundle: ModelBundle = {
    dir: '',
    manifest: { format: 'stylecast-model', version: 1, id: `config-f-${resolution}`, name: 'config-f', architecture: arch, weights: { file: '', sha256: '', floats: 0 }, tensors: [] },
    tensors: seededTensors(arch, 1)
  };
  return new StyleGan2(bundle);
}

export function machineDescription(rt: Runtime): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'}, ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; onnxruntime-node ${ortVersion()} on ${rt.device}, ${rt.threads} intra-op threads`;
}
