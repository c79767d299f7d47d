// The catalogue file, listing a models directory, and removal contained to that directory.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeArchitecture } from '../../../../src/core/model/architecture';
import { createSeededModel } from '../../../../src/core/model/create';
import { CatalogError, ManagerError, downloadUrl, listModels, loadCatalog, perceptualDir, removeModel } from '../../../../src/core/model/manager';
import { parseCatalog } from '../../../../src/core/model/manager/catalog';
import { Runtime } from '../../../../src/core/runtime';
import { tempDir } from '../../../helpers';

const tmp = tempDir('manager');

describe('the model catalogue', () => {
  it('lists the FFHQ generator, VGG16 and the LPIPS heads with their official URLs', () => {
    const c = loadCatalog();
    expect(c.entries.map((e) => [e.name, e.kind])).toEqual([
      ['stylegan2-ada-ffhq', 'generator'],
      ['vgg16-imagenet', 'perceptual-backbone'],
      ['lpips-vgg-v0.1', 'perceptual-heads']
    ]);
    const [ffhq, vgg, lpips] = c.entries;
    expect(ffhq!.url).toBe('https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/ffhq.pkl');
    // NVIDIA publishes no digest: null means "verified by size and import checks only".
    expect(ffhq!.sha256).toBeNull();
    expect(ffhq!.bundle).toBe('stylegan2-ada-ffhq');
    expect(vgg!.url).toBe('https://download.pytorch.org/models/vgg16-397923af.pth');
    // torchvision's file name carries the first 8 hex digits of the SHA-256.
    expect(vgg!.sha256!.startsWith(vgg!.sha256Prefix!)).toBe(true);
    expect(vgg!.url).toContain(vgg!.sha256Prefix!);
    expect(lpips!.url).toMatch(/richzhang\/PerceptualSimilarity\/.*lpips\/weights\/v0\.1\/vgg\.pth$/);
    for (const e of c.entries) expect(e.licence.length).toBeGreaterThan(5);
  });

  it('rejects malformed entries with the reason', () => {
    const good = JSON.parse(readFileSync(loadCatalog().path, 'utf8'));
    const bad = (patch: Record<string, unknown>) => {
      const j = structuredClone(good);
      Object.assign(j.models[1], patch);
      return () => parseCatalog(j, 'cat.json');
    };
    expect(bad({ sha256: 'abc' })).toThrow('cat.json: models[1]: "sha256" must be 64 lower-case hex digits or null');
    expect(bad({ sha256Prefix: 'deadbeef' })).toThrow('"sha256" does not start with "sha256Prefix"');
    expect(bad({ file: '../../etc/passwd' })).toThrow('must be a plain file name');
    expect(bad({ url: 'file:///etc/passwd' })).toThrow('"url" must be https');
    expect(bad({ url: 'http://nvlabs-fi-cdn.nvidia.com/ffhq.pkl' })).toThrow('"url" must be https');
    expect(bad({ bytes: -1 })).toThrow('"bytes" must be a positive integer or null');
    expect(bad({ name: 'stylegan2-ada-ffhq' })).toThrow('the name "stylegan2-ada-ffhq" appears twice');
    expect(() => parseCatalog({ format: 'x' }, 'cat.json')).toThrow(CatalogError);
  });

  it('fetches from a mirror by catalogue file name when one is set', () => {
    const vgg = loadCatalog().entries[1]!;
    expect(downloadUrl(vgg, undefined)).toBe(vgg.url);
    expect(downloadUrl(vgg, 'http://127.0.0.1:8080/cache')).toBe('http://127.0.0.1:8080/cache/vgg16-397923af.pth');
    expect(() => downloadUrl(vgg, 'ftp://host/')).toThrow('must be an http(s) URL');
  });
});

