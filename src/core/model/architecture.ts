// The StyleGAN2 (config-f) architecture description and the names of its tensors.
// Names follow the official StyleGAN2-ADA module tree (mapping.fc0, synthesis.b4.conv1, ...),
// so importers map real checkpoints one to one.

export class ModelError extends Error {
  readonly code = 'MODEL';
}

export interface Architecture {
  resolution: number;
  zDim: number;
  wDim: number;
  mappingLayers: number;
  mappingLrMul: number;
  /** Feature channels per resolution, read from the weights for imported models. */
  channels: Record<number, number>;
  imgChannels: number;
  /** Activation clamp of the official code (256 in StyleGAN2-ADA FFHQ), or null. */
  convClamp: number | null;
}

export const SQRT2 = Math.SQRT2;

/** The largest resolution the generator builder supports (config-f at 1024x1024). */
export const MAX_RESOLUTION = 1024;

export function log2int(res: number): number {
  const l = Math.log2(res);
  if (!Number.isInteger(l) || res < 4) throw new ModelError(`resolution ${res} is not a power of two >= 4`);
  return l;
}

export function channelTable(resolution: number, channelBase: number, channelMax: number): Record<number, number> {
  const t: Record<number, number> = {};
  for (let r = 4; r <= resolution; r *= 2) t[r] = Math.min(Math.floor(channelBase / r), channelMax);
  return t;
}

export function makeArchitecture(opts: {
  resolution: number;
  channelBase?: number;
  channelMax?: number;
  zDim?: number;
  wDim?: number;
  mappingLayers?: number;
  convClamp?: number | null;
}): Architecture {
  const { resolution } = opts;
  log2int(resolution);
  if (resolution < 16 || resolution > MAX_RESOLUTION) throw new ModelError(`resolution must be 16 to ${MAX_RESOLUTION}, got ${resolution}`);
  return {
    resolution,
    zDim: opts.zDim ?? 512,
    wDim: opts.wDim ?? 512,
    mappingLayers: opts.mappingLayers ?? 8,
    mappingLrMul: 0.01,
    channels: channelTable(resolution, opts.channelBase ?? 32768, opts.channelMax ?? 512),
    imgChannels: 3,
    convClamp: opts.convClamp ?? null
  };
}

/** Config-f as published: 1024x1024, channel_base 32768, channel_max 512, 8 mapping layers. */
export const CONFIG_F = (resolution = 1024): Architecture => makeArchitecture({ resolution, channelBase: 32768, channelMax: 512 });

export const numWs = (a: Architecture): number => 2 * log2int(a.resolution) - 2;

export interface StyleLayer {
  /** Module path, e.g. synthesis.b8.conv0 */
  name: string;
  res: number;
  kind: 'conv' | 'torgb';
  up: boolean;
  inChannels: number;
  outChannels: number;
  /** Index into W+. */
  wIndex: number;
  /** Offset of this layer's styles in the flat StyleSpace vector. */
  sOffset: number;
}

/** Every modulated layer in synthesis order, with its W+ index and StyleSpace offset (official ws ordering). */
export function styleLayers(a: Architecture): StyleLayer[] {
  const out: StyleLayer[] = [];
  let sOffset = 0;
  let wIdx = 0;
  const push = (l: Omit<StyleLayer, 'sOffset'>) => {
    out.push({ ...l, sOffset });
    sOffset += l.inChannels;
  };
  const ch = (r: number): number => {
    const c = a.channels[r];
    if (!c) throw new ModelError(`no channel count for resolution ${r}`);
    return c;
  };
  push({ name: 'synthesis.b4.conv1', res: 4, kind: 'conv', up: false, inChannels: ch(4), outChannels: ch(4), wIndex: 0 });
  push({ name: 'synthesis.b4.torgb', res: 4, kind: 'torgb', up: false, inChannels: ch(4), outChannels: a.imgChannels, wIndex: 1 });
  wIdx = 1;
  for (let r = 8; r <= a.resolution; r *= 2) {
    push({ name: `synthesis.b${r}.conv0`, res: r, kind: 'conv', up: true, inChannels: ch(r / 2), outChannels: ch(r), wIndex: wIdx });
    push({ name: `synthesis.b${r}.conv1`, res: r, kind: 'conv', up: false, inChannels: ch(r), outChannels: ch(r), wIndex: wIdx + 1 });
    push({ name: `synthesis.b${r}.torgb`, res: r, kind: 'torgb', up: false, inChannels: ch(r), outChannels: a.imgChannels, wIndex: wIdx + 2 });
    wIdx += 2;
  }
  return out;
}

export const styleDim = (a: Architecture): number => styleLayers(a).reduce((n, l) => n + l.inChannels, 0);

export interface TensorSpec {
  name: string;
  shape: number[];
}

/** The full list of tensors a bundle must hold for this architecture. */
export function tensorSpecs(a: Architecture): TensorSpec[] {
  const specs: TensorSpec[] = [];
  let inDim = a.zDim;
  for (let i = 0; i < a.mappingLayers; i++) {
    specs.push({ name: `mapping.fc${i}.weight`, shape: [a.wDim, inDim] });
    specs.push({ name: `mapping.fc${i}.bias`, shape: [a.wDim] });
    inDim = a.wDim;
  }
  specs.push({ name: 'mapping.w_avg', shape: [a.wDim] });
  specs.push({ name: 'synthesis.b4.const', shape: [a.channels[4]!, 4, 4] });
  for (const l of styleLayers(a)) {
    const k = l.kind === 'conv' ? 3 : 1;
    specs.push({ name: `${l.name}.affine.weight`, shape: [l.inChannels, a.wDim] });
    specs.push({ name: `${l.name}.affine.bias`, shape: [l.inChannels] });
    specs.push({ name: `${l.name}.weight`, shape: [l.outChannels, l.inChannels, k, k] });
    specs.push({ name: `${l.name}.bias`, shape: [l.outChannels] });
    if (l.kind === 'conv') {
      specs.push({ name: `${l.name}.noise_const`, shape: [l.res, l.res] });
      specs.push({ name: `${l.name}.noise_strength`, shape: [] });
    }
  }
  return specs;
}
