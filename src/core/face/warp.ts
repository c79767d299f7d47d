// Resampling between source frames and aligned crops.
//
// Conventions (types.ts): pixel centres at integer + 0.5 in both spaces, so
// crop pixel (i, j) is sampled at the source point A(i + 0.5, j + 0.5), and a
// source point (x, y) lies between the pixels whose centres surround it: the
// bilinear weights come from (x - 0.5, y - 0.5).
//
// Anti-aliasing: when one crop pixel covers more than one source pixel, plain
// bilinear sampling aliases (a 1080p face squeezed into 256 pixels sparkles
// and shimmers from frame to frame). We build a box-filtered mipmap of the
// source (each level the 2x2 area average of the one below) and sample it
// trilinearly: bilinear within the two levels around the wanted level of
// detail, linearly blended between them. The level of detail is a continuous
// function of the scale (source pixels per crop pixel, `affineScale`):
//   scale <= 1.5      : lod 0 (plain bilinear; up to 1.5x bilinear is sharp enough and alias-free in practice)
//   1.5 < scale < 2   : lod rises linearly in log2(scale) from 0 to 1
//   scale >= 2        : lod = log2(scale) (level L is exactly a 2^L box filter)
// so the filter never jumps as a (smoothed) scale drifts across a threshold, which
// would itself flicker. Level L pixel (i, j) averages source pixels
// [2^L i, 2^L (i+1)) x [2^L j, 2^L (j+1)), so its centre sits at (i + 0.5) 2^L:
// a source point x is at x / 2^L in level coordinates. Odd sizes round up and
// the last row/column averages the edge pixel with itself.
//
// Outside the frame ('edge'): 'reflect' (the default) mirrors the frame about
// its border (half-sample symmetric: ... 2 1 0 | 0 1 2 ...; periodic far out),
// like the reflect padding of the FFHQ script, which keeps the picture
// continuous and without streaks when a close-up's crop runs past the frame.
// (FFHQ further blurs the padding and fades it towards the mean colour; we do
// not, the mirror image is what the encoder sees.) 'clamp' replicates the
// edge pixels; 'zero' gives black (0) outside.
import { FaceAlignError } from './errors';
import { affineScale, invertAffine } from './align';
import type { Affine } from './types';

export type EdgeMode = 'reflect' | 'clamp' | 'zero';

export interface WarpOptions {
  /** What lies outside the source frame (default 'reflect'). */
  edge?: EdgeMode;
  /** Mipmap anti-aliasing when downscaling (default true). */
  antialias?: boolean;
}

/** A channel-interleaved image plane (HWC). Level 0 may be the caller's bytes; mip levels are float. */
interface Plane {
  data: ArrayLike<number>;
  w: number;
  h: number;
}

const LOD_START = 1.5;

/** Continuous level of detail for a scale of `scale` source pixels per output pixel (see the header). */
export function levelOfDetail(scale: number): number {
  if (!(scale > LOD_START)) return 0;
  const l = Math.log2(scale);
  if (scale >= 2) return l;
  return (l - Math.log2(LOD_START)) / (1 - Math.log2(LOD_START));
}

