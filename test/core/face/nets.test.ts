// The face-api networks rebuilt on our graph builder and run on onnxruntime-node,
// checked on the shared portraits and clips against face-api itself on tfjs-wasm.
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descriptorBox, FaceModelError, FaceNets, faceApiModelDir, loadTfjsWeights } from '../../../src/core/face/nets';
import type { FaceBox, Landmarks68 } from '../../../src/core/face/types';
import { Runtime } from '../../../src/core/runtime';
import { decodeFrames } from '../../../src/core/video';
import { loadFaceApiReference, type FaceApiReference, type ReferenceBox, type ReferenceFace } from '../../reference/faceapi-tfjs';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const dataDir = resolve(repoRoot, '..', 'shared', 'data');
const PORTRAITS = ['lp_s0.jpg', 'lp_s5.jpg'];
const CLIPS: Record<string, number[]> = { 'lp_d3.mp4': [0, 150, 300], 'vr_face1.mp4': [0, 60, 120] };
const haveMedia = [...PORTRAITS.map((p) => join(dataDir, 'portraits', p)), ...Object.keys(CLIPS).map((c) => join(dataDir, 'clips', c))].every(existsSync);
if (!haveMedia) console.warn(`face net tests on real media skipped: the shared portraits and clips are not at ${dataDir}`);

interface Image {
  name: string;
  rgb: Uint8Array;
  width: number;
  height: number;
}

async function loadImages(): Promise<Image[]> {
  const images: Image[] = [];
  for (const p of PORTRAITS) {
    for await (const f of decodeFrames(join(dataDir, 'portraits', p))) images.push({ name: p, rgb: f.data, width: f.width, height: f.height });
  }
  for (const [clip, indices] of Object.entries(CLIPS)) {
    // One ffmpeg pass per clip, keeping only the wanted frames.
    for await (const f of decodeFrames(join(dataDir, 'clips', clip), { count: Math.max(...indices) + 1 })) {
      if (indices.includes(f.index)) images.push({ name: `${clip}#${f.index}`, rgb: f.data, width: f.width, height: f.height });
    }
  }
  return images;
}

function iou(a: ReferenceBox | FaceBox, b: ReferenceBox | FaceBox): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

function meanPointDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < 68; k++) sum += Math.hypot((a[2 * k] as number) - (b[2 * k] as number), (a[2 * k + 1] as number) - (b[2 * k + 1] as number));
  return sum / 68;
}

function centre(lm: Landmarks68, from: number, to: number): [number, number] {
  let x = 0;
  let y = 0;
  for (let k = from; k < to; k++) {
    x += lm[2 * k] as number;
    y += lm[2 * k + 1] as number;
  }
  return [x / (to - from), y / (to - from)];
}

const cosine = (a: Float32Array, b: Float32Array): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((v, i) => {
    dot += v * (b[i] as number);
    na += v * v;
    nb += (b[i] as number) ** 2;
  });
  return dot / Math.sqrt(na * nb);
};
const distance = (a: Float32Array, b: Float32Array): number => Math.sqrt(a.reduce((s, v, i) => s + (v - (b[i] as number)) ** 2, 0));

/**
 * face-api shifts crop-relative landmarks by the unrounded detection box and assumes a padding
 * of |w - h| / 2; the port uses the integer crop it really sampled. This is their difference.
 */
function faceApiCropOffset(ref: FaceApiReference, box: FaceBox, width: number, height: number): [number, number] {
  const r = new ref.faceapi.Box(box).clipAtImageBorders(width, height);
  const diff = Math.abs(r.width - r.height);
  const realPad = diff - Math.round(diff / 2);
  return [(r.width < r.height ? realPad - diff / 2 : 0) + box.x - r.x, (r.height < r.width ? realPad - diff / 2 : 0) + box.y - r.y];
}

