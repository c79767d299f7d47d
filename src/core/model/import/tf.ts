// TensorFlow StyleGAN2 network pickles (NVlabs/stylegan2: network-snapshot-*.pkl and the published
// stylegan2-ffhq-config-f.pkl): a tuple (G, D, Gs) of dnnlib.tflib.network.Network objects, each a
// dict of static kwargs, sub-networks and (name, numpy array) variables in TensorFlow's layout.
// Nothing is built from the pickle's Python source (it stays text); Gs's variables are moved to our
// tensor names the way the official converter does (stylegan2-ada-pytorch legacy.py): weights
// transposed to [out, in, kh, kw], the up-convolutions' kernels flipped, the modulation biases plus
// the 1 the network adds at run time. See docs/MODELS.md.
import { Architecture, MAX_RESOLUTION, log2int, tensorSpecs } from '../architecture';
import { checkArchitecture } from './limits';
import { CheckpointError } from './errors';
import type { MappedModel, ReadyTensor } from './mapped';
import { DataObject, type NumpyValue } from './torch';

export const TF_NETWORK_CLASS = 'dnnlib.tflib.network.Network';

const isNetwork = (v: unknown): v is DataObject => v instanceof DataObject && v.className === TF_NETWORK_CLASS;

/** Whether a pickle's root is a TensorFlow StyleGAN2 network pickle: (G, D, Gs) or one Network. */
export const isTfPickle = (root: unknown): boolean => isNetwork(root) || (Array.isArray(root) && root.length === 3 && root.every(isNetwork));

const isNumpy = (v: unknown): v is NumpyValue => typeof v === 'object' && v !== null && (v as NumpyValue).kind === 'numpy';

/**
 * Gs's variables under the names legacy.py's _collect_tf_params gives them: its own, then those of
 * its 'mapping' and 'synthesis' sub-networks (a StyleGAN2 generator has no others, and they have
 * none of their own), so a crafted pickle cannot make the walk revisit shared networks.
 */
function collect(Gs: DataObject, where: string): Map<string, NumpyValue> {
  const out = new Map<string, NumpyValue>();
  const own = (net: DataObject, prefix: string): void => {
    const vars = net.attrs.get('variables');
    if (!Array.isArray(vars)) throw new CheckpointError(`${where}: a TensorFlow network without its variables list`);
    if (out.size + vars.length > MAX_VARIABLES) throw new CheckpointError(`${where}: more TensorFlow variables than any StyleGAN2 generator has`);
    for (const pair of vars) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || !isNumpy(pair[1])) throw new CheckpointError(`${where}: a TensorFlow variable that is not a (name, array) pair`);
      out.set(prefix + pair[0], pair[1]);
    }
  };
  own(Gs, '');
  const comps = Gs.attrs.get('components');
  if (!(comps instanceof Map)) throw new CheckpointError(`${where}: the TensorFlow generator has no sub-networks (mapping, synthesis)`);
  for (const name of ['mapping', 'synthesis']) {
    const comp = comps.get(name);
    if (!isNetwork(comp) || comp === Gs) throw new CheckpointError(`${where}: the TensorFlow generator's "${name}" sub-network is missing`);
    own(comp, `${name}/`);
  }
  return out;
}

/** A config-f 1024 generator has about 230 variables. */
const MAX_VARIABLES = 4096;

/** Static kwargs: plain numbers, strings, lists and None, as the TF code took them. */
function kwargsOf(net: DataObject): Map<unknown, unknown> {
  const k = net.attrs.get('static_kwargs');
  return k instanceof Map ? k : new Map();
}

