// The fine-tuning delta of a project (METHOD.md step 4, docs/FORMAT.md "Fine-tuning delta"):
// a low-rank update of every modulated conv's weight plus full updates of the small
// tensors, stored as one flat float16 vector in a fixed layout.
//
// Where the rank goes. A 3x3 modulated conv W [O, I, 3, 3] is updated as
//   dW = B . A,  B [O, r],  A [r, I*3*3]
// i.e. A is a bank of r 3x3 filters over the (modulated) input channels and B mixes them
// into the outputs: a conv into r channels followed by a 1x1 conv. The spatial taps sit
// on the input side with the styles (the modulation scales input channels, so a filter
// over them sees what the style selected); the output side is the one the demodulation
// normalises, so B only needs to say which outputs each filter feeds. Every conv layer
// gets the same rank r (capped at its channel counts): the bytes of a layer's factors
// grow with its width, so the narrow high-resolution layers, which draw the texture and
// detail a W+ latent cannot reach, get the largest share of their own capacity, while
// the wide coarse layers, which set pose and shape (already carried by p_t), get a
// small one. Biases of the convs and the ToRGB layers (weights [3, C], biases [3]) are
// tiny and updated in full.
import { createHash } from 'node:crypto';
import { Architecture, StyleLayer, styleLayers, tensorSpecs } from '../model/architecture';
import { ModelBundle, tensor } from '../model/bundle';

/** The delta may take at most this fraction of the synthesis network's float32 bytes (issue 11). */
export const MAX_DELTA_FRACTION = 0.05;
export const DELTA_DTYPE = 'float16-le';
export const DEFAULT_RANK = 8;

export class TuneError extends Error {
  constructor(
    readonly code: 'BAD_ARGUMENT' | 'NOT_ENCODED' | 'NOT_WRITABLE' | 'SOURCE_MISSING' | 'DELTA_MISSING' | 'DELTA_CORRUPT' | 'MODEL_MISMATCH' | 'PROJECT_CHANGED',
    message: string
  ) {
    super(message);
  }
}

/** One layer's slice of the flat delta vector. */
export interface DeltaLayer {
  name: string;
  kind: 'conv' | 'torgb';
  out: number;
  in: number;
  /** Kernel size (3 for convs, 1 for ToRGB). */
  k: number;
  /** Rank of the weight update; 0 for ToRGB, whose weight update is stored in full. */
  rank: number;
  /** Offsets (in elements) into the flat vector: A [r, in*k*k] and B [out, r] (conv) or W [out, in] (ToRGB), then bias [out]. */
  a: number;
  b: number;
  bias: number;
}

export interface DeltaLayout {
  rank: number;
  layers: DeltaLayer[];
  /** Elements of the flat vector. */
  size: number;
}

