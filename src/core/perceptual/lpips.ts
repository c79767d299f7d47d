// LPIPS-VGG (lpips v0.1, net='vgg') on the graph builder, so the encoder can take its
// gradient: scaling layer -> VGG16 features to relu5_3 (five taps) -> per-tap channel
// unit-normalisation -> squared difference -> non-negative 1x1 head -> spatial mean ->
// sum over the taps. Inputs are [B, 3, H, W] in -1..1, as lpips expects.
import { Graph, GraphError, Value } from '../graph/graph';
import { LPIPS_NORM_EPS, LPIPS_SCALE, LPIPS_SHIFT, LpipsVggWeights, VGG16_CONVS, VGG16_CONVS_PER_STAGE, tapWidths, validateWeights } from './vgg';

/** Smallest side the network sees: below it images are upsampled (see lpipsInput). */
export const LPIPS_MIN_SIDE = 64;
/** Largest side the loss uses: above it images are area-downsampled (see lpipsInput). */
export const LPIPS_MAX_SIDE = 256;
/**
 * Added under the square root of the channel norm. It keeps the gradient finite at an
 * all-zero feature vector (where lpips's own sqrt gradient is not), and changes no value:
 * in float32, 1e-20 vanishes next to any sum of squares above about 1e-13.
 */
const NORM_FLOOR = 1e-20;

export class LpipsVgg {
  readonly widths: number[];

  /** `id` identifies the weights (the bundle id): it keys the graph caches of callers. */
  constructor(readonly weights: LpipsVggWeights, readonly id: string, readonly name = 'lpips-vgg') {
    validateWeights(weights, name);
    this.widths = tapWidths(weights);
  }

  /** The weights as initializers of `g`, created once per graph. */
  private on(g: Graph): { convs: { w: Value; b: Value }[]; lins: Value[]; shift: Value; scale: Value } {
    const w = (name: string, data: () => Float32Array, shape: number[]): Value => g.sharedWeight(this, name, data, shape);
    return {
      convs: this.weights.convs.map((c, i) => ({
        w: w(`lpips.features.${VGG16_CONVS[i]!.index}.weight`, () => c.weight, c.shape),
        b: w(`lpips.features.${VGG16_CONVS[i]!.index}.bias`, () => c.bias, [1, c.shape[0], 1, 1])
      })),
      lins: this.weights.lins.map((l, k) => w(`lpips.lin${k}.weight`, () => l, [1, l.length, 1, 1])),
      shift: w('lpips.shift', () => Float32Array.from(LPIPS_SHIFT), [1, 3, 1, 1]),
      scale: w('lpips.scale', () => Float32Array.from(LPIPS_SCALE), [1, 3, 1, 1])
    };
  }

  /** The five taps relu1_2 .. relu5_3 of x (already scaled). */
  features(g: Graph, x: Value): Value[] {
    const gw = this.on(g);
    const taps: Value[] = [];
    let h = x;
    let i = 0;
    VGG16_CONVS_PER_STAGE.forEach((n, stage) => {
      if (stage > 0) h = maxPool2Floor(g, h);
      for (let j = 0; j < n; j++, i++) {
        const c = gw.convs[i]!;
        h = g.relu(g.add(g.conv(h, c.w, { pads: [1, 1, 1, 1] }), c.b));
      }
      taps.push(h);
    });
    return taps;
  }

  /**
   * LPIPS per image pair: [B], or with `perLayer` the five per-tap terms ([B] each) too.
   * No resizing here: x and y go to the network as they are (see lpipsInput).
   */
  distance(g: Graph, x: Value, y: Value): Value;
  distance(g: Graph, x: Value, y: Value, perLayer: true): { total: Value; perLayer: Value[] };
  distance(g: Graph, x: Value, y: Value, perLayer = false): Value | { total: Value; perLayer: Value[] } {
    if (x.shape.length !== 4 || x.shape[1] !== 3 || x.shape.some((d, i) => d !== y.shape[i])) {
      throw new GraphError(`LPIPS compares two [B, 3, H, W] images of one shape, got [${x.shape}] and [${y.shape}]`);
    }
    if ((x.shape[2] as number) < 16 || (x.shape[3] as number) < 16) {
      throw new GraphError(`LPIPS-VGG needs images of at least 16x16 (four 2x2 pools), got [${x.shape}]: pass them through lpipsInput`);
    }
    const gw = this.on(g);
    const scaled = (v: Value) => g.div(g.sub(v, gw.shift), gw.scale);
    const fx = this.features(g, scaled(x));
    const fy = this.features(g, scaled(y));
    const terms = fx.map((a, k) => {
      const d = g.square(g.sub(unitNormalise(g, a), unitNormalise(g, fy[k]!)));
      return g.reduceMean(g.conv(d, gw.lins[k]!), [1, 2, 3]);
    });
    const total = terms.reduce((s, t) => g.add(s, t));
    return perLayer ? { total, perLayer: terms } : total;
  }
}

