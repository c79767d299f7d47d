// An independent float64 reference of the StyleGAN2-ADA generator (config-f, 'skip'
// architecture), written as plain loops. It follows the structure of the official
// NVlabs stylegan2-ada-pytorch code (training/networks.py, torch_utils/ops/bias_act.py,
// torch_utils/ops/upfirdn2d.py, torch_utils/ops/conv2d_resample.py) function by
// function, re-expressed in TypeScript, and shares no code with src/core/model/stylegan2.ts.
// Only tensor names and the W+ ordering come from the bundle's Architecture.
//
// Tensors are NCHW float64 arrays with an explicit shape. PyTorch semantics are kept
// for conv2d (cross-correlation, weight [O, I/groups, kh, kw]) and conv_transpose2d
// (weight [I, O/groups, kh, kw], the adjoint of conv2d).
import type { Architecture } from '../../src/core/model/architecture';

export interface T {
  data: Float64Array;
  shape: number[];
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const zeros = (shape: number[]): T => ({ data: new Float64Array(numel(shape)), shape: [...shape] });
const floorDiv = (a: number, b: number): number => Math.floor(a / b);

/** Optional counters, so a test can see that a code path (e.g. clamping) really ran. */
export interface ReferenceTrace {
  /** Elements that bias_act's clamp changed. */
  clamped: number;
  /** Elements that went through a clamp. */
  clampTotal: number;
}

function param(tensors: Map<string, Float32Array>, name: string, shape: number[]): T {
  const t = tensors.get(name);
  if (!t) throw new Error(`reference: tensor ${name} missing`);
  if (t.length !== numel(shape)) throw new Error(`reference: tensor ${name} has ${t.length} values, expected [${shape}]`);
  return { data: Float64Array.from(t), shape: [...shape] };
}

// ---------------------------------------------------------------------------------------
// torch_utils/ops/bias_act.py (reference path _bias_act_ref)

type Act = 'linear' | 'lrelu';
const ACT_DEFAULTS: Record<Act, { alpha: number; gain: number }> = {
  linear: { alpha: 0, gain: 1 },
  lrelu: { alpha: 0.2, gain: Math.sqrt(2) }
};

/** x + b (broadcast along `dim`), activation, times gain, then clamp to [-clamp, clamp] if clamp >= 0. */
function biasAct(x: T, b: T | null, opts: { dim?: number; act?: Act; alpha?: number; gain?: number; clamp?: number | null } = {}, trace?: ReferenceTrace): T {
  const dim = opts.dim ?? 1;
  const act = opts.act ?? 'linear';
  const alpha = opts.alpha ?? ACT_DEFAULTS[act].alpha;
  const gain = opts.gain ?? ACT_DEFAULTS[act].gain;
  const clamp = opts.clamp ?? -1;
  const out = zeros(x.shape);
  const inner = numel(x.shape.slice(dim + 1));
  const c = x.shape[dim];
  for (let i = 0; i < x.data.length; i++) {
    let v = x.data[i];
    if (b) v += b.data[floorDiv(i, inner) % c];
    if (act === 'lrelu') v = v >= 0 ? v : v * alpha;
    if (gain !== 1) v *= gain;
    if (clamp >= 0) {
      const cl = Math.min(Math.max(v, -clamp), clamp);
      if (trace) {
        trace.clampTotal++;
        if (cl !== v) trace.clamped++;
      }
      v = cl;
    }
    out.data[i] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// training/networks.py: normalize_2nd_moment, FullyConnectedLayer

function normalize2ndMoment(x: T, eps = 1e-8): T {
  const [n, d] = x.shape;
  const out = zeros(x.shape);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let j = 0; j < d; j++) m += x.data[i * d + j] ** 2;
    const r = 1 / Math.sqrt(m / d + eps);
    for (let j = 0; j < d; j++) out.data[i * d + j] = x.data[i * d + j] * r;
  }
  return out;
}

/** FullyConnectedLayer.forward: weight * (lr_mul / sqrt(in)), bias * lr_mul, x @ w^T, then bias_act. */
function fullyConnected(x: T, weight: T, bias: T, opts: { lrMultiplier?: number; activation?: Act } = {}): T {
  const lrMul = opts.lrMultiplier ?? 1;
  const act = opts.activation ?? 'linear';
  const [outF, inF] = weight.shape;
  const weightGain = lrMul / Math.sqrt(inF);
  const biasGain = lrMul;
  const [n] = x.shape;
  const w = weight.data.map((v) => v * weightGain);
  const b: T = { data: biasGain !== 1 ? bias.data.map((v) => v * biasGain) : bias.data, shape: bias.shape };
  const y = zeros([n, outF]);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let k = 0; k < inF; k++) s += x.data[i * inF + k] * w[o * inF + k];
      y.data[i * outF + o] = s;
    }
  }
  // 'linear' uses addmm(b, x, w^T), identical to adding the bias.
  return biasAct(y, b, { act });
}

