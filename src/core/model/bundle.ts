// Model bundle: a folder with manifest.json and weights.bin (little-endian float32,
// tensors back to back in manifest order). The model id is a hash of both.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Architecture, ModelError, tensorSpecs } from './architecture';
import { PlainFileError, readPlainFileSync, writeFileAtomicSync } from '../util/fs';

export const BUNDLE_FORMAT = 'stylecast-model';
export const BUNDLE_VERSION = 1;

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements. */
  offset: number;
}

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  version: number;
  id: string;
  name: string;
  architecture: Architecture;
  weights: { file: string; sha256: string; floats: number };
  tensors: TensorEntry[];
  source?: Record<string, unknown>;
  /** Calibrated edit basis, when present (written by calibration). */
  basis?: unknown;
}

export interface ModelBundle {
  dir: string;
  manifest: Manifest;
  tensors: Map<string, Float32Array>;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function tensor(b: ModelBundle, name: string): Float32Array {
  const t = b.tensors.get(name);
  if (!t) throw new ModelError(`model ${b.manifest.name}: tensor "${name}" is missing`);
  return t;
}

export interface PackedTensors {
  bytes: Uint8Array;
  sha256: string;
  floats: number;
  entries: TensorEntry[];
}

/** Lays tensors back to back, in the given order, as little-endian float32 (the weights.bin layout). */
export function packTensors(list: readonly { name: string; shape: number[]; data: Float32Array }[]): PackedTensors {
  let floats = 0;
  const entries: TensorEntry[] = list.map((t) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new ModelError(`cannot write bundle: tensor "${t.name}" has ${t.data.length} values, expected [${t.shape}]`);
    const e = { name: t.name, shape: [...t.shape], offset: floats };
    floats += n;
    return e;
  });
  const all = new Float32Array(floats);
  list.forEach((t, i) => all.set(t.data, entries[i]!.offset));
  const bytes = new Uint8Array(all.buffer);
  return { bytes, sha256: sha256(bytes), floats, entries };
}

/**
 * Writes a bundle folder atomically: everything goes to a new hidden temporary folder beside it
 * (the models list skips names that start with "."), each file flushed to disk, which is renamed
 * into place; an old bundle there is first renamed aside and removed only after. A crash leaves
 * the old bundle or the new one (or the old one aside, hidden), never neither half-written.
 */