describe('listing a models directory', () => {
  const modelsDir = join(tmp, 'list');
  beforeAll(async () => {
    const rt = await Runtime.create({ device: 'cpu' });
    const arch = makeArchitecture({ resolution: 16, channelBase: 256, channelMax: 16, zDim: 32, wDim: 32, mappingLayers: 2 });
    await createSeededModel(join(modelsDir, 'tiny'), arch, 3, rt, 'tiny');
    const lpips = loadCatalog().entries[2]!;
    mkdirSync(perceptualDir(modelsDir), { recursive: true });
    writeFileSync(join(perceptualDir(modelsDir), lpips.file), new Uint8Array(lpips.bytes!));
  });

  it('shows bundles with resolution, calibration and size, stored weights, and what is left to download', async () => {
    const l = await listModels(modelsDir);
    expect(l.bundles).toHaveLength(1);
    const b = l.bundles[0]!;
    const weights = readFileSync(join(modelsDir, 'tiny', 'weights.bin')).length;
    const manifest = readFileSync(join(modelsDir, 'tiny', 'manifest.json')).length;
    expect(b).toMatchObject({ folder: 'tiny', name: 'tiny', resolution: 16, calibrated: false, isDefault: false, bytes: weights + manifest });
    expect(l.perceptual.map((p) => p.name)).toEqual(['lpips-vgg-v0.1']);
    expect(l.available.map((a) => a.name)).toEqual(['stylegan2-ada-ffhq', 'vgg16-imagenet']);
    expect(l.available[0]!.bytes).toBeNull();
  });
});

describe('removing a model', () => {
  const root = join(tmp, 'remove');
  const outside = join(tmp, 'outside');
  const bundle = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), '{"format":"stylecast-model"}');
    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(16));
  };
  beforeAll(() => {
    bundle(join(root, 'mine'));
    bundle(join(root, 'seeded-64'));
    bundle(join(root, 'forced'));
    bundle(outside);
    mkdirSync(join(root, 'notes'));
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync(join(root, 'mine'), join(root, 'alias'));
  });
  const refuse = (name: string, code: ManagerError['code'], text: string, force = false) => {
    let err: unknown;
    try {
      removeModel(name, { modelsDir: root, force });
    } catch (e) {
      err = e;
    }
    expect(err, name).toBeInstanceOf(ManagerError);
    expect((err as ManagerError).code).toBe(code);
    expect((err as Error).message).toContain(text);
  };

  it('removes a bundle folder by name', () => {
    expect(removeModel('mine', { modelsDir: root })).toEqual({ kind: 'bundle', path: join(root, 'mine') });
    expect(existsSync(join(root, 'mine'))).toBe(false);
  });

  it('refuses paths that escape the models directory', () => {
    refuse('../outside', 'CONTAINMENT', 'only bundle folders directly inside');
    refuse(outside, 'CONTAINMENT', 'only bundle folders directly inside');
    refuse('.', 'CONTAINMENT', 'only bundle folders directly inside');
    refuse(root, 'CONTAINMENT', 'only bundle folders directly inside');
    refuse('seeded-64/weights.bin', 'CONTAINMENT', 'only bundle folders directly inside');
    expect(existsSync(join(outside, 'manifest.json'))).toBe(true);
  });

  it('refuses symbolic links, leaving both the link and its target', () => {
    refuse('escape', 'CONTAINMENT', `it is a symbolic link (to ${outside})`);
    refuse('alias', 'CONTAINMENT', 'it is a symbolic link');
    expect(existsSync(join(root, 'escape', 'manifest.json'))).toBe(true);
    expect(existsSync(join(outside, 'weights.bin'))).toBe(true);
  });

  it('refuses folders that are not bundles and names that are not there', () => {
    refuse('notes', 'NOT_FOUND', 'is not a model bundle (no manifest.json)');
    refuse('nothing', 'NOT_FOUND', 'there is no model "nothing"');
    expect(existsSync(join(root, 'notes'))).toBe(true);
  });

  it('protects the default seeded model unless forced', () => {
    refuse('seeded-64', 'PROTECTED', 'pass --force');
    expect(existsSync(join(root, 'seeded-64', 'weights.bin'))).toBe(true);
    removeModel('seeded-64', { modelsDir: root, force: true });
    expect(existsSync(join(root, 'seeded-64'))).toBe(false);
  });

  it('accepts a path to a bundle inside the directory', () => {
    removeModel(join(root, 'forced'), { modelsDir: root });
    expect(existsSync(join(root, 'forced'))).toBe(false);
  });

  it('removes stored perceptual weights by catalogue name', () => {
    const vgg = loadCatalog().entries[1]!;
    mkdirSync(perceptualDir(root), { recursive: true });
    writeFileSync(join(perceptualDir(root), vgg.file), 'x');
    expect(removeModel('vgg16-imagenet', { modelsDir: root })).toEqual({ kind: 'perceptual', path: join(perceptualDir(root), vgg.file) });
    expect(existsSync(join(perceptualDir(root), vgg.file))).toBe(false);
  });
});