// ---------------------------------------------------------------------------------------
// PyTorch conv primitives

/** torch.nn.functional.conv2d: cross-correlation, weight [O, I/groups, kh, kw], symmetric padding [py, px]. */
function conv2d(x: T, w: T, opts: { stride?: number; padding?: [number, number]; groups?: number } = {}): T {
  const s = opts.stride ?? 1;
  const [py, px] = opts.padding ?? [0, 0];
  const groups = opts.groups ?? 1;
  const [n, cin, h, wd] = x.shape;
  const [cout, ipg, kh, kw] = w.shape;
  if (ipg * groups !== cin || cout % groups !== 0) throw new Error(`conv2d: bad groups (${cin} in, ${w.shape} weight, ${groups} groups)`);
  const opg = cout / groups;
  const oh = floorDiv(h + 2 * py - kh, s) + 1;
  const ow = floorDiv(wd + 2 * px - kw, s) + 1;
  const y = zeros([n, cout, oh, ow]);
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < cout; oc++) {
      const g = floorDiv(oc, opg);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let acc = 0;
          for (let ic = 0; ic < ipg; ic++) {
            const xc = g * ipg + ic;
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * s - py + ky;
              if (iy < 0 || iy >= h) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * s - px + kx;
                if (ix < 0 || ix >= wd) continue;
                acc += x.data[((b * cin + xc) * h + iy) * wd + ix] * w.data[((oc * ipg + ic) * kh + ky) * kw + kx];
              }
            }
          }
          y.data[((b * cout + oc) * oh + oy) * ow + ox] = acc;
        }
      }
    }
  }
  return y;
}

/** torch.nn.functional.conv_transpose2d: weight [I, O/groups, kh, kw], output (H-1)*stride - 2*pad + k. */
function convTranspose2d(x: T, w: T, opts: { stride?: number; padding?: [number, number]; groups?: number } = {}): T {
  const s = opts.stride ?? 1;
  const [py, px] = opts.padding ?? [0, 0];
  const groups = opts.groups ?? 1;
  const [n, cin, h, wd] = x.shape;
  const [wcin, opg, kh, kw] = w.shape;
  if (wcin !== cin || cin % groups !== 0) throw new Error(`conv_transpose2d: bad weight ${w.shape} for ${cin} channels`);
  const ipg = cin / groups;
  const cout = opg * groups;
  const oh = (h - 1) * s - 2 * py + kh;
  const ow = (wd - 1) * s - 2 * px + kw;
  const y = zeros([n, cout, oh, ow]);
  for (let b = 0; b < n; b++) {
    for (let ic = 0; ic < cin; ic++) {
      const g = floorDiv(ic, ipg);
      for (let iy = 0; iy < h; iy++) {
        for (let ix = 0; ix < wd; ix++) {
          const v = x.data[((b * cin + ic) * h + iy) * wd + ix];
          if (v === 0) continue;
          for (let oc = 0; oc < opg; oc++) {
            const yc = g * opg + oc;
            for (let ky = 0; ky < kh; ky++) {
              const oy = iy * s - py + ky;
              if (oy < 0 || oy >= oh) continue;
              for (let kx = 0; kx < kw; kx++) {
                const ox = ix * s - px + kx;
                if (ox < 0 || ox >= ow) continue;
                y.data[((b * cout + yc) * oh + oy) * ow + ox] += v * w.data[((ic * opg + oc) * kh + ky) * kw + kx];
              }
            }
          }
        }
      }
    }
  }
  return y;
}

