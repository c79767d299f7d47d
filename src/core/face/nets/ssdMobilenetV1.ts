// face-api's SSD MobileNetV1 face detector (src/ssdMobilenetv1): MobileNetV1 features at
// 512x512, six box predictors over 5118 anchors, box decoding and NMS.
import { Graph, type Value } from '../../graph/graph';
import { serialize, type SerializedModel } from '../../graph/serialize';
import type { FaceBox } from '../types';
import { Layers } from './layers';
import { takeWeight, type WeightMap } from './weights';

export const SSD_MOBILENET_V1 = 'ssd_mobilenetv1_model';
export const SSD_INPUT = 512;
const BN_EPSILON = 0.0010000000474974513;
const IOU_THRESHOLD = 0.5;
const MAX_RESULTS = 100;

/** conv (stride, 'same') + convolution_bn_offset, then ReLU6. */
function pointwiseConvLayer(L: Layers, x: Value, prefix: string, stride: number): Value {
  return L.g.clip(L.conv(x, `${prefix}/weights`, `${prefix}/convolution_bn_offset`, stride, 'same'), 0, 6);
}

/** depthwise 3x3 ('same'), batch norm, ReLU6. */
function depthwiseConvLayer(L: Layers, x: Value, prefix: string, stride: number): Value {
  const { g } = L;
  const c = x.shape[1] as number;
  const y = L.depthwiseConv(x, `${prefix}/depthwise_weights`, stride, 'same');
  const v = (name: string) => g.weight(`${SSD_MOBILENET_V1}/${prefix}/${name}`, L.tensor(`${prefix}/BatchNorm/${name}`, [c]), [c]);
  const bn = g.emit('BatchNormalization', [y, v('gamma'), v('beta'), v('moving_mean'), v('moving_variance')], y.shape, { epsilon: BN_EPSILON });
  return g.clip(bn, 0, 6);
}

/** One predictor head: NCHW conv outputs -> [1, H*W*A, k] in tfjs's (h, w, anchor) order. */
function head(L: Layers, x: Value, prefix: string, k: number): Value {
  const y = L.conv(x, `${prefix}/weights`, `${prefix}/biases`, 1, 'same');
  const [, c, h, w] = y.shape as [number, number, number, number];
  return L.g.reshape(L.g.transpose(y, [0, 2, 3, 1]), [1, (h * w * c) / k, k]);
}

/**
 * Input 'image' [1, 3, 512, 512] of 0..255 pixels -> 'boxes' [1, 5118, 4] (raw encodings)
 * and 'logits' [1, 5118, 3] (background, face, unused).
 */
export function buildSsdMobilenetV1(weights: WeightMap): SerializedModel {
  const g = new Graph();
  const L = new Layers(g, weights, SSD_MOBILENET_V1);
  const input = g.input('image', [1, 3, SSD_INPUT, SSD_INPUT]);
  let x = g.sub(g.div(input, g.scalar(127.5)), g.scalar(1));
  x = pointwiseConvLayer(L, x, 'MobilenetV1/Conv2d_0_pointwise', 2);
  let conv11: Value | undefined;
  for (let i = 1; i <= 13; i++) {
    x = depthwiseConvLayer(L, x, `MobilenetV1/Conv2d_${i}_depthwise`, [2, 4, 6, 12].includes(i) ? 2 : 1);
    x = pointwiseConvLayer(L, x, `MobilenetV1/Conv2d_${i}_pointwise`, 1);
    if (i === 11) conv11 = x;
  }
  const p = (i: number, from: Value, stride: number) => pointwiseConvLayer(L, from, `Prediction/Conv2d_${i}_pointwise`, stride);
  const c0 = p(0, x, 1);
  const c1 = p(1, c0, 2);
  const c3 = p(3, p(2, c1, 1), 2);
  const c5 = p(5, p(4, c3, 1), 2);
  const c7 = p(7, p(6, c5, 1), 2);
  const sources = [conv11 as Value, x, c1, c3, c5, c7];
  const boxes = g.concat(sources.map((s, i) => head(L, s, `Prediction/BoxPredictor_${i}/BoxEncodingPredictor`, 4)), 1);
  const logits = g.concat(sources.map((s, i) => head(L, s, `Prediction/BoxPredictor_${i}/ClassPredictor`, 3)), 1);
  return serialize(
    g,
    [
      { name: 'boxes', value: boxes },
      { name: 'logits', value: logits }
    ],
    { graphName: 'ssd_mobilenetv1' }
  );
}

