import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findLegacyModels, migrateLegacyModels } from '../../src/core/model/user-models';
import { legacyModelsDir, legacyModelsPrompt, resolveModelsDir, scanModelsDir } from '../../src/main/models';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempModelsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stylecast-models-'));
  dirs.push(dir);
  return dir;
}

function bundle(root: string, name: string, manifest: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'manifest.json'), manifest);
  return dir;
}

const manifest = (fields: Record<string, unknown>) =>
  JSON.stringify({ format: 'stylecast-model', version: 1, id: 'e21e8644f5a3d136', name: 'seeded-64', architecture: { resolution: 64, zDim: 512 }, tensors: [], ...fields });

describe('scanModelsDir', () => {
  it('lists a valid bundle and reports a broken one', async () => {
    const root = tempModelsDir();
    const good = bundle(root, 'seeded-64', manifest({}));
    bundle(root, 'broken', '{"format": "stylecast-model", "id": ');
    mkdirSync(join(root, 'not-a-bundle'));
    writeFileSync(join(root, 'README.md'), 'models live here');

    const scan = await scanModelsDir(root);
    expect(scan.models).toEqual([{ id: 'e21e8644f5a3d136', name: 'seeded-64', resolution: 64, path: good }]);
    expect(scan.skipped).toHaveLength(1);
    expect(scan.skipped[0]!.path).toBe(join(root, 'broken', 'manifest.json'));
    expect(scan.skipped[0]!.reason).toMatch(/^not valid JSON/);
  });

  it('explains why a well-formed manifest is not usable', async () => {
    const root = tempModelsDir();
    bundle(root, 'a', manifest({ architecture: { resolution: 100 } }));
    bundle(root, 'b', manifest({ format: 'something-else' }));
    bundle(root, 'c', manifest({ version: 7 }));
    bundle(root, 'd', manifest({ name: '' }));
    const scan = await scanModelsDir(root);
    expect(scan.models).toEqual([]);
    expect(scan.skipped.map((s) => s.reason)).toEqual([
      '"architecture.resolution" must be a power of two of at least 4, got 100',
      '"format" is "something-else", expected "stylecast-model"',
      'bundle version 7 is newer than this app reads (1): update Stylecast',
      '"name" is missing'
    ]);
  });

  it('treats a missing models directory as empty', async () => {
    await expect(scanModelsDir(join(tempModelsDir(), 'nope'))).resolves.toEqual({ models: [], skipped: [] });
  });
});

describe('resolveModelsDir', () => {
  it('prefers STYLECAST_MODELS_DIR, then the models folder in userData (shared with the CLI)', () => {
    const userData = '/home/ana/.config/Stylecast Studio';
    expect(resolveModelsDir({ userData, env: { STYLECAST_MODELS_DIR: '/data/models' } })).toBe('/data/models');
    expect(resolveModelsDir({ userData, env: {} })).toBe('/home/ana/.config/Stylecast Studio/models');
    expect(resolveModelsDir({ userData, env: { STYLECAST_MODELS_DIR: '  ' } })).toBe('/home/ana/.config/Stylecast Studio/models');
  });
});

describe('bundles in the old models folder', () => {
  it('is <repo>/models in development and resources/models when packaged', () => {
    expect(legacyModelsDir({ isPackaged: false, appPath: '/repo', resourcesPath: '/app/resources' })).toBe('/repo/models');
    expect(legacyModelsDir({ isPackaged: true, appPath: '/app/resources/app.asar', resourcesPath: '/app/resources' })).toBe('/app/resources/models');
  });

  it('asks to move them, and moving makes them show in the models scan', async () => {
    const old = tempModelsDir();
    const now = join(tempModelsDir(), 'models');
    bundle(old, 'seeded-64', manifest({}));
    const found = findLegacyModels(old, now);
    const prompt = legacyModelsPrompt(found, old, now);
    expect(prompt.message).toBe('Move 1 model folder to your models folder?');
    expect(prompt.detail).toBe(`seeded-64 is in ${old}, where earlier versions kept models. Models now live in ${now}, shared with the stylecast command line. Nothing there is overwritten.`);
    expect(prompt.buttons[prompt.defaultId]).toBe('Move them');
    expect(prompt.buttons[prompt.cancelId]).toBe('Not now');
    expect((await scanModelsDir(now)).models).toEqual([]);
    migrateLegacyModels(found, now);
    expect((await scanModelsDir(now)).models.map((m) => m.path)).toEqual([join(now, 'seeded-64')]);
    expect(findLegacyModels(old, now)).toEqual([]);
  });
});