function reflectIndex(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  const p = 2 * n;
  let m = i % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

function clampIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/** The next mip level: 2x2 area average, sizes rounded up (edge pixel repeated). */
function halve(src: Plane, c: number): Plane {
  const w = Math.ceil(src.w / 2);
  const h = Math.ceil(src.h / 2);
  const out = new Float32Array(w * h * c);
  const s = src.data;
  const sw = src.w;
  for (let y = 0; y < h; y++) {
    const y0 = 2 * y;
    const y1 = Math.min(2 * y + 1, src.h - 1);
    for (let x = 0; x < w; x++) {
      const x0 = 2 * x;
      const x1 = Math.min(2 * x + 1, sw - 1);
      const i00 = (y0 * sw + x0) * c;
      const i01 = (y0 * sw + x1) * c;
      const i10 = (y1 * sw + x0) * c;
      const i11 = (y1 * sw + x1) * c;
      const o = (y * w + x) * c;
      for (let k = 0; k < c; k++) out[o + k] = 0.25 * (s[i00 + k] + s[i01 + k] + s[i10 + k] + s[i11 + k]);
    }
  }
  return { data: out, w, h };
}

function pyramid(base: Plane, c: number, levels: number): Plane[] {
  const out = [base];
  for (let l = 1; l <= levels; l++) {
    const prev = out[l - 1];
    if (prev.w === 1 && prev.h === 1) break;
    out.push(halve(prev, c));
  }
  return out;
}

/**
 * Adds weight * (bilinear sample of `p` at the continuous level-coordinate
 * point (x, y)) into out[o .. o+c). 'zero' edges contribute 0 for taps outside.
 */
function bilinearAdd(p: Plane, c: number, x: number, y: number, edge: EdgeMode, weight: number, out: Float32Array, o: number): void {
  const fx = x - 0.5;
  const fy = y - 0.5;
  const x0 = Math.floor(fx);
  const y0 = Math.floor(fy);
  const tx = fx - x0;
  const ty = fy - y0;
  const { w, h, data } = p;
  let xa = x0;
  let xb = x0 + 1;
  let ya = y0;
  let yb = y0 + 1;
  let wa = (1 - tx) * (1 - ty) * weight;
  let wb = tx * (1 - ty) * weight;
  let wc = (1 - tx) * ty * weight;
  let wd = tx * ty * weight;
  if (!(x0 >= 0 && y0 >= 0 && xb < w && yb < h)) {
    if (edge === 'reflect') {
      xa = reflectIndex(xa, w);
      xb = reflectIndex(xb, w);
      ya = reflectIndex(ya, h);
      yb = reflectIndex(yb, h);
    } else {
      if (edge === 'zero') {
        const okxa = xa >= 0 && xa < w;
        const okxb = xb >= 0 && xb < w;
        const okya = ya >= 0 && ya < h;
        const okyb = yb >= 0 && yb < h;
        if (!(okxa && okya)) wa = 0;
        if (!(okxb && okya)) wb = 0;
        if (!(okxa && okyb)) wc = 0;
        if (!(okxb && okyb)) wd = 0;
      }
      xa = clampIndex(xa, w);
      xb = clampIndex(xb, w);
      ya = clampIndex(ya, h);
      yb = clampIndex(yb, h);
    }
  }
  const ia = (ya * w + xa) * c;
  const ib = (ya * w + xb) * c;
  const ic = (yb * w + xa) * c;
  const id = (yb * w + xb) * c;
  for (let k = 0; k < c; k++) out[o + k] += wa * data[ia + k] + wb * data[ib + k] + wc * data[ic + k] + wd * data[id + k];
}

/** Rows y0..y1 and columns x0..x1 (exclusive ends) of an HWC image, as floats. */
function subImage(src: ArrayLike<number>, w: number, c: number, x0: number, y0: number, x1: number, y1: number): Plane {
  const sw = x1 - x0;
  const sh = y1 - y0;
  const out = new Float32Array(sw * sh * c);
  for (let y = 0; y < sh; y++) {
    const from = ((y0 + y) * w + x0) * c;
    const to = y * sw * c;
    for (let k = 0; k < sw * c; k++) out[to + k] = src[from + k];
  }
  return { data: out, w: sw, h: sh };
}

/**
 * Resamples `src` (w x h, c channels, HWC) through `affine` (output pixel ->
 * source point) into an outW x outH block whose top-left output pixel is
 * (ox, oy): output pixel (i, j) is the source at affine(ox + i + 0.5, oy + j + 0.5).
 * Returns outW * outH * c floats.
 *
 * Only the part of the source the block can read is filtered into the mipmap:
 * its bounding box plus a margin of two coarsest-level pixels, with its
 * top-left corner on the coarsest level's grid, extended to any frame edge it
 * crosses (and to what reflection reads inside it), so the result is exactly
 * what a pyramid of the whole frame would give.
 */
function resample(
  src: ArrayLike<number>,
  w: number,
  h: number,
  c: number,
  affine: Affine,
  ox: number,
  oy: number,
  outW: number,
  outH: number,
  edge: EdgeMode,
  antialias: boolean
): Float32Array {
  const lod = antialias ? levelOfDetail(affineScale(affine)) : 0;
  const l0 = Math.floor(lod);
  const frac = lod - l0;
  const top = frac > 1e-9 ? l0 + 1 : l0;
  const [a, b, cc, d, e, f] = affine;
  // The source box the block reads.
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [u, v] of [
    [ox, oy],
    [ox + outW, oy],
    [ox, oy + outH],
    [ox + outW, oy + outH],
  ]) {
    const x = a * u + b * v + cc;
    const y = d * u + e * v + f;
    minX = Math.min(minX, x);
    maxX = Math.max(maxX, x);
    minY = Math.min(minY, y);
    maxY = Math.max(maxY, y);
  }
  const unit = 2 ** top;
  const margin = 2 * unit + 2;
  let rx0 = Math.max(0, Math.floor((Math.floor(minX) - margin) / unit) * unit);
  let ry0 = Math.max(0, Math.floor((Math.floor(minY) - margin) / unit) * unit);
  let rx1 = Math.min(w, Math.ceil(maxX) + margin);
  let ry1 = Math.min(h, Math.ceil(maxY) + margin);
  // Past a frame edge the samples come from just inside it (reflected or clamped): keep that
  // edge and the strip inside it that reflection reaches.
  if (minX < 0) rx1 = Math.min(w, Math.max(rx1, Math.ceil(-minX) + margin));
  if (maxX > w) rx0 = Math.max(0, Math.min(rx0, Math.floor((Math.floor(2 * w - maxX) - margin) / unit) * unit));
  if (minY < 0) ry1 = Math.min(h, Math.max(ry1, Math.ceil(-minY) + margin));
  if (maxY > h) ry0 = Math.max(0, Math.min(ry0, Math.floor((Math.floor(2 * h - maxY) - margin) / unit) * unit));
  // Reflections of reflections (a block reaching a whole frame beyond an edge), an empty box
  // or most of the frame: use the whole frame.
  const far = minX < -w || maxX > 2 * w || minY < -h || maxY > 2 * h;
  if (far || rx0 >= rx1 || ry0 >= ry1 || (rx1 - rx0) * (ry1 - ry0) > 0.6 * w * h) {
    rx0 = 0;
    ry0 = 0;
    rx1 = w;
    ry1 = h;
  }
  const whole = rx0 === 0 && ry0 === 0 && rx1 === w && ry1 === h;
  const base: Plane = whole ? { data: src, w, h } : subImage(src, w, c, rx0, ry0, rx1, ry1);
  const levels = pyramid(base, c, top);
  // Past the top of the pyramid (a 1x1 level) there is nothing coarser: stay there.
  const la = Math.min(l0, levels.length - 1);
  const lb = Math.min(l0 + 1, levels.length - 1);
  const pa = levels[la];
  const pb = levels[lb];
  const sa = 1 / 2 ** la;
  const sb = 1 / 2 ** lb;
  const useB = frac > 1e-9 && lb !== la;
  const out = new Float32Array(outW * outH * c);
  for (let j = 0; j < outH; j++) {
    const v = oy + j + 0.5;
    for (let i = 0; i < outW; i++) {
      const u = ox + i + 0.5;
      const x = a * u + b * v + cc - rx0;
      const y = d * u + e * v + f - ry0;
      const o = (j * outW + i) * c;
      if (useB) {
        bilinearAdd(pa, c, x * sa, y * sa, edge, 1 - frac, out, o);
        bilinearAdd(pb, c, x * sb, y * sb, edge, frac, out, o);
      } else {
        bilinearAdd(pa, c, x * sa, y * sa, edge, 1, out, o);
      }
    }
  }
  return out;
}