/** Flips the last two axes (torch.flip(w, [2, 3])). */
function flip23(w: T): T {
  const [a, b, kh, kw] = w.shape;
  const out = zeros(w.shape);
  for (let i = 0; i < a * b; i++) {
    for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) out.data[(i * kh + ky) * kw + kx] = w.data[(i * kh + (kh - 1 - ky)) * kw + (kw - 1 - kx)];
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// torch_utils/ops/upfirdn2d.py

/** setup_filter([1,3,3,1]): 4 taps are not separable (needs >= 8), so the outer product; normalised to sum 1; times gain^(ndim/2). */
export function setupFilter(taps: number[], opts: { normalize?: boolean; flipFilter?: boolean; gain?: number } = {}): T {
  const n = taps.length;
  const f = zeros([n, n]);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) f.data[i * n + j] = taps[i] * taps[j];
  if (opts.normalize ?? true) {
    const sum = f.data.reduce((a, b) => a + b, 0);
    for (let i = 0; i < f.data.length; i++) f.data[i] /= sum;
  }
  let out = f;
  if (opts.flipFilter) out = flip23({ data: f.data, shape: [1, 1, n, n] });
  const g = (opts.gain ?? 1) ** (2 / 2);
  return { data: out.data.map((v) => v * g), shape: [n, n] };
}

type Padding4 = [number, number, number, number];

function parsePadding(p: number | [number, number] | Padding4): Padding4 {
  if (typeof p === 'number') return [p, p, p, p];
  if (p.length === 2) return [p[0], p[0], p[1], p[1]];
  return p;
}

/** _get_filter_size: [fw, fh], (1, 1) for no filter. */
function filterSize(f: T | null): [number, number] {
  if (!f) return [1, 1];
  return [f.shape[f.shape.length - 1], f.shape[0]];
}

/** _upfirdn2d_ref: upsample by zero insertion, pad (negative = crop), FIR filter (convolution unless flipFilter), downsample. */
export function upfirdn2d(x: T, f: T | null, opts: { up?: number; down?: number; padding?: number | [number, number] | Padding4; flipFilter?: boolean; gain?: number } = {}): T {
  const filt: T = f ?? { data: Float64Array.of(1), shape: [1, 1] };
  const up = opts.up ?? 1;
  const down = opts.down ?? 1;
  const [padx0, padx1, pady0, pady1] = parsePadding(opts.padding ?? 0);
  const gain = opts.gain ?? 1;
  const [n, c, inH, inW] = x.shape;

  // Upsample by inserting zeros.
  const uh = inH * up;
  const uw = inW * up;
  const u = zeros([n, c, uh, uw]);
  for (let i = 0; i < n * c; i++) {
    for (let y = 0; y < inH; y++) for (let xx = 0; xx < inW; xx++) u.data[(i * uh + y * up) * uw + xx * up] = x.data[(i * inH + y) * inW + xx];
  }

  // Pad, then crop.
  const ph = uh + Math.max(pady0, 0) + Math.max(pady1, 0);
  const pw = uw + Math.max(padx0, 0) + Math.max(padx1, 0);
  const y0 = Math.max(-pady0, 0);
  const x0 = Math.max(-padx0, 0);
  const ch = ph - Math.max(-pady1, 0) - y0;
  const cw = pw - Math.max(-padx1, 0) - x0;
  const p = zeros([n, c, ch, cw]);
  for (let i = 0; i < n * c; i++) {
    for (let yy = 0; yy < ch; yy++) {
      const sy = yy + y0 - Math.max(pady0, 0);
      if (sy < 0 || sy >= uh) continue;
      for (let xx = 0; xx < cw; xx++) {
        const sx = xx + x0 - Math.max(padx0, 0);
        if (sx < 0 || sx >= uw) continue;
        p.data[(i * ch + yy) * cw + xx] = u.data[(i * uh + sy) * uw + sx];
      }
    }
  }

  // Setup filter: f * gain^(ndim/2), flipped unless flipFilter (conv2d below correlates).
  const fh = filt.shape[0];
  const fw = filt.shape[1];
  let k: T = { data: filt.data.map((v) => v * gain ** (2 / 2)), shape: [1, 1, fh, fw] };
  if (!opts.flipFilter) k = flip23(k);
  const rep = zeros([c, 1, fh, fw]);
  for (let i = 0; i < c; i++) rep.data.set(k.data, i * fh * fw);
  const filtered = conv2d(p, rep, { groups: c });

  // Downsample by throwing away pixels.
  if (down === 1) return filtered;
  const [, , fhh, fww] = filtered.shape;
  const dh = Math.ceil(fhh / down);
  const dw = Math.ceil(fww / down);
  const d = zeros([n, c, dh, dw]);
  for (let i = 0; i < n * c; i++) {
    for (let yy = 0; yy < dh; yy++) for (let xx = 0; xx < dw; xx++) d.data[(i * dh + yy) * dw + xx] = filtered.data[(i * fhh + yy * down) * fww + xx * down];
  }
  return d;
}

