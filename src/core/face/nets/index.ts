// face-api's face detectors, 68-point landmark net and face descriptor, rebuilt on our
// ONNX graph builder from the tfjs weights shipped in @vladmandic/face-api and run through
// the Runtime (onnxruntime-node). Pre- and post-processing follow face-api on tfjs, so
// boxes, scores and descriptors agree with it to float precision (test/core/face/nets.test.ts).
//
// One deliberate difference: landmarks are mapped back through the integer crop that was
// really sampled, where face-api shifts by the unrounded box and assumes a |w - h| / 2
// padding; the two differ by under 1.5 px. Coordinates follow tfjs's asymmetric resize
// (source = crop origin + network output * crop side), as face-api's do.
import type { SerializedModel } from '../../graph/serialize';
import type { Runtime } from '../../runtime';
import { FaceAlignError } from '../errors';
import type { FaceBox, Landmarks68 } from '../types';
import { checkImage, clipBox, squareCropResize, type RgbImage } from './image';
import { buildLandmarkNet, FACE_LANDMARK_68, LANDMARK_INPUT } from './landmarkNet';
import { buildRecognitionNet, descriptorBox, FACE_RECOGNITION, RECOGNITION_INPUT } from './recognitionNet';
import { buildSsdMobilenetV1, decodeSsd, SSD_INPUT, SSD_MOBILENET_V1, ssdAnchors } from './ssdMobilenetV1';
import { buildTinyFaceDetector, decodeTinyFaceDetector, TINY_FACE_DETECTOR } from './tinyFaceDetector';
import { faceApiModelDir, loadTfjsWeights, type WeightMap } from './weights';

export { FaceModelError, faceApiModelDir, loadTfjsWeights, type FaceModelErrorCode } from './weights';
export { descriptorBox } from './recognitionNet';

/**
 * 'ssd': SSD MobileNetV1 at 512x512, the default: on the close-up talking-head clips it
 * keeps scores above 0.65 where the tiny detector drops to 0.1-0.35.
 * 'tiny': TinyFaceDetector, about 3x faster, fine on portraits with a smaller face.
 */
export type DetectorKind = 'ssd' | 'tiny';

export interface DetectOptions {
  /** Keep boxes scoring above this (face-api's minConfidence / scoreThreshold; default 0.5). */
  minScore?: number;
  /** Tiny detector only: side of the square the image is resized to, a multiple of 32 (default 416). */
  inputSize?: number;
  detector?: DetectorKind;
}

export interface LandmarkRequest {
  rgb: Uint8Array;
  width: number;
  height: number;
  box: FaceBox;
}

export interface DescriptorRequest {
  rgb: Uint8Array;
  width: number;
  height: number;
  landmarks: Landmarks68;
}

export interface FaceNetsOptions {
  /** Folder holding the tfjs manifests and shards (default: @vladmandic/face-api/model). */
  modelDir?: string;
}

/** Largest batch run at once; a bigger request is split. */
const MAX_BATCH = 16;

/** n as chunks of MAX_BATCH then powers of two, so few distinct graphs (sessions) ever exist. */
function chunkSizes(n: number): number[] {
  const sizes: number[] = [];
  while (n >= MAX_BATCH) {
    sizes.push(MAX_BATCH);
    n -= MAX_BATCH;
  }
  for (let p = MAX_BATCH / 2; p >= 1; p /= 2) {
    if (n >= p) {
      sizes.push(p);
      n -= p;
    }
  }
  return sizes;
}

function image(rgb: Uint8Array, width: number, height: number, what: string): RgbImage {
  const img = { data: rgb, width, height };
  try {
    checkImage(img, what);
  } catch (err) {
    throw new FaceAlignError('INVALID_ARGUMENT', (err as Error).message);
  }
  return img;
}

export class FaceNets {
  private readonly models = new Map<string, SerializedModel>();

  private constructor(
    private readonly rt: Runtime,
    private readonly ssdWeights: WeightMap,
    private readonly tinyWeights: WeightMap,
    private readonly landmarkWeights: WeightMap,
    private readonly recognitionWeights: WeightMap
  ) {}

  static async load(rt: Runtime, opts: FaceNetsOptions = {}): Promise<FaceNets> {
    const dir = opts.modelDir ?? faceApiModelDir();
    const [ssd, det, lm, rec] = await Promise.all([
      loadTfjsWeights(SSD_MOBILENET_V1, dir),
      loadTfjsWeights(TINY_FACE_DETECTOR, dir),
      loadTfjsWeights(FACE_LANDMARK_68, dir),
      loadTfjsWeights(FACE_RECOGNITION, dir)
    ]);
    return new FaceNets(rt, ssd, det, lm, rec);
  }

  private model(key: string, build: () => SerializedModel): SerializedModel {
    let m = this.models.get(key);
    if (!m) {
      m = build();
      this.models.set(key, m);
    }
    return m;
  }

