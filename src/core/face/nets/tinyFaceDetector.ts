// face-api's TinyFaceDetector (a Tiny-YOLOv2 with depthwise-separable convolutions,
// src/tinyFaceDetector + src/tinyYolov2 in face-api): graph, box decoding and NMS.
import { Graph } from '../../graph/graph';
import { serialize, type SerializedModel } from '../../graph/serialize';
import type { FaceBox } from '../types';
import { Layers } from './layers';
import type { WeightMap } from './weights';

export const TINY_FACE_DETECTOR = 'tiny_face_detector_model';
const MEAN_RGB = [117.001, 114.697, 97.404] as const;
const ANCHORS: ReadonlyArray<readonly [number, number]> = [
  [1.603231, 2.094468],
  [6.041143, 7.080126],
  [2.882459, 3.518061],
  [4.266906, 5.178857],
  [9.041765, 10.66308]
];
const IOU_THRESHOLD = 0.4;
const BOX_ENCODING = 5; // tx, ty, tw, th, objectness (one class: no class scores)

/** Input [1, 3, S, S] of 0..255 pixels (the padded, resized image) -> raw head [1, 25, cells, cells]. */
export function buildTinyFaceDetector(weights: WeightMap, inputSize: number): SerializedModel {
  const g = new Graph();
  const L = new Layers(g, weights, TINY_FACE_DETECTOR);
  const leaky = (v: ReturnType<Graph['input']>) => g.leakyRelu(v, 0.1);
  let x = L.normalize(g.input('image', [1, 3, inputSize, inputSize]), MEAN_RGB);
  x = leaky(L.conv(x, 'conv0/filters', 'conv0/bias', 1, 'valid'));
  x = L.maxPool(x, 2, 2, 'same');
  for (let i = 1; i <= 5; i++) {
    x = leaky(L.separableConv(x, `conv${i}`, 1, 'same'));
    x = L.maxPool(x, 2, i < 5 ? 2 : 1, 'same');
  }
  const head = L.conv(x, 'conv8/filters', 'conv8/bias', 1, 'valid');
  if (head.shape[1] !== ANCHORS.length * BOX_ENCODING) throw new Error(`${TINY_FACE_DETECTOR}: head has ${head.shape[1]} channels`);
  return serialize(g, [{ name: 'head', value: head }], { graphName: 'tiny_face_detector' });
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function iou(a: FaceBox, b: FaceBox): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = w * h;
  return inter / (a.width * a.height + b.width * b.height - inter);
}

/** Greedy NMS, highest score first (face-api's ops/nonMaxSuppression). */
export function nonMaxSuppression(boxes: FaceBox[], threshold = IOU_THRESHOLD): FaceBox[] {
  let order = boxes.map((_, i) => i).sort((a, b) => (boxes[b] as FaceBox).score - (boxes[a] as FaceBox).score);
  const keep: FaceBox[] = [];
  while (order.length) {
    const best = boxes[order[0] as number] as FaceBox;
    keep.push(best);
    order = order.slice(1).filter((i) => iou(best, boxes[i] as FaceBox) <= threshold);
  }
  return keep;
}

/**
 * Decodes the head into boxes in source pixels. The network saw the image padded at its
 * right/bottom to a square and resized to inputSize, so cell coordinates are corrected by
 * inputSize / (scaled image size), as face-api's extractBoxes does.
 */
export function decodeTinyFaceDetector(head: Float32Array, cells: number, width: number, height: number, inputSize: number, minScore: number): FaceBox[] {
  const scale = inputSize / Math.max(width, height);
  const corrX = inputSize / Math.round(width * scale);
  const corrY = inputSize / Math.round(height * scale);
  const plane = cells * cells;
  const found: FaceBox[] = [];
  for (let row = 0; row < cells; row++) {
    for (let col = 0; col < cells; col++) {
      for (let a = 0; a < ANCHORS.length; a++) {
        const at = (k: number): number => head[(a * BOX_ENCODING + k) * plane + row * cells + col] as number;
        const score = sigmoid(at(4));
        if (!(score > minScore)) continue;
        const [ax, ay] = ANCHORS[a] as readonly [number, number];
        const cx = ((col + sigmoid(at(0))) / cells) * corrX;
        const cy = ((row + sigmoid(at(1))) / cells) * corrY;
        const w = ((Math.exp(at(2)) * ax) / cells) * corrX;
        const h = ((Math.exp(at(3)) * ay) / cells) * corrY;
        found.push({ x: (cx - w / 2) * width, y: (cy - h / 2) * height, width: w * width, height: h * height, score });
      }
    }
  }
  return nonMaxSuppression(found);
}
