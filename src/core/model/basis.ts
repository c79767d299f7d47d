// The edit basis B of a model bundle (METHOD.md): three pose directions in W+ and
// 32 localised StyleSpace channels. The pose directions live in `basis.f32` beside
// the weights ([3, numWs, wDim] little-endian float32); everything else is in the
// manifest's `basis` field.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ModelError, numWs, styleLayers } from './architecture';
import { ModelBundle, updateManifest } from './bundle';

import { ATTRIBUTE_COUNT, POSE_NAMES } from '../params';
import { PlainFileError, readPlainFileSync, writeFileAtomicSync } from '../util/fs';

export { ATTRIBUTE_COUNT, PARAM_COUNT, POSE_NAMES } from '../params';

export type Region = 'mouth' | 'eyes' | 'brows' | 'nose-forehead-cheeks';
export const REGIONS: readonly Region[] = ['mouth', 'eyes', 'brows', 'nose-forehead-cheeks'];

export interface AttributeChannel {
  /** Human-readable track name (the vocabulary of USERS.md where calibration could tell). */
  name: string;
  region: Region;
  /** Layer module path, e.g. synthesis.b32.conv0, and the channel within it. */
  layer: string;
  channel: number;
  /** Index into the flat StyleSpace vector. */
  sIndex: number;
  /** Standard deviation of the channel over mapped samples: a_k is in units of it. */
  sigma: number;
  /** Fraction of the image change that falls inside the region (0..1). */
  localisation: number;
  /**
   * -1 when +1 unit of the track moves the channel down by sigma (landmark
   * calibration orients tracks so that + is the named motion: "smile" smiles).
   * Absent means +1.
   */
  sign?: 1 | -1;
}

/** StyleSpace change of one unit of an attribute track. */
export const attributeUnit = (a: AttributeChannel): number => a.sigma * (a.sign ?? 1);

export interface BasisMeta {
  version: 1;
  modelId: string;
  /** How the pose directions were found. */
  poseMethod: 'landmark-pnp' | 'principal-directions';
  /** What one pose unit means. */
  poseUnit: 'degree' | 'pseudo-degree';
  /** W+ rows the pose directions act on. */
  poseLayers: number[];
  regionMethod: 'landmarks' | 'fixed-regions';
  attributes: AttributeChannel[];
  file: string;
  sha256: string;
  samples: number;
  seed: number;
}

export interface EditBasis {
  meta: BasisMeta;
  /** [3, numWs, wDim] row-major. */
  pose: Float32Array;
}

export const paramNames = (b: EditBasis): string[] => [...POSE_NAMES, ...b.meta.attributes.map((a) => a.name)];

export function saveBasis(bundle: ModelBundle, basis: EditBasis): void {
  const bytes = new Uint8Array(basis.pose.buffer, basis.pose.byteOffset, basis.pose.byteLength);
  const file = 'basis.f32';
  writeFileAtomicSync(join(bundle.dir, file), bytes);
  const meta: BasisMeta = { ...basis.meta, file, sha256: createHash('sha256').update(bytes).digest('hex') };
  updateManifest(bundle, { basis: meta });
}

export function hasBasis(bundle: ModelBundle): boolean {
  return Boolean(bundle.manifest.basis);
}

export function loadBasis(bundle: ModelBundle): EditBasis {
  const meta = bundle.manifest.basis as BasisMeta | undefined;
  if (!meta) {
    throw new ModelError(`model ${bundle.manifest.name} has no edit basis yet: run "stylecast calibrate --model ${bundle.dir}"`);
  }
  const a = bundle.manifest.architecture;
  const path = join(bundle.dir, String(meta.file));
  const n = POSE_NAMES.length * numWs(a) * a.wDim;
  let buf: Buffer;
  try {
    buf = readPlainFileSync(bundle.dir, meta.file, { exact: n * 4 });
  } catch (e) {
    if (!(e instanceof PlainFileError)) throw e;
    if (e.reason === 'missing') throw new ModelError(`model ${bundle.dir}: basis file ${path} is missing; re-run calibration`);
    if (e.reason === 'size') throw new ModelError(`model ${bundle.dir}: ${path} has ${e.size} bytes, expected ${n * 4}`);
    throw new ModelError(`model ${bundle.dir}: basis: ${e.message}; re-run calibration`);
  }
  if (createHash('sha256').update(buf).digest('hex') !== meta.sha256) throw new ModelError(`model ${bundle.dir}: ${path} does not match its checksum; re-run calibration`);
  if (!Array.isArray(meta.attributes) || meta.attributes.length !== ATTRIBUTE_COUNT) {
    throw new ModelError(`model ${bundle.dir}: the basis must have ${ATTRIBUTE_COUNT} attribute channels`);
  }
  const layers = new Map(styleLayers(a).map((l) => [l.name, l]));
  for (const at of meta.attributes) {
    const l = layers.get(at.layer);
    if (!l || at.channel < 0 || at.channel >= l.inChannels || at.sIndex !== l.sOffset + at.channel || !(at.sigma > 0) || (at.sign !== undefined && at.sign !== 1 && at.sign !== -1)) {
      throw new ModelError(`model ${bundle.dir}: basis channel "${at.name}" does not fit the architecture`);
    }
  }
  return { meta, pose: new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) };
}
