// Reads tfjs "layers/graph" weight shards: a *-weights_manifest.json listing
// groups of .bin shards whose concatenated bytes hold every tensor in manifest
// order. Quantised tensors (uint8 / uint16 with scale and min, or float16) are
// expanded to float32 exactly as tfjs-core's io.decodeWeights does.
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type FaceModelErrorCode = 'MODEL_MISSING' | 'MODEL_CORRUPT';

export class FaceModelError extends Error {
  readonly code: FaceModelErrorCode;
  /** The manifest or shard concerned. */
  readonly file: string;
  constructor(code: FaceModelErrorCode, message: string, file: string) {
    super(message);
    this.name = 'FaceModelError';
    this.code = code;
    this.file = file;
  }
}

export interface WeightTensor {
  /** The tfjs shape (filters are HWIO, depthwise filters HW C 1). */
  shape: number[];
  data: Float32Array;
}

export type WeightMap = Map<string, WeightTensor>;

interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestEntry[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** The folder of tfjs models that ships inside @vladmandic/face-api. */
export function faceApiModelDir(): string {
  const pkg = createRequire(import.meta.url).resolve('@vladmandic/face-api/package.json');
  // A packaged app cannot read inside app.asar with every API; electron-builder unpacks beside it.
  return join(dirname(pkg), 'model').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** IEEE half -> float, as tfjs's getFloat16Decoder does. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

function decode(entry: ManifestEntry, bytes: Uint8Array, file: string): Float32Array {
  const n = numel(entry.shape);
  const q = entry.quantization;
  const copy = bytes.slice(); // aligned, owned buffer
  if (!q) {
    if (entry.dtype === 'float32') return new Float32Array(copy.buffer, 0, n);
    if (entry.dtype === 'int32') return Float32Array.from(new Int32Array(copy.buffer, 0, n));
    throw new FaceModelError('MODEL_CORRUPT', `${file}: tensor "${entry.name}" has unsupported dtype ${entry.dtype}`, file);
  }
  if (q.dtype === 'float16') {
    const half = new Uint16Array(copy.buffer, 0, n);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = halfToFloat(half[i] as number);
    return out;
  }
  if (q.dtype !== 'uint8' && q.dtype !== 'uint16') {
    throw new FaceModelError('MODEL_CORRUPT', `${file}: tensor "${entry.name}" has unsupported quantization ${q.dtype}`, file);
  }
  if (typeof q.scale !== 'number' || typeof q.min !== 'number') {
    throw new FaceModelError('MODEL_CORRUPT', `${file}: quantised tensor "${entry.name}" lacks scale or min`, file);
  }
  const raw = q.dtype === 'uint8' ? copy : new Uint16Array(copy.buffer, 0, n);
  const out = new Float32Array(n);
  const round = entry.dtype === 'int32';
  for (let i = 0; i < n; i++) {
    const v = (raw[i] as number) * q.scale + q.min;
    out[i] = round ? Math.round(v) : v;
  }
  return out;
}

/**
 * Loads `<dir>/<model>-weights_manifest.json` and its shards. Throws FaceModelError naming
 * the file when the manifest or a shard is missing, or a shard's size disagrees with the manifest.
 */
export async function loadTfjsWeights(model: string, dir: string = faceApiModelDir()): Promise<WeightMap> {
  const manifestPath = join(dir, `${model}-weights_manifest.json`);
  let groups: ManifestGroup[];
  try {
    groups = JSON.parse(await readFile(manifestPath, 'utf8')) as ManifestGroup[];
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new FaceModelError(
      missing ? 'MODEL_MISSING' : 'MODEL_CORRUPT',
      missing
        ? `Face model manifest ${manifestPath} is missing: reinstall @vladmandic/face-api (npm ci).`
        : `Face model manifest ${manifestPath} is not valid JSON: reinstall @vladmandic/face-api (npm ci).`,
      manifestPath
    );
  }
  if (!Array.isArray(groups)) throw new FaceModelError('MODEL_CORRUPT', `${manifestPath} is not a tfjs weights manifest`, manifestPath);

  const out: WeightMap = new Map();
  for (const group of groups) {
    const expected = group.weights.reduce((sum, w) => sum + numel(w.shape) * (BYTES[w.quantization?.dtype ?? w.dtype] ?? NaN), 0);
    if (!Number.isFinite(expected)) throw new FaceModelError('MODEL_CORRUPT', `${manifestPath}: unknown dtype in group ${group.paths.join(', ')}`, manifestPath);
    const shards: Uint8Array[] = [];
    for (const p of group.paths) {
      const shardPath = join(dir, p);
      try {
        await stat(shardPath);
      } catch {
        throw new FaceModelError('MODEL_MISSING', `Face model shard ${shardPath} (listed in ${manifestPath}) is missing: reinstall @vladmandic/face-api (npm ci).`, shardPath);
      }
      shards.push(new Uint8Array(await readFile(shardPath)));
    }
    const total = shards.reduce((s, b) => s + b.length, 0);
    if (total !== expected) {
      const where = group.paths.map((p) => join(dir, p)).join(', ');
      throw new FaceModelError(
        'MODEL_CORRUPT',
        `Face model shard ${where} holds ${total} bytes but ${manifestPath} needs ${expected}: the file is truncated or from another version; reinstall @vladmandic/face-api (npm ci).`,
        join(dir, group.paths[0] ?? '')
      );
    }
    const all = new Uint8Array(total);
    let at = 0;
    for (const b of shards) {
      all.set(b, at);
      at += b.length;
    }
    let offset = 0;
    for (const w of group.weights) {
      const size = numel(w.shape) * (BYTES[w.quantization?.dtype ?? w.dtype] as number);
      out.set(w.name, { shape: [...w.shape], data: decode(w, all.subarray(offset, offset + size), join(dir, group.paths[0] ?? '')) });
      offset += size;
    }
  }
  return out;
}

/** A tensor by name, checked against the shape the network expects. */
export function takeWeight(weights: WeightMap, name: string, shape: readonly number[], model: string): Float32Array {
  const t = weights.get(name);
  if (!t) throw new FaceModelError('MODEL_CORRUPT', `${model}: weight "${name}" is missing from the manifest`, model);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new FaceModelError('MODEL_CORRUPT', `${model}: weight "${name}" has shape [${t.shape}], expected [${shape}]`, model);
  }
  return t.data;
}
