// Forward and VJP timings of the synthesis network, for `stylecast bench`.
import { cpus, totalmem } from 'node:os';
import { gradients } from '../graph/autodiff';
import { Graph, numel } from '../graph/graph';
import { SerializedModel, serialize } from '../graph/serialize';
import { Runtime, ortVersion } from '../runtime';
import { Rng } from '../util/random';
import { CONFIG_F } from './architecture';
import { inMemoryBundle, seededTensors } from './create';
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
  /**
   * Median processor time (user + system, all threads of this process) of one run, per
   * frame. Unlike wall time it does not count time the process waited for the machine,
   * so on a shared machine it is the steadier measure of what a batch costs.
   */
  forwardCpuMsPerFrame: number;
  vjpCpuMsPerFrame: number;
  /** Per-frame wall time of this batch size over batch 1's, from the same interleaved runs (batch 1: 1). */
  forwardVsBatch1: number | null;
  vjpVsBatch1: number | null;
  runs: number;
}

export interface Timing {
  wallMs: number;
  cpuMs: number;
}

export function median(xs: number[]): number {
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

type Feeds = Parameters<Runtime['run']>[1];

/**
 * Median milliseconds per run of each model, after two warm-up runs each (the first pays
 * for session memory growth, which is slow here). Timed runs alternate between the models,
 * so load from other processes that comes and goes falls on all of them alike and the
 * ratios between them stay meaningful on a shared machine.
 */
export async function timeInterleaved(rt: Runtime, jobs: { model: SerializedModel; feeds: Feeds }[], runs: number): Promise<Timing[]> {
  for (const j of jobs) {
    await rt.run(j.model, j.feeds);
    await rt.run(j.model, j.feeds);
  }
  const wall = jobs.map(() => [] as number[]);
  const cpu = jobs.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, j] of jobs.entries()) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await rt.run(j.model, j.feeds);
      wall[k]!.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[k]!.push((c.user + c.system) / 1000);
    }
  }
  return jobs.map((_, k) => ({ wallMs: median(wall[k]!), cpuMs: median(cpu[k]!) }));
}

/** Forward and VJP timings of one network at each batch size; batch sizes are timed interleaved. */
export async function benchModel(rt: Runtime, name: string, net: StyleGan2, batches: readonly number[], runs: number): Promise<BenchRow[]> {
  const res = net.arch.resolution;
  const setups = batches.map((batch) => {
    const rng = new Rng(7);
    const s = { data: rng.normals(batch * net.styleDim, 0.3).map((v) => v + 1), dims: [batch, net.styleDim] };
    const ctDims = [batch, 3, res, res];
    return { batch, graphs: synthesisGraphs(net, batch), s, ct: { data: rng.normals(numel(ctDims)), dims: ctDims } };
  });
  // One kind of graph at a time, so that at most one session per batch size is held.
  const fwd = await timeInterleaved(rt, setups.map((x) => ({ model: x.graphs.forward, feeds: { s: x.s } })), runs);
  await rt.release();
  const vjp = await timeInterleaved(rt, setups.map((x) => ({ model: x.graphs.vjp, feeds: { s: x.s, cotangent: x.ct } })), runs);
  await rt.release();
  return benchRows(name, res, batches, fwd, vjp, runs);
}

/** The rows' fields from the median timings of each batch size (forward and VJP, in `batches` order). */
export function benchRows(name: string, resolution: number, batches: readonly number[], fwd: readonly Timing[], vjp: readonly Timing[], runs: number): BenchRow[] {
  const one = batches.indexOf(1);
  const vsBatch1 = (t: readonly Timing[], k: number): number | null => (one < 0 ? null : t[k]!.wallMs / batches[k]! / t[one]!.wallMs);
  return batches.map((batch, k) => ({
    model: name,
    resolution,
    batch,
    forwardMs: fwd[k]!.wallMs,
    vjpMs: vjp[k]!.wallMs,
    forwardMsPerFrame: fwd[k]!.wallMs / batch,
    vjpMsPerFrame: vjp[k]!.wallMs / batch,
    vjpOverForward: vjp[k]!.wallMs / fwd[k]!.wallMs,
    forwardCpuMsPerFrame: fwd[k]!.cpuMs / batch,
    vjpCpuMsPerFrame: vjp[k]!.cpuMs / batch,
    forwardVsBatch1: vsBatch1(fwd, k),
    vjpVsBatch1: vsBatch1(vjp, k),
    runs
  }));
}

export function configFNet(resolution: number): StyleGan2 {
  const arch = CONFIG_F(resolution);
  return new StyleGan2(inMemoryBundle(arch, seededTensors(arch, 1), 'config-f', `config-f-${resolution}`));
}

export function machineDescription(rt: Runtime): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'}, ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; onnxruntime-node ${ortVersion()} on ${rt.device}, ${rt.threads} intra-op threads`;
}
