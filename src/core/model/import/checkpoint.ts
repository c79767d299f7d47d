// importCheckpoint: reads a StyleGAN2 checkpoint (NVlabs .pkl, rosinality .pt, or a state dict
// with official names), checks every tensor against the architecture read from the file, and
// writes a model bundle atomically.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Architecture, numWs, styleDim, tensorSpecs } from '../architecture';
import { ModelBundle, writeBundle } from '../bundle';
import { measureWAvg } from '../create';
import type { Runtime } from '../../runtime';
import { throwIfAborted } from '../../util/cancel';
import { sha256OfFileUnlessKnown } from '../../util/hash';
import { mapAdaPickle } from './ada';
import { checkArchitecture } from './limits';
import { CheckpointError } from './errors';
import type { MappedModel } from './mapped';
import { isAdaStateDict, isRosinality, mapAdaStateDict, mapRosinality } from './rosinality';
import { PersistentObject, TorchTensor, openTorchFile } from './torch';
import { isTfPickle, mapTfPickle } from './tf';
import { MAX_INFLATE_RATIO } from './zip';

export interface ImportOptions {
  /** Model name in the manifest (default: the output folder's name). */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (msg: string) => void;
  /** For estimating w_avg when the file has none (default: a CPU runtime created on demand). */
  runtime?: Runtime;
  /** conv_clamp for plain state dicts with official names, which do not record it (default none). */
  convClamp?: number | null;
  /**
   * The file's SHA-256, only where the caller computed it from these same bytes just before
   * (downloadModel: the download hashed the bytes as it wrote them): recorded as the
   * source digest instead of reading the whole checkpoint again. Never a digest taken from a
   * catalogue, a manifest or the user. One not in sha256OfFile's form is refused.
   */
  knownSha256?: string;
}

export interface ImportReport {
  format: MappedModel['format'];
  container: 'torch-zip' | 'torch-legacy' | 'pickle';
  resolution: number;
  numWs: number;
  zDim: number;
  wDim: number;
  styleDim: number;
  channels: Record<number, number>;
  mappingLayers: number;
  mappingLrMul: number;
  convClamp: number | null;
  /** Resolutions the file marks fp16; they compute in float32 here. */
  fp16Resolutions: number[];
  /** 'file' when the checkpoint carries w_avg (latent_avg), 'estimated' when it was measured from 4096 random z. */
  wAvg: 'file' | 'estimated';
  parameters: number;
  notes: string[];
  id: string;
  name: string;
  path: string;
  sourceSha256: string;
}

function detect(root: unknown, where: string, convClamp: number | null, fileSize: number): MappedModel {
  if (root instanceof PersistentObject || (root instanceof Map && root.has('G_ema'))) return mapAdaPickle(root, where);
  // A TF pickle's arrays are read whole: moved to our layout, at most 8 bytes an element of the file.
  if (isTfPickle(root)) return mapTfPickle(root, where, 8 * fileSize + 64 * 1024 ** 2);
  if (isRosinality(root)) return mapRosinality(root, where);
  if (isAdaStateDict(root)) return mapAdaStateDict(root, where, convClamp);
  const keys = root instanceof Map ? [...root.keys()].slice(0, 8).map(String).join(', ') : typeof root;
  throw new CheckpointError(`${where}: not a StyleGAN2 checkpoint this app knows (top-level: ${keys}); expected an NVlabs network pickle with G_ema, a TensorFlow StyleGAN2 pickle (G, D, Gs), a rosinality checkpoint with g_ema, or a generator state dict`);
}

/**
 * The bytes loading these tensors' storages would take, refused when more than the file could
 * hold (MAX_INFLATE_RATIO times its size) or than the architecture's tensors need at 8 bytes an
 * element: a small file that declares gigabytes is refused here, before anything is read.
 */
function checkLoadBudget(tensors: TorchTensor[], a: Architecture, fileSize: number, where: string): void {
  const storages = new Set(tensors.map((t) => t.storage));
  let total = 0;
  for (const s of storages) total += s.nbytes;
  const need = tensorSpecs(a).reduce((sum, s) => sum + s.shape.reduce((x, y) => x * y, 1), 0) * 8 + 1024 ** 2;
  if (total > fileSize * MAX_INFLATE_RATIO || total > need) {
    throw new CheckpointError(`${where}: its tensors declare ${total} bytes, but the file has ${fileSize} bytes and the architecture it describes needs at most ${need}: a corrupt or hostile file, refused before reading its tensors`);
  }
}