/** A TF array moved to our layout: `perm` lists, for each of our axes, the TF axis it comes from. */
function moved(v: NumpyValue, perm: number[], opts: { flip?: boolean; add?: number; drop?: number; want?: readonly number[] } = {}): ReadyTensor {
  let shape = v.shape;
  const data = v.data;
  if (!/^[<>=|]?f[248]$/.test(v.dtype)) throw new CheckpointError(`holds ${v.dtype} values, not floats`);
  if (opts.drop) {
    // Leading axes of size 1 ([1, C, 4, 4] const, [1, 1, r, r] noise).
    if (!shape.slice(0, opts.drop).every((d) => d === 1)) throw new CheckpointError(`array of shape [${shape}] was expected to start with ${opts.drop} axes of size 1`);
    shape = shape.slice(opts.drop);
  }
  if (perm.length !== shape.length) throw new CheckpointError(`array of shape [${v.shape}] has ${shape.length} axes, expected ${perm.length}`);
  const outShape = perm.map((p) => shape[p]!);
  if (opts.want && outShape.join() !== opts.want.join()) throw new CheckpointError(`has shape [${v.shape}], which in our layout is [${outShape}], not the [${opts.want}] the architecture needs`);
  const n = data.length;
  const out = new Float32Array(n);
  const inStride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(outShape.length).fill(0);
  const add = opts.add ?? 0;
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let j = 0; j < outShape.length; j++) {
      const p = perm[j]!;
      // legacy.py flips the TF kernel's first two axes (kh, kw) before transposing.
      const i = opts.flip && p < 2 ? shape[p]! - 1 - idx[j]! : idx[j]!;
      src += i * inStride[p]!;
    }
    out[o] = data[src]! + add;
    for (let j = outShape.length - 1; j >= 0; j--) {
      if (++idx[j]! < outShape[j]!) break;
      idx[j] = 0;
    }
  }
  return { kind: 'ready', shape: outShape, data: out };
}

const scalarOf = (v: unknown): number | null => (typeof v === 'number' ? v : isNumpy(v) && v.data.length === 1 ? v.data[0]! : null);

