// Winograd F(4x4, 3x3) for the 3x3, stride-1, zero-padded convolutions of a forward-only render
// (the editor's moving preview). Each 6x6 input tile with a 4x4 output costs 36 products per
// channel pair instead of 144: the convolution becomes 36 matrix products over the channels
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). In float32 it agrees
// with the direct convolution to about 1e-5 of the output's scale, so the encoder and the
// full-resolution renders keep the direct form; only previews use this.
//
// All of it is standard ONNX, in as few passes over memory as we found: the input transform is one
// convolution of each channel with 36 fixed 6x6 kernels at stride 4, the products one batched
// MatMul against pre-transformed weights, the output transform one MatMul by a fixed [16, 36]
// matrix, and DepthToSpace puts each tile's 16 pixels in place. (The first version transformed
// rows and columns separately, with 6-tap convolutions and transposed convolutions and a transpose
// between them; on an AVX-512 build machine its transforms at 256 px took four times as long as
// its products.)
import { Graph, Value } from '../graph/graph';

// Interpolation points 0, +-1, +-2 and infinity.
const BT = [
  [4, 0, -5, 0, 1, 0],
  [0, -4, -4, 1, 1, 0],
  [0, 4, -4, -1, 1, 0],
  [0, -2, -1, 2, 1, 0],
  [0, 2, -1, -2, 1, 0],
  [0, 4, 0, -5, 0, 1]
];
const G = [
  [1 / 4, 0, 0],
  [-1 / 6, -1 / 6, -1 / 6],
  [-1 / 6, 1 / 6, -1 / 6],
  [1 / 24, 1 / 12, 1 / 6],
  [1 / 24, -1 / 12, 1 / 6],
  [0, 0, 1]
];
const AT = [
  [1, 1, 1, 1, 1, 0],
  [0, 1, -1, 2, -2, 0],
  [0, 1, 1, 4, 4, 0],
  [0, 1, -1, 8, -8, 1]
];

/**
 * Whether Winograd is faster than the direct convolution for a layer (in and out channels equal,
 * as in config-f), measured on 2-core build machines with onnxruntime CPU:
 * - AVX2 (AMD EPYC), the first form of the transforms: 2.6x at 512 channels and 64 px, 2.1x at 256
 *   and 128 px, 1.6x at 128 and 256 px, 1.8x at 512 and 16 px; 0.7x at 8 px and 1.06x at 64
 *   channels, where the transforms cost as much as the products they save.
 * - AVX-512 (Intel Xeon), these transforms: 1.4x at 512 and 16 px, 1.5x at 32 px, 1.6x at 64 px,
 *   1.2x at 256 and 128 px, but 0.8x at 128 and 256 px, where the direct convolution runs near the
 *   cores' peak. Left in at 256 px: the whole preview at 256 px took the same time with and
 *   without it there (within the host's noise), and the first form paid there on AVX2 (the
 *   current form has not been measured on an AVX2 host).
 */
export const winogradPays = (inChannels: number, size: number): boolean => inChannels >= 128 && size >= 16 && size % 4 === 0;

/** The weights in the Winograd domain: U[a*6+b, o, i] = (G w[o, i] G^T)[a, b], from w [O, I, 3, 3]. */
export function winogradWeights(w: Float32Array, outChannels: number, inChannels: number): Float32Array {
  if (w.length !== outChannels * inChannels * 9) throw new Error(`expected ${outChannels}x${inChannels}x3x3 weights, got ${w.length} numbers`);
  const u = new Float32Array(36 * outChannels * inChannels);
  const gw = new Float64Array(18); // G w, 6x3
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < inChannels; i++) {
      const base = (o * inChannels + i) * 9;
      for (let a = 0; a < 6; a++) for (let l = 0; l < 3; l++) gw[a * 3 + l] = G[a]![0]! * w[base + l]! + G[a]![1]! * w[base + 3 + l]! + G[a]![2]! * w[base + 6 + l]!;
      for (let a = 0; a < 6; a++) {
        for (let b = 0; b < 6; b++) {
          u[((a * 6 + b) * outChannels + o) * inChannels + i] = gw[a * 3]! * G[b]![0]! + gw[a * 3 + 1]! * G[b]![1]! + gw[a * 3 + 2]! * G[b]![2]!;
        }
      }
    }
  }
  return u;
}

/** The input transform as one convolution kernel [36, 1, 6, 6]: channel a*6+b is (B^T d B)[a, b] of each 6x6 tile d. */
const inputKernel = (): Float32Array => {
  const k = new Float32Array(36 * 36);
  for (let a = 0; a < 6; a++) for (let b = 0; b < 6; b++) for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) k[((a * 6 + b) * 6 + r) * 6 + c] = BT[a]![r]! * BT[b]![c]!;
  return k;
};
/** The output transform as one matrix [16, 36]: row i*4+j gives pixel (i, j) of A^T m A from the 36 products m. */
const outputMatrix = (): Float32Array => {
  const k = new Float32Array(16 * 36);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let a = 0; a < 6; a++) for (let b = 0; b < 6; b++) k[(i * 4 + j) * 36 + a * 6 + b] = AT[i]![a]! * AT[j]![b]!;
  return k;
};

/**
 * Conv(x, w, pads 1) for x [B, I, H, H] (H a multiple of 4) and u = winogradWeights(w) given as
 * a graph value [36, O, I]; returns [B, O, H, H]. Forward only (DepthToSpace has no gradient here).
 */
export function winogradConv3x3(g: Graph, x: Value, u: Value): Value {
  const [b, ci, h, wd] = x.shape as [number, number, number, number];
  const co = u.shape[1] as number;
  if (h !== wd || h % 4 !== 0) throw new Error(`Winograd F(4,3) needs a square input whose side is a multiple of 4, got ${h}x${wd}`);
  if (u.shape[0] !== 36 || u.shape[2] !== ci) throw new Error(`Winograd weights must be [36, O, ${ci}], got [${u.shape}]`);
  const t = h / 4;
  const bt = g.sharedWeight(winogradWeights, 'winograd.BT', inputKernel, [36, 1, 6, 6]);
  const at = g.sharedWeight(winogradWeights, 'winograd.AT', outputMatrix, [16, 36]);
  // Input tiles: every channel of every frame is an image of its own; 6x6 tiles at stride 4,
  // transformed by one convolution with 36 outputs (pads 1: the conv's own zero padding).
  let v = g.conv(g.reshape(x, [b * ci, 1, h, h]), bt, { strides: [4, 4], pads: [1, 1, 1, 1] }); // [B*I, 36, T, T]
  v = g.reshape(g.transpose(g.reshape(v, [b, ci, 36, t * t]), [2, 1, 0, 3]), [36, ci, b * t * t]);
  // 36 products over the channels, then the output transform over the 36: [16, O*B*T*T].
  const m = g.matmul(u, v); // [36, O, B*T*T]
  let y = g.matmul(at, g.reshape(m, [36, co * b * t * t]));
  // Pixel (i, j) of each 4x4 output tile is channel (i*4 + j)*O + o: DepthToSpace's DCR order.
  y = b === 1 ? g.reshape(y, [1, 16 * co, t, t]) : g.reshape(g.transpose(g.reshape(y, [16 * co, b, t * t]), [1, 0, 2]), [b, 16 * co, t, t]);
  return g.depthToSpace(y, 4);
}
