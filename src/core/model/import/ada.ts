// NVlabs StyleGAN2-ADA network pickles (stylegan2-ada-pytorch, and the StyleGAN2 networks of the
// stylegan3 repository): G_ema is a torch_utils.persistence object whose state is the module's
// __dict__. Its module tree already uses our tensor names (architecture.ts follows it), so the
// work here is reading the architecture from the objects and checking every assumption the
// builder makes. See docs/MODELS.md.
import { Architecture, MAX_RESOLUTION, log2int } from '../architecture';
import { CheckpointError } from './errors';
import type { MappedModel } from './mapped';
import { NumpyValue, PersistentObject, TorchTensor, flattenTensors } from './torch';

const num = (v: unknown): number | null => {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  const n = v as NumpyValue | null;
  if (n && n.kind === 'numpy' && n.data.length === 1) return n.data[0]!;
  return null;
};

const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

function obj(parent: PersistentObject, name: string, cls: string, where: string): PersistentObject {
  const m = parent.modules.get(name);
  if (!(m instanceof PersistentObject)) throw new CheckpointError(`${where}: ${parent.className}.${name} is missing`);
  if (m.className !== cls) throw new CheckpointError(`${where}: ${parent.className}.${name} is a ${m.className}, expected ${cls}`);
  return m;
}

function attrNum(o: PersistentObject, name: string, where: string): number {
  const v = num(o.attr(name));
  if (v === null) throw new CheckpointError(`${where}: ${o.className}.${name} is missing or not a number`);
  return v;
}

function tensorOf(o: PersistentObject, name: string, where: string): TorchTensor {
  const t = o.parameters.get(name) ?? o.buffers.get(name);
  if (!(t instanceof TorchTensor)) throw new CheckpointError(`${where}: ${o.className}.${name} is missing`);
  return t;
}

/** [1,3,3,1] outer product normalised to sum 1, as upfirdn2d.setup_filter makes it. */
function checkFilter(o: PersistentObject, where: string, label: string, later: (() => void)[], loads: Map<string, TorchTensor>): void {
  const f = o.buffers.get('resample_filter');
  if (!(f instanceof TorchTensor)) return;
  loads.set(`filter:${label}`, f);
  later.push(() => checkFilterValues(f, where, label));
}

function checkFilterValues(f: TorchTensor, where: string, label: string): void {
  const k = [1, 3, 3, 1];
  const ok = f.shape.join() === '4,4' && [...f.data].every((v, i) => Math.abs(v - (k[Math.floor(i / 4)]! * k[i % 4]!) / 64) < 1e-6);
  if (!ok) throw new CheckpointError(`${where}: ${label} uses a resample filter other than [1,3,3,1], which this app does not support`);
}

function checkAffine(layer: PersistentObject, wDim: number, where: string, label: string): void {
  const a = obj(layer, 'affine', 'FullyConnectedLayer', where);
  const lr = attrNum(a, 'bias_gain', where);
  const wg = attrNum(a, 'weight_gain', where);
  if (a.attr('activation') !== 'linear' || !close(lr, 1) || !close(wg, 1 / Math.sqrt(wDim))) {
    throw new CheckpointError(`${where}: ${label}.affine is not the standard linear layer (lr 1, gain 1/sqrt(w_dim))`);
  }
}

