// Installing real checkpoints through the manager: a StyleGAN2-ADA pickle downloaded from a
// local server and imported into a bundle, files imported by hand, and the perceptual pair
// (VGG16 + LPIPS heads) turned into the LPIPS-VGG bundle once both are stored.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundle } from '../../../../src/core/model/bundle';
import { type Catalog, type CatalogEntry, ManagerError, downloadModel, downloadsDir, importModelFile, listModels, perceptualDir } from '../../../../src/core/model/manager';
import { repoRoot, tempDir } from '../../../helpers';

const tmp = tempDir('install');
const fixtures = join(repoRoot, 'test', 'fixtures');
const ada = join(fixtures, 'import', 'ada-32.pkl');
const vggTiny = join(fixtures, 'perceptual', 'vgg16-tiny.pth');
const headsTiny = join(fixtures, 'perceptual', 'lpips-heads-tiny.pth');

let server: http.Server;
let base: string;
const files: Record<string, Buffer> = {};

beforeAll(async () => {
  files['ffhq.pkl'] = readFileSync(ada);
  files['broken.pkl'] = readFileSync(ada).subarray(0, 5000);
  files['vgg16-tiny.pth'] = readFileSync(vggTiny);
  server = http.createServer((req, res) => {
    const body = files[basename(req.url ?? '')];
    if (!body) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  rmSync(tmp, { recursive: true, force: true });
});

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const entry = (e: Partial<CatalogEntry> & Pick<CatalogEntry, 'name' | 'kind' | 'file'>): CatalogEntry => ({
  url: `https://example.invalid/${e.file}`,
  bytes: null,
  sha256: null,
  sha256Prefix: null,
  verification: 'test fixture',
  licence: 'test',
  homepage: 'https://example.invalid',
  purpose: 'test',
  ...e
});
const catalog: Catalog = {
  path: '(test)',
  entries: [
    entry({ name: 'ada-test', kind: 'generator', file: 'ffhq.pkl', bundle: 'ada-test' }),
    entry({ name: 'broken-test', kind: 'generator', file: 'broken.pkl', bundle: 'broken-test' }),
    entry({ name: 'vgg-test', kind: 'perceptual-backbone', file: 'vgg16-tiny.pth', bytes: readFileSync(vggTiny).length, sha256: sha(vggTiny) }),
    entry({ name: 'heads-test', kind: 'perceptual-heads', file: 'lpips-heads-tiny.pth', bytes: readFileSync(headsTiny).length, sha256: sha(headsTiny) })
  ]
};

describe('installing generators', () => {
  const modelsDir = join(tmp, 'gen');

  it('downloads a StyleGAN2-ADA pickle without a published digest and imports it into a bundle', async () => {
    const logs: string[] = [];
    const r = await downloadModel('ada-test', { modelsDir, catalog, mirror: base, onLog: (m) => logs.push(m) });
    expect(r.path).toBe(join(modelsDir, 'ada-test'));
    expect(r.sha256).toBe(sha(ada));
    expect(r.sha256Verified).toBe(false);
    expect(r.import).toMatchObject({ format: expect.any(String), container: 'pickle', resolution: 32, sourceSha256: sha(ada) });
    const b = loadBundle(r.path);
    expect(b.manifest.architecture.resolution).toBe(32);
    // The raw checkpoint is not kept after a successful import.
    expect(readdirSync(downloadsDir(modelsDir))).toEqual([]);
    expect(logs.some((l) => l.startsWith('importing '))).toBe(true);
    const again = await downloadModel('ada-test', { modelsDir, catalog, mirror: base });
    expect(again.alreadyInstalled).toBe(true);
  });

  it('keeps the download and says how to retry when the checkpoint does not import', async () => {
    const err = await downloadModel('broken-test', { modelsDir, catalog, mirror: base }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as ManagerError).code).toBe('IMPORT');
    expect((err as Error).message).toContain(`downloaded broken-test to ${join(downloadsDir(modelsDir), 'broken.pkl')}, but importing it failed: `);
    expect(existsSync(join(modelsDir, 'broken-test'))).toBe(false);
    expect(readFileSync(join(downloadsDir(modelsDir), 'broken.pkl')).length).toBe(5000);
  });

  it('imports a file by hand into the same bundle the download made', async () => {
    const byHand = join(tmp, 'hand');
    const r = await importModelFile(ada, { modelsDir: byHand, catalog, name: 'mine' });
    expect(r).toMatchObject({ kind: 'bundle', path: join(byHand, 'mine') });
    expect(loadBundle(r.path).manifest.id).toBe(loadBundle(join(modelsDir, 'ada-test')).manifest.id);
    // A file named like a catalogue generator goes to that entry's bundle folder.
    copyFileSync(ada, join(tmp, 'ffhq.pkl'));
    const known = await importModelFile(join(tmp, 'ffhq.pkl'), { modelsDir: byHand, catalog });
    expect(known).toMatchObject({ kind: 'bundle', path: join(byHand, 'ada-test'), catalogName: 'ada-test' });
    await expect(importModelFile(ada, { modelsDir: byHand, catalog, name: 'mine' })).rejects.toThrow('already exists: choose another --name');
    await expect(importModelFile(ada, { modelsDir: byHand, catalog, name: '../up' })).rejects.toThrow('cannot name a bundle folder');
    await expect(importModelFile(join(tmp, 'nope.pkl'), { modelsDir: byHand, catalog })).rejects.toThrow('no such file');
  });

  it('refuses a hostile checkpoint and leaves no bundle behind', async () => {
    const byHand = join(tmp, 'hostile');
    const err = await importModelFile(join(fixtures, 'import', 'hostile-os-system.pt'), { modelsDir: byHand, catalog }).catch((e: unknown) => e);
    expect((err as ManagerError).code).toBe('IMPORT');
    expect(existsSync(join(byHand, 'hostile-os-system'))).toBe(false);
  });
});

describe('installing the perceptual weights', () => {
  it('builds the LPIPS-VGG bundle once both the backbone and the heads are stored', async () => {
    const modelsDir = join(tmp, 'perc');
    const first = await downloadModel('vgg-test', { modelsDir, catalog, mirror: base });
    expect(first.path).toBe(join(perceptualDir(modelsDir), 'vgg16-tiny.pth'));
    expect(first.perceptual).toBeUndefined();
    expect((await listModels(modelsDir, catalog)).perceptualBundle).toBeNull();
    // The heads come by hand (say, copied from another machine): recognised by size and SHA-256.
    const second = await importModelFile(headsTiny, { modelsDir, catalog });
    expect(second).toMatchObject({ kind: 'perceptual', catalogName: 'heads-test', path: join(perceptualDir(modelsDir), 'lpips-heads-tiny.pth') });
    expect(second.report).toMatchObject({ name: 'lpips-vgg', vgg: { sha256: sha(vggTiny) }, lpips: { sha256: sha(headsTiny) } });
    const l = await listModels(modelsDir, catalog);
    expect(l.perceptualBundle).toBe(join(perceptualDir(modelsDir), 'lpips-vgg'));
    expect(existsSync(join(l.perceptualBundle!, 'manifest.json'))).toBe(true);
    expect(l.perceptual.map((p) => p.name)).toEqual(['vgg-test', 'heads-test']);
  });
});
