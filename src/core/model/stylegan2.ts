// StyleGAN2 (config-f, as in the official StyleGAN2-ADA code) built on the graph builder.
// Three entry points: z -> w (mapping), W+ -> StyleSpace s (affines), s -> image (synthesis).
// The modulated conv is written in input-scaling form: x*s -> Conv(W) -> *d, with
// d = rsqrt(s^2 . W2 + 1e-8) and W2[o,i] = sum_k W[o,i,k]^2. It equals the fused
// grouped form (tested), keeps W an initializer that ORT pre-packs, and lets
// frames batch.
import { Graph, Value } from '../graph/graph';
import { Architecture, ModelError, SQRT2, StyleLayer, numWs, styleDim, styleLayers } from './architecture';
import { ModelBundle, tensor } from './bundle';
import { winogradConv3x3, winogradPays, winogradWeights } from './winograd';

export type ModConvForm = 'input-scaling' | 'grouped';

export interface SynthesisOptions {
  /** Raw conv weights to build as trainable tensors (graph inputs for fine-tuning or weight gradients). */
  trainable?: readonly string[];
  form?: ModConvForm;
  /** Stop after this resolution's block: the skip architecture's image at that size (a cheap coarse render). */
  maxResolution?: number;
  /**
   * From this resolution on, run the frames of a batch one at a time (separate branches of
   * the graph, sharing weights). Default: where a layer's batched activations outgrow the
   * cache (see splitResolution). Results are the same either way.
   */
  splitFrom?: number;
  /**
   * Additive updates of layers' raw weights and biases, built in-graph (fine-tuning: a
   * low-rank delta whose factors are graph inputs). A layer with a weight update takes the
   * trainable path (its demodulation matrix is computed from W + dW in the graph).
   */
  delta?: (g: Graph, l: StyleLayer) => LayerDelta | null;
  /**
   * Forward-only previews: the 3x3 stride-1 convs where it pays (winogradPays) run as Winograd
   * F(4x4, 3x3), 4 times fewer products, equal to the direct form to about 1e-5 of each
   * layer's scale. Not for the encoder or full-resolution renders, which must match the reference.
   */
  winograd?: boolean;
}

/**
 * In-graph updates of one layer: `weight` [O, I, k, k] added to the raw weight, `bias` [O]
 * to the raw bias, or (modulated 3x3 convs) a low-rank weight update B.A given as its
 * `factors` a = A [r, I, 3, 3] and b = B [O, r].
 */
export interface LayerDelta {
  weight?: Value;
  bias?: Value;
  factors?: { a: Value; b: Value };
}

/**
 * Batched activations above this size run frame by frame. On CPU each frame's conv is its
 * own GEMM anyway, so a batched layer shares nothing but its weights, while a working set
 * that outgrows the last-level cache makes every pass over it (conv, modulation, bias,
 * activation) stream from memory. One frame at a time keeps a layer's output in cache for
 * the next op, so high-resolution layers cost per frame what they cost at batch 1, and the
 * low-resolution layers, whose cost is reading the weights, still share them.
 */
export const SPLIT_BYTES = 12 * 2 ** 20;


const LRELU_GAIN = SQRT2;
const DEMOD_EPS = 1e-8;

/** [1,3,3,1] FIR filter, normalised, as a 2D kernel times `gain`. */
export function firKernel(gain: number): Float32Array {
  const f = [1, 3, 3, 1].map((v) => v / 8);
  const k = new Float32Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) k[i * 4 + j] = f[i]! * f[j]! * gain;
  return k;
}

function repeatKernel(k: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(channels * k.length);
  for (let c = 0; c < channels; c++) out.set(k, c * k.length);
  return out;
}

/** out[j,i] = w[i,j] * scale, for a row-major [rows, cols] matrix. */
function transposeScaled(w: Float32Array, rows: number, cols: number, scale: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j]! * scale;
  return out;
}

function scaled(w: Float32Array, scale: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < w.length; i++) out[i] = w[i]! * scale;
  return out;
}

