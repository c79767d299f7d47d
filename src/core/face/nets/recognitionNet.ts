// face-api's FaceRecognitionNet: the dlib ResNet-29 face descriptor (src/faceRecognitionNet),
// 150x150 face chip -> 128-d descriptor.
import { Graph, type Value } from '../../graph/graph';
import { serialize, type SerializedModel } from '../../graph/serialize';
import type { Landmarks68 } from '../types';
import { Layers, type Padding } from './layers';
import type { WeightMap } from './weights';

export const FACE_RECOGNITION = 'face_recognition_model';
export const RECOGNITION_INPUT = 150;
const MEAN_RGB = [122.782, 117.001, 104.298] as const;

/** conv + bias, then the affine 'scale' layer (folded batch norm), then optionally ReLU. */
function convLayer(L: Layers, x: Value, prefix: string, stride: number, relu: boolean, padding: Padding = 'same'): Value {
  const { g } = L;
  let out = L.conv(x, `${prefix}/conv/filters`, `${prefix}/conv/bias`, stride, padding);
  const co = out.shape[1] as number;
  out = g.add(g.mul(out, L.channelVector(`${prefix}/scale/weights`, co)), L.channelVector(`${prefix}/scale/biases`, co));
  return relu ? g.relu(out) : out;
}

function residual(L: Layers, x: Value, prefix: string): Value {
  let out = convLayer(L, x, `${prefix}/conv1`, 1, true);
  out = convLayer(L, out, `${prefix}/conv2`, 1, false);
  return L.g.relu(L.g.add(out, x));
}

function residualDown(L: Layers, x: Value, prefix: string): Value {
  const { g } = L;
  let out = convLayer(L, x, `${prefix}/conv1`, 2, true, 'valid');
  out = convLayer(L, out, `${prefix}/conv2`, 1, false);
  let pooled = g.averagePool(x, 2, 2);
  const [, co, oh, ow] = out.shape as [number, number, number, number];
  const [, ci, ph, pw] = pooled.shape as [number, number, number, number];
  // A 'valid' stride-2 conv can come out one smaller than the pooled shortcut: face-api
  // appends a zero row and column to the conv branch, and zero channels to the shortcut.
  if (ph !== oh || pw !== ow) out = g.pad(out, [0, 0, 0, 0, 0, 0, ph - oh, pw - ow]);
  if (co !== ci) pooled = g.pad(pooled, [0, 0, 0, 0, 0, co - ci, 0, 0]);
  return g.relu(g.add(pooled, out));
}

/** Input 'chip' [batch, 3, 150, 150] of 0..255 pixels -> 'descriptor' [batch, 128]. */
export function buildRecognitionNet(weights: WeightMap, batch: number): SerializedModel {
  const g = new Graph();
  const L = new Layers(g, weights, FACE_RECOGNITION);
  let x = L.normalize(g.input('chip', [batch, 3, RECOGNITION_INPUT, RECOGNITION_INPUT]), MEAN_RGB);
  x = convLayer(L, x, 'conv32_down', 2, true, 'valid');
  x = L.maxPool(x, 3, 2, 'valid');
  for (const p of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(L, x, p);
  x = residualDown(L, x, 'conv64_down');
  for (const p of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(L, x, p);
  x = residualDown(L, x, 'conv128_down');
  for (const p of ['conv128_1', 'conv128_2']) x = residual(L, x, p);
  x = residualDown(L, x, 'conv256_down');
  for (const p of ['conv256_1', 'conv256_2']) x = residual(L, x, p);
  x = residualDown(L, x, 'conv256_down_out');
  const pooled = g.reduceMean(x, [2, 3]);
  const out = L.dense(pooled, 'fc', null);
  return serialize(g, [{ name: 'descriptor', value: out }], { graphName: 'face_recognition' });
}

/**
 * The square the descriptor is computed on: face-api's FaceLandmarks.align with
 * useDlibAlignment (a box sized from the eye-to-mouth distance around the eyes' and
 * mouth's centres), in source pixels, before clipping to the image.
 */
export function descriptorBox(lm: Landmarks68): { x: number; y: number; width: number; height: number } {
  const centre = (from: number, to: number): [number, number] => {
    let sx = 0;
    let sy = 0;
    for (let i = from; i < to; i++) {
      sx += lm[2 * i] as number;
      sy += lm[2 * i + 1] as number;
    }
    return [sx / (to - from), sy / (to - from)];
  };
  const left = centre(36, 42);
  const right = centre(42, 48);
  const mouth = centre(48, 68);
  const dist = (p: [number, number]) => Math.hypot(mouth[0] - p[0], mouth[1] - p[1]);
  const size = Math.floor((dist(left) + dist(right)) / 2 / 0.45);
  const rx = (left[0] + right[0] + mouth[0]) / 3;
  const ry = (left[1] + right[1] + mouth[1]) / 3;
  return { x: Math.floor(Math.max(0, rx - 0.5 * size)), y: Math.floor(Math.max(0, ry - 0.43 * size)), width: size, height: size };
}