export function writeFolderAtomic(dir: string, weights: Uint8Array, manifest: object): void {
  const target = resolve(dir);
  const tag = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const hidden = (what: string) => join(dirname(target), `.${basename(target)}.${what}-${tag}`);
  const tmp = hidden('tmp');
  mkdirSync(dirname(target), { recursive: true });
  mkdirSync(tmp);
  try {
    writeFileAtomicSync(join(tmp, 'weights.bin'), weights);
    writeFileAtomicSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    let aside: string | null = null;
    if (existsSync(target)) {
      aside = hidden('old');
      renameSync(target, aside);
    }
    renameSync(tmp, target);
    if (aside) rmSync(aside, { recursive: true, force: true });
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Reads manifest.json of a bundle folder; `missing` is the message when there is none. */
export function readManifestJson(dir: string, missing: string): unknown {
  const mPath = join(dir, 'manifest.json');
  if (!existsSync(mPath)) throw new ModelError(missing);
  try {
    return JSON.parse(readFileSync(mPath, 'utf8'));
  } catch (e) {
    throw new ModelError(`${mPath} is not valid JSON: ${(e as Error).message}`);
  }
}

/** Reads weights.bin (a plain file of the folder, never a link) and checks its size and checksum against the manifest. */
export function readWeightsFile(dir: string, weights: Manifest['weights'] | undefined, what: string): Float32Array {
  if (!weights || !Number.isSafeInteger(weights.floats) || weights.floats < 0 || typeof weights.sha256 !== 'string') {
    throw new ModelError(`${what} ${dir}: the manifest does not describe its weights file`);
  }
  const wPath = join(dir, String(weights.file ?? 'weights.bin'));
  let buf: Buffer;
  try {
    buf = readPlainFileSync(dir, weights.file ?? 'weights.bin', { exact: weights.floats * 4 });
  } catch (e) {
    if (!(e instanceof PlainFileError)) throw e;
    if (e.reason === 'missing') throw new ModelError(`${what} ${dir}: weights file ${wPath} is missing`);
    if (e.reason === 'size') throw new ModelError(`${what} ${dir}: ${wPath} has ${e.size} bytes, the manifest expects ${weights.floats * 4}: the bundle is corrupt or truncated`);
    throw new ModelError(`${what} ${dir}: ${e.message}: re-create or re-import the bundle`);
  }
  if (sha256(buf) !== weights.sha256) {
    throw new ModelError(`${what} ${dir}: ${wPath} does not match its checksum: the bundle is corrupt; re-create or re-import it`);
  }
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/** Writes a bundle atomically: everything goes to a temp folder that is renamed into place. */
export function writeBundle(dir: string, name: string, arch: Architecture, tensors: Map<string, Float32Array>, source?: Record<string, unknown>): Manifest {
  const specs = tensorSpecs(arch);
  const packed = packTensors(
    specs.map((s) => {
      const t = tensors.get(s.name);
      if (!t) throw new ModelError(`cannot write bundle: tensor "${s.name}" is missing`);
      return { name: s.name, shape: s.shape, data: t };
    })
  );
  const wHash = packed.sha256;
  const id = createHash('sha256').update(JSON.stringify(arch)).update(wHash).digest('hex').slice(0, 16);
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    id,
    name,
    architecture: arch,
    weights: { file: 'weights.bin', sha256: wHash, floats: packed.floats },
    tensors: packed.entries,
    ...(source ? { source } : {})
  };
  writeFolderAtomic(dir, packed.bytes, manifest);
  return manifest;
}

/** Rewrites only the manifest (for calibration results), atomically. */
export function updateManifest(b: ModelBundle, patch: Partial<Manifest>): void {
  const m = { ...b.manifest, ...patch };
  const p = join(b.dir, 'manifest.json');
  writeFileAtomicSync(p, JSON.stringify(m, null, 1));
  b.manifest = m;
}

function validateArchitecture(a: unknown, where: string): Architecture {
  const o = a as Partial<Architecture> | undefined;
  const int = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (!o || !int(o.resolution) || !int(o.zDim) || !int(o.wDim) || !int(o.mappingLayers) || !int(o.imgChannels) || typeof o.channels !== 'object' || typeof o.mappingLrMul !== 'number') {
    throw new ModelError(`${where}: architecture is missing or malformed`);
  }
  for (let r = 4; r <= o.resolution!; r *= 2) {
    if (!int((o.channels as Record<number, number>)[r])) throw new ModelError(`${where}: no channel count for resolution ${r}`);
  }
  return o as Architecture;
}

export function loadBundle(dir: string): ModelBundle {
  const mPath = join(dir, 'manifest.json');
  const manifest = readManifestJson(dir, `no model bundle at ${dir}: manifest.json is missing (create one with "stylecast model create")`) as Manifest;
  if (manifest.format !== BUNDLE_FORMAT) throw new ModelError(`${mPath} is not a Stylecast model manifest`);
  if (manifest.version > BUNDLE_VERSION) {
    throw new ModelError(`${mPath} has bundle version ${manifest.version}, newer than this app supports (${BUNDLE_VERSION}): update Stylecast`);
  }
  const arch = validateArchitecture(manifest.architecture, mPath);
  const all = readWeightsFile(dir, manifest.weights, 'model');
  const tensors = viewTensors(all, manifest.tensors, tensorSpecs(arch), `model ${dir}`, 'the architecture');
  return { dir, manifest: { ...manifest, architecture: arch }, tensors };
}

/**
 * The tensors `specs` asks for, as views into the weights: each must be listed in the
 * manifest with exactly the expected shape and lie inside the file. `needs` names who
 * expects the shape, for the error message.
 */
export function viewTensors(all: Float32Array, listed: readonly TensorEntry[] | undefined, specs: readonly { name: string; shape: readonly number[] }[], where: string, needs: string): Map<string, Float32Array> {
  const tensors = new Map<string, Float32Array>();
  const byName = new Map((Array.isArray(listed) ? listed : []).map((t) => [t.name, t]));
  for (const spec of specs) {
    const e = byName.get(spec.name);
    if (!e) throw new ModelError(`${where}: tensor "${spec.name}" is missing from the manifest`);
    if (!Array.isArray(e.shape) || e.shape.length !== spec.shape.length || e.shape.some((d: number, i: number) => d !== spec.shape[i])) {
      throw new ModelError(`${where}: tensor "${spec.name}" has shape [${e.shape}], ${needs} needs [${spec.shape}]`);
    }
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset + n > all.length) throw new ModelError(`${where}: tensor "${spec.name}" lies outside the weights file`);
    tensors.set(spec.name, all.subarray(e.offset, e.offset + n));
  }
  return tensors;
}
