// Perceptual bundle: a folder with manifest.json and weights.bin, laid out like a model
// bundle (same helpers: atomic write, checksummed weights). It holds LPIPS-VGG: the 13
// VGG16 convs under their torchvision names (features.N.weight / .bias) and the five
// LPIPS heads (lin0.weight .. lin4.weight, [1, C, 1, 1]).
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { packTensors, readManifestJson, readWeightsFile, TensorEntry, viewTensors, writeFolderAtomic } from '../model/bundle';
import { LpipsVgg } from './lpips';
import { LpipsVggWeights, PerceptualError, TAP_CONVS, VGG16_CONVS, validateWeights } from './vgg';

export const PERCEPTUAL_FORMAT = 'stylecast-perceptual';
export const PERCEPTUAL_VERSION = 1;

export interface PerceptualManifest {
  format: typeof PERCEPTUAL_FORMAT;
  version: number;
  id: string;
  name: string;
  /** What the weights compute: LPIPS v0.1 on the VGG16 trunk. */
  kind: 'lpips-vgg';
  /** Output channels of the 13 convs, in features order. */
  convChannels: number[];
  weights: { file: string; sha256: string; floats: number };
  tensors: TensorEntry[];
  source?: Record<string, unknown>;
}

export interface PerceptualBundle {
  dir: string;
  manifest: PerceptualManifest;
  net: LpipsVgg;
}

function tensorList(w: LpipsVggWeights): { name: string; shape: number[]; data: Float32Array }[] {
  const list: { name: string; shape: number[]; data: Float32Array }[] = [];
  w.convs.forEach((c, i) => {
    const idx = VGG16_CONVS[i]!.index;
    list.push({ name: `features.${idx}.weight`, shape: [...c.shape], data: c.weight });
    list.push({ name: `features.${idx}.bias`, shape: [c.shape[0]], data: c.bias });
  });
  w.lins.forEach((l, k) => list.push({ name: `lin${k}.weight`, shape: [1, l.length, 1, 1], data: l }));
  return list;
}

/** Writes a perceptual bundle atomically (temp folder renamed into place). */
export function writePerceptualBundle(dir: string, w: LpipsVggWeights, name = 'lpips-vgg', source?: Record<string, unknown>): PerceptualManifest {
  validateWeights(w, `perceptual bundle ${dir}`);
  const packed = packTensors(tensorList(w));
  const convChannels = w.convs.map((c) => c.shape[0]);
  const id = createHash('sha256').update(`lpips-vgg:${convChannels.join(',')}`).update(packed.sha256).digest('hex').slice(0, 16);
  const manifest: PerceptualManifest = {
    format: PERCEPTUAL_FORMAT,
    version: PERCEPTUAL_VERSION,
    id,
    name,
    kind: 'lpips-vgg',
    convChannels,
    weights: { file: 'weights.bin', sha256: packed.sha256, floats: packed.floats },
    tensors: packed.entries,
    ...(source ? { source } : {})
  };
  writeFolderAtomic(dir, packed.bytes, manifest);
  return manifest;
}

/** Loads and checks a perceptual bundle: format, checksum, every tensor's shape, the heads' sign. */
export function loadPerceptualBundle(dir: string): PerceptualBundle {
  const mPath = join(dir, 'manifest.json');
  const m = readManifestJson(dir, `no perceptual bundle at ${dir}: manifest.json is missing (make one with "stylecast perceptual import")`) as Partial<PerceptualManifest>;
  if (m?.format !== PERCEPTUAL_FORMAT) throw new PerceptualError(`${mPath} is not a Stylecast perceptual manifest`);
  if (typeof m.version !== 'number' || m.version > PERCEPTUAL_VERSION) {
    throw new PerceptualError(`${mPath} has version ${m.version}, newer than this app supports (${PERCEPTUAL_VERSION}): update Stylecast`);
  }
  if (m.kind !== 'lpips-vgg') throw new PerceptualError(`${mPath}: unknown perceptual network "${String(m.kind)}" (this app knows lpips-vgg)`);
  const ch = m.convChannels;
  if (!Array.isArray(ch) || ch.length !== VGG16_CONVS.length || !ch.every((c) => Number.isInteger(c) && c > 0)) {
    throw new PerceptualError(`${mPath}: convChannels must list the ${VGG16_CONVS.length} conv widths`);
  }
  const all = readWeightsFile(dir, m.weights, 'perceptual bundle');
  const specs: { name: string; shape: number[] }[] = [];
  let cin = 3;
  VGG16_CONVS.forEach((c, i) => {
    specs.push({ name: `features.${c.index}.weight`, shape: [ch[i]!, cin, 3, 3] }, { name: `features.${c.index}.bias`, shape: [ch[i]!] });
    cin = ch[i]!;
  });
  TAP_CONVS.forEach((i, k) => specs.push({ name: `lin${k}.weight`, shape: [1, ch[i]!, 1, 1] }));
  const t = viewTensors(all, m.tensors, specs, `perceptual bundle ${dir}`, 'its convChannels');
  const weights: LpipsVggWeights = {
    convs: VGG16_CONVS.map((c, i) => ({
      weight: t.get(`features.${c.index}.weight`)!,
      bias: t.get(`features.${c.index}.bias`)!,
      shape: [ch[i]!, i === 0 ? 3 : ch[i - 1]!, 3, 3]
    })),
    lins: TAP_CONVS.map((_, k) => t.get(`lin${k}.weight`)!)
  };
  const manifest = m as PerceptualManifest;
  return { dir, manifest, net: new LpipsVgg(weights, manifest.id, manifest.name) };
}
