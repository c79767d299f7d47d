// Model downloads against a local HTTP server on 127.0.0.1 serving a real file (the weights
// of a small seeded bundle): progress, resume after a cut, checksum failure, 404 and offline.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeArchitecture } from '../../../../src/core/model/architecture';
import { createSeededModel } from '../../../../src/core/model/create';
import { type Catalog, type CatalogEntry, type DownloadProgress, ManagerError, downloadFile, downloadModel, perceptualDir } from '../../../../src/core/model/manager';
import { Runtime } from '../../../../src/core/runtime';
import { tempDir } from '../../../helpers';

const tmp = tempDir('download');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let fixture: Buffer;
let sha: string;

beforeAll(async () => {
  const rt = await Runtime.create({ device: 'cpu' });
  const arch = makeArchitecture({ resolution: 16, channelBase: 256, channelMax: 16, zDim: 32, wDim: 32, mappingLayers: 2 });
  await createSeededModel(join(tmp, 'fixture-model'), arch, 5, rt, 'fixture');
  fixture = readFileSync(join(tmp, 'fixture-model', 'weights.bin'));
  sha = createHash('sha256').update(fixture).digest('hex');
});

interface Served {
  url: string;
  requests: { url: string; range: string | undefined }[];
  close: () => Promise<void>;
}

/** Serves `body` at /<name>; `behave` may take over a request (cut it, ignore Range, ...). */
function serve(body: () => Buffer, behave?: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => boolean): Promise<Served> {
  const requests: Served['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', range: req.headers.range });
    if (behave?.(req, res, requests.length)) return;
    if (!req.url?.endsWith('/weights.bin')) {
      res.writeHead(404).end('not found');
      return;
    }
    const data = body();
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': data.length - start, 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` });
      res.end(data.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': data.length });
    res.end(data);
  });
  return new Promise((resolveServe) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolveServe({
        url: `http://127.0.0.1:${port}/models`,
        requests,
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); })
      });
    });
  });
}

/** The first full-body request sends `cutAt` bytes and drops the connection. */
const cutOnce = (cutAt: () => number) => (req: http.IncomingMessage, res: http.ServerResponse, n: number): boolean => {
  if (n !== 1) return false;
  res.writeHead(200, { 'content-length': fixture.length });
  res.write(fixture.subarray(0, cutAt()), () => res.socket?.destroy());
  return true;
};

function catalogFor(over: Partial<CatalogEntry> = {}): Catalog {
  const entry: CatalogEntry = {
    name: 'fixture-weights',
    kind: 'perceptual-heads',
    file: 'weights.bin',
    url: 'https://example.invalid/weights.bin',
    bytes: fixture.length,
    sha256: sha,
    sha256Prefix: null,
    verification: 'test fixture',
    licence: 'test',
    homepage: 'https://example.invalid',
    purpose: 'test',
    ...over
  };
  return { entries: [entry], path: '(test)' };
}

