// Model downloads against a local HTTP server on 127.0.0.1 serving a real file (the weights
// of a small seeded bundle): progress, resume after a cut, checksum failure, 404 and offline.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeArchitecture } from '../../../../src/core/model/architecture';
import { createSeededModel } from '../../../../src/core/model/create';
import { type Catalog, type CatalogEntry, type DownloadProgress, DownloadError, ManagerError, downloadFile, downloadModel, perceptualDir, pinsPath, proxyFromEnv, proxyFromPac, readPins } from '../../../../src/core/model/manager';
import { Runtime } from '../../../../src/core/runtime';
import { tempDir } from '../../../helpers';

const tmp = tempDir('download');

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
    const err = await downloadModel('fixture-weights', { modelsDir: freshModelsDir(), catalog: catalogFor({ sha256: null, sha256Prefix: bad }), mirror: s.url, acceptUnpinned: true }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`expected ${bad}...`);
    const ok = await downloadModel('fixture-weights', { modelsDir: freshModelsDir(), catalog: catalogFor({ sha256: null, sha256Prefix: sha.slice(0, 8) }), mirror: s.url, acceptUnpinned: true });
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

/** A self-signed certificate for localhost and 127.0.0.1, made by openssl for this run. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = join(tmp, `tls-${++n}`);
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}

/** An https server on 127.0.0.1 serving the fixture at /weights.bin, or what `behave` answers. */
function serveTls(tlsFiles: { key: Buffer; cert: Buffer }, behave?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean): Promise<{ port: number; close: () => Promise<void> }> {
  const server = https.createServer(tlsFiles, (req, res) => {
    if (behave?.(req, res)) return;
    res.writeHead(200, { 'content-length': fixture.length }).end(fixture);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ port: (server.address() as AddressInfo).port, close: () => new Promise<void>((c) => { server.closeAllConnections(); server.close(() => c()); }) })));
}