/** lpips.normalize_tensor over channels: x / (sqrt(sum_c x^2) + 1e-10). */
function unitNormalise(g: Graph, x: Value): Value {
  const norm = g.sqrt(g.addScalar(g.reduceSum(g.square(x), [1], true), NORM_FLOOR));
  return g.div(x, g.addScalar(norm, LPIPS_NORM_EPS));
}

/** MaxPool2d(2, 2) in PyTorch's floor mode: an odd last row or column is dropped. */
function maxPool2Floor(g: Graph, x: Value): Value {
  const [, , h, w] = x.shape as [number, number, number, number];
  const even = h % 2 || w % 2 ? g.slice(x, [2, 3], [0, 0], [h - (h % 2), w - (w % 2)]) : x;
  return g.maxPool2(even);
}

/**
 * Bilinear x2 upsampling as torch's F.interpolate(scale_factor=2, mode='bilinear',
 * align_corners=False): edge-replicate by one pixel, then a depthwise transposed conv with
 * the separable kernel [1, 3, 3, 1] / 4 (output 2i mixes x[i-1], x[i] as 1:3, output 2i+1
 * mixes x[i], x[i+1] as 3:1). Differentiable, unlike Resize.
 */
export function upsampleBilinear2(g: Graph, x: Value): Value {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const rows = g.concat([g.slice(x, [2], [0], [1]), x, g.slice(x, [2], [h - 1], [h])], 2);
  const padded = g.concat([g.slice(rows, [3], [0], [1]), rows, g.slice(rows, [3], [w - 1], [w])], 3);
  const k1 = [0.25, 0.75, 0.75, 0.25];
  const k = new Float32Array(c * 16);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) k[ch * 16 + i * 4 + j] = k1[i]! * k1[j]!;
  return g.convTranspose(padded, g.constant(k, [c, 1, 4, 4]), { strides: [2, 2], pads: [3, 3, 3, 3], group: c });
}

/**
 * What the loss and the metric feed LPIPS: images smaller than 64 px a side are upsampled
 * bilinearly by 2 until they reach it (relu5_3 then has at least 4x4 positions, as lpips
 * users do for small crops); images larger than 256 a side are area-downsampled by the
 * integer factor floor(side / 256), as the StyleGAN2-ADA projector does before its VGG
 * loss. Sizes in between go through unchanged.
 */
export function lpipsInput(g: Graph, x: Value): Value {
  let v = x;
  const side = () => Math.min(v.shape[2] as number, v.shape[3] as number);
  while (side() < LPIPS_MIN_SIDE) v = upsampleBilinear2(g, v);
  const k = Math.floor(side() / LPIPS_MAX_SIDE);
  if (k >= 2) v = g.averagePool(v, k);
  return v;
}

/** The side length lpipsInput produces from `side` (for documentation and checks). */
export function lpipsInputSide(side: number): number {
  let s = side;
  while (s < LPIPS_MIN_SIDE) s *= 2;
  const k = Math.floor(s / LPIPS_MAX_SIDE);
  return k >= 2 ? Math.floor(s / k) : s;
}

/** LPIPS per pair [B] with the input policy of lpipsInput applied to both images. */
export function lpipsLoss(g: Graph, net: LpipsVgg, x: Value, y: Value): Value {
  return net.distance(g, lpipsInput(g, x), lpipsInput(g, y));
}