/** upsample2d: padding from the filter size and up factor, gain * up^2. */
export function upsample2d(x: T, f: T, opts: { up?: number; padding?: number; flipFilter?: boolean; gain?: number } = {}): T {
  const up = opts.up ?? 2;
  const [padx0, padx1, pady0, pady1] = parsePadding(opts.padding ?? 0);
  const [fw, fh] = filterSize(f);
  const p: Padding4 = [padx0 + floorDiv(fw + up - 1, 2), padx1 + floorDiv(fw - up, 2), pady0 + floorDiv(fh + up - 1, 2), pady1 + floorDiv(fh - up, 2)];
  return upfirdn2d(x, f, { up, padding: p, flipFilter: opts.flipFilter, gain: (opts.gain ?? 1) * up * up });
}

// ---------------------------------------------------------------------------------------
// torch_utils/ops/conv2d_resample.py

/** _conv2d_wrapper: flip the weight unless flipWeight (conv2d correlates), then conv2d or conv_transpose2d. */
function conv2dWrapper(x: T, w: T, opts: { stride?: number; padding?: [number, number]; groups?: number; transpose?: boolean; flipWeight?: boolean }): T {
  const ww = opts.flipWeight ?? true ? w : flip23(w);
  const o = { stride: opts.stride, padding: opts.padding, groups: opts.groups };
  return opts.transpose ? convTranspose2d(x, ww, o) : conv2d(x, ww, o);
}

/** conv2d_resample (up / no resampling; down is not used by the generator). */
export function conv2dResample(
  x: T,
  w: T,
  opts: { f?: T | null; up?: number; padding?: number; groups?: number; flipWeight?: boolean; flipFilter?: boolean; generic?: boolean }
): T {
  const f = opts.f ?? null;
  const up = opts.up ?? 1;
  const groups = opts.groups ?? 1;
  const flipWeight = opts.flipWeight ?? true;
  const flipFilter = opts.flipFilter ?? false;
  const [outChannels, inPerGroup, kh, kw] = w.shape;
  const [fw, fh] = filterSize(f);
  let [px0, px1, py0, py1] = parsePadding(opts.padding ?? 0);

  // Adjust padding to account for up/downsampling.
  if (up > 1) {
    px0 += floorDiv(fw + up - 1, 2);
    px1 += floorDiv(fw - up, 2);
    py0 += floorDiv(fh + up - 1, 2);
    py1 += floorDiv(fh - up, 2);
  }

  if (!opts.generic) {
    // Fast path: 1x1 kernel with upsampling only => convolve first, then upsample.
    if (kw === 1 && kh === 1 && up > 1) {
      const y = conv2dWrapper(x, w, { groups, flipWeight });
      return upfirdn2d(y, f, { up, padding: [px0, px1, py0, py1], gain: up * up, flipFilter });
    }
    // Fast path: upsampling => transposed strided convolution, then the FIR filter.
    if (up > 1) {
      // Weight [groups*O/g, I/g, kh, kw] -> [groups*I/g, O/g, kh, kw].
      const opg = outChannels / groups;
      const wt = zeros([groups * inPerGroup, opg, kh, kw]);
      const kk = kh * kw;
      for (let g = 0; g < groups; g++) {
        for (let o = 0; o < opg; o++) {
          for (let i = 0; i < inPerGroup; i++) {
            for (let k = 0; k < kk; k++) wt.data[((g * inPerGroup + i) * opg + o) * kk + k] = w.data[((g * opg + o) * inPerGroup + i) * kk + k];
          }
        }
      }
      px0 -= kw - 1;
      px1 -= kw - up;
      py0 -= kh - 1;
      py1 -= kh - up;
      const pxt = Math.max(Math.min(-px0, -px1), 0);
      const pyt = Math.max(Math.min(-py0, -py1), 0);
      const y = conv2dWrapper(x, wt, { stride: up, padding: [pyt, pxt], groups, transpose: true, flipWeight: !flipWeight });
      return upfirdn2d(y, f, { padding: [px0 + pxt, px1 + pxt, py0 + pyt, py1 + pyt], gain: up * up, flipFilter });
    }
    // Fast path: no resampling, padding the conv supports.
    if (up === 1 && px0 === px1 && py0 === py1 && px0 >= 0 && py0 >= 0) {
      return conv2dWrapper(x, w, { padding: [py0, px0], groups, flipWeight });
    }
  }
  // Fallback: generic reference implementation.
  const y = upfirdn2d(x, up > 1 ? f : null, { up, padding: [px0, px1, py0, py1], gain: up * up, flipFilter });
  return conv2dWrapper(y, w, { groups, flipWeight });
}

