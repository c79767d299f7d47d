// Winograd F(4x4, 3x3) for the 3x3, stride-1, zero-padded convolutions of a forward-only render
// (the editor's moving preview). Each 6x6 input tile with a 4x4 output costs 36 products per
// channel pair instead of 144: the convolution becomes 36 matrix products over the channels
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). In float32 it agrees
// with the direct convolution to about 1e-5 of the output's scale, so the encoder and the
// full-resolution renders keep the direct form; only previews use this.
//
// All of it is standard ONNX: the tile transforms are strided convolutions with fixed 6-tap
// kernels (rows, then columns), the products one batched MatMul against pre-transformed
// weights, and the output transform transposed convolutions with stride 4.
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
 * Whether Winograd is faster than the direct convolution for a layer: measured on the build
 * machine (2 cores, onnxruntime CPU), 2.6x at 512 channels and 64 px, 2.1x at 256 and 128 px,
 * 1.6x at 128 and 256 px and 1.8x at 512 and 16 px, but 0.7x at 8 px and 1.06x at 64 channels,
 * where the transforms cost as much as the products they save.
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

const inputKernel = (): Float32Array => Float32Array.from(BT.flat()); // [6 out, 6 taps]
const outputKernel = (): Float32Array => {
  const k = new Float32Array(24); // [6 in, 4 taps]
  for (let a = 0; a < 6; a++) for (let i = 0; i < 4; i++) k[a * 4 + i] = AT[i]![a]!;
  return k;
};

/**
 * Conv(x, w, pads 1) for x [B, I, H, H] (H a multiple of 4) and u = winogradWeights(w) given as
 * a graph value [36, O, I]; returns [B, O, H, H].
 */
export function winogradConv3x3(g: Graph, x: Value, u: Value): Value {
  const [b, ci, h, wd] = x.shape as [number, number, number, number];
  const co = u.shape[1] as number;
  if (h !== wd || h % 4 !== 0) throw new Error(`Winograd F(4,3) needs a square input whose side is a multiple of 4, got ${h}x${wd}`);
  if (u.shape[0] !== 36 || u.shape[2] !== ci) throw new Error(`Winograd weights must be [36, O, ${ci}], got [${u.shape}]`);
  const t = h / 4;
  const bt = g.sharedWeight(winogradWeights, 'winograd.BT', inputKernel, [6, 1, 6, 1]);
  const btCols = g.sharedWeight(winogradWeights, 'winograd.BTcols', inputKernel, [6, 1, 1, 6]);
  const at = g.sharedWeight(winogradWeights, 'winograd.AT', outputKernel, [6, 1, 4, 1]);
  const atCols = g.sharedWeight(winogradWeights, 'winograd.ATcols', outputKernel, [6, 1, 1, 4]);
  // Input tiles: every channel of every frame is an image of its own; 6x6 tiles at stride 4.
  let v = g.pad(g.reshape(x, [b * ci, 1, h, h]), [0, 0, 1, 1, 0, 0, 1, 1]);
  v = g.conv(v, bt, { strides: [4, 1] }); // [B*I, 6, T, H+2]
  v = g.conv(g.reshape(v, [b * ci * 6, 1, t, h + 2]), btCols, { strides: [1, 4] }); // [B*I*6, 6, T, T]
  v = g.reshape(g.transpose(g.reshape(v, [b, ci, 36, t * t]), [2, 1, 0, 3]), [36, ci, b * t * t]);
  // 36 products over the channels.
  let m = g.matmul(u, v); // [36, O, B*T*T]
  m = g.reshape(g.transpose(g.reshape(m, [36, co, b, t * t]), [2, 1, 0, 3]), [b * co * 6, 6, t, t]);
  // Output tiles: 6 transformed columns -> 4 pixels, then rows.
  let y = g.convTranspose(m, atCols, { strides: [1, 4] }); // [B*O*6, 1, T, H]
  y = g.convTranspose(g.reshape(y, [b * co, 6, t, h]), at, { strides: [4, 1] }); // [B*O, 1, H, H]
  return g.reshape(y, [b, co, h, h]);
}