function checkImage(name: string, data: ArrayLike<number>, w: number, h: number, c: number): void {
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0)) {
    throw new FaceAlignError('INVALID_ARGUMENT', `${name}: width and height must be whole numbers > 0, got ${w}x${h}`);
  }
  if (data.length !== w * h * c) {
    throw new FaceAlignError('INVALID_ARGUMENT', `${name}: expected ${w}x${h}x${c} = ${w * h * c} values, got ${data.length}`);
  }
}

const toByte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/**
 * The N x N RGB crop of `rgb` (w x h, RGB bytes, HWC) through `affine`
 * (crop pixels -> source pixels, types.ts): bilinear, mipmapped when the crop
 * downscales, edges per `opts.edge` (default 'reflect').
 */
export function warpToCrop(rgb: Uint8Array, w: number, h: number, affine: Affine, n: number, opts: WarpOptions = {}): Uint8Array {
  checkImage('warpToCrop source', rgb, w, h, 3);
  if (!(Number.isInteger(n) && n > 0)) throw new FaceAlignError('INVALID_ARGUMENT', `crop size must be a whole number > 0, got ${n}`);
  const f = resample(rgb, w, h, 3, affine, 0, 0, n, n, opts.edge ?? 'reflect', opts.antialias ?? true);
  const out = new Uint8Array(n * n * 3);
  for (let i = 0; i < out.length; i++) out[i] = toByte(f[i]);
  return out;
}

export interface PasteOptions {
  /** Write into frameRgb itself instead of a copy (default false). */
  inPlace?: boolean;
  /** Mipmap the crop and mask when they are larger on screen than in the frame (default true). */
  antialias?: boolean;
}

/**
 * Composites an N x N RGB crop into its w x h source frame: every frame pixel
 * whose centre falls inside the quad reads the crop (and the mask) through the
 * inverse of `affine`, and becomes frame * (1 - m) + crop * m. `mask` is N x N
 * in crop space, values 0..1 (see mask.ts; all ones pastes the whole square).
 * The crop is sampled with clamped edges and the mask with zero outside, so
 * nothing outside the quad changes. Anti-aliased like warpToCrop when the
 * crop is bigger than its footprint in the frame (a 1024 render pasted onto a
 * 300-pixel face). Returns the composited frame (a copy unless opts.inPlace).
 */