/** Reads Gs of a TensorFlow StyleGAN2 pickle into an architecture and our named tensors. */
export function mapTfPickle(root: unknown, where: string, maxBytes = Infinity): MappedModel {
  const Gs = Array.isArray(root) ? root[2] : root;
  if (!isNetwork(Gs)) throw new CheckpointError(`${where}: not a TensorFlow StyleGAN2 network pickle`);
  const version = scalarOf(Gs.attrs.get('version'));
  if (version === null || version < 4) throw new CheckpointError(`${where}: TensorFlow network pickle version ${version ?? 'unknown'}; only version 4 (StyleGAN2) is supported`);
  const build = Gs.attrs.get('build_func_name');
  if (build !== 'G_main') throw new CheckpointError(`${where}: the TensorFlow network is built by "${String(build)}", not StyleGAN2's G_main generator`);
  const kw = kwargsOf(Gs);
  const synth = Gs.attrs.get('components') instanceof Map ? (Gs.attrs.get('components') as Map<unknown, unknown>).get('synthesis') : undefined;
  const synthKw = isNetwork(synth) ? kwargsOf(synth) : new Map();
  const kwarg = (name: string, fallback: unknown): unknown => (kw.has(name) && kw.get(name) !== null ? kw.get(name) : synthKw.has(name) && synthKw.get(name) !== null ? synthKw.get(name) : fallback);
  const synthFunc = isNetwork(synth) ? synth.attrs.get('build_func_name') : undefined;
  // G_synthesis_stylegan2 (NVlabs/stylegan2) or G_synthesis (the TensorFlow stylegan2-ada, under G_main; StyleGAN1's is under G_style).
  if (synthFunc !== undefined && synthFunc !== 'G_synthesis_stylegan2' && synthFunc !== 'G_synthesis') {
    throw new CheckpointError(`${where}: the synthesis network is "${String(synthFunc)}"; only StyleGAN2's (G_synthesis_stylegan2, or stylegan2-ada's G_synthesis) is supported`);
  }
  const architecture = kwarg('architecture', 'skip');
  if (architecture !== 'skip') throw new CheckpointError(`${where}: the generator uses architecture "${String(architecture)}"; only the "skip" generator architecture (config-e/f) is supported`);
  const labels = scalarOf(kwarg('label_size', 0));
  if (labels !== 0) throw new CheckpointError(`${where}: conditional generators (label_size ${labels}) are not supported`);
  for (const [name, want] of [['nonlinearity', 'lrelu'], ['mapping_nonlinearity', 'lrelu']] as const) {
    if (kwarg(name, want) !== want) throw new CheckpointError(`${where}: ${name} is "${String(kwarg(name, want))}"; only lrelu is supported`);
  }
  const kernel = kwarg('resample_kernel', [1, 3, 3, 1]);
  if (!Array.isArray(kernel) || kernel.map(Number).join() !== '1,3,3,1') throw new CheckpointError(`${where}: the generator uses a resample kernel other than [1,3,3,1], which this app does not support`);
  if (kwarg('use_noise', true) === false) throw new CheckpointError(`${where}: generators built without noise inputs are not supported from TensorFlow pickles`);
  const mappingLrMul = scalarOf(kwarg('mapping_lrmul', 0.01)) ?? 0.01;
  const convClamp = scalarOf(kwarg('conv_clamp', null));
  if (kwarg('normalize_latents', true) === false) throw new CheckpointError(`${where}: generators without latent normalisation are not supported`);

  const p = collect(Gs, where);
  const need = (name: string): NumpyValue => {
    const v = p.get(name);
    if (!v) throw new CheckpointError(`${where}: TensorFlow variable ${name} is missing`);
    return v;
  };
  if ([...p.keys()].some((k) => /(^|\/)ToRGB_lod\d+\//.test(k))) throw new CheckpointError(`${where}: a progressive-growing (architecture "orig") generator; only "skip" is supported`);
  // The resolution is what the variables hold: the largest NxN block with a ToRGB.
  let resolution = 4;
  for (const k of p.keys()) {
    const m = /^synthesis\/(\d+)x\1\/ToRGB\/weight$/.exec(k);
    if (m) resolution = Math.max(resolution, Number(m[1]));
  }
  if (resolution > MAX_RESOLUTION) throw new CheckpointError(`${where}: resolution ${resolution} is larger than ${MAX_RESOLUTION}, the most Stylecast supports`);
  log2int(resolution);
  const stated = scalarOf(kwarg('resolution', resolution));
  if (stated !== resolution) throw new CheckpointError(`${where}: its kwargs say resolution ${stated} but its variables end at ${resolution}x${resolution}`);
  let mappingLayers = 0;
  while (p.has(`mapping/Dense${mappingLayers}/weight`)) mappingLayers++;
  if (mappingLayers === 0) throw new CheckpointError(`${where}: the mapping network has no Dense layers`);
  if (p.has('mapping/LabelConcat/weight') || p.has('mapping/LabelEmbed/weight')) throw new CheckpointError(`${where}: the mapping network has a label embedding (conditional model): not supported`);
  const dense0 = need('mapping/Dense0/weight');
  const zDim = dense0.shape[0]!;
  const wDim = need(`mapping/Dense${mappingLayers - 1}/weight`).shape[1]!;
  const channels: Record<number, number> = {};
  const conv = (r: number, scope: string) => need(`synthesis/${r}x${r}/${scope}/weight`);
  for (let r = 4; r <= resolution; r *= 2) {
    const w = conv(r, r === 4 ? 'Conv' : 'Conv1');
    if (w.shape.length !== 4 || w.shape[0] !== 3 || w.shape[1] !== 3) throw new CheckpointError(`${where}: synthesis/${r}x${r} has a conv weight of shape [${w.shape}], expected a 3x3 kernel`);
    channels[r] = w.shape[3]!;
  }
  const imgChannels = need(`synthesis/${resolution}x${resolution}/ToRGB/weight`).shape[3]!;
  const arch: Architecture = { resolution, zDim, wDim, mappingLayers, mappingLrMul, channels, imgChannels, convClamp };
  // Before any array is converted: the architecture within what Stylecast builds, and the
  // float32 it takes within what the file could hold (one array can stand for many names).
  checkArchitecture(arch, where);
  const specs = new Map(tensorSpecs(arch).map((t) => [t.name, t.shape]));
  const bytes = [...specs.values()].reduce((a, sh) => a + 4 * sh.reduce((x, y) => x * y, 1), 0);
  if (bytes > maxBytes) throw new CheckpointError(`${where}: its generator would take ${bytes} bytes, more than a file of its size can hold: a corrupt or hostile file, refused`);

  const tensors = new Map<string, ReadyTensor>();
  const put = (name: string, t: ReadyTensor): void => {
    tensors.set(name, t);
  };
  const at = (name: string, fn: (want: readonly number[] | undefined) => ReadyTensor): void => {
    try {
      put(name, fn(specs.get(name)));
    } catch (e) {
      // A layout error names the tensor; a missing variable already names the file and itself.
      if (e instanceof CheckpointError && !e.message.startsWith(`${where}:`)) throw new CheckpointError(`${where}: ${name}: ${e.message}`);
      throw e;
    }
  };
  at('mapping.w_avg', (want) => moved(need('dlatent_avg'), [0], { want }));
  for (let i = 0; i < mappingLayers; i++) {
    at(`mapping.fc${i}.weight`, (want) => moved(need(`mapping/Dense${i}/weight`), [1, 0], { want }));
    at(`mapping.fc${i}.bias`, (want) => moved(need(`mapping/Dense${i}/bias`), [0], { want }));
  }
  at('synthesis.b4.const', (want) => moved(need('synthesis/4x4/Const/const'), [0, 1, 2], { drop: 1, want }));
  const layer = (ours: string, scope: string, noise: number | null, flip: boolean, rgb: boolean): void => {
    at(`${ours}.weight`, (want) => moved(need(`${scope}/weight`), [3, 2, 0, 1], { flip, want }));
    at(`${ours}.bias`, (want) => moved(need(`${scope}/bias`), [0], { want }));
    at(`${ours}.affine.weight`, (want) => moved(need(`${scope}/mod_weight`), [1, 0], { want }));
    at(`${ours}.affine.bias`, (want) => moved(need(`${scope}/mod_bias`), [0], { add: 1, want }));
    if (!rgb && noise !== null) {
      at(`${ours}.noise_const`, (want) => moved(need(`synthesis/noise${noise}`), [0, 1], { drop: 2, want }));
      const s = scalarOf(need(`${scope}/noise_strength`));
      if (s === null) throw new CheckpointError(`${where}: ${scope}/noise_strength is not a scalar`);
      put(`${ours}.noise_strength`, { kind: 'ready', shape: [], data: Float32Array.of(s) });
    }
  };
  layer('synthesis.b4.conv1', 'synthesis/4x4/Conv', 0, false, false);
  layer('synthesis.b4.torgb', 'synthesis/4x4/ToRGB', null, false, true);
  for (let r = 8; r <= resolution; r *= 2) {
    const l = log2int(r);
    layer(`synthesis.b${r}.conv0`, `synthesis/${r}x${r}/Conv0_up`, 2 * l - 5, true, false);
    layer(`synthesis.b${r}.conv1`, `synthesis/${r}x${r}/Conv1`, 2 * l - 4, false, false);
    layer(`synthesis.b${r}.torgb`, `synthesis/${r}x${r}/ToRGB`, null, false, true);
  }
  const plainKwargs: Record<string, unknown> = {};
  for (const [k, v] of kw) if (typeof k === 'string' && (v === null || ['number', 'string', 'boolean'].includes(typeof v))) plainKwargs[k] = v;
  return {
    format: 'stylegan2-tf-pickle',
    arch,
    tensors,
    valueChecks: [],
    noiseless: new Set(),
    fp16Resolutions: [],
    wAvgPresent: true,
    notes: ['TensorFlow StyleGAN2 pickle: Gs converted as stylegan2-ada-pytorch legacy.py does'],
    initKwargs: plainKwargs
  };
}
