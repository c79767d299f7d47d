// Installing real checkpoints through the manager: a StyleGAN2-ADA pickle downloaded from a
// local server and imported into a bundle, files imported by hand, and the perceptual pair
// (VGG16 + LPIPS heads) turned into the LPIPS-VGG bundle once both are stored.
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadBundle } from '../../../../src/core/model/bundle';
import { importCheckpoint } from '../../../../src/core/model/import';
import { readPins, type Catalog, type CatalogEntry, ManagerError, downloadModel, downloadsDir, importModelFile, listModels, perceptualDir } from '../../../../src/core/model/manager';
import { importPerceptual } from '../../../../src/core/perceptual';
import { repoRoot, tempDir } from '../../../helpers';

// Hashing a file streams it (core/util/hash); counting those streams shows which files an import reads again.
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, createReadStream: vi.fn(actual.createReadStream) };
});
const streamsOf = (file: string) => vi.mocked(createReadStream).mock.calls.filter(([p]) => p === file).length;

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

  it('downloads a StyleGAN2-ADA pickle without a published digest (accepted on trust) and imports it into a bundle', async () => {
    const logs: string[] = [];
    const r = await downloadModel('ada-test', { modelsDir, catalog, mirror: base, acceptUnpinned: true, onLog: (m) => logs.push(m) });
    expect(r.path).toBe(join(modelsDir, 'ada-test'));
    expect(r.sha256).toBe(sha(ada));
    expect(r.sha256Verified).toBe(false);
    expect(r.trust).toBe('first-use');
    expect(logs.some((l) => l.startsWith(`recorded the SHA-256 of ffhq.pkl (${sha(ada)}`))).toBe(true);
    expect(r.import).toMatchObject({ format: expect.any(String), container: 'pickle', resolution: 32, sourceSha256: sha(ada) });
    const b = loadBundle(r.path);
    expect(b.manifest.architecture.resolution).toBe(32);
    // The raw checkpoint is not kept after a successful import.
    expect(readdirSync(downloadsDir(modelsDir))).toEqual([]);
    expect(logs.some((l) => l.startsWith('importing '))).toBe(true);
    const again = await downloadModel('ada-test', { modelsDir, catalog, mirror: base });
    expect(again.alreadyInstalled).toBe(true);
  });

  it('records the digest its download computed and does not read the checkpoint again to import it', async () => {
    const modelsDir = join(tmp, 'gen-digest');
    const dest = join(downloadsDir(modelsDir), 'ffhq.pkl');
    vi.mocked(createReadStream).mockClear();
    const r = await downloadModel('ada-test', { modelsDir, catalog, mirror: base, keepFile: true, acceptUnpinned: true });
    expect(readFileSync(dest)).toEqual(files['ffhq.pkl']);
    expect(streamsOf(dest)).toBe(0);
    expect(r.import).toMatchObject({ sourceSha256: sha(ada) });
    expect(loadBundle(r.path).manifest.source).toMatchObject({ file: 'ffhq.pkl', sha256: sha(ada) });
  });

  it('imports with a digest the caller computed as given, and refuses one that is not a SHA-256', async () => {
    const out = join(tmp, 'given', 'ada');
    // Taken as given, so callers pass only a digest they computed from these bytes themselves.
    const given = createHash('sha256').update('computed by the caller').digest('hex');
    vi.mocked(createReadStream).mockClear();
    const r = await importCheckpoint(ada, out, { knownSha256: given });
    expect(streamsOf(ada)).toBe(0);
    expect(r.sourceSha256).toBe(given);
    expect(loadBundle(out).manifest.source).toMatchObject({ sha256: given });
    // Empty (an already-installed outcome's digest) or a catalogue prefix is never recorded.
    for (const bad of ['', sha(ada).slice(0, 16)]) {
      const dir = join(tmp, 'given', `bad-${bad.length}`);
      await expect(importCheckpoint(ada, dir, { knownSha256: bad })).rejects.toThrow(`the SHA-256 given for ${ada} ("${bad}") is not 64 lowercase hex digits`);
      expect(existsSync(dir)).toBe(false);
    }
    // Without it the file is hashed, as before.
    const hashed = await importCheckpoint(ada, join(tmp, 'given', 'hashed'));
    expect(hashed.sourceSha256).toBe(sha(ada));
    expect(streamsOf(ada)).toBe(1);
  });

  it('keeps the download and says how to retry when the checkpoint does not import', async () => {
    const err = await downloadModel('broken-test', { modelsDir, catalog, mirror: base, acceptUnpinned: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as ManagerError).code).toBe('IMPORT');
    expect((err as Error).message).toContain(`downloaded broken-test to ${join(downloadsDir(modelsDir), 'broken.pkl')}, but importing it failed: `);
    expect(existsSync(join(modelsDir, 'broken-test'))).toBe(false);
    expect(readFileSync(join(downloadsDir(modelsDir), 'broken.pkl')).length).toBe(5000);
    // A file that does not import is never pinned as the trusted one.
    expect(readPins(modelsDir)['broken-test']).toBeUndefined();
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

  it('builds the bundle from a download without reading the downloaded file again; the other file is hashed', async () => {
    const modelsDir = join(tmp, 'perc-digest');
    await importModelFile(headsTiny, { modelsDir, catalog });
    const heads = join(perceptualDir(modelsDir), 'lpips-heads-tiny.pth');
    const vgg = join(perceptualDir(modelsDir), 'vgg16-tiny.pth');
    vi.mocked(createReadStream).mockClear();
    const r = await downloadModel('vgg-test', { modelsDir, catalog, mirror: base });
    expect(r.path).toBe(vgg);
    expect(streamsOf(vgg)).toBe(0);
    expect(streamsOf(heads)).toBe(1);
    expect(r.perceptual).toMatchObject({ vgg: { file: 'vgg16-tiny.pth', sha256: sha(vggTiny) }, lpips: { file: 'lpips-heads-tiny.pth', sha256: sha(headsTiny) } });
  });

  it('uses a known digest only for the file at that path', async () => {
    const out = join(tmp, 'perc-known');
    // Same file name in another folder: not the file the digest was computed from.
    const elsewhere = { file: join(tmp, 'elsewhere', 'vgg16-tiny.pth'), sha256: '0'.repeat(64) };
    vi.mocked(createReadStream).mockClear();
    const r = await importPerceptual({ vgg: vggTiny, lpips: headsTiny, out: join(out, 'a'), known: elsewhere });
    expect([r.vgg.sha256, r.lpips.sha256]).toEqual([sha(vggTiny), sha(headsTiny)]);
    expect([streamsOf(vggTiny), streamsOf(headsTiny)]).toEqual([1, 1]);
    const k = await importPerceptual({ vgg: vggTiny, lpips: headsTiny, out: join(out, 'b'), known: { file: headsTiny, sha256: sha(headsTiny) } });
    expect([k.vgg.sha256, k.lpips.sha256]).toEqual([sha(vggTiny), sha(headsTiny)]);
    expect([streamsOf(vggTiny), streamsOf(headsTiny)]).toEqual([2, 1]);
  });
});