let n = 0;
const freshModelsDir = () => join(tmp, `models-${++n}`);
const servers: Served[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function server(...args: Parameters<typeof serve>): Promise<Served> {
  const s = await serve(...args);
  servers.push(s);
  return s;
}

describe('downloading a catalogue model from a local server', () => {
  it('reports progress up to 100% and stores the verified file', async () => {
    const s = await server(() => fixture);
    const modelsDir = freshModelsDir();
    const events: DownloadProgress[] = [];
    const r = await downloadModel('fixture-weights', { modelsDir, catalog: catalogFor(), mirror: s.url, onProgress: (p) => events.push(p) });
    expect(fixture.length).toBeGreaterThan(50_000);
    expect(r.path).toBe(join(perceptualDir(modelsDir), 'weights.bin'));
    expect(r.sha256).toBe(sha);
    expect(r.sha256Verified).toBe(true);
    expect(readFileSync(r.path).equals(fixture)).toBe(true);
    expect(events.length).toBeGreaterThan(2);
    expect(events[0]!.received).toBe(0);
    expect(events.at(-1)).toEqual({ received: fixture.length, total: fixture.length, fraction: 1 });
    for (let i = 1; i < events.length; i++) expect(events[i]!.received).toBeGreaterThanOrEqual(events[i - 1]!.received);
    expect(readdirSync(perceptualDir(modelsDir))).toEqual(['weights.bin']);
    expect(s.requests).toEqual([{ url: '/models/weights.bin', range: undefined }]);
  });

  it('keeps the part after a cut and resumes it with a Range request on the next run', async () => {
    const cutAt = Math.floor(fixture.length * 0.4);
    const s = await server(() => fixture, cutOnce(() => cutAt));
    const modelsDir = freshModelsDir();
    const dest = join(perceptualDir(modelsDir), 'weights.bin');
    const err = await downloadModel('fixture-weights', { modelsDir, catalog: catalogFor(), mirror: s.url, retries: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as Error).message).toMatch(/cut at \d+ of \d+ bytes.*run the same command again to resume/);
    expect((err as Error).message).toContain('stylecast models import FILE');
    expect(existsSync(dest)).toBe(false);
    const partSize = readFileSync(`${dest}.part`).length;
    expect(partSize).toBe(cutAt);
    expect(JSON.parse(readFileSync(`${dest}.part.json`, 'utf8'))).toMatchObject({ url: `${s.url}/weights.bin`, bytes: fixture.length });

    const events: DownloadProgress[] = [];
    const r = await downloadModel('fixture-weights', { modelsDir, catalog: catalogFor(), mirror: s.url, onProgress: (p) => events.push(p) });
    expect(s.requests.map((q) => q.range)).toEqual([undefined, `bytes=${cutAt}-`]);
    expect(r.resumedFrom).toBe(cutAt);
    expect(events[0]).toMatchObject({ received: cutAt, resumedFrom: cutAt });
    expect(events.at(-1)!.fraction).toBe(1);
    expect(createHash('sha256').update(readFileSync(dest)).digest('hex')).toBe(sha);
    expect(existsSync(`${dest}.part`) || existsSync(`${dest}.part.json`)).toBe(false);
  });

  it('resumes within one run when retries are allowed', async () => {
    const cutAt = Math.floor(fixture.length * 0.7);
    const s = await server(() => fixture, cutOnce(() => cutAt));
    const dest = join(tmp, `direct-${++n}.bin`);
    const r = await downloadFile({ url: `${s.url}/weights.bin`, dest, bytes: fixture.length, sha256: sha, retries: 2, retryDelayMs: 5 });
    expect(r.attempts).toBe(2);
    expect(s.requests.map((q) => q.range)).toEqual([undefined, `bytes=${cutAt}-`]);
    expect(readFileSync(dest).equals(fixture)).toBe(true);
  });

  it('starts over when the server ignores the Range header', async () => {
    const cutAt = Math.floor(fixture.length * 0.5);
    // Cut the first request, then answer every request with the whole body (status 200).
    const s = await server(() => fixture, (req, res, k) => {
      if (k === 1) return cutOnce(() => cutAt)(req, res, k);
      res.writeHead(200, { 'content-length': fixture.length }).end(fixture);
      return true;
    });
    const dest = join(tmp, `direct-${++n}.bin`);
    const r = await downloadFile({ url: `${s.url}/weights.bin`, dest, bytes: fixture.length, sha256: sha, retries: 1, retryDelayMs: 5 });
    expect(s.requests[1]!.range).toBe(`bytes=${cutAt}-`);
    expect(r.sha256).toBe(sha);
    expect(readFileSync(dest).equals(fixture)).toBe(true);
  });

  it('follows redirects, as CDNs and GitHub raw URLs use them', async () => {
    const s = await server(() => fixture, (req, res) => {
      if (req.url !== '/models/weights.bin') return false;
      res.writeHead(302, { location: '/cdn/blob/weights.bin' }).end();
      return true;
    });
    const dest = join(tmp, `direct-${++n}.bin`);
    const r = await downloadFile({ url: `${s.url}/weights.bin`, dest, bytes: fixture.length, sha256: sha });
    expect(s.requests.map((q) => q.url)).toEqual(['/models/weights.bin', '/cdn/blob/weights.bin']);
    expect(r.sha256).toBe(sha);
  });

  it('deletes the download and says so when the SHA-256 does not match', async () => {
    const s = await server(() => fixture);
    const modelsDir = freshModelsDir();
    const wrong = createHash('sha256').update('something else').digest('hex');
    const err = await downloadModel('fixture-weights', { modelsDir, catalog: catalogFor({ sha256: wrong }), mirror: s.url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as Error).message).toContain(`its SHA-256 is ${sha}, expected ${wrong}`);
    expect((err as Error).message).toContain('the download was deleted');
    expect(readdirSync(perceptualDir(modelsDir))).toEqual([]);
  });

  it('checks a published SHA-256 prefix when there is no full digest', async () => {
    const s = await server(() => fixture);
    const bad = sha.startsWith('00000000') ? '11111111' : '00000000';
    const err = await downloadModel('fixture-weights', { modelsDir: freshModelsDir(), catalog: catalogFor({ sha256: null, sha256Prefix: bad }), mirror: s.url }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`expected ${bad}...`);
    const ok = await downloadModel('fixture-weights', { modelsDir: freshModelsDir(), catalog: catalogFor({ sha256: null, sha256Prefix: sha.slice(0, 8) }), mirror: s.url });
    expect(ok.sha256).toBe(sha);
  });

  it('refuses a file of the wrong size before downloading it', async () => {
    const s = await server(() => fixture.subarray(0, fixture.length - 4));
    const modelsDir = freshModelsDir();
    const err = await downloadModel('fixture-weights', { modelsDir, catalog: catalogFor(), mirror: s.url }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`is ${fixture.length - 4} bytes, but the catalogue expects ${fixture.length}`);
    expect(readdirSync(perceptualDir(modelsDir))).toEqual([]);
  });

  it('explains a 404 and how to import the file instead', async () => {
    const s = await server(() => fixture);
    const err = await downloadModel('fixture-weights', { modelsDir: freshModelsDir(), catalog: catalogFor({ file: 'missing.bin' }), mirror: s.url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as Error).message).toContain('the server answered 404');
    expect((err as Error).message).toContain('fetch https://example.invalid/weights.bin by any other means and run "stylecast models import FILE"');
  });

  it('fails fast offline (connection refused) with a one-line message that says how to import', async () => {
    const s = await serve(() => fixture);
    const url = s.url;
    await s.close(); // nothing listens on this port any more
    const t0 = Date.now();
    const err = await downloadModel('fixture-weights', { modelsDir: freshModelsDir(), catalog: catalogFor(), mirror: url }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^cannot download fixture-weights: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); this machine seems to be offline\./);
    expect(msg).toContain('"stylecast models import FILE"');
    expect(msg.includes('\n')).toBe(false);
  });
});