describe('downloads trust the network only as far as TLS and the pinned digest allow', () => {
  it('refuses a plain http URL that is not this machine, before connecting', async () => {
    const err = await downloadFile({ url: 'http://models.example.invalid/weights.bin', dest: join(tmp, `insecure-${++n}.bin`) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('INSECURE');
    expect((err as Error).message).toBe('refusing the unencrypted http URL http://models.example.invalid/weights.bin: downloads use https (plain http only from this machine, 127.0.0.1)');
  });

  it('refuses a redirect to http from the local server, and from https to http anywhere', async () => {
    const s = await server(() => fixture, (req, res) => {
      res.writeHead(302, { location: 'http://cdn.example.invalid/weights.bin' }).end();
      return true;
    });
    const dest = join(tmp, `redirect-${++n}.bin`);
    const err = await downloadFile({ url: `${s.url}/weights.bin`, dest }).catch((e: unknown) => e);
    expect((err as DownloadError).code).toBe('INSECURE');
    expect((err as Error).message).toContain('refusing the unencrypted http URL http://cdn.example.invalid/weights.bin');
    expect(existsSync(`${dest}.part`)).toBe(false);

    // https://127.0.0.1 -> http://127.0.0.1: loopback http is allowed on its own, but not as a downgrade.
    const plain = await server(() => fixture);
    const cert = selfSigned();
    const t = await serveTls(cert, (_req, res) => {
      res.writeHead(301, { location: `${plain.url}/weights.bin` }).end();
      return true;
    });
    try {
      const down = await downloadFile({ url: `https://127.0.0.1:${t.port}/weights.bin`, dest: join(tmp, `downgrade-${++n}.bin`), ca: cert.cert }).catch((e: unknown) => e);
      expect((down as DownloadError).code).toBe('INSECURE');
      expect((down as Error).message).toBe(`https://127.0.0.1:${t.port}/weights.bin redirects to the unencrypted ${plain.url}/weights.bin; refusing the downgrade to http`);
      expect(plain.requests).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('cuts off and deletes a body of unknown size past the cap', async () => {
    const s = await server(() => fixture, (_req, res) => {
      // No content-length: chunked, and far more than the cap.
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      const pump = () => {
        while (sent < 8 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return true;
    });
    const dest = join(tmp, `huge-${++n}.bin`);
    const err = await downloadFile({ url: `${s.url}/weights.bin`, dest, maxBytes: 1024 * 1024, retries: 0 }).catch((e: unknown) => e);
    expect((err as DownloadError).code).toBe('SIZE');
    expect((err as Error).message).toMatch(/sent more than the 1048576 bytes a download may have \(the server gave no size\); stopped and deleted it/);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(existsSync(dest)).toBe(false);
    // A server that announces too much is refused before its body.
    const big = await server(() => fixture);
    const e2 = await downloadFile({ url: `${big.url}/weights.bin`, dest: join(tmp, `announced-${++n}.bin`), maxBytes: 1000 }).catch((e: unknown) => e);
    expect((e2 as Error).message).toMatch(new RegExp(`is ${fixture.length} bytes, more than the 1000 a download may have; refused before downloading it`));
  });

  it('goes through an HTTPS_PROXY with a CONNECT tunnel, TLS end to end', async () => {
    const cert = selfSigned();
    const t = await serveTls(cert);
    const connects: string[] = [];
    const proxy = http.createServer();
    const tunnels: net.Socket[] = [];
    proxy.on('connect', (req, client: net.Socket) => {
      connects.push(req.url ?? '');
      tunnels.push(client);
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const dest = join(tmp, `proxied-${++n}.bin`);
      const r = await downloadFile({ url: `https://localhost:${t.port}/weights.bin`, dest, sha256: sha, proxy: proxyUrl, ca: cert.cert });
      expect(r.sha256).toBe(sha);
      expect(connects).toEqual([`localhost:${t.port}`]);
      expect(readFileSync(dest).equals(fixture)).toBe(true);
    } finally {
      await t.close();
      for (const c of tunnels) c.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('reads the proxy from the environment (NO_PROXY honoured) and from a PAC answer', () => {
    const env = { HTTPS_PROXY: 'proxy.corp:3128', NO_PROXY: 'internal.corp,.local' };
    expect(proxyFromEnv(new URL('https://nvlabs-fi-cdn.nvidia.com/x.pkl'), env)).toBe('http://proxy.corp:3128');
    expect(proxyFromEnv(new URL('https://mirror.internal.corp/x.pkl'), env)).toBeNull();
    expect(proxyFromEnv(new URL('https://a.b.local/x.pkl'), env)).toBeNull();
    expect(proxyFromEnv(new URL('https://127.0.0.1/x.pkl'), env)).toBeNull();
    expect(proxyFromEnv(new URL('https://example.com/'), {})).toBeNull();
    expect(proxyFromPac('PROXY proxy.corp:8080; DIRECT')).toBe('http://proxy.corp:8080');
    expect(proxyFromPac('HTTPS secure.corp:443')).toBe('https://secure.corp:443');
    expect(proxyFromPac('DIRECT')).toBeNull();
  });

  it('an entry without a published digest is refused unless accepted; accepted once, its digest is pinned', async () => {
    const s = await server(() => fixture);
    const modelsDir = freshModelsDir();
    const unpinned = catalogFor({ sha256: null, bytes: null, verification: 'the publisher gives no checksum' });
    const refused = await downloadModel('fixture-weights', { modelsDir, catalog: unpinned, mirror: s.url }).catch((e: unknown) => e);
    expect((refused as ManagerError).code).toBe('UNPINNED');
    expect((refused as Error).message).toMatch(/no SHA-256 is published for weights\.bin \(the publisher gives no checksum\).*--accept-unpinned.*Nothing was downloaded\./);
    expect(s.requests).toEqual([]);

    const first = await downloadModel('fixture-weights', { modelsDir, catalog: unpinned, mirror: s.url, acceptUnpinned: true });
    expect(first).toMatchObject({ trust: 'first-use', sha256Verified: false, sha256: sha });
    expect(readPins(modelsDir)['fixture-weights']).toMatchObject({ sha256: sha, bytes: fixture.length, url: `${s.url}/weights.bin` });
    expect(existsSync(pinsPath(modelsDir))).toBe(true);

    // Later downloads must match what was recorded: another file is refused.
    rmSync(first.path);
    const other = await server(() => Buffer.concat([fixture.subarray(0, 100), Buffer.alloc(fixture.length - 100, 9)]));
    const changed = await downloadModel('fixture-weights', { modelsDir, catalog: unpinned, mirror: other.url }).catch((e: unknown) => e);
    expect((changed as Error).message).toContain(`expected ${sha}`);
    const again = await downloadModel('fixture-weights', { modelsDir, catalog: unpinned, mirror: s.url });
    expect(again).toMatchObject({ trust: 'recorded', sha256Verified: true });
  });
});

