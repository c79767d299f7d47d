// rosinality/stylegan2-pytorch generator state dicts (upstream model.py: synthesis from 4x4,
// style.N mapping after a PixelNorm at index 0), and plain state dicts that already use the
// official StyleGAN2-ADA names. Key names, shapes and scaling conventions: docs/MODELS.md.
import { Architecture, MAX_RESOLUTION } from '../architecture';
import { CheckpointError } from './errors';
import type { MappedModel, ScaledTensor } from './mapped';
import { DataObject, TorchTensor, flattenTensors, isTensor } from './torch';

type Dict = Map<string, TorchTensor>;

function stateDictOf(root: unknown, where: string): { sd: Dict; from: string; latentAvg: TorchTensor | null; notes: string[] } {
  const notes: string[] = [];
  const asDict = (v: unknown): Dict | null => {
    if (!(v instanceof Map)) return null;
    const d = flattenTensors(v);
    return d.size ? d : null;
  };
  if (root instanceof Map) {
    const la = root.get('latent_avg');
    const latentAvg = isTensor(la) ? la : null;
    for (const key of ['g_ema', 'g']) {
      const d = asDict(root.get(key));
      if (d) {
        if (key === 'g') notes.push('the checkpoint has no g_ema; imported the training generator "g"');
        const args = root.get('args');
        if (args instanceof DataObject && typeof args.attrs.get('lr_mlp') === 'number' && args.attrs.get('lr_mlp') !== 0.01) {
          throw new CheckpointError(`${where}: the checkpoint was trained with lr_mlp ${String(args.attrs.get('lr_mlp'))}; only 0.01 is supported`);
        }
        return { sd: d, from: key, latentAvg, notes };
      }
    }
    const d = asDict(root);
    if (d) return { sd: d, from: 'state dict', latentAvg, notes };
  }
  throw new CheckpointError(`${where}: no generator state dict found (expected "g_ema", "g" or a plain state dict)`);
}

function need(sd: Dict, key: string, shape: (number | null)[], where: string): TorchTensor {
  const t = sd.get(key);
  if (!t) throw new CheckpointError(`${where}: tensor "${key}" is missing`);
  if (t.shape.length !== shape.length || shape.some((d, i) => d !== null && d !== t.shape[i])) {
    throw new CheckpointError(`${where}: tensor "${key}" has shape [${t.shape}], expected [${shape.map((d) => d ?? '*')}]`);
  }
  return t;
}

function checkBlur(t: TorchTensor, key: string, where: string): void {
  const k = [1, 3, 3, 1];
  // make_kernel([1,3,3,1]) * factor**2 for the 2x upsampling blur
  const ok = t.shape.join() === '4,4' && [...t.data].every((v, i) => Math.abs(v - (4 * k[Math.floor(i / 4)]! * k[i % 4]!) / 64) < 1e-6);
  if (!ok) throw new CheckpointError(`${where}: ${key} is not the [1,3,3,1] blur kernel; this generator variant is not supported`);
}

const count = (sd: Dict, re: RegExp): number => {
  let n = 0;
  for (const k of sd.keys()) if (re.test(k)) n++;
  return n;
};

export function isRosinality(root: unknown): boolean {
  try {
    const { sd } = stateDictOf(root, '');
    return sd.has('style.1.weight') && sd.has('input.input');
  } catch {
    return false;
  }
}

export function isAdaStateDict(root: unknown): boolean {
  try {
    const { sd } = stateDictOf(root, '');
    return sd.has('mapping.fc0.weight') && sd.has('synthesis.b4.const');
  } catch {
    return false;
  }
}

