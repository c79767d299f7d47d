// face-api itself, on @tensorflow/tfjs with the WebAssembly backend: the independent
// reference for src/core/face/nets. It shares no code with the port: face-api loads
// its own weights (tf.io weightsLoaderFactory over fs) and runs its own pipeline.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as FaceApi from '@vladmandic/face-api/dist/face-api.node-wasm';

const require = createRequire(import.meta.url);

export interface ReferenceBox {
  x: number;
  y: number;
  width: number;
  height: number;
  score: number;
}

export interface ReferenceFace {
  box: ReferenceBox;
  /** 68 points as x0, y0, x1, y1... in source pixels (face-api's FaceLandmarks68.positions). */
  landmarks: Float32Array;
  descriptor: Float32Array;
}

export type ReferenceDetector = 'ssd' | 'tiny';

export interface FaceApiReference {
  readonly faceapi: typeof FaceApi;
  /** detectAllFaces(...).withFaceLandmarks().withFaceDescriptors(), best score first. */
  analyse(rgb: Uint8Array, width: number, height: number, detector: ReferenceDetector, minScore?: number): Promise<ReferenceFace[]>;
  /** Detection only (the network's locateFaces), for timing. */
  detect(rgb: Uint8Array, width: number, height: number, detector: ReferenceDetector, minScore?: number): Promise<ReferenceBox[]>;
  /** FaceLandmark68Net on the box's crop, shifted to source pixels as face-api's pipeline does. */
  landmarks(rgb: Uint8Array, width: number, height: number, box: ReferenceBox): Promise<Float32Array>;
  /** FaceRecognitionNet on the crop of `box` (face-api pads it to a square and resizes to 150). */
  descriptor(rgb: Uint8Array, width: number, height: number, box: Omit<ReferenceBox, 'score'>): Promise<Float32Array>;
}

let loading: Promise<FaceApiReference> | undefined;

const toBox = (d: FaceApi.FaceDetection): ReferenceBox => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, score: d.score });
const toPoints = (lm: FaceApi.FaceLandmarks68): Float32Array => Float32Array.from(lm.positions.flatMap((p) => [p.x, p.y]));

async function load(): Promise<FaceApiReference> {
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as typeof FaceApi;
  const tf = faceapi.tf as unknown as {
    setWasmPaths(path: string): void;
    setBackend(name: string): Promise<boolean>;
    ready(): Promise<void>;
    getBackend(): string;
    tensor3d(values: Uint8Array | Int32Array, shape: [number, number, number], dtype: 'int32'): FaceApi.tf.Tensor3D;
    tidy<T>(fn: () => T): T;
  };
  const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
  tf.setWasmPaths(wasmDir);
  if (!(await tf.setBackend('wasm'))) throw new Error(`tfjs wasm backend did not start from ${wasmDir}`);
  await tf.ready();
  const modelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await Promise.all([
    faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir),
    faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir),
    faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir),
    faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir)
  ]);

  const options = (detector: ReferenceDetector, minScore: number) =>
    detector === 'ssd' ? new faceapi.SsdMobilenetv1Options({ minConfidence: minScore }) : new faceapi.TinyFaceDetectorOptions({ scoreThreshold: minScore, inputSize: 416 });
  const withImage = async <T>(rgb: Uint8Array, width: number, height: number, fn: (img: FaceApi.tf.Tensor3D) => Promise<T>): Promise<T> => {
    const img = tf.tensor3d(rgb, [height, width, 3], 'int32');
    try {
      return await fn(img);
    } finally {
      img.dispose();
    }
  };

  return {
    faceapi,
    analyse: (rgb, width, height, detector, minScore = 0.5) =>
      withImage(rgb, width, height, async (img) => {
        const results = await faceapi.detectAllFaces(img, options(detector, minScore)).withFaceLandmarks().withFaceDescriptors();
        return results
          .map((r) => ({ box: toBox(r.detection), landmarks: toPoints(r.landmarks), descriptor: Float32Array.from(r.descriptor) }))
          .sort((a, b) => b.box.score - a.box.score);
      }),
    detect: (rgb, width, height, detector, minScore = 0.5) =>
      withImage(rgb, width, height, async (img) => {
        const net = detector === 'ssd' ? faceapi.nets.ssdMobilenetv1 : faceapi.nets.tinyFaceDetector;
        const dets = await net.locateFaces(img, options(detector, minScore) as never);
        return dets.map(toBox);
      }),
    landmarks: (rgb, width, height, box) =>
      withImage(rgb, width, height, async (img) => {
        const [face] = await faceapi.extractFaceTensors(img, [new faceapi.Rect(box.x, box.y, box.width, box.height)]);
        if (!face) throw new Error('reference: empty face crop');
        try {
          const lm = (await faceapi.nets.faceLandmark68Net.detectLandmarks(face)) as FaceApi.FaceLandmarks68;
          return toPoints(lm.shiftBy(box.x, box.y));
        } finally {
          face.dispose();
        }
      }),
    descriptor: (rgb, width, height, box) =>
      withImage(rgb, width, height, async (img) => {
        const [face] = await faceapi.extractFaceTensors(img, [new faceapi.Rect(box.x, box.y, box.width, box.height)]);
        if (!face) throw new Error('reference: empty face crop');
        try {
          return Float32Array.from((await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(face)) as Float32Array);
        } finally {
          face.dispose();
        }
      })
  };
}

/** Loads face-api and its four models once per process. */
export function loadFaceApiReference(): Promise<FaceApiReference> {
  loading ??= load();
  return loading;
}