/** Every tensor of the bundle, checked against the architecture's shapes and converted to float32. */
function bundleTensors(m: MappedModel, where: string): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const spec of tensorSpecs(m.arch)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const layer = spec.name.replace(/\.(noise_const|noise_strength)$/, '');
    if (m.noiseless.has(layer) && layer !== spec.name) {
      out.set(spec.name, new Float32Array(n));
      continue;
    }
    const t = m.tensors.get(spec.name);
    if (!t) {
      if (spec.name === 'mapping.w_avg') continue;
      throw new CheckpointError(`${where}: tensor ${spec.name} is missing`);
    }
    const src = t instanceof TorchTensor ? t : 'source' in t ? t.source : t;
    if (src.shape.reduce((a, b) => a * b, 1) !== n) {
      throw new CheckpointError(`${where}: tensor ${spec.name} has shape [${src.shape}], the architecture read from the file needs [${spec.shape}]`);
    }
    const data = t instanceof TorchTensor ? t.data : 'source' in t ? t.source.data.map((v) => v * t.scale) : t.data;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new CheckpointError(`${where}: tensor ${spec.name} holds non-finite values`);
    }
    out.set(spec.name, data);
  }
  return out;
}

/** Imports a checkpoint into a model bundle at outDir (written atomically). No code from the file runs. */
export async function importCheckpoint(file: string, outDir: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const say = opts.onProgress ?? (() => {});
  const src = resolve(file);
  const target = resolve(outDir);
  if (!existsSync(src) || !statSync(src).isFile()) throw new CheckpointError(`cannot import ${src}: no such file`);
  if (existsSync(target)) {
    const st = statSync(target);
    if (!st.isDirectory() || (readdirSync(target).length > 0 && !existsSync(resolve(target, 'manifest.json')))) {
      throw new CheckpointError(`will not write the bundle to ${target}: it exists and is not a model bundle folder`);
    }
  }
  const where = basename(src);
  say(`reading ${src}`);
  const f = await openTorchFile(src);
  try {
    throwIfAborted(opts.signal);
    const mapped = detect(f.root, where, opts.convClamp ?? null, statSync(src).size);
    const a = mapped.arch;
    say(`found ${mapped.format} (${f.format}): ${a.resolution}x${a.resolution}, ${numWs(a)} ws, mapping ${a.mappingLayers} layers`);
    checkArchitecture(a, where);
    const toLoad = [...mapped.tensors.values()].flatMap((t) => (t instanceof TorchTensor ? [t] : 'source' in t ? [t.source] : []));
    checkLoadBudget(toLoad, a, statSync(src).size, where);
    await f.load(toLoad);
    throwIfAborted(opts.signal);
    for (const check of mapped.valueChecks) check();
    const tensors = bundleTensors(mapped, where);
    const name = opts.name ?? basename(target);
    if (!tensors.has('mapping.w_avg')) {
      say('the checkpoint has no w_avg (latent_avg): estimating it from 4096 random z');
      const rt = opts.runtime ?? (await (await import('../../runtime')).Runtime.create({ device: 'cpu' }));
      const draft: ModelBundle = {
        dir: target,
        manifest: { format: 'stylecast-model', version: 1, id: 'import-draft', name, architecture: a, weights: { file: '', sha256: '', floats: 0 }, tensors: [] },
        tensors
      };
      tensors.set('mapping.w_avg', await measureWAvg(draft, rt, 1, 4096));
      throwIfAborted(opts.signal);
    }
    const sourceSha256 = await sha256OfFileUnlessKnown(src, opts.knownSha256, opts.signal);
    throwIfAborted(opts.signal);
    const source = {
      kind: 'import',
      format: mapped.format,
      container: f.format,
      file: basename(src),
      sha256: sourceSha256,
      fp16Resolutions: mapped.fp16Resolutions,
      wAvg: mapped.wAvgPresent ? 'file' : 'estimated',
      notes: mapped.notes,
      ...(mapped.initKwargs ? { initKwargs: mapped.initKwargs } : {})
    };
    const manifest = writeBundle(target, name, a as Architecture, tensors, source);
    say(`wrote ${target}`);
    return {
      format: mapped.format,
      container: f.format,
      resolution: a.resolution,
      numWs: numWs(a),
      zDim: a.zDim,
      wDim: a.wDim,
      styleDim: styleDim(a),
      channels: a.channels,
      mappingLayers: a.mappingLayers,
      mappingLrMul: a.mappingLrMul,
      convClamp: a.convClamp,
      fp16Resolutions: mapped.fp16Resolutions,
      wAvg: mapped.wAvgPresent ? 'file' : 'estimated',
      parameters: manifest.weights.floats,
      notes: mapped.notes,
      id: manifest.id,
      name: manifest.name,
      path: target,
      sourceSha256
    };
  } finally {
    await f.close();
  }
}