export function pasteBack(
  frameRgb: Uint8Array,
  w: number,
  h: number,
  cropRgb: Uint8Array,
  n: number,
  affine: Affine,
  mask: Float32Array,
  opts: PasteOptions = {}
): Uint8Array {
  checkImage('pasteBack frame', frameRgb, w, h, 3);
  checkImage('pasteBack crop', cropRgb, n, n, 3);
  checkImage('pasteBack mask', mask, n, n, 1);
  const out = opts.inPlace ? frameRgb : new Uint8Array(frameRgb);
  const antialias = opts.antialias ?? true;
  const inv = invertAffine(affine); // source -> crop
  // The frame-pixel block that can see the quad: its corners' bounding box, clipped to the frame.
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [u, v] of [
    [0, 0],
    [n, 0],
    [0, n],
    [n, n],
  ]) {
    const x = affine[0] * u + affine[1] * v + affine[2];
    const y = affine[3] * u + affine[4] * v + affine[5];
    x0 = Math.min(x0, x);
    y0 = Math.min(y0, y);
    x1 = Math.max(x1, x);
    y1 = Math.max(y1, y);
  }
  const bx0 = Math.max(0, Math.floor(x0));
  const by0 = Math.max(0, Math.floor(y0));
  const bx1 = Math.min(w, Math.ceil(x1));
  const by1 = Math.min(h, Math.ceil(y1));
  const bw = bx1 - bx0;
  const bh = by1 - by0;
  if (bw <= 0 || bh <= 0) return out;
  const m = resample(mask, n, n, 1, inv, bx0, by0, bw, bh, 'zero', antialias);
  const rgb = resample(cropRgb, n, n, 3, inv, bx0, by0, bw, bh, 'clamp', antialias);
  for (let j = 0; j < bh; j++) {
    const y = by0 + j + 0.5;
    for (let i = 0; i < bw; i++) {
      const x = bx0 + i + 0.5;
      // Only pixels whose centre is inside the quad take part.
      const u = inv[0] * x + inv[1] * y + inv[2];
      const v = inv[3] * x + inv[4] * y + inv[5];
      if (!(u >= 0 && u <= n && v >= 0 && v <= n)) continue;
      const q = j * bw + i;
      const alpha = m[q] < 0 ? 0 : m[q] > 1 ? 1 : m[q];
      if (alpha <= 0) continue;
      const o = ((by0 + j) * w + bx0 + i) * 3;
      for (let k = 0; k < 3; k++) out[o + k] = toByte(out[o + k] * (1 - alpha) + rgb[3 * q + k] * alpha);
    }
  }
  return out;
}

/**
 * Integer-factor area downscale (each output pixel the mean of a factor x
 * factor block; the partial blocks at the right and bottom are dropped), for
 * running a detector on a smaller copy. A point x in the small image is at
 * x * factor in the original.
 */
export function downscaleArea(rgb: Uint8Array, w: number, h: number, factor: number): { data: Uint8Array; width: number; height: number } {
  checkImage('downscaleArea', rgb, w, h, 3);
  if (!(Number.isInteger(factor) && factor >= 1)) throw new FaceAlignError('INVALID_ARGUMENT', `factor must be a whole number >= 1, got ${factor}`);
  if (factor === 1) return { data: rgb, width: w, height: h };
  const ow = Math.max(1, Math.floor(w / factor));
  const oh = Math.max(1, Math.floor(h / factor));
  const out = new Uint8Array(ow * oh * 3);
  const rowAcc = new Float64Array(ow * 3);
  const fy = Math.min(factor, h);
  const fx = Math.min(factor, w);
  const norm = 1 / (fx * fy);
  for (let y = 0; y < oh; y++) {
    rowAcc.fill(0);
    for (let dy = 0; dy < fy; dy++) {
      const row = (y * factor + dy) * w * 3;
      for (let x = 0; x < ow; x++) {
        const base = row + x * factor * 3;
        for (let dx = 0; dx < fx; dx++) {
          const i = base + dx * 3;
          rowAcc[3 * x] += rgb[i];
          rowAcc[3 * x + 1] += rgb[i + 1];
          rowAcc[3 * x + 2] += rgb[i + 2];
        }
      }
    }
    for (let k = 0; k < ow * 3; k++) out[y * ow * 3 + k] = Math.round(rowAcc[k] * norm);
  }
  return { data: out, width: ow, height: oh };
}