/** The anchors (Output/extra_dim), [5118 x 4]. */
export function ssdAnchors(weights: WeightMap): Float32Array {
  return takeWeight(weights, 'Output/extra_dim', [1, 5118, 4], SSD_MOBILENET_V1);
}

type Corners = [number, number, number, number]; // top, left, bottom, right (relative to the padded square)

function iou(a: Corners, b: Corners): number {
  const [t0, l0, b0, r0] = [Math.min(a[0], a[2]), Math.min(a[1], a[3]), Math.max(a[0], a[2]), Math.max(a[1], a[3])];
  const [t1, l1, b1, r1] = [Math.min(b[0], b[2]), Math.min(b[1], b[3]), Math.max(b[0], b[2]), Math.max(b[1], b[3])];
  const areaA = (b0 - t0) * (r0 - l0);
  const areaB = (b1 - t1) * (r1 - l1);
  if (areaA <= 0 || areaB <= 0) return 0;
  const inter = Math.max(Math.min(b0, b1) - Math.max(t0, t1), 0) * Math.max(Math.min(r0, r1) - Math.max(l0, l1), 0);
  return inter / (areaA + areaB - inter);
}

/**
 * Scores (sigmoid of the face logit), anchor-relative box decoding (variances 10, 10, 5, 5),
 * greedy NMS at IoU 0.5, then boxes in source pixels, as face-api's SsdMobilenetv1.locateFaces.
 */
export function decodeSsd(boxes: Float32Array, logits: Float32Array, anchors: Float32Array, width: number, height: number, minScore: number): FaceBox[] {
  const n = anchors.length / 4;
  const candidates: { i: number; score: number }[] = [];
  for (let i = 0; i < n; i++) {
    const score = 1 / (1 + Math.exp(-(logits[i * 3 + 1] as number)));
    if (score > minScore) candidates.push({ i, score });
  }
  candidates.sort((a, b) => b.score - a.score);
  const decode = (i: number): Corners => {
    const a = anchors.subarray(i * 4, i * 4 + 4);
    const e = boxes.subarray(i * 4, i * 4 + 4);
    const h = (a[2] as number) - (a[0] as number);
    const w = (a[3] as number) - (a[1] as number);
    const cy = (a[0] as number) + h / 2;
    const cx = (a[1] as number) + w / 2;
    const hh = (Math.exp((e[2] as number) / 5) * h) / 2;
    const hw = (Math.exp((e[3] as number) / 5) * w) / 2;
    const y = ((e[0] as number) / 10) * h + cy;
    const x = ((e[1] as number) / 10) * w + cx;
    return [y - hh, x - hw, y + hh, x + hw];
  };
  const kept: { box: Corners; score: number }[] = [];
  for (const c of candidates) {
    if (kept.length >= MAX_RESULTS) break;
    const box = decode(c.i);
    if (kept.every((k) => iou(box, k.box) <= IOU_THRESHOLD)) kept.push({ box, score: c.score });
  }
  const scale = SSD_INPUT / Math.max(width, height);
  const padX = SSD_INPUT / Math.round(width * scale);
  const padY = SSD_INPUT / Math.round(height * scale);
  return kept.map(({ box, score }) => {
    const top = Math.max(0, box[0]) * padY;
    const bottom = Math.min(1, box[2]) * padY;
    const left = Math.max(0, box[1]) * padX;
    const right = Math.min(1, box[3]) * padX;
    return { x: left * width, y: top * height, width: (right - left) * width, height: (bottom - top) * height, score };
  });
}