/** Conv OIHW -> ConvTranspose layout IOHW. */
function swapOI(w: Float32Array, o: number, i: number, kk: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let k = 0; k < kk; k++) out[(b * o + a) * kk + k] = w[(a * i + b) * kk + k]!;
  return out;
}

/** W2^T[i,o] = sum_k W[o,i,k]^2, the demodulation matrix. */
function demodMatrixT(w: Float32Array, o: number, i: number, kk: number): Float32Array {
  const out = new Float32Array(i * o);
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      let s = 0;
      for (let k = 0; k < kk; k++) s += w[(a * i + b) * kk + k]! ** 2;
      out[b * o + a] = s;
    }
  }
  return out;
}

export class StyleGan2 {
  readonly arch: Architecture;
  readonly layers: StyleLayer[];
  readonly numWs: number;
  readonly styleDim: number;

  constructor(readonly bundle: ModelBundle) {
    this.arch = bundle.manifest.architecture;
    this.layers = styleLayers(this.arch);
    this.numWs = numWs(this.arch);
    this.styleDim = styleDim(this.arch);
  }

  /** The graph's initializer for `name`, created once per graph from `data()` (per-frame branches share it). */
  private w(g: Graph, name: string, data: () => Float32Array, shape: number[]): Value {
    return g.sharedWeight(this, name, data, shape);
  }

  /** The first resolution whose activations at this batch size exceed SPLIT_BYTES (Infinity: none). */
  splitResolution(batch: number): number {
    if (batch <= 1) return Infinity;
    for (let r = 4; r <= this.arch.resolution; r *= 2) {
      if (batch * this.arch.channels[r]! * r * r * 4 > SPLIT_BYTES) return r;
    }
    return Infinity;
  }

  get wAvg(): Float32Array {
    return tensor(this.bundle, 'mapping.w_avg');
  }

  private t(name: string): Float32Array {
    return tensor(this.bundle, name);
  }

  /** z [B, zDim] -> w [B, wDim] (no truncation; see truncate()). */
  mapping(g: Graph, z: Value): Value {
    const a = this.arch;
    // normalize_2nd_moment
    let x = g.mul(z, g.rsqrt(g.addScalar(g.reduceMean(g.square(z), [1], true), 1e-8)));
    let inDim = a.zDim;
    for (let i = 0; i < a.mappingLayers; i++) {
      const wt = transposeScaled(this.t(`mapping.fc${i}.weight`), a.wDim, inDim, a.mappingLrMul / Math.sqrt(inDim));
      const b = scaled(this.t(`mapping.fc${i}.bias`), a.mappingLrMul);
      x = g.add(g.matmul(x, g.weight(`mapping.fc${i}.wt`, wt, [inDim, a.wDim])), g.weight(`mapping.fc${i}.b`, b, [1, a.wDim]));
      x = g.mulScalar(g.leakyRelu(x, 0.2), LRELU_GAIN);
      inDim = a.wDim;
    }
    return x;
  }

  /** The affine of one layer: w [B, wDim] -> s [B, C]. */
  private affine(g: Graph, l: StyleLayer, w: Value): Value {
    const a = this.arch;
    // FullyConnectedLayer(bias_init=1): weight gain 1/sqrt(wDim); ToRGB also scales styles by 1/sqrt(C).
    const gain = (1 / Math.sqrt(a.wDim)) * (l.kind === 'torgb' ? 1 / Math.sqrt(l.inChannels) : 1);
    const biasGain = l.kind === 'torgb' ? 1 / Math.sqrt(l.inChannels) : 1;
    const wt = transposeScaled(this.t(`${l.name}.affine.weight`), l.inChannels, a.wDim, gain);
    const b = scaled(this.t(`${l.name}.affine.bias`), biasGain);
    return g.add(g.matmul(w, g.weight(`${l.name}.affine.wt`, wt, [a.wDim, l.inChannels])), g.weight(`${l.name}.affine.b`, b, [1, l.inChannels]));
  }