  /** Faces in an RGB image, best first, boxes in source pixels. */
  async detect(rgb: Uint8Array, width: number, height: number, opts: DetectOptions = {}): Promise<FaceBox[]> {
    const img = image(rgb, width, height, 'detect');
    const minScore = opts.minScore ?? 0.5;
    if (!(minScore >= 0 && minScore < 1)) throw new FaceAlignError('INVALID_ARGUMENT', `detect: minScore must be in [0, 1), got ${minScore}`);
    const kind = opts.detector ?? 'ssd';
    if (kind === 'ssd') {
      const model = this.model('ssd', () => buildSsdMobilenetV1(this.ssdWeights));
      const input = new Float32Array(3 * SSD_INPUT * SSD_INPUT);
      squareCropResize(img, { x: 0, y: 0, width, height }, false, SSD_INPUT, input);
      const { boxes, logits } = await this.rt.run(model, { image: { data: input, dims: [1, 3, SSD_INPUT, SSD_INPUT] } });
      if (!boxes || !logits) throw new Error('SSD graph returned no boxes');
      return decodeSsd(boxes.data, logits.data, ssdAnchors(this.ssdWeights), width, height, minScore);
    }
    if (kind !== 'tiny') throw new FaceAlignError('INVALID_ARGUMENT', `detect: unknown detector "${String(kind)}": use ssd or tiny`);
    const inputSize = opts.inputSize ?? 416;
    if (!Number.isInteger(inputSize) || inputSize < 64 || inputSize % 32 !== 0) {
      throw new FaceAlignError('INVALID_ARGUMENT', `detect: inputSize must be a multiple of 32 from 64 up, got ${inputSize}`);
    }
    const model = this.model(`tiny:${inputSize}`, () => buildTinyFaceDetector(this.tinyWeights, inputSize));
    const input = new Float32Array(3 * inputSize * inputSize);
    squareCropResize(img, { x: 0, y: 0, width, height }, false, inputSize, input);
    const { head } = await this.rt.run(model, { image: { data: input, dims: [1, 3, inputSize, inputSize] } });
    if (!head) throw new Error('tiny detector graph returned no head');
    return decodeTinyFaceDetector(head.data, head.dims[2] as number, width, height, inputSize, minScore);
  }

  /** 68 landmarks in source pixels for the face in `box` (face-api FaceLandmark68Net). */
  async landmarks(rgb: Uint8Array, width: number, height: number, box: FaceBox): Promise<Landmarks68> {
    const [lm] = await this.landmarksBatch([{ rgb, width, height, box }]);
    return lm as Landmarks68;
  }

  /** Landmarks for many (frame, box) pairs, run in batches. */
  async landmarksBatch(items: readonly LandmarkRequest[]): Promise<Landmarks68[]> {
    const S = LANDMARK_INPUT;
    const out: Landmarks68[] = [];
    let start = 0;
    for (const n of chunkSizes(items.length)) {
      const chunk = items.slice(start, start + n);
      start += n;
      const input = new Float32Array(n * 3 * S * S);
      const crops = chunk.map((it, i) => {
        const img = image(it.rgb, it.width, it.height, 'landmarks');
        const rect = clipBox(it.box, it.width, it.height);
        if (!rect) {
          throw new FaceAlignError('INVALID_ARGUMENT', `landmarks: box (${it.box.x}, ${it.box.y}, ${it.box.width}x${it.box.height}) lies outside the ${it.width}x${it.height} image`);
        }
        return squareCropResize(img, rect, true, S, input, i * 3 * S * S);
      });
      const model = this.model(`landmarks:${n}`, () => buildLandmarkNet(this.landmarkWeights, n));
      const { landmarks } = await this.rt.run(model, { face: { data: input, dims: [n, 3, S, S] } });
      if (!landmarks) throw new Error('landmark graph returned no landmarks');
      crops.forEach((c, i) => {
        // The net's (0..1) output spans the padded square: back to crop, then to source pixels.
        const lm = new Float32Array(136);
        for (let k = 0; k < 68; k++) {
          lm[2 * k] = (landmarks.data[i * 136 + 2 * k] as number) * c.side - c.padLeft + c.rect.x;
          lm[2 * k + 1] = (landmarks.data[i * 136 + 2 * k + 1] as number) * c.side - c.padTop + c.rect.y;
        }
        out.push(lm);
      });
    }
    return out;
  }

  /** The 128-d descriptor of the face, from the landmark-aligned 150x150 chip (face-api FaceRecognitionNet). */
  async descriptor(rgb: Uint8Array, width: number, height: number, landmarks: Landmarks68): Promise<Float32Array> {
    const [d] = await this.descriptorBatch([{ rgb, width, height, landmarks }]);
    return d as Float32Array;
  }

  async descriptorBatch(items: readonly DescriptorRequest[]): Promise<Float32Array[]> {
    const S = RECOGNITION_INPUT;
    const out: Float32Array[] = [];
    let start = 0;
    for (const n of chunkSizes(items.length)) {
      const chunk = items.slice(start, start + n);
      start += n;
      const input = new Float32Array(n * 3 * S * S);
      chunk.forEach((it, i) => {
        const img = image(it.rgb, it.width, it.height, 'descriptor');
        if (it.landmarks.length !== 136 || !it.landmarks.every(Number.isFinite)) {
          throw new FaceAlignError('BAD_LANDMARKS', 'descriptor: landmarks must be 68 finite (x, y) points');
        }
        const rect = clipBox(descriptorBox(it.landmarks), it.width, it.height);
        if (!rect) throw new FaceAlignError('BAD_LANDMARKS', `descriptor: the landmarks give no face area inside the ${it.width}x${it.height} image`);
        squareCropResize(img, rect, true, S, input, i * 3 * S * S);
      });
      const model = this.model(`recognition:${n}`, () => buildRecognitionNet(this.recognitionWeights, n));
      const { descriptor } = await this.rt.run(model, { chip: { data: input, dims: [n, 3, S, S] } });
      if (!descriptor) throw new Error('recognition graph returned no descriptor');
      for (let i = 0; i < n; i++) out.push(descriptor.data.slice(i * 128, (i + 1) * 128));
    }
    return out;
  }
}