describe('tfjs weight manifests', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stylecast-facenets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('expands uint8-quantised tensors as value * scale + min', async () => {
    const weights = await loadTfjsWeights('tiny_face_detector_model');
    expect(weights.size).toBe(19);
    const manifest = JSON.parse(await readFile(join(faceApiModelDir(), 'tiny_face_detector_model-weights_manifest.json'), 'utf8'));
    const q = manifest[0].weights[0].quantization as { scale: number; min: number };
    const bytes = await readFile(join(faceApiModelDir(), 'tiny_face_detector_model.bin'));
    const conv0 = weights.get('conv0/filters')!;
    expect(conv0.shape).toEqual([3, 3, 3, 16]);
    for (const i of [0, 1, 200, 431]) expect(conv0.data[i]).toBe(Math.fround((bytes[i] as number) * q.scale + q.min));
    // conv0/bias follows the 432 filter bytes.
    const q1 = manifest[0].weights[1].quantization as { scale: number; min: number };
    expect(weights.get('conv0/bias')!.data[3]).toBe(Math.fround((bytes[432 + 3] as number) * q1.scale + q1.min));
  });

  it('names a missing shard and a truncated one', async () => {
    const name = 'face_landmark_68_model';
    await copyFile(join(faceApiModelDir(), `${name}-weights_manifest.json`), join(dir, `${name}-weights_manifest.json`));
    const missing = await loadTfjsWeights(name, dir).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(FaceModelError);
    expect((missing as FaceModelError).code).toBe('MODEL_MISSING');
    expect((missing as FaceModelError).message).toContain(join(dir, `${name}.bin`));

    await copyFile(join(faceApiModelDir(), `${name}.bin`), join(dir, `${name}.bin`));
    await truncate(join(dir, `${name}.bin`), 1000);
    const short = await loadTfjsWeights(name, dir).catch((e: unknown) => e);
    expect((short as FaceModelError).code).toBe('MODEL_CORRUPT');
    expect((short as FaceModelError).message).toMatch(new RegExp(`${name}\\.bin holds 1000 bytes but .* needs 356840`));
  });
});