/** Reads the Generator (G_ema) of an NVlabs pickle into an architecture and named tensors. */
export function mapAdaPickle(root: unknown, where: string): MappedModel {
  let G: unknown = root;
  if (root instanceof Map) {
    G = root.get('G_ema');
    if (G === undefined) throw new CheckpointError(`${where}: the pickle is a dict without "G_ema" (keys: ${[...root.keys()].map(String).join(', ')}): not a StyleGAN2-ADA network pickle`);
  }
  if (!(G instanceof PersistentObject) || G.className !== 'Generator') {
    throw new CheckpointError(`${where}: G_ema is not a persistent StyleGAN2 Generator object`);
  }
  const cDim = attrNum(G, 'c_dim', where);
  if (cDim !== 0) throw new CheckpointError(`${where}: conditional generators (c_dim ${cDim}) are not supported`);
  const mapping = obj(G, 'mapping', 'MappingNetwork', where);
  const synthesis = obj(G, 'synthesis', 'SynthesisNetwork', where);
  // StyleGAN3's classes share these names; its synthesis starts from a Fourier-feature input.
  if (synthesis.modules.has('input') || [...synthesis.modules.keys()].some((k) => typeof k === 'string' && /^L\d+_\d+_\d+$/.test(k))) {
    throw new CheckpointError(`${where}: a StyleGAN3 generator (alias-free, stylegan3-t or -r), which Stylecast does not run; it works with StyleGAN2 generators (config-e/f: StyleGAN2-ADA pickles, including the stylegan2-*.pkl files of the stylegan3 repository)`);
  }
  const zDim = attrNum(mapping, 'z_dim', where);
  const wDim = attrNum(mapping, 'w_dim', where);
  const mappingLayers = attrNum(mapping, 'num_layers', where);
  if (mapping.modules.has('embed')) throw new CheckpointError(`${where}: the mapping network has a label embedding (conditional model): not supported`);
  let lrMul: number | null = null;
  for (let i = 0; i < mappingLayers; i++) {
    const fc = obj(mapping, `fc${i}`, 'FullyConnectedLayer', where);
    const lr = attrNum(fc, 'bias_gain', where);
    const inDim = tensorOf(fc, 'weight', where).shape[1]!;
    if (fc.attr('activation') !== 'lrelu') throw new CheckpointError(`${where}: mapping.fc${i} uses activation "${String(fc.attr('activation'))}"; only lrelu is supported`);
    if (!close(attrNum(fc, 'weight_gain', where), lr / Math.sqrt(inDim))) throw new CheckpointError(`${where}: mapping.fc${i} has an unexpected weight gain`);
    if (lrMul !== null && !close(lr, lrMul)) throw new CheckpointError(`${where}: mapping layers use different learning-rate multipliers`);
    lrMul = lr;
  }
  const resolution = attrNum(synthesis, 'img_resolution', where);
  const imgChannels = attrNum(synthesis, 'img_channels', where);
  // Before any loop over the resolutions: the number is the file's word.
  if (resolution > MAX_RESOLUTION) throw new CheckpointError(`${where}: resolution ${resolution} is larger than ${MAX_RESOLUTION}, the most Stylecast supports`);
  log2int(resolution);
  const channels: Record<number, number> = {};
  const valueChecks: (() => void)[] = [];
  const filters = new Map<string, TorchTensor>();
  const fp16Resolutions: number[] = [];
  const clamps = new Set<number | null>();
  const clampOf = (o: PersistentObject): void => {
    const c = o.attr('conv_clamp');
    clamps.add(c === null || c === undefined ? null : num(c));
  };
  for (let r = 4; r <= resolution; r *= 2) {
    const b = obj(synthesis, `b${r}`, 'SynthesisBlock', where);
    const arch = b.attr('architecture');
    if (arch !== 'skip') {
      throw new CheckpointError(`${where}: synthesis block b${r} uses architecture "${String(arch)}"; only the "skip" generator architecture (config-e/f) is supported`);
    }
    if (b.attr('use_fp16') === true) fp16Resolutions.push(r);
    checkFilter(b, where, `b${r}`, valueChecks, filters);
    const conv1 = obj(b, 'conv1', 'SynthesisLayer', where);
    channels[r] = tensorOf(conv1, 'weight', where).shape[0]!;
    const layers: [string, PersistentObject][] = [['conv1', conv1]];
    if (r > 4) layers.push(['conv0', obj(b, 'conv0', 'SynthesisLayer', where)]);
    for (const [n, l] of layers) {
      const label = `synthesis.b${r}.${n}`;
      if (l.attr('activation') !== 'lrelu') throw new CheckpointError(`${where}: ${label} uses activation "${String(l.attr('activation'))}"; only lrelu is supported`);
      if (attrNum(l, 'up', where) !== (n === 'conv0' ? 2 : 1) || attrNum(l, 'resolution', where) !== r) throw new CheckpointError(`${where}: ${label} has an unexpected resolution or upsampling`);
      const w = tensorOf(l, 'weight', where);
      if (w.shape.length !== 4 || w.shape[2] !== 3 || w.shape[3] !== 3) throw new CheckpointError(`${where}: ${label}.weight has shape [${w.shape}], expected a 3x3 kernel`);
      if (!close(attrNum(l, 'act_gain', where), Math.SQRT2)) throw new CheckpointError(`${where}: ${label} has an activation gain other than sqrt(2)`);
      checkAffine(l, wDim, where, label);
      checkFilter(l, where, label, valueChecks, filters);
      clampOf(l);
    }
    const torgb = obj(b, 'torgb', 'ToRGBLayer', where);
    const tw = tensorOf(torgb, 'weight', where);
    if (tw.shape.length !== 4 || tw.shape[2] !== 1 || tw.shape[3] !== 1) throw new CheckpointError(`${where}: synthesis.b${r}.torgb.weight has shape [${tw.shape}], expected a 1x1 kernel`);
    if (!close(attrNum(torgb, 'weight_gain', where), 1 / Math.sqrt(tw.shape[1]!))) throw new CheckpointError(`${where}: synthesis.b${r}.torgb has an unexpected weight gain`);
    checkAffine(torgb, wDim, where, `synthesis.b${r}.torgb`);
    clampOf(torgb);
  }
  if (clamps.size !== 1) throw new CheckpointError(`${where}: layers use different conv_clamp values (${[...clamps].join(', ')}); only one value is supported`);
  const convClamp = [...clamps][0]!;
  const arch: Architecture = { resolution, zDim, wDim, mappingLayers, mappingLrMul: lrMul ?? 0.01, channels, imgChannels, convClamp };
  const flat = flattenTensors(G);
  const noiseless = new Set<string>();
  for (const [name, t] of flat) if (name.endsWith('.noise_strength') && t.numel !== 1) throw new CheckpointError(`${where}: ${name} is not a scalar`);
  // Layers built with use_noise=False have neither buffer: they add no noise.
  for (let r = 4; r <= resolution; r *= 2) {
    for (const n of r === 4 ? ['conv1'] : ['conv0', 'conv1']) {
      const p = `synthesis.b${r}.${n}`;
      if (!flat.has(`${p}.noise_strength`)) noiseless.add(p);
    }
  }
  const initKwargs = G.attr('_init_kwargs');
  return {
    format: 'stylegan2-ada-pickle',
    arch,
    tensors: new Map([...flat, ...filters]),
    valueChecks,
    noiseless,
    fp16Resolutions,
    wAvgPresent: flat.has('mapping.w_avg'),
    notes: [],
    initKwargs: initKwargs instanceof Map ? plain(initKwargs) : undefined
  };
}

/**
 * JSON-safe copy of small plain data (init kwargs) for the manifest's source record: at most 6
 * deep, 64 entries a level and 4,096 values in all; a container met again (a pickle can make one
 * hold itself) is null, so a crafted file cannot make this walk run for ever.
 */
export function plain(v: unknown, depth = 0, budget = { left: 4096 }, seen = new Set<object>()): unknown {
  if (depth > 6 || budget.left-- <= 0) return null;
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return String(v);
  const n = num(v);
  if (n !== null) return n;
  if (!Array.isArray(v) && !(v instanceof Map)) return null;
  if (seen.has(v)) return null;
  seen.add(v);
  if (Array.isArray(v)) return v.slice(0, 64).map((x) => plain(x, depth + 1, budget, seen));
  return Object.fromEntries([...v].slice(0, 64).map(([k, x]) => [String(k), plain(x, depth + 1, budget, seen)]));
}
