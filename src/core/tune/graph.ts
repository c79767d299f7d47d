// Graphs of fine-tuning: the synthesis network with the delta's factors as one flat graph
// input, W + B.A built in the graph, so the weight gradient flows to the factors only
// (the base weights stay initializers), plus the small forward graphs tuning needs.
import { gradients } from '../graph/autodiff';
import { Graph, Value } from '../graph/graph';
import { SerializedModel, serialize } from '../graph/serialize';
import type { LayerDelta, StyleGan2 } from '../model/stylegan2';
import type { LpipsVgg } from '../perceptual/lpips';
import { LossWeights, faceWeightMap, frameLoss } from '../encode/losses';
import type { DeltaLayout } from './delta';

/** The in-graph updates of each layer, sliced out of the flat delta input `v` [size]. */
export function deltaOfLayers(layout: DeltaLayout, v: Value): (g: Graph, l: { name: string }) => LayerDelta | null {
  const byName = new Map(layout.layers.map((l) => [l.name, l]));
  const cache = new Map<string, LayerDelta>();
  return (g, sl) => {
    const l = byName.get(sl.name);
    if (!l) return null;
    let d = cache.get(l.name);
    if (!d) {
      const part = (from: number, n: number, shape: number[]) => g.reshape(g.slice(v, [0], [from], [from + n]), shape);
      const bias = part(l.bias, l.out, [l.out]);
      d =
        l.kind === 'conv'
          ? { factors: { a: part(l.a, l.rank * l.in * l.k * l.k, [l.rank, l.in, l.k, l.k]), b: part(l.b, l.out * l.rank, [l.out, l.rank]) }, bias }
          : { weight: part(l.a, l.out * l.in, [l.out, l.in, 1, 1]), bias };
      cache.set(l.name, d);
    }
    return d;
  };
}

export interface TuneGraphSpec {
  /** Project frames per step. */
  frames: number;
  /** Random latents near w_ID per step (0: no locality term). */
  locality: number;
  localityWeight: number;
  weights: LossWeights;
}

/**
 * Loss and gradient with respect to the delta. Inputs: delta [size], s [frames + locality,
 * styleDim] (the frames' StyleSpace codes, then the locality latents'), target [frames, 3, R, R],
 * and locTarget [locality, 3, R, R] (the untuned network's renders of those latents).
 * Outputs: loss (scalar: mean frame loss + localityWeight * mean locality loss), frameLoss
 * [frames], localityLoss [locality] and grad [size].
 */
export function tuneLossGraph(net: StyleGan2, layout: DeltaLayout, spec: TuneGraphSpec, perceptual: LpipsVgg | null): SerializedModel {
  const g = new Graph();
  const R = net.arch.resolution;
  const { frames: F, locality: K } = spec;
  const v = g.input('delta', [layout.size]);
  const s = g.input('s', [F + K, net.styleDim]);
  const target = g.input('target', [F, 3, R, R]);
  const img = net.synthesis(g, s, { delta: deltaOfLayers(layout, v) });
  const face = g.constant(faceWeightMap(R), [1, 1, R, R]);
  const recon = frameLoss(g, K ? g.slice(img, [0], [0], [F]) : img, target, face, spec.weights, perceptual);
  let loss = g.reduceMean(recon, [0]);
  const outputs = [{ name: 'frameLoss', value: recon }];
  if (K) {
    const locTarget = g.input('locTarget', [K, 3, R, R]);
    const loc = frameLoss(g, g.slice(img, [0], [F], [F + K]), locTarget, null, spec.weights, perceptual);
    loss = g.add(loss, g.mulScalar(g.reduceMean(loc, [0]), spec.localityWeight));
    outputs.push({ name: 'localityLoss', value: loc });
  }
  const [grad] = gradients(g, loss, [v]);
  return serialize(g, [{ name: 'loss', value: loss }, ...outputs, { name: 'grad', value: grad! }], { graphName: 'tune-loss' });
}

/** z [n, zDim] -> w [n, wDim]. */
export function mappingGraph(net: StyleGan2, n: number): SerializedModel {
  const g = new Graph();
  const z = g.input('z', [n, net.arch.zDim]);
  return serialize(g, [{ name: 'w', value: net.mapping(g, z) }], { graphName: 'tune-mapping' });
}

/** W+ [n, numWs, wDim] -> s [n, styleDim]. */
export function stylesGraph(net: StyleGan2, n: number): SerializedModel {
  const g = new Graph();
  const w = g.input('wplus', [n, net.numWs, net.arch.wDim]);
  return serialize(g, [{ name: 's', value: net.styles(g, w) }], { graphName: 'tune-styles' });
}

/** s [n, styleDim] -> image [n, 3, R, R] through `net` (the untuned or the tuned network). */
export function synthesisGraph(net: StyleGan2, n: number): SerializedModel {
  const g = new Graph();
  const s = g.input('s', [n, net.styleDim]);
  return serialize(g, [{ name: 'image', value: net.synthesis(g, s) }], { graphName: 'tune-synthesis' });
}