export function mapRosinality(root: unknown, where: string): MappedModel {
  const { sd, latentAvg, notes } = stateDictOf(root, where);
  const s1 = need(sd, 'style.1.weight', [null, null], where);
  const [wDim, zDim] = s1.shape as [number, number];
  if (wDim !== zDim) throw new CheckpointError(`${where}: style.1.weight is [${s1.shape}]; rosinality generators map style_dim to style_dim`);
  let mappingLayers = 0;
  while (sd.has(`style.${mappingLayers + 1}.weight`)) mappingLayers++;
  const input = need(sd, 'input.input', [1, null, null, null], where);
  if (input.shape[2] !== 4 || input.shape[3] !== 4) {
    throw new CheckpointError(`${where}: the constant input is ${input.shape[2]}x${input.shape[3]}; upstream rosinality generators start at 4x4 (this looks like a modified fork)`);
  }
  const nConvs = count(sd, /^convs\.\d+\.conv\.weight$/);
  const nRgbs = count(sd, /^to_rgbs\.\d+\.conv\.weight$/);
  if (nConvs === 0 || nConvs % 2 || nRgbs !== nConvs / 2) throw new CheckpointError(`${where}: ${nConvs} styled convs and ${nRgbs} to_rgbs do not form a StyleGAN2 generator`);
  const resolution = 4 * 2 ** (nConvs / 2);
  if (resolution > MAX_RESOLUTION) throw new CheckpointError(`${where}: resolution ${resolution} is larger than ${MAX_RESOLUTION}, the most Stylecast supports`);
  const channels: Record<number, number> = { 4: input.shape[1]! };
  for (let k = 0, r = 8; r <= resolution; k++, r *= 2) channels[r] = need(sd, `convs.${2 * k}.conv.weight`, [1, null, channels[r / 2]!, 3, 3], where).shape[1]!;
  const arch: Architecture = { resolution, zDim, wDim, mappingLayers, mappingLrMul: 0.01, channels, imgChannels: 3, convClamp: null };

  const out = new Map<string, TorchTensor | ScaledTensor>();
  for (let i = 0; i < mappingLayers; i++) {
    out.set(`mapping.fc${i}.weight`, need(sd, `style.${i + 1}.weight`, [wDim, i === 0 ? zDim : wDim], where));
    out.set(`mapping.fc${i}.bias`, need(sd, `style.${i + 1}.bias`, [wDim], where));
  }
  if (latentAvg) {
    if (latentAvg.numel !== wDim) throw new CheckpointError(`${where}: latent_avg has shape [${latentAvg.shape}], expected [${wDim}]`);
    out.set('mapping.w_avg', latentAvg);
  }
  out.set('synthesis.b4.const', need(sd, 'input.input', [1, channels[4]!, 4, 4], where));
  const conv = (ours: string, theirs: string, cin: number, cout: number, noise: number, res: number): void => {
    out.set(`${ours}.affine.weight`, need(sd, `${theirs}.conv.modulation.weight`, [cin, wDim], where));
    out.set(`${ours}.affine.bias`, need(sd, `${theirs}.conv.modulation.bias`, [cin], where));
    // rosinality multiplies the raw weight by 1/sqrt(fan_in) before demodulating, and adds the
    // 1e-8 to the scaled weights' squares: storing the scaled weight reproduces that exactly.
    out.set(`${ours}.weight`, { source: need(sd, `${theirs}.conv.weight`, [1, cout, cin, 3, 3], where), scale: 1 / Math.sqrt(cin * 9) });
    out.set(`${ours}.bias`, need(sd, `${theirs}.activate.bias`, [cout], where));
    out.set(`${ours}.noise_strength`, need(sd, `${theirs}.noise.weight`, [1], where));
    out.set(`${ours}.noise_const`, need(sd, `noises.noise_${noise}`, [1, 1, res, res], where));
  };
  const torgb = (ours: string, theirs: string, cin: number): void => {
    out.set(`${ours}.affine.weight`, need(sd, `${theirs}.conv.modulation.weight`, [cin, wDim], where));
    out.set(`${ours}.affine.bias`, need(sd, `${theirs}.conv.modulation.bias`, [cin], where));
    // rosinality scales the weight by 1/sqrt(C); the official ToRGB scales the styles by the same 1/sqrt(C).
    out.set(`${ours}.weight`, need(sd, `${theirs}.conv.weight`, [1, 3, cin, 1, 1], where));
    out.set(`${ours}.bias`, need(sd, `${theirs}.bias`, [1, 3, 1, 1], where));
  };
  const valueChecks: (() => void)[] = [];
  conv('synthesis.b4.conv1', 'conv1', channels[4]!, channels[4]!, 0, 4);
  torgb('synthesis.b4.torgb', 'to_rgb1', channels[4]!);
  for (let k = 0, r = 8; r <= resolution; k++, r *= 2) {
    conv(`synthesis.b${r}.conv0`, `convs.${2 * k}`, channels[r / 2]!, channels[r]!, 2 * k + 1, r);
    conv(`synthesis.b${r}.conv1`, `convs.${2 * k + 1}`, channels[r]!, channels[r]!, 2 * k + 2, r);
    torgb(`synthesis.b${r}.torgb`, `to_rgbs.${k}`, channels[r]!);
    for (const key of [`convs.${2 * k}.conv.blur.kernel`, `to_rgbs.${k}.upsample.kernel`]) {
      const t = sd.get(key);
      if (t) {
        out.set(`kernel:${key}`, t);
        valueChecks.push(() => checkBlur(t, key, where));
      }
    }
  }
  notes.push('mapping lr multiplier 0.01 (rosinality lr_mlp default; not stored in state dicts)');
  return { format: 'rosinality', arch, tensors: out, noiseless: new Set(), fp16Resolutions: [], wAvgPresent: Boolean(latentAvg), notes, valueChecks };
}