  /** W+ [B, numWs, wDim] -> flat StyleSpace s [B, styleDim]. */
  styles(g: Graph, wplus: Value): Value {
    const [b, n, d] = wplus.shape as [number, number, number];
    if (n !== this.numWs || d !== this.arch.wDim) {
      throw new ModelError(`W+ must be [B, ${this.numWs}, ${this.arch.wDim}], got [${wplus.shape}]`);
    }
    const rows = new Map<number, Value>();
    const row = (i: number): Value => {
      let r = rows.get(i);
      if (!r) {
        r = g.reshape(g.slice(wplus, [1], [i], [i + 1]), [b, d]);
        rows.set(i, r);
      }
      return r;
    };
    return g.concat(this.layers.map((l) => this.affine(g, l, row(l.wIndex))), 1);
  }

  /** Flat StyleSpace s [B, styleDim] -> image [B, 3, R, R] in the generator's range (about -1..1). */
  synthesis(g: Graph, s: Value, opts: SynthesisOptions = {}): Value {
    const [b, sd] = s.shape as [number, number];
    if (sd !== this.styleDim) throw new ModelError(`styles must be [B, ${this.styleDim}], got [${s.shape}]`);
    const form = opts.form ?? 'input-scaling';
    const trainable = new Set(opts.trainable ?? []);
    const c4 = this.arch.channels[4]!;
    let x: Value = this.w(g, 'synthesis.b4.const', () => this.t('synthesis.b4.const'), [1, c4, 4, 4]);
    if (form === 'grouped') x = g.expand(x, [b, c4, 4, 4]);
    const maxRes = opts.maxResolution ?? this.arch.resolution;
    const splitFrom = opts.splitFrom ?? this.splitResolution(b);
    // A lane is a group of frames that runs as one batch: the whole batch, then (from
    // splitFrom on) one lane per frame.
    type Lane = { s: Value; x: Value; img: Value | null };
    let lanes: Lane[] = [{ s, x, img: null }];
    const frame = (v: Value, i: number): Value => (v.shape[0] === 1 ? v : g.slice(v, [0], [i], [i + 1]));
    for (const l of this.layers) {
      if (l.res > maxRes) break;
      if (lanes.length === 1 && b > 1 && l.res >= splitFrom) {
        const whole = lanes[0]!;
        lanes = Array.from({ length: b }, (_, i) => ({ s: frame(whole.s, i), x: frame(whole.x, i), img: whole.img && frame(whole.img, i) }));
      }
      for (const lane of lanes) {
        const st = g.slice(lane.s, [1], [l.sOffset], [l.sOffset + l.inChannels]);
        const delta = opts.delta?.(g, l) ?? null;
        if (l.kind === 'conv') {
          lane.x = this.modConv(g, lane.x, st, l, form, trainable.has(`${l.name}.weight`), delta, opts.winograd === true);
        } else {
          const y = this.toRgb(g, lane.x, st, l, delta);
          lane.img = lane.img ? g.add(this.upsampleImage(g, lane.img), y) : y;
        }
      }
    }
    const imgs = lanes.map((lane) => lane.img);
    if (imgs.some((v) => !v)) throw new ModelError('synthesis produced no image');
    return g.concat(imgs as Value[], 0);
  }

  /** W+ -> image in one graph (what the encoder differentiates). */
  render(g: Graph, wplus: Value, opts: SynthesisOptions = {}): Value {
    return this.synthesis(g, this.styles(g, wplus), opts);
  }

  private fir(g: Graph, x: Value): Value {
    const c = x.shape[1] as number;
    const k = this.w(g, `fir_c${c}`, () => repeatKernel(firKernel(4), c), [c, 1, 4, 4]);
    return g.conv(x, k, { pads: [1, 1, 1, 1], group: c });
  }

  private upsampleImage(g: Graph, img: Value): Value {
    const c = img.shape[1] as number;
    const k = this.w(g, `upfir_c${c}`, () => repeatKernel(firKernel(4), c), [c, 1, 4, 4]);
    return g.convTranspose(img, k, { strides: [2, 2], pads: [1, 1, 1, 1], group: c });
  }

