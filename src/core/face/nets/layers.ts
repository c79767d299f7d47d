// tfjs (NHWC, HWIO filters) layers re-expressed as ONNX ops (NCHW, OIHW filters)
// on our Graph, with TensorFlow's 'same' / 'valid' padding rules.
import { Graph, type Value } from '../../graph/graph';
import { takeWeight, type WeightMap } from './weights';

export type Padding = 'same' | 'valid';

/** TensorFlow's padding for one axis: 'same' puts the odd extra pixel at the end. */
export function tfPads(size: number, k: number, stride: number, padding: Padding): [number, number] {
  if (padding === 'valid') return [0, 0];
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** HWIO -> OIHW. */
function hwioToOihw(src: Float32Array, kh: number, kw: number, ci: number, co: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = src[((y * kw + x) * ci + i) * co + o] as number;
  return out;
}

/** Builds one network's layers from one tfjs weight map. */
export class Layers {
  constructor(readonly g: Graph, private readonly weights: WeightMap, private readonly model: string) {}

  tensor(name: string, shape: readonly number[]): Float32Array {
    return takeWeight(this.weights, name, shape, this.model);
  }

  /** A per-channel vector as a [1, C, 1, 1] constant. */
  channelVector(name: string, c: number): Value {
    return this.g.weight(`${this.model}/${name}`, this.tensor(name, [c]), [1, c, 1, 1]);
  }

  private pad2d(x: Value, k: number, stride: number, padding: Padding): [number, number, number, number] {
    const [, , h, w] = x.shape as [number, number, number, number];
    const [pt, pb] = tfPads(h, k, stride, padding);
    const [pl, pr] = tfPads(w, k, stride, padding);
    return [pt, pl, pb, pr];
  }

  /** tf.conv2d with a [k, k, ci, co] filter, plus bias `biasName` when given. */
  conv(x: Value, filtersName: string, biasName: string | null, stride: number, padding: Padding): Value {
    const ci = x.shape[1] as number;
    const t = this.weights.get(filtersName);
    const k = t?.shape[0] ?? 0;
    const co = t?.shape[3] ?? 0;
    const f = this.tensor(filtersName, [k, k, ci, co]);
    const w = this.g.weight(`${this.model}/${filtersName}`, hwioToOihw(f, k, k, ci, co), [co, ci, k, k]);
    const y = this.g.conv(x, w, { strides: [stride, stride], pads: this.pad2d(x, k, stride, padding) });
    return biasName ? this.g.add(y, this.channelVector(biasName, co)) : y;
  }

  /** tf.depthwiseConv2d with a [k, k, C, 1] filter (no bias). */
  depthwiseConv(x: Value, filterName: string, stride: number, padding: Padding): Value {
    const c = x.shape[1] as number;
    const k = this.weights.get(filterName)?.shape[0] ?? 3;
    const dw = this.tensor(filterName, [k, k, c, 1]);
    // [k, k, C, 1] -> [C, 1, k, k]
    const w = new Float32Array(dw.length);
    for (let ch = 0; ch < c; ch++) for (let j = 0; j < k * k; j++) w[ch * k * k + j] = dw[j * c + ch] as number;
    const wv = this.g.weight(`${this.model}/${filterName}`, w, [c, 1, k, k]);
    return this.g.conv(x, wv, { strides: [stride, stride], pads: this.pad2d(x, k, stride, padding), group: c });
  }

  /** tf.separableConv2d (depthwise then pointwise 1x1) plus `${prefix}/bias`. */
  separableConv(x: Value, prefix: string, stride: number, padding: Padding): Value {
    const depth = this.depthwiseConv(x, `${prefix}/depthwise_filter`, stride, padding);
    return this.conv(depth, `${prefix}/pointwise_filter`, `${prefix}/bias`, 1, 'valid');
  }

  /** tf.maxPool with TensorFlow padding (ONNX MaxPool ignores padded cells, as TF does). */
  maxPool(x: Value, k: number, stride: number, padding: Padding): Value {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const [pt, pb] = tfPads(h, k, stride, padding);
    const [pl, pr] = tfPads(w, k, stride, padding);
    const oh = Math.floor((h + pt + pb - k) / stride) + 1;
    const ow = Math.floor((w + pl + pr - k) / stride) + 1;
    return this.g.emit('MaxPool', [x], [n, c, oh, ow], { kernel_shape: [k, k], strides: [stride, stride], pads: [pt!, pl!, pb!, pr!] });
  }

  /** x @ W (+ b) for a [N, I] input and a tfjs [I, O] weight. */
  dense(x: Value, weightsName: string, biasName: string | null): Value {
    const [, i] = x.shape as [number, number];
    const o = this.weights.get(weightsName)?.shape[1] ?? 0;
    const w = this.g.weight(`${this.model}/${weightsName}`, this.tensor(weightsName, [i, o]), [i, o]);
    const y = this.g.matmul(x, w);
    return biasName ? this.g.add(y, this.g.weight(`${this.model}/${biasName}`, this.tensor(biasName, [o]), [o])) : y;
  }

  /** (x - mean) / 255 on a [N, 3, H, W] input of 0..255 pixel values, as face-api's normalize + div(255). */
  normalize(x: Value, meanRgb: readonly [number, number, number]): Value {
    const mean = this.g.constant(Float32Array.from(meanRgb), [1, 3, 1, 1]);
    return this.g.div(this.g.sub(x, mean), this.g.scalar(255));
  }
}