describe.skipIf(!haveMedia)('face nets on onnxruntime vs face-api on tfjs-wasm (shared media)', () => {
  let rt: Runtime;
  let nets: FaceNets;
  let ref: FaceApiReference;
  let images: Image[];
  const ours = new Map<string, { boxes: FaceBox[]; landmarks: Landmarks68; descriptor: Float32Array }>();
  const theirs = new Map<string, ReferenceFace[]>();

  beforeAll(async () => {
    [rt, ref, images] = await Promise.all([Runtime.create({ device: 'cpu' }), loadFaceApiReference(), loadImages()]);
    nets = await FaceNets.load(rt);
    expect(images.map((i) => i.name)).toEqual(['lp_s0.jpg', 'lp_s5.jpg', 'lp_d3.mp4#0', 'lp_d3.mp4#150', 'lp_d3.mp4#300', 'vr_face1.mp4#0', 'vr_face1.mp4#60', 'vr_face1.mp4#120']);
    for (const im of images) {
      // A low threshold, so a second, weaker face would show up in both.
      const boxes = await nets.detect(im.rgb, im.width, im.height, { minScore: 0.3 });
      const landmarks = await nets.landmarks(im.rgb, im.width, im.height, boxes[0]!);
      const descriptor = await nets.descriptor(im.rgb, im.width, im.height, landmarks);
      ours.set(im.name, { boxes, landmarks, descriptor });
      theirs.set(im.name, await ref.analyse(im.rgb, im.width, im.height, 'ssd', 0.3));
    }
  });

  afterAll(async () => {
    await rt?.release();
  });

  it('finds exactly one face with score > 0.5 per image, where face-api finds it (IoU > 0.9)', () => {
    for (const im of images) {
      const { boxes } = ours.get(im.name)!;
      const confident = boxes.filter((b) => b.score > 0.5);
      expect(confident, im.name).toHaveLength(1);
      const [r] = theirs.get(im.name)!.filter((f) => f.box.score > 0.5);
      expect(iou(confident[0]!, r!.box), im.name).toBeGreaterThan(0.9);
      expect(Math.abs(confident[0]!.score - r!.box.score), im.name).toBeLessThan(1e-3);
      // Same candidates below 0.5 as well (lp_s0 has a weak second box in both).
      expect(boxes.map((b) => b.score.toFixed(2)), im.name).toEqual(theirs.get(im.name)!.map((f) => f.box.score.toFixed(2)));
    }
  });

  it('places 68 landmarks as a face: in the box, eyes above the mouth, left eye left, sensible eye distance', () => {
    for (const im of images) {
      const { boxes, landmarks: lm } = ours.get(im.name)!;
      const b = boxes[0]!;
      expect(lm).toHaveLength(136);
      // The SSD box hugs the inner face (brows, eyes, nose, mouth: points 17-67); the jaw
      // contour (0-16) runs out to the ears and may pass its sides (lp_s0: by 7%).
      const inside = (k: number, margin: number) => {
        const [x, y] = [lm[2 * k] as number, lm[2 * k + 1] as number];
        const [mx, my] = [margin * b.width, margin * b.height];
        return x > b.x - mx && x < b.x + b.width + mx && y > b.y - my && y < b.y + b.height + my;
      };
      for (let k = 0; k < 68; k++) expect(inside(k, k < 17 ? 0.1 : 0.02), `${im.name} point ${k}`).toBe(true);
      const left = centre(lm, 36, 42);
      const right = centre(lm, 42, 48);
      const mouth = centre(lm, 48, 68);
      expect(Math.max(left[1], right[1]), im.name).toBeLessThan(mouth[1] - 0.25 * b.height);
      expect(left[0], im.name).toBeLessThan(right[0]);
      const iod = Math.hypot(right[0] - left[0], right[1] - left[1]) / b.width;
      expect(iod, im.name).toBeGreaterThan(0.25);
      expect(iod, im.name).toBeLessThan(0.6);
    }
  });

  it("matches face-api's landmarks within 1.5% of the box, and to 0.05 px once its crop offset is applied", () => {
    for (const im of images) {
      const { boxes, landmarks } = ours.get(im.name)!;
      const r = theirs.get(im.name)![0]!;
      const size = (r.box.width + r.box.height) / 2;
      expect(meanPointDistance(landmarks, r.landmarks) / size, im.name).toBeLessThan(0.015);
      const [dx, dy] = faceApiCropOffset(ref, boxes[0]!, im.width, im.height);
      const shifted = landmarks.map((v, i) => v + (i % 2 ? dy : dx));
      expect(meanPointDistance(shifted, r.landmarks), im.name).toBeLessThan(0.05);
    }
  });

  it('gives the same landmarks in a batch as one by one', async () => {
    const items = images.map((im) => ({ rgb: im.rgb, width: im.width, height: im.height, box: ours.get(im.name)!.boxes[0]! }));
    const batch = await nets.landmarksBatch(items);
    expect(batch).toHaveLength(images.length);
    images.forEach((im, i) => expect(meanPointDistance(batch[i]!, ours.get(im.name)!.landmarks), im.name).toBeLessThan(1e-3));
  });

  it("matches face-api's descriptors (cosine > 0.99; > 0.99999 on the same chip) and tells people apart", async () => {
    for (const im of images) {
      const { descriptor, landmarks } = ours.get(im.name)!;
      expect(descriptor).toHaveLength(128);
      expect(cosine(descriptor, theirs.get(im.name)![0]!.descriptor), im.name).toBeGreaterThan(0.99);
      // The pipelines' chips differ by the landmarks' sub-pixel difference floored to a pixel (and
      // face-api sometimes trims its chip by the detection crop's size); on the same chip the
      // networks must agree to float precision.
      const reference = await ref.descriptor(im.rgb, im.width, im.height, descriptorBox(landmarks));
      expect(cosine(descriptor, reference), im.name).toBeGreaterThan(0.99999);
    }
    const d = (name: string) => ours.get(name)!.descriptor;
    const same = Math.max(distance(d('vr_face1.mp4#0'), d('vr_face1.mp4#60')), distance(d('vr_face1.mp4#60'), d('vr_face1.mp4#120')));
    const different = distance(d('lp_s0.jpg'), d('vr_face1.mp4#0'));
    expect(same).toBeLessThan(0.4);
    expect(different).toBeGreaterThan(0.6); // face-api's usual same-person threshold
    expect(different).toBeGreaterThan(2 * same);
  });

  it("the tiny detector matches face-api's on the portraits", async () => {
    for (const im of images.slice(0, 2)) {
      const [b] = await nets.detect(im.rgb, im.width, im.height, { detector: 'tiny' });
      const [r] = await ref.detect(im.rgb, im.width, im.height, 'tiny');
      expect(iou(b!, r!), im.name).toBeGreaterThan(0.99);
      expect(Math.abs(b!.score - r!.score), im.name).toBeLessThan(1e-3);
    }
  });
});
