// The per-user models folder shared by the studio and the CLI, and the move of bundles out of the
// old <repo>/models folder: the platform rules, the override, and real moves between temp folders.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDataDir, findLegacyModels, legacyModelsNotice, migrateLegacyModels, resolveModelsDir, userDataDir } from '../../../src/core/model/user-models';
import { repoRoot, tempDir } from '../../helpers';

const tmp = tempDir('user-models');

let n = 0;
const fresh = (): string => {
  const d = join(tmp, `case-${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

function bundle(root: string, name: string, id = name): void {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, 'manifest.json'), JSON.stringify({ id }));
  writeFileSync(join(root, name, 'weights.bin'), Buffer.from([1, 2, 3]));
}

describe('the per-user models folder', () => {
  it("is Electron's userData folder of the app plus models, on each platform", () => {
    expect(userDataDir('linux', {}, '/home/ana')).toBe('/home/ana/.config/Stylecast Studio');
    expect(userDataDir('linux', { XDG_CONFIG_HOME: '/xdg' }, '/home/ana')).toBe('/xdg/Stylecast Studio');
    // A relative XDG_CONFIG_HOME is invalid by the XDG spec and ignored, as Chromium does.
    expect(appDataDir('linux', { XDG_CONFIG_HOME: 'rel' }, '/home/ana')).toBe('/home/ana/.config');
    expect(userDataDir('darwin', {}, '/Users/ana')).toBe('/Users/ana/Library/Application Support/Stylecast Studio');
    expect(appDataDir('win32', { APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'C:\\Users\\ana')).toBe('C:\\Users\\ana\\AppData\\Roaming');
    expect(resolveModelsDir({}, '/home/ana/.config/Stylecast Studio')).toBe('/home/ana/.config/Stylecast Studio/models');
    expect(resolveModelsDir({ STYLECAST_MODELS_DIR: '/data/m' }, '/u')).toBe('/data/m');
    expect(resolveModelsDir({ STYLECAST_MODELS_DIR: '   ' }, '/u')).toBe('/u/models');
  });
});

describe('old bundles', () => {
  it('finds bundles and perceptual weights the new folder lacks, and nothing in the new folder itself', () => {
    const old = fresh();
    const now = fresh();
    bundle(old, 'seeded-64');
    bundle(old, 'ffhq');
    bundle(now, 'ffhq');
    mkdirSync(join(old, 'notes'));
    writeFileSync(join(old, 'README.md'), 'x');
    mkdirSync(join(old, 'perceptual'));
    writeFileSync(join(old, 'perceptual', 'vgg.pth'), 'v');
    expect(findLegacyModels(old, now).map((e) => [e.name, e.kind])).toEqual([
      ['perceptual', 'perceptual'],
      ['seeded-64', 'bundle']
    ]);
    expect(findLegacyModels(now, now)).toEqual([]);
    expect(findLegacyModels(join(old, 'missing'), now)).toEqual([]);
    expect(legacyModelsNotice(findLegacyModels(old, now), old, now)).toBe(
      `2 model folders (perceptual, seeded-64) are still in the old models folder ${old}; models now live in ${now}. Move them with: stylecast models migrate`
    );
  });

  it('moves them without overwriting what the new folder has', () => {
    const old = fresh();
    const now = join(fresh(), 'not-yet-created');
    bundle(old, 'seeded-64');
    mkdirSync(join(old, 'perceptual'));
    writeFileSync(join(old, 'perceptual', 'vgg.pth'), 'old vgg');
    writeFileSync(join(old, 'perceptual', 'lpips.pth'), 'old lpips');
    mkdirSync(join(now, 'perceptual'), { recursive: true });
    writeFileSync(join(now, 'perceptual', 'vgg.pth'), 'new vgg');
    const r = migrateLegacyModels(findLegacyModels(old, now), now);
    expect(r).toEqual({ moved: ['perceptual/lpips.pth', 'seeded-64'], skipped: ['perceptual/vgg.pth'] });
    expect([...readFileSync(join(now, 'seeded-64', 'weights.bin'))]).toEqual([1, 2, 3]);
    expect(existsSync(join(old, 'seeded-64'))).toBe(false);
    expect(readFileSync(join(now, 'perceptual', 'vgg.pth'), 'utf8')).toBe('new vgg');
    expect(readFileSync(join(now, 'perceptual', 'lpips.pth'), 'utf8')).toBe('old lpips');
    expect(readdirSync(join(old, 'perceptual'))).toEqual(['vgg.pth']);
    expect(findLegacyModels(old, now)).toEqual([]);
  });
});

function cli(env: Record<string, string | undefined>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const base = { ...process.env };
  delete base.STYLECAST_MODELS_DIR;
  delete base.XDG_CONFIG_HOME;
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'stylecast.mjs'), ...args], { cwd: tmp, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

describe('stylecast and the per-user folder', () => {
  it('lists models in <HOME>/.config/Stylecast Studio/models by default, and in STYLECAST_MODELS_DIR when set', async () => {
    const home = fresh();
    const r = await cli({ HOME: home }, 'models', 'list', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).modelsDir).toBe(join(home, '.config', 'Stylecast Studio', 'models'));
    const other = fresh();
    const o = await cli({ HOME: home, STYLECAST_MODELS_DIR: other }, 'models', 'list', '--json');
    expect(JSON.parse(o.stdout).modelsDir).toBe(other);
  });

  it('models migrate moves old bundles into the folder the studio reads', async () => {
    const home = fresh();
    const old = fresh();
    bundle(old, 'ffhq-imported');
    const r = await cli({ HOME: home }, 'models', 'migrate', '--from', old, '--json');
    expect(r.status, r.stderr).toBe(0);
    const target = join(home, '.config', 'Stylecast Studio', 'models');
    expect(JSON.parse(r.stdout)).toEqual({ from: old, to: target, moved: ['ffhq-imported'], skipped: [] });
    expect(existsSync(join(target, 'ffhq-imported', 'manifest.json'))).toBe(true);
    const again = await cli({ HOME: home }, 'models', 'migrate', '--from', old);
    expect(again.stdout).toBe(`nothing to move from ${old} to ${target}\n`);
  });
});