// ---------------------------------------------------------------------------------------
// training/networks.py: modulated_conv2d

export function modulatedConv2d(
  x: T,
  weight: T,
  styles: T,
  opts: { noise?: T | null; up?: number; padding?: number; resampleFilter?: T | null; demodulate?: boolean; flipWeight?: boolean; fusedModconv?: boolean; generic?: boolean }
): T {
  const batch = x.shape[0];
  const [outC, inC, kh, kw] = weight.shape;
  const demodulate = opts.demodulate ?? true;
  const fused = opts.fusedModconv ?? true;
  const kk = kh * kw;
  const resample = (xx: T, ww: T, groups: number): T =>
    conv2dResample(xx, ww, { f: opts.resampleFilter ?? null, up: opts.up ?? 1, padding: opts.padding ?? 0, groups, flipWeight: opts.flipWeight ?? true, generic: opts.generic });

  // Per-sample weights w[n,o,i,k] = weight[o,i,k] * styles[n,i], and dcoefs[n,o] = rsqrt(sum w^2 + 1e-8).
  const w = zeros([batch, outC, inC, kh, kw]);
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outC; o++) {
      for (let i = 0; i < inC; i++) {
        const s = styles.data[n * inC + i];
        for (let k = 0; k < kk; k++) w.data[((n * outC + o) * inC + i) * kk + k] = weight.data[(o * inC + i) * kk + k] * s;
      }
    }
  }
  const dcoefs = new Float64Array(batch * outC);
  if (demodulate) {
    for (let no = 0; no < batch * outC; no++) {
      let sq = 0;
      for (let j = 0; j < inC * kk; j++) sq += w.data[no * inC * kk + j] ** 2;
      dcoefs[no] = 1 / Math.sqrt(sq + 1e-8);
    }
  }

  let y: T;
  if (fused) {
    if (demodulate) for (let no = 0; no < batch * outC; no++) for (let j = 0; j < inC * kk; j++) w.data[no * inC * kk + j] *= dcoefs[no];
    // Grouped convolution: x [1, N*I, H, W], w [N*O, I, kh, kw], groups = N.
    const xg: T = { data: x.data, shape: [1, batch * inC, x.shape[2], x.shape[3]] };
    const wg: T = { data: w.data, shape: [batch * outC, inC, kh, kw] };
    const r = resample(xg, wg, batch);
    y = { data: r.data, shape: [batch, outC, r.shape[2], r.shape[3]] };
    if (opts.noise) y = addNoise(y, opts.noise);
    return y;
  }
  // Non-fused: scale activations, conv with the shared weight, scale outputs (+ noise).
  const xs = zeros(x.shape);
  const hw = x.shape[2] * x.shape[3];
  for (let n = 0; n < batch; n++) for (let i = 0; i < inC; i++) for (let p = 0; p < hw; p++) xs.data[(n * inC + i) * hw + p] = x.data[(n * inC + i) * hw + p] * styles.data[n * inC + i];
  y = resample(xs, weight, 1);
  const ohw = y.shape[2] * y.shape[3];
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < outC; o++) {
      for (let p = 0; p < ohw; p++) {
        const idx = (n * outC + o) * ohw + p;
        if (demodulate) y.data[idx] *= dcoefs[n * outC + o];
      }
    }
  }
  if (opts.noise) y = addNoise(y, opts.noise);
  return y;
}