  private modConv(g: Graph, x: Value, st: Value, l: StyleLayer, form: ModConvForm, trainable: boolean, delta: LayerDelta | null = null, winograd = false): Value {
    const [o, i] = [l.outChannels, l.inChannels];
    const raw = this.t(`${l.name}.weight`);
    const b = st.shape[0] as number;
    // bias_act computes lrelu(z) * sqrt2, which equals lrelu(sqrt2 * z) because lrelu is
    // positively homogeneous. Folding the gain into the demodulation coefficients, the noise
    // and the bias saves a full-size tensor per layer, in the forward and in the gradient.
    let y: Value;
    if (form === 'grouped') {
      const dw = this.weightUpdate(g, l, delta);
      const w0 = this.w(g, `${l.name}.weight`, () => raw, [o, i, 3, 3]);
      y = g.mulScalar(this.modConvGrouped(g, x, st, l, dw ? g.add(w0, dw) : w0), LRELU_GAIN);
    } else {
      let kernel: Value;
      let w2t: Value;
      const lowRankBranch = Boolean(delta?.factors) && !trainable && !delta?.weight;
      if (trainable || delta?.weight) {
        const w0 = this.w(g, `${l.name}.weight`, () => raw, [o, i, 3, 3]);
        const dw = this.weightUpdate(g, l, delta);
        const w = dw ? g.add(w0, dw) : w0;
        kernel = l.up ? g.transpose(w, [1, 0, 2, 3]) : w;
        w2t = g.transpose(g.reduceSum(g.square(w), [2, 3]), [1, 0]);
      } else {
        kernel = l.up ? this.w(g, `${l.name}.weightT`, () => swapOI(raw, o, i, 9), [i, o, 3, 3]) : this.w(g, `${l.name}.weight`, () => raw, [o, i, 3, 3]);
        g.markBaked(kernel); // W2 below is derived from it
        if (lowRankBranch) {
          // Conv(x, W + B.A) = Conv(x, W) + B * Conv(x, A): W stays a pre-packed constant (with its
          // fast adjoint) and only the rank-r branch is new; W2 still needs the merged weight.
          const w = g.add(this.w(g, `${l.name}.weight`, () => raw, [o, i, 3, 3]), this.weightUpdate(g, l, delta)!);
          w2t = g.transpose(g.reduceSum(g.square(w), [2, 3]), [1, 0]);
        } else {
          w2t = this.w(g, `${l.name}.w2t`, () => demodMatrixT(raw, o, i, 9), [i, o]);
        }
      }
      const xs = g.mul(x, g.reshape(st, [b, i, 1, 1]));
      if (l.up) y = g.convTranspose(xs, kernel, { strides: [2, 2] });
      else if (winograd && !trainable && !delta && winogradPays(i, l.res)) y = winogradConv3x3(g, xs, this.w(g, `${l.name}.winograd`, () => winogradWeights(raw, o, i), [36, o, i]));
      else y = g.conv(xs, kernel, { pads: [1, 1, 1, 1] });
      if (lowRankBranch) {
        const { a, b: bf } = delta!.factors!;
        const r = a.shape[0] as number;
        const low = l.up ? g.convTranspose(xs, g.transpose(a, [1, 0, 2, 3]), { strides: [2, 2] }) : g.conv(xs, a, { pads: [1, 1, 1, 1] });
        y = g.add(y, g.conv(low, g.reshape(bf, [o, r, 1, 1])));
      }
      if (l.up) y = this.fir(g, y);
      const d = g.rsqrt(g.addScalar(g.matmul(g.square(st), w2t), DEMOD_EPS));
      y = g.mul(y, g.reshape(g.mulScalar(d, LRELU_GAIN), [b, o, 1, 1]));
    }
    const strength = this.t(`${l.name}.noise_strength`)[0]!;
    if (strength !== 0) {
      y = g.add(y, this.w(g, `${l.name}.noise`, () => scaled(this.t(`${l.name}.noise_const`), strength * LRELU_GAIN), [1, 1, l.res, l.res]));
    }
    y = g.add(y, this.w(g, `${l.name}.bias`, () => scaled(this.t(`${l.name}.bias`), LRELU_GAIN), [1, o, 1, 1]));
    if (delta?.bias) y = g.add(y, g.reshape(g.mulScalar(delta.bias, LRELU_GAIN), [1, o, 1, 1]));
    y = g.leakyRelu(y, 0.2);
    if (this.arch.convClamp !== null) y = g.clip(y, -this.arch.convClamp, this.arch.convClamp);
    return y;
  }

