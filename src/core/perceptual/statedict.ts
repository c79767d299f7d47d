// LPIPS-VGG weights from state dicts: a torchvision VGG16 state dict (features.N.weight /
// .bias) and the LPIPS linear heads (lin0..lin4), under the key spellings found in the
// wild. Widths come from the tensor shapes; every shape is checked against VGG16.
import { ConvWeights, LpipsVggWeights, PerceptualError, VGG16_CONVS, tapWidths } from './vgg';

export interface StateTensor {
  shape: number[];
  data: Float32Array;
}
export type StateDict = Map<string, StateTensor>;

/**
 * Key spellings accepted for conv `index` of VGG16 `features`: torchvision's own, the same
 * saved from a DataParallel wrapper, and a whole LPIPS model's state dict (whose trunk
 * slices keep torchvision's indices: slice1 = 0..3, slice2 = 4..8, ... slice5 = 23..29).
 */
function vggKeys(index: number, stage: number, param: 'weight' | 'bias'): string[] {
  return [`features.${index}.${param}`, `module.features.${index}.${param}`, `net.slice${stage + 1}.${index}.${param}`];
}

/**
 * Key spellings accepted for head k: the official weights (v0.1/vgg.pth) store
 * lin{k}.model.1.weight (index 1 because a Dropout precedes the conv); built without
 * dropout it is model.0; some ports drop "model." or use the ModuleList name lins.{k}.
 */
function headKeys(k: number): string[] {
  const base = [`lin${k}.model.1.weight`, `lin${k}.model.0.weight`, `lin${k}.weight`, `lins.${k}.model.1.weight`, `lins.${k}.model.0.weight`, `lins.${k}.weight`];
  return [...base, ...base.map((b) => `module.${b}`)];
}

function pick(sd: StateDict, keys: string[]): { key: string; t: StateTensor } | null {
  for (const key of keys) {
    const t = sd.get(key);
    if (t) return { key, t };
  }
  return null;
}

function sample(sd: StateDict): string {
  const keys = [...sd.keys()];
  return keys.length ? `${keys.slice(0, 6).join(', ')}${keys.length > 6 ? `, ... (${keys.length} keys)` : ''}` : 'no tensors at all';
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** The 13 convs of VGG16 `features` from a state dict; widths come from the shapes. */
export function vggFromStateDict(sd: StateDict, where: string): ConvWeights[] {
  if (!pick(sd, vggKeys(0, 0, 'weight'))) {
    const hint = [...sd.keys()].some((k) => /\.running_mean$/.test(k))
      ? ' It holds batch-norm statistics: this looks like VGG16-BN, but LPIPS uses plain VGG16 (torchvision vgg16).'
      : [...sd.keys()].some((k) => /^(module\.)?lins?\.?\d/.test(k))
        ? ' It holds lin0..lin4: this looks like the LPIPS heads file; pass it as --lpips and the VGG16 weights as --vgg.'
        : '';
    throw new PerceptualError(`${where}: no VGG16 weights (features.0.weight) found; it has ${sample(sd)}.${hint}`);
  }
  let cin = 3;
  return VGG16_CONVS.map(({ index, stage }) => {
    const w = pick(sd, vggKeys(index, stage, 'weight'));
    const b = pick(sd, vggKeys(index, stage, 'bias'));
    if (!w || !b) {
      throw new PerceptualError(`${where}: VGG16 conv features.${index} is missing its ${w ? 'bias' : 'weight'} (features.${index}.${w ? 'bias' : 'weight'}): not a complete torchvision VGG16 state dict`);
    }
    const s = w.t.shape;
    if (s.length !== 4 || s[1] !== cin || s[2] !== 3 || s[3] !== 3 || !((s[0] as number) > 0)) {
      throw new PerceptualError(`${where}: ${w.key} has shape [${s}], VGG16 needs [C_out, ${cin}, 3, 3] there: not a torchvision VGG16 (or a different variant)`);
    }
    const o = s[0] as number;
    if (!same(b.t.shape, [o])) throw new PerceptualError(`${where}: ${b.key} has shape [${b.t.shape}], expected [${o}] to match ${w.key}`);
    if (w.t.data.length !== o * cin * 9 || b.t.data.length !== o) throw new PerceptualError(`${where}: ${w.key} does not hold as many values as its shape says`);
    cin = o;
    return { weight: w.t.data, bias: b.t.data, shape: [o, s[1] as number, 3, 3] as [number, number, number, number] };
  });
}

/** The five LPIPS heads, checked against the trunk's tap widths. */
export function headsFromStateDict(sd: StateDict, widths: readonly number[], where: string): Float32Array[] {
  return widths.map((c, k) => {
    const h = pick(sd, headKeys(k));
    if (!h) {
      const hint = pick(sd, vggKeys(0, 0, 'weight')) && !pick(sd, headKeys(0)) ? ' It holds VGG16 features: pass the LPIPS heads file (e.g. lpips weights/v0.1/vgg.pth) as --lpips.' : '';
      throw new PerceptualError(`${where}: LPIPS head lin${k} is missing (looked for ${headKeys(k).slice(0, 3).join(', ')}); it has ${sample(sd)}.${hint}`);
    }
    if (!same(h.t.shape, [1, c, 1, 1])) {
      throw new PerceptualError(`${where}: ${h.key} has shape [${h.t.shape}], expected [1, ${c}, 1, 1] for VGG16 layer ${k + 1} (${c} channels): the heads do not match this VGG16 (or are not LPIPS-VGG heads)`);
    }
    for (const v of h.t.data) {
      if (!Number.isFinite(v) || v < 0) throw new PerceptualError(`${where}: ${h.key} has a negative or non-finite weight (${v}); LPIPS heads are non-negative`);
    }
    return h.t.data;
  });
}

/** LPIPS-VGG weights from the two state dicts. */
export function lpipsFromStateDicts(vgg: StateDict, heads: StateDict, where: { vgg: string; lpips: string }): LpipsVggWeights {
  const convs = vggFromStateDict(vgg, where.vgg);
  const lins = headsFromStateDict(heads, tapWidths({ convs, lins: [] }), where.lpips);
  return { convs, lins };
}