/** Adds noise [H, W] (noise_const * noise_strength), broadcast over batch and channels. */
function addNoise(y: T, noise: T): T {
  const hw = y.shape[2] * y.shape[3];
  if (noise.data.length !== hw) throw new Error(`noise ${noise.shape} does not match ${y.shape}`);
  const out = zeros(y.shape);
  for (let i = 0; i < y.data.length; i++) out.data[i] = y.data[i] + noise.data[i % hw];
  return out;
}

// ---------------------------------------------------------------------------------------
// training/networks.py: MappingNetwork, SynthesisLayer, ToRGBLayer, SynthesisBlock, SynthesisNetwork

function toT(a: Float64Array | Float32Array, shape: number[]): T {
  if (a.length !== numel(shape)) throw new Error(`expected ${numel(shape)} values for [${shape}], got ${a.length}`);
  return { data: Float64Array.from(a), shape };
}

/** MappingNetwork.forward with c_dim 0, no truncation, no broadcast: z [B, zDim] -> w [B, wDim]. */
export function referenceMapping(tensors: Map<string, Float32Array>, arch: Architecture, z: Float64Array | Float32Array, batch: number): Float64Array {
  let x = normalize2ndMoment(toT(z, [batch, arch.zDim]));
  let inDim = arch.zDim;
  for (let i = 0; i < arch.mappingLayers; i++) {
    const weight = param(tensors, `mapping.fc${i}.weight`, [arch.wDim, inDim]);
    const bias = param(tensors, `mapping.fc${i}.bias`, [arch.wDim]);
    x = fullyConnected(x, weight, bias, { lrMultiplier: arch.mappingLrMul, activation: 'lrelu' });
    inDim = arch.wDim;
  }
  return x.data;
}

interface Ctx {
  tensors: Map<string, Float32Array>;
  arch: Architecture;
  filter: T;
  trace?: ReferenceTrace;
  generic?: boolean;
  fusedModconv?: boolean;
}

/** FullyConnectedLayer(w_dim, channels, bias_init=1): the affine of one modulated layer. */
function affine(ctx: Ctx, name: string, w: T, channels: number): T {
  const weight = param(ctx.tensors, `${name}.affine.weight`, [channels, ctx.arch.wDim]);
  const bias = param(ctx.tensors, `${name}.affine.bias`, [channels]);
  return fullyConnected(w, weight, bias);
}

/** SynthesisLayer.forward with noise_mode 'const', gain 1. */
function synthesisLayer(ctx: Ctx, name: string, x: T, w: T, opts: { inC: number; outC: number; res: number; up: number }): T {
  const styles = affine(ctx, name, w, opts.inC);
  const noiseConst = param(ctx.tensors, `${name}.noise_const`, [opts.res, opts.res]);
  const strength = param(ctx.tensors, `${name}.noise_strength`, []).data[0];
  const noise: T = { data: noiseConst.data.map((v) => v * strength), shape: noiseConst.shape };
  const flipWeight = opts.up === 1; // as the official code: "slightly faster"
  const weight = param(ctx.tensors, `${name}.weight`, [opts.outC, opts.inC, 3, 3]);
  const y = modulatedConv2d(x, weight, styles, {
    noise,
    up: opts.up,
    padding: 1, // kernel_size // 2
    resampleFilter: ctx.filter,
    flipWeight,
    fusedModconv: ctx.fusedModconv,
    generic: ctx.generic
  });
  const actGain = Math.sqrt(2); // activation_funcs['lrelu'].def_gain * gain(1)
  const actClamp = ctx.arch.convClamp !== null ? ctx.arch.convClamp * 1 : null;
  const bias = param(ctx.tensors, `${name}.bias`, [opts.outC]);
  return biasAct(y, bias, { act: 'lrelu', gain: actGain, clamp: actClamp }, ctx.trace);
}

