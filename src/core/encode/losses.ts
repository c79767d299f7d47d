// Differentiable image losses built on the graph builder: weighted pixel MSE and a
// multi-scale SSIM loss, or LPIPS-VGG when perceptual weights exist (METHOD.md).
// Images are [B, 3, H, W] in the generator's range (-1..1).
import { Graph, Value } from '../graph/graph';
import { LpipsVgg, lpipsLoss } from '../perceptual/lpips';
import { DEFAULT_LOSS, type LossWeights } from './schedule';

function gaussian1d(size: number, sigma: number): number[] {
  const c = (size - 1) / 2;
  const g = Array.from({ length: size }, (_, i) => Math.exp(-((i - c) ** 2) / (2 * sigma * sigma)));
  const s = g.reduce((a, b) => a + b, 0);
  return g.map((v) => v / s);
}

/** Per-frame weighted mean squared error: [B]. `weight` is [1, 1, H, W] with mean 1. */
export function weightedMse(g: Graph, x: Value, y: Value, weight: Value | null): Value {
  const d2 = g.square(g.sub(x, y));
  return g.reduceMean(weight ? g.mul(d2, weight) : d2, [1, 2, 3]);
}

/** Mean SSIM per frame ([B]) with a 7x7 Gaussian window (sigma 1.5), valid region only. */
export function ssim(g: Graph, x: Value, y: Value): Value {
  const c = x.shape[1] as number;
  const size = Math.min(7, x.shape[2] as number);
  const k1 = gaussian1d(size, 1.5);
  const k2 = new Float32Array(c * size * size);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) k2[(ch * size + i) * size + j] = k1[i]! * k1[j]!;
  const win = g.constant(k2, [c, 1, size, size]);
  const blur = (v: Value) => g.conv(v, win, { group: c });
  // Constants for the -1..1 range (L = 2).
  const C1 = (0.01 * 2) ** 2;
  const C2 = (0.03 * 2) ** 2;
  const mx = blur(x);
  const my = blur(y);
  const mx2 = g.square(mx);
  const my2 = g.square(my);
  const mxy = g.mul(mx, my);
  const sx = g.sub(blur(g.square(x)), mx2);
  const sy = g.sub(blur(g.square(y)), my2);
  const sxy = g.sub(blur(g.mul(x, y)), mxy);
  const num = g.mul(g.addScalar(g.mulScalar(mxy, 2), C1), g.addScalar(g.mulScalar(sxy, 2), C2));
  const den = g.mul(g.addScalar(g.add(mx2, my2), C1), g.addScalar(g.add(sx, sy), C2));
  return g.reduceMean(g.div(num, den), [1, 2, 3]);
}

/**
 * Multi-scale SSIM loss per frame ([B]): the weighted mean of (1 - SSIM) over scales
 * halved by 2x2 average pooling while the image is at least 16 pixels, with the
 * MS-SSIM scale weights renormalised. (A sum rather than MS-SSIM's product of powers,
 * which keeps the gradient well-behaved where a scale's contrast term goes negative.)
 */
export function msSsimLoss(g: Graph, x: Value, y: Value): Value {
  const weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333];
  let xs = x;
  let ys = y;
  const terms: { v: Value; w: number }[] = [];
  for (let i = 0; i < weights.length; i++) {
    terms.push({ v: g.sub(g.scalar(1), ssim(g, xs, ys)), w: weights[i]! });
    if ((xs.shape[2] as number) < 32 || i === weights.length - 1) break;
    xs = g.averagePool(xs, 2);
    ys = g.averagePool(ys, 2);
  }
  const total = terms.reduce((s, t) => s + t.w, 0);
  return terms.map((t) => g.mulScalar(t.v, t.w / total)).reduce((a, b) => g.add(a, b));
}

export { DEFAULT_LOSS, type LossWeights } from './schedule';

/**
 * Per-frame loss [B] on the rendered image clamped to -1..1: pixel * weighted MSE plus the
 * perceptual term, lpips * LPIPS-VGG when `perceptual` is given, else ssim * msssimLoss.
 */
export function frameLoss(g: Graph, rendered: Value, target: Value, weight: Value | null, w: LossWeights = DEFAULT_LOSS, perceptual: LpipsVgg | null = null): Value {
  const x = g.clip(rendered, -1, 1);
  const pix = g.mulScalar(weightedMse(g, x, target, weight), w.pixel);
  if (perceptual) {
    const lw = w.lpips ?? 1;
    return lw === 0 ? pix : g.add(pix, g.mulScalar(lpipsLoss(g, perceptual, x, target), lw));
  }
  if (w.ssim === 0) return pix;
  return g.add(pix, g.mulScalar(msSsimLoss(g, x, target), w.ssim));
}

/** Cache key of the loss a graph was built with: the weights and which perceptual net. */
export function lossKey(w: LossWeights, perceptual: LpipsVgg | null): string {
  return perceptual ? `${w.pixel}:lpips=${w.lpips ?? 1}:${perceptual.id}` : `${w.pixel}:${w.ssim}`;
}

/** A face-weighted map [H*W] with mean 1: 1 outside, rising smoothly to `gain` over the central face ellipse. */
export function faceWeightMap(res: number, gain = 3): Float32Array {
  const m = new Float32Array(res * res);
  let sum = 0;
  for (let y = 0; y < res; y++) {
    for (let x = 0; x < res; x++) {
      const u = ((x + 0.5) / res - 0.5) / 0.32;
      const v = ((y + 0.5) / res - 0.56) / 0.4;
      const r2 = u * u + v * v;
      const w = 1 + (gain - 1) * Math.exp(-r2 * r2 * 2);
      m[y * res + x] = w;
      sum += w;
    }
  }
  const mean = sum / m.length;
  for (let i = 0; i < m.length; i++) m[i]! /= mean;
  return m;
}
