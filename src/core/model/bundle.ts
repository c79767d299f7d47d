// Model bundle: a folder with manifest.json and weights.bin (little-endian float32,
// tensors back to back in manifest order). The model id is a hash of both.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Architecture, ModelError, tensorSpecs } from './architecture';

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

/** Writes a bundle atomically: everything goes to a temp folder that is renamed into place. */
export function writeBundle(dir: string, name: string, arch: Architecture, tensors: Map<string, Float32Array>, source?: Record<string, unknown>): Manifest {
  const specs = tensorSpecs(arch);
  let floats = 0;
  const entries: TensorEntry[] = specs.map((s) => {
    const t = tensors.get(s.name);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (!t) throw new ModelError(`cannot write bundle: tensor "${s.name}" is missing`);
    if (t.length !== n) throw new ModelError(`cannot write bundle: tensor "${s.name}" has ${t.length} values, expected [${s.shape}]`);
    const e = { name: s.name, shape: s.shape, offset: floats };
    floats += n;
    return e;
  });
  const all = new Float32Array(floats);
  for (const e of entries) all.set(tensors.get(e.name)!, e.offset);
  const bytes = new Uint8Array(all.buffer);
  const wHash = sha256(bytes);
  const id = createHash('sha256').update(JSON.stringify(arch)).update(wHash).digest('hex').slice(0, 16);
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    id,
    name,
    architecture: arch,
    weights: { file: 'weights.bin', sha256: wHash, floats },
    tensors: entries,
    ...(source ? { source } : {})
  };
  const target = resolve(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'weights.bin'), bytes);
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
  rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  return manifest;
}

/** Rewrites only the manifest (for calibration results), atomically. */
export function updateManifest(b: ModelBundle, patch: Partial<Manifest>): void {
  const m = { ...b.manifest, ...patch };
  const p = join(b.dir, 'manifest.json');
  writeFileSync(`${p}.tmp`, JSON.stringify(m, null, 1));
  renameSync(`${p}.tmp`, p);
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
  if (!existsSync(mPath)) throw new ModelError(`no model bundle at ${dir}: manifest.json is missing (create one with "stylecast model create")`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(mPath, 'utf8')) as Manifest;
  } catch (e) {
    throw new ModelError(`${mPath} is not valid JSON: ${(e as Error).message}`);
  }
  if (manifest.format !== BUNDLE_FORMAT) throw new ModelError(`${mPath} is not a Stylecast model manifest`);
  if (manifest.version > BUNDLE_VERSION) {
    throw new ModelError(`${mPath} has bundle version ${manifest.version}, newer than this app supports (${BUNDLE_VERSION}): update Stylecast`);
  }
  const arch = validateArchitecture(manifest.architecture, mPath);
  const wPath = join(dir, manifest.weights?.file ?? 'weights.bin');
  if (!existsSync(wPath)) throw new ModelError(`model ${dir}: weights file ${wPath} is missing`);
  const buf = readFileSync(wPath);
  if (buf.byteLength !== manifest.weights.floats * 4) {
    throw new ModelError(`model ${dir}: ${wPath} has ${buf.byteLength} bytes, the manifest expects ${manifest.weights.floats * 4}: the bundle is corrupt or truncated`);
  }
  if (sha256(buf) !== manifest.weights.sha256) {
    throw new ModelError(`model ${dir}: ${wPath} does not match its checksum: the bundle is corrupt; re-create or re-import it`);
  }
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const tensors = new Map<string, Float32Array>();
  const byName = new Map(manifest.tensors.map((t) => [t.name, t]));
  for (const spec of tensorSpecs(arch)) {
    const e = byName.get(spec.name);
    if (!e) throw new ModelError(`model ${dir}: tensor "${spec.name}" is missing from the manifest`);
    if (e.shape.length !== spec.shape.length || e.shape.some((d, i) => d !== spec.shape[i])) {
      throw new ModelError(`model ${dir}: tensor "${spec.name}" has shape [${e.shape}], the architecture needs [${spec.shape}]`);
    }
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (e.offset < 0 || e.offset + n > all.length) throw new ModelError(`model ${dir}: tensor "${spec.name}" lies outside the weights file`);
    tensors.set(spec.name, all.subarray(e.offset, e.offset + n));
  }
  return { dir, manifest: { ...manifest, architecture: arch }, tensors };
}