/** ToRGBLayer.forward: styles * 1/sqrt(in*k*k), no demodulation, bias, clamp. */
function toRgbLayer(ctx: Ctx, name: string, x: T, w: T, inC: number): T {
  const outC = ctx.arch.imgChannels;
  const weightGain = 1 / Math.sqrt(inC * 1 * 1);
  const st = affine(ctx, name, w, inC);
  const styles: T = { data: st.data.map((v) => v * weightGain), shape: st.shape };
  const weight = param(ctx.tensors, `${name}.weight`, [outC, inC, 1, 1]);
  const y = modulatedConv2d(x, weight, styles, { demodulate: false, fusedModconv: ctx.fusedModconv, generic: ctx.generic });
  const bias = param(ctx.tensors, `${name}.bias`, [outC]);
  return biasAct(y, bias, { clamp: ctx.arch.convClamp }, ctx.trace);
}

/** The w row [B, wDim] at index idx of W+ [B, numWs, wDim]. */
function wRow(ws: T, idx: number): T {
  const [b, nw, d] = ws.shape;
  const out = zeros([b, d]);
  for (let i = 0; i < b; i++) for (let j = 0; j < d; j++) out.data[i * d + j] = ws.data[(i * nw + idx) * d + j];
  return out;
}

/** SynthesisNetwork.forward ('skip' architecture, fused modconv, noise_mode 'const'): W+ [B, numWs, wDim] -> image [B, 3, R, R]. */
export function referenceSynthesis(
  tensors: Map<string, Float32Array>,
  arch: Architecture,
  wplus: Float64Array | Float32Array,
  batch: number,
  opts: { trace?: ReferenceTrace; generic?: boolean; fusedModconv?: boolean; skipImages?: Map<number, Float64Array> } = {}
): Float64Array {
  const log2 = Math.log2(arch.resolution);
  const numWs = 2 * log2 - 2;
  const ws = toT(wplus, [batch, numWs, arch.wDim]);
  const ctx: Ctx = { tensors, arch, filter: setupFilter([1, 3, 3, 1]), trace: opts.trace, generic: opts.generic, fusedModconv: opts.fusedModconv };
  const blockResolutions: number[] = [];
  for (let r = 4; r <= arch.resolution; r *= 2) blockResolutions.push(r);

  // Split ws per block: each block takes num_conv + num_torgb rows starting at w_idx; w_idx advances by num_conv.
  let wIdx = 0;
  let x: T | null = null;
  let img: T | null = null;
  for (const res of blockResolutions) {
    const numConv = res === 4 ? 1 : 2;
    const rows: T[] = [];
    for (let k = 0; k < numConv + 1; k++) rows.push(wRow(ws, wIdx + k));
    wIdx += numConv;
    const outC = arch.channels[res];
    let it = 0;
    if (res === 4) {
      const c = param(tensors, 'synthesis.b4.const', [outC, 4, 4]);
      x = zeros([batch, outC, 4, 4]);
      for (let b = 0; b < batch; b++) x.data.set(c.data, b * c.data.length);
      x = synthesisLayer(ctx, `synthesis.b${res}.conv1`, x, rows[it++], { inC: outC, outC, res, up: 1 });
    } else {
      const inC = arch.channels[res / 2];
      x = synthesisLayer(ctx, `synthesis.b${res}.conv0`, x!, rows[it++], { inC, outC, res, up: 2 });
      x = synthesisLayer(ctx, `synthesis.b${res}.conv1`, x, rows[it++], { inC: outC, outC, res, up: 1 });
    }
    if (img) img = upsample2d(img, ctx.filter);
    const y = toRgbLayer(ctx, `synthesis.b${res}.torgb`, x, rows[it++], outC);
    if (img) {
      for (let i = 0; i < img.data.length; i++) img.data[i] += y.data[i];
    } else img = y;
    opts.skipImages?.set(res, Float64Array.from(img.data));
  }
  if (wIdx + 1 !== numWs) throw new Error(`reference: used ${wIdx + 1} of ${numWs} ws`);
  return img!.data;
}