/** A state dict with the official names (e.g. torch.save(G_ema.state_dict())): shapes give the architecture. */
export function mapAdaStateDict(root: unknown, where: string, convClamp: number | null): MappedModel {
  const { sd, notes } = stateDictOf(root, where);
  let mappingLayers = 0;
  while (sd.has(`mapping.fc${mappingLayers}.weight`)) mappingLayers++;
  const fc0 = need(sd, 'mapping.fc0.weight', [null, null], where);
  const [wDim, zDim] = fc0.shape as [number, number];
  let resolution = 4;
  while (resolution < MAX_RESOLUTION && sd.has(`synthesis.b${resolution * 2}.conv1.weight`)) resolution *= 2;
  if (sd.has(`synthesis.b${resolution * 2}.conv1.weight`)) throw new CheckpointError(`${where}: the generator goes past ${MAX_RESOLUTION}x${MAX_RESOLUTION}, the most Stylecast supports`);
  const channels: Record<number, number> = {};
  for (let r = 4; r <= resolution; r *= 2) channels[r] = need(sd, `synthesis.b${r}.conv1.weight`, [null, null, 3, 3], where).shape[0]!;
  const imgChannels = need(sd, `synthesis.b${resolution}.torgb.weight`, [null, null, 1, 1], where).shape[0]!;
  const arch: Architecture = { resolution, zDim, wDim, mappingLayers, mappingLrMul: 0.01, channels, imgChannels, convClamp };
  notes.push(`a state dict does not record conv_clamp or fp16 settings: conv_clamp ${convClamp ?? 'none'} (as given), lr multiplier 0.01`);
  const out = new Map<string, TorchTensor | ScaledTensor>();
  for (const [k, t] of sd) out.set(k, t);
  const noiseless = new Set<string>();
  for (let r = 4; r <= resolution; r *= 2) for (const n of r === 4 ? ['conv1'] : ['conv0', 'conv1']) if (!sd.has(`synthesis.b${r}.${n}.noise_strength`)) noiseless.add(`synthesis.b${r}.${n}`);
  return { format: 'stylegan2-state-dict', arch, tensors: out, noiseless, fp16Resolutions: [], wAvgPresent: sd.has('mapping.w_avg'), notes, valueChecks: [] };
}