/** Float32 bytes of every synthesis tensor of the architecture (what a full copy of the tuned network would cost). */
export function synthesisBytes(arch: Architecture): number {
  return 4 * tensorSpecs(arch).filter((s) => s.name.startsWith('synthesis.')).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** The layout of a rank-r delta for this architecture (rank capped at each layer's channel counts). */
export function planDelta(arch: Architecture, rank: number): DeltaLayout {
  if (!Number.isInteger(rank) || rank < 1) throw new TuneError('BAD_ARGUMENT', `the rank must be a whole number of at least 1 (got ${rank})`);
  let off = 0;
  const layers = styleLayers(arch).map((l: StyleLayer): DeltaLayer => {
    const k = l.kind === 'conv' ? 3 : 1;
    const r = l.kind === 'conv' ? Math.min(rank, l.outChannels, l.inChannels) : 0;
    const a = off;
    const aSize = l.kind === 'conv' ? r * l.inChannels * k * k : l.outChannels * l.inChannels;
    const b = a + aSize;
    const bSize = l.kind === 'conv' ? l.outChannels * r : 0;
    const bias = b + bSize;
    off = bias + l.outChannels;
    return { name: l.name, kind: l.kind, out: l.outChannels, in: l.inChannels, k, rank: r, a, b, bias };
  });
  return { rank, layers, size: off };
}

/** The highest rank, up to `upTo`, whose delta fits the 5% budget (0 when none does). */
export function largestRank(arch: Architecture, upTo: number): number {
  const limit = MAX_DELTA_FRACTION * synthesisBytes(arch);
  let best = 0;
  for (let r = 1; r <= upTo; r++) if (2 * planDelta(arch, r).size <= limit) best = r;
  return best;
}

/** Checks a layout against the 5% budget; the message names the largest rank that fits. */
export function checkBudget(arch: Architecture, layout: DeltaLayout): void {
  const limit = MAX_DELTA_FRACTION * synthesisBytes(arch);
  if (2 * layout.size <= limit) return;
  const best = largestRank(arch, layout.rank);
  throw new TuneError(
    'BAD_ARGUMENT',
    `rank ${layout.rank} needs ${2 * layout.size} bytes, more than ${Math.round(MAX_DELTA_FRACTION * 100)}% of the synthesis weights (${Math.floor(limit)} of ${synthesisBytes(arch)} bytes): use --rank ${best} or less`
  );
}

// ---- float16 -------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE-754 binary16 bits of x, rounded to nearest even (overflow to infinity). */
export function toHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  // A carry out of the mantissa rounds up into the exponent (to infinity at the top), as it should.
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? Number.NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** Little-endian float16 bytes of a float32 vector. */
export function encodeHalf(v: Float32Array): Uint8Array {
  const out = new Uint8Array(2 * v.length);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) dv.setUint16(2 * i, toHalf(v[i]!), true);
  return out;
}

export function decodeHalf(bytes: Uint8Array): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength >>> 1);
  for (let i = 0; i < out.length; i++) out[i] = fromHalf(dv.getUint16(2 * i, true));
  return out;
}

/** The values a float32 vector has after a float16 round trip (what is stored, and so what renders). */
export function roundToHalf(v: Float32Array): Float32Array {
  return decodeHalf(encodeHalf(v));
}

export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// ---- applying ------------------------------------------------------------------

/** A tuned delta: its layout and the flat values. */
export interface SynthesisDelta {
  layout: DeltaLayout;
  values: Float32Array;
}

/** dW = B . A of a conv layer, as [out, in, k, k] row-major. */
export function lowRankWeight(l: DeltaLayer, v: Float32Array): Float32Array {
  const cols = l.in * l.k * l.k;
  const out = new Float32Array(l.out * cols);
  for (let o = 0; o < l.out; o++) {
    for (let j = 0; j < l.rank; j++) {
      const bj = v[l.b + o * l.rank + j]!;
      if (bj === 0) continue;
      const aRow = l.a + j * cols;
      for (let c = 0; c < cols; c++) out[o * cols + c]! += bj * v[aRow + c]!;
    }
  }
  return out;
}

/**
 * The bundle with the delta merged into its synthesis weights and biases (W + B.A, b + db),
 * for forward renders. The original bundle is untouched; an untuned project simply keeps
 * using it, so it renders bit for bit as before.
 */
export function applyDelta(bundle: ModelBundle, delta: SynthesisDelta): ModelBundle {
  const tensors = new Map(bundle.tensors);
  const v = delta.values;
  for (const l of delta.layout.layers) {
    const w = tensor(bundle, `${l.name}.weight`);
    const dw = l.kind === 'conv' ? lowRankWeight(l, v) : v.subarray(l.a, l.a + l.out * l.in);
    const nw = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) nw[i] = w[i]! + dw[i]!;
    tensors.set(`${l.name}.weight`, nw);
    const b = tensor(bundle, `${l.name}.bias`);
    const nb = new Float32Array(b.length);
    for (let i = 0; i < b.length; i++) nb[i] = b[i]! + v[l.bias + i]!;
    tensors.set(`${l.name}.bias`, nb);
  }
  return { ...bundle, tensors };
}
