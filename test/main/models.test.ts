import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveModelsDir, scanModelsDir } from '../../src/main/models';

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
  const base = { isPackaged: false, appPath: '/repo', resourcesPath: '/app/resources' };
  it('prefers STYLECAST_MODELS_DIR, then <repo>/models in development, then the packaged resources', () => {
    expect(resolveModelsDir({ ...base, env: { STYLECAST_MODELS_DIR: '/data/models' } })).toBe('/data/models');
    expect(resolveModelsDir({ ...base, env: {} })).toBe('/repo/models');
    expect(resolveModelsDir({ ...base, env: { STYLECAST_MODELS_DIR: '  ' } })).toBe('/repo/models');
    expect(resolveModelsDir({ ...base, isPackaged: true, env: {} })).toBe('/app/resources/models');
  });
});
