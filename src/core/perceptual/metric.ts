// LPIPS as an evaluation metric: forward-only graphs, one per (weights, batch, size).
import { Graph } from '../graph/graph';
import { SerializedModel, serialize } from '../graph/serialize';
import type { Runtime } from '../runtime';
import { LpipsVgg, lpipsLoss } from './lpips';

const graphs = new Map<string, SerializedModel>();

function distanceGraph(net: LpipsVgg, batch: number, h: number, w: number): SerializedModel {
  const key = `${net.id}:${batch}:${h}x${w}`;
  let m = graphs.get(key);
  if (!m) {
    const g = new Graph();
    const a = g.input('a', [batch, 3, h, w]);
    const b = g.input('b', [batch, 3, h, w]);
    m = serialize(g, [{ name: 'lpips', value: lpipsLoss(g, net, a, b) }], { graphName: 'lpips' });
    graphs.set(key, m);
  }
  return m;
}

/**
 * LPIPS of each pair: `a` and `b` hold `batch` images [3, h, w] in -1..1 back to back.
 * The input policy of lpipsInput applies (small images upsampled to 64, large ones
 * area-downsampled towards 256), the same as in the encoder's loss.
 */
export async function lpipsDistances(rt: Runtime, net: LpipsVgg, a: Float32Array, b: Float32Array, batch: number, h: number, w: number): Promise<Float32Array> {
  const dims = [batch, 3, h, w];
  const out = await rt.run(distanceGraph(net, batch, h, w), { a: { data: a, dims }, b: { data: b, dims } });
  return Float32Array.from(out.lpips!.data);
}