  /** The layer's whole weight update [O, I, k, k] (dW + B.A), or null when it has none. */
  private weightUpdate(g: Graph, l: StyleLayer, delta: LayerDelta | null): Value | null {
    if (!delta) return null;
    let dw = delta.weight ?? null;
    if (delta.factors) {
      const { a, b } = delta.factors;
      const [r, i, kh, kw] = a.shape as [number, number, number, number];
      const ba = g.reshape(g.matmul(b, g.reshape(a, [r, i * kh * kw])), [l.outChannels, i, kh, kw]);
      dw = dw ? g.add(dw, ba) : ba;
    }
    return dw;
  }

  /** The official fused form: per-sample modulated, demodulated weights and one grouped conv. */
  private modConvGrouped(g: Graph, x: Value, st: Value, l: StyleLayer, w: Value): Value {
    const [o, i] = [l.outChannels, l.inChannels];
    const b = st.shape[0] as number;
    const [h, wd] = [x.shape[2] as number, x.shape[3] as number];
    let ww = g.mul(g.reshape(w, [1, o, i, 3, 3]), g.reshape(st, [b, 1, i, 1, 1]));
    const d = g.rsqrt(g.addScalar(g.reduceSum(g.square(ww), [2, 3, 4], true), DEMOD_EPS));
    ww = g.mul(ww, d);
    const xg = g.reshape(x, [1, b * i, h, wd]);
    if (!l.up) {
      const y = g.conv(xg, g.reshape(ww, [b * o, i, 3, 3]), { pads: [1, 1, 1, 1], group: b });
      return g.reshape(y, [b, o, h, wd]);
    }
    const wt = g.reshape(g.transpose(ww, [0, 2, 1, 3, 4]), [b * i, o, 3, 3]);
    const y = g.convTranspose(xg, wt, { strides: [2, 2], group: b });
    return this.fir(g, g.reshape(y, [b, o, 2 * h + 1, 2 * wd + 1]));
  }

  private toRgb(g: Graph, x: Value, st: Value, l: StyleLayer, delta: LayerDelta | null = null): Value {
    const [o, i] = [l.outChannels, l.inChannels];
    const b = st.shape[0] as number;
    const w0 = this.w(g, `${l.name}.weight`, () => this.t(`${l.name}.weight`), [o, i, 1, 1]);
    const w = delta?.weight ? g.add(w0, delta.weight) : w0;
    let y = g.conv(g.mul(x, g.reshape(st, [b, i, 1, 1])), w);
    y = g.add(y, this.w(g, `${l.name}.bias`, () => this.t(`${l.name}.bias`), [1, o, 1, 1]));
    if (delta?.bias) y = g.add(y, g.reshape(delta.bias, [1, o, 1, 1]));
    if (this.arch.convClamp !== null) y = g.clip(y, -this.arch.convClamp, this.arch.convClamp);
    return y;
  }
}

/** Truncation towards w_avg as the official code does: w_avg + psi * (w - w_avg). */
export function truncate(w: Float32Array, wAvg: Float32Array, psi: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let k = 0; k < w.length; k++) {
    const a = wAvg[k % wAvg.length]!;
    out[k] = a + psi * (w[k]! - a);
  }
  return out;
}

/** Broadcasts one w per sample to all numWs rows of W+. */
export function broadcastW(w: Float32Array, batch: number, nWs: number, wDim: number): Float32Array {
  const out = new Float32Array(batch * nWs * wDim);
  for (let b = 0; b < batch; b++) for (let j = 0; j < nWs; j++) out.set(w.subarray(b * wDim, (b + 1) * wDim), (b * nWs + j) * wDim);
  return out;
}
