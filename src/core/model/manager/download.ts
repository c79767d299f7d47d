// HTTP(S) download of one large file, resumable and verified.
// The bytes go to DEST.part, with DEST.part.json recording the URL and the expected size,
// so a cut (dropped connection, killed process) resumes with a Range request from where
// it stopped. The finished file is checked against its size and SHA-256 and only then
// renamed to DEST, so DEST never holds a partial or unverified file.
//
// The network is untrusted: only https is fetched (plain http only from this machine's own
// loopback addresses, a local mirror), an https URL that redirects to http is refused, and a
// body larger than the catalogue's size, or than maxBytes when the size is unknown, is cut
// off and deleted. A proxy (HTTPS_PROXY in the CLI, the system's in the app) is reached with
// an HTTP CONNECT tunnel, so TLS still runs end to end with the server.
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { basename } from 'node:path';
import tls from 'node:tls';

export { sha256OfFile };
import { cancelledFrom, throwIfAborted } from '../../util/cancel';
import { sha256OfFile, updateHashFromFile } from '../../util/hash';
import { writeFileAtomicSync } from '../../util/fs';

export type DownloadErrorCode = 'OFFLINE' | 'HTTP' | 'CUT' | 'CHECKSUM' | 'SIZE' | 'BUSY' | 'INSECURE';

/** The largest download whose size neither the catalogue nor the server gives (the FFHQ pickle is ~364 MiB). */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 2 * 1024 ** 3;

const isLoopback = (host: string): boolean => {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
};

/**
 * Why `url` may not be fetched (null when it may): https only, plain http only from a
 * loopback address, and never http after https (a redirect that drops TLS).
 */
export function insecureUrl(url: URL, from: URL | null = null): string | null {
  if (url.protocol === 'https:') return null;
  if (url.protocol !== 'http:') return `cannot download from ${url.protocol} URLs (${url.href})`;
  if (from?.protocol === 'https:') return `${from.href} redirects to the unencrypted ${url.href}; refusing the downgrade to http`;
  if (!isLoopback(url.hostname)) return `refusing the unencrypted http URL ${url.href}: downloads use https (plain http only from this machine, 127.0.0.1)`;
  return null;
}

/**
 * The proxy for `url` from the environment, as curl reads it: HTTPS_PROXY / https_proxy
 * (then ALL_PROXY), unless NO_PROXY lists the host (a suffix match; '*' for all). Loopback
 * addresses never go through a proxy.
 */
export function proxyFromEnv(url: URL, env: Record<string, string | undefined> = process.env): string | null {
  if (url.protocol !== 'https:' || isLoopback(url.hostname)) return null;
  const proxy = env.HTTPS_PROXY || env.https_proxy || env.ALL_PROXY || env.all_proxy;
  if (!proxy) return null;
  const host = url.hostname.toLowerCase();
  for (const raw of (env.NO_PROXY || env.no_proxy || '').split(',')) {
    const n = raw.trim().toLowerCase().replace(/:\d+$/, '');
    if (!n) continue;
    if (n === '*' || host === n.replace(/^\./, '') || host.endsWith(n.startsWith('.') ? n : `.${n}`)) return null;
  }
  return proxy.includes('://') ? proxy : `http://${proxy}`;
}

/**
 * The proxy in a PAC-style answer ("PROXY host:port; DIRECT", what Electron's
 * session.resolveProxy gives): the first PROXY/HTTPS entry as a URL, null for DIRECT.
 * SOCKS proxies are not supported by the downloader and count as DIRECT.
 */
export function proxyFromPac(answer: string): string | null {
  for (const part of answer.split(';')) {
    const m = /^\s*(PROXY|HTTPS)\s+(\S+)\s*$/i.exec(part);
    if (m) return `${m[1]!.toUpperCase() === 'HTTPS' ? 'https' : 'http'}://${m[2]}`;
    if (/^\s*DIRECT\s*$/i.test(part)) return null;
  }
  return null;
}

/** An https agent whose connections go through an HTTP CONNECT tunnel at `proxy`. */
function tunnelAgent(proxy: string, ca: string | Buffer | undefined): https.Agent {
  const p = new URL(proxy);
  const agent = new https.Agent({ keepAlive: false, ...(ca ? { ca } : {}) });
  const auth = p.username ? `Basic ${Buffer.from(`${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`).toString('base64')}` : null;
  (agent as unknown as { createConnection: unknown }).createConnection = (options: tls.ConnectionOptions & { host: string; port: number; servername?: string }, done: (err: Error | null, socket?: tls.TLSSocket) => void) => {
    const target = `${options.host}:${options.port}`;
    const req = (p.protocol === 'https:' ? https : http).request({
      host: p.hostname,
      port: p.port || (p.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...(auth ? { 'proxy-authorization': auth } : {}) }
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(Object.assign(new Error(`the proxy ${p.host} refused the tunnel to ${target} (${res.statusCode})`), { code: 'EPROXY' }));
        return;
      }
      done(null, tls.connect({ ...options, socket, servername: options.servername ?? options.host }));
    });
    req.once('error', (e) => done(e));
    req.end();
    return undefined;
  };
  return agent;
}

export class DownloadError extends Error {
  constructor(
    readonly code: DownloadErrorCode,
    message: string,
    readonly status?: number
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadProgress {
  received: number;
  /** Total size when known (from the catalogue or the server). */
  total: number | null;
  /** received / total, or null when the total is unknown. */
  fraction: number | null;
  /** True on the event that reports a resumed start. */
  resumedFrom?: number;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected size; null or absent: whatever the server says. */
  bytes?: number | null;
  sha256?: string | null;
  sha256Prefix?: string | null;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** Automatic resumes after a cut within this call (default 3). */
  retries?: number;
  retryDelayMs?: number;
  /** Idle time without data before the connection counts as cut (default 30 s). */
  idleTimeoutMs?: number;
  /** The most bytes accepted when `bytes` is not given (default DEFAULT_MAX_DOWNLOAD_BYTES), whatever the server says. */
  maxBytes?: number;
  /** An http(s) proxy URL for https downloads (proxyFromEnv in the CLI, the system's in the app); null: direct. */
  proxy?: string | null;
  /** Extra CA certificates to trust (PEM), e.g. an organisation's TLS-inspecting proxy. */
  ca?: string | Buffer;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  sha256: string;
  /** Bytes that were already there from an earlier, cut attempt. */
  resumedFrom: number;
  attempts: number;
}

interface PartMeta {
  url: string;
  bytes: number | null;
  etag?: string;
}

const partPath = (dest: string) => `${dest}.part`;
const metaPath = (dest: string) => `${dest}.part.json`;
const lockPath = (dest: string) => `${dest}.part.lock`;

function readMeta(dest: string): PartMeta | null {
  try {
    const m = JSON.parse(readFileSync(metaPath(dest), 'utf8')) as PartMeta;
    return typeof m.url === 'string' ? m : null;
  } catch {
    return null;
  }
}

function writeMeta(dest: string, m: PartMeta): void {
  const p = metaPath(dest);
  writeFileAtomicSync(p, JSON.stringify(m));
}

export function removePartial(dest: string): void {
  rmSync(partPath(dest), { force: true });
  rmSync(metaPath(dest), { force: true });
}

/** A partial download's state, for listings: bytes so far and the size expected. */
export function partialState(dest: string): { received: number; bytes: number | null; url: string } | null {
  const m = readMeta(dest);
  if (!m || !existsSync(partPath(dest))) return null;
  return { received: statSync(partPath(dest)).size, bytes: m.bytes, url: m.url };
}

function takeLock(dest: string): () => void {
  const p = lockPath(dest);
  try {
    writeFileSync(p, String(process.pid), { flag: 'wx' });
  } catch {
    const pid = Number(readFileSync(p, 'utf8'));
    let alive = false;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch {
        alive = false;
      }
    }
    if (alive) throw new DownloadError('BUSY', `another download of ${basename(dest)} is running (process ${pid}); wait for it or stop it`);
    writeFileSync(p, String(process.pid));
  }
  return () => rmSync(p, { force: true });
}


/** Parses "bytes START-END/TOTAL" (TOTAL may be '*'). */
function contentRange(v: string | undefined): { start: number; total: number | null } | null {
  const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(v?.trim() ?? '');
  if (!m) return null;
  return { start: Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

interface Attempt {
  kind: 'done' | 'restart';
  digest?: string;
}

/** Errors while connecting that mean the server cannot be reached at all. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'ETIMEDOUT']);
const netCode = (e: Error): string => (e as NodeJS.ErrnoException).code ?? e.message;

/**
 * One HTTP exchange: follows redirects and appends the body to the part file.
 * `hash` already holds the part's first `offset` bytes. Rejects with CUT when the
 * body stops early, OFFLINE when the server cannot be reached.
 */
function attempt(o: DownloadOptions, offset: number, meta: PartMeta, hash: Hash, report: (received: number, total: number | null) => void): Promise<Attempt> {
  const part = partPath(o.dest);
  return new Promise<Attempt>((resolveAttempt, rejectAttempt) => {
    let settled = false;
    let current: http.ClientRequest | null = null;
    const onAbort = () => {
      current?.destroy();
      settle(() => rejectAttempt(cancelledFrom(o.signal!)));
    };
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });

    const request = (url: string, redirects: number, from: URL | null) => {
      const u = new URL(url);
      const refusal = insecureUrl(u, from);
      if (refusal) {
        settle(() => rejectAttempt(new DownloadError('INSECURE', refusal)));
        return;
      }
      const lib = u.protocol === 'https:' ? https : http;
      const headers: Record<string, string> = { 'user-agent': 'stylecast-model-manager', 'accept-encoding': 'identity' };
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        if (meta.etag) headers['if-range'] = meta.etag;
      }
      let responded = false;
      const secure = u.protocol === 'https:' ? { ...(o.proxy ? { agent: tunnelAgent(o.proxy, o.ca) } : {}), ...(o.ca ? { ca: o.ca } : {}) } : {};
      const req = lib.get(u, { headers, ...secure }, (res) => {
        responded = true;
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          let next: string;
          try {
            next = new URL(res.headers.location, u).toString();
          } catch {
            settle(() => rejectAttempt(new DownloadError('HTTP', `${url} redirects to a bad URL`, status)));
            return;
          }
          if (redirects >= 5) settle(() => rejectAttempt(new DownloadError('HTTP', `too many redirects fetching ${o.url}`, status)));
          else request(next, redirects + 1, u);
          return;
        }
        if (status === 416 && offset > 0) {
          // Nothing left to send: complete if the part already has every byte.
          res.resume();
          const total = contentRange(res.headers['content-range'])?.total ?? meta.bytes;
          settle(() => resolveAttempt(total === offset ? { kind: 'done', digest: hash.digest('hex') } : { kind: 'restart' }));
          return;
        }
        if (status !== 200 && status !== 206) {
          res.resume();
          settle(() => rejectAttempt(new DownloadError('HTTP', `the server answered ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''} for ${url}`, status)));
          return;
        }
        let total: number | null;
        let start: number;
        let h = hash;
        if (status === 206) {
          const cr = contentRange(res.headers['content-range']);
          if (!cr || cr.start !== offset) {
            res.resume();
            settle(() => resolveAttempt({ kind: 'restart' }));
            return;
          }
          start = offset;
          total = cr.total;
        } else {
          // A full body: the server ignored the range (or the file changed): start over.
          start = 0;
          const len = res.headers['content-length'];
          total = len !== undefined && /^\d+$/.test(len) ? Number(len) : null;
          if (offset > 0) h = createHash('sha256');
        }
        if (o.bytes != null && total != null && total !== o.bytes) {
          res.resume();
          settle(() => rejectAttempt(new DownloadError('SIZE', `${url} is ${total} bytes, but the catalogue expects ${o.bytes}: it is not the expected file`)));
          return;
        }
        const cap = o.bytes ?? o.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES;
        if (total != null && total > cap) {
          res.resume();
          settle(() => rejectAttempt(new DownloadError('SIZE', `${url} is ${total} bytes, more than the ${cap} a download may have; refused before downloading it`)));
          return;
        }
        const expected = o.bytes ?? total;
        const etag = typeof res.headers.etag === 'string' && !res.headers.etag.startsWith('W/') ? res.headers.etag : undefined;
        if (start === 0) writeFileSync(part, new Uint8Array(0));
        writeMeta(o.dest, { url: o.url, bytes: expected, ...(etag ? { etag } : {}) });
        const out = createWriteStream(part, { flags: 'a' });
        let received = start;
        report(received, expected);
        res.on('data', (chunk: Buffer) => {
          if (received + chunk.length > cap) {
            // More than the server announced or than any download may have: stop reading now.
            res.destroy(Object.assign(new Error(`the server sent more than ${cap} bytes`), { code: 'ETOOBIG' }));
            return;
          }
          h.update(chunk);
          received += chunk.length;
          if (!out.write(chunk)) {
            res.pause();
            out.once('drain', () => res.resume());
          }
          report(received, expected);
        });
        let finished = false;
        const finish = (cut: Error | null) => {
          if (finished) return;
          finished = true;
          out.end(() => {
            if (!cut && expected != null && received < expected) cut = new Error('the connection closed early');
            if (cut && netCode(cut) === 'ETOOBIG') {
              settle(() => rejectAttempt(new DownloadError('SIZE', `${url} sent more than the ${cap} bytes a download may have (${o.bytes != null ? 'the catalogue size' : 'the server gave no size'}); stopped and deleted it`)));
            } else if (cut) {
              const why = netCode(cut);
              settle(() => rejectAttempt(new DownloadError('CUT', `the download was cut at ${received}${expected != null ? ` of ${expected}` : ''} bytes (${why})`)));
            } else settle(() => resolveAttempt({ kind: 'done', digest: h.digest('hex') }));
          });
        };
        res.on('end', () => finish(res.complete ? null : new Error('the connection closed early')));
        res.on('error', (e) => finish(e));
        res.on('close', () => finish(res.complete ? null : new Error('the connection closed early')));
      });
      current = req;
      req.setTimeout(o.idleTimeoutMs ?? 30_000, () => req.destroy(Object.assign(new Error('no data for too long'), { code: 'ETIMEDOUT' })));
      req.on('error', (e: Error) => {
        // Once the response has started, its own events report the failure.
        if (responded) return;
        const code = netCode(e);
        if (UNREACHABLE.has(code)) settle(() => rejectAttempt(new DownloadError('OFFLINE', `cannot reach ${u.host} (${code})`)));
        else settle(() => rejectAttempt(new DownloadError('CUT', `the connection to ${u.host} failed (${code})`)));
      });
    };
    try {
      request(o.url, 0, null);
    } catch (e) {
      settle(() => rejectAttempt(new DownloadError('HTTP', `bad download URL "${o.url}": ${(e as Error).message}`)));
    }
  });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((res, rej) => {
    const t = setTimeout(res, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), rej(cancelledFrom(signal))), { once: true });
  });

/**
 * Downloads `url` to `dest`: resumes an earlier part of the same URL and size, retries
 * cuts with Range requests, verifies size and SHA-256 and renames into place.
 * A checksum mismatch deletes the part (the bytes are wrong, so resuming cannot help).
 */
export async function downloadFile(o: DownloadOptions): Promise<DownloadResult> {
  throwIfAborted(o.signal);
  const release = takeLock(o.dest);
  try {
    const part = partPath(o.dest);
    const meta = readMeta(o.dest);
    const stale = !meta || meta.url !== o.url || (o.bytes != null && meta.bytes !== o.bytes) || !existsSync(part) || (meta.bytes != null && statSync(part).size > meta.bytes);
    if (stale) removePartial(o.dest);
    const resumedFrom = existsSync(part) ? statSync(part).size : 0;
    const retries = o.retries ?? 3;
    let attempts = 0;
    let last = '';
    const report = (received: number, total: number | null) => {
      const key = `${received}/${total}`;
      if (key === last) return;
      last = key;
      o.onProgress?.({ received, total, fraction: total ? received / total : null });
    };
    if (resumedFrom > 0) {
      const total = meta?.bytes ?? null;
      o.onProgress?.({ received: resumedFrom, total, fraction: total ? resumedFrom / total : null, resumedFrom });
    }
    for (;;) {
      throwIfAborted(o.signal);
      attempts++;
      const offset = existsSync(part) ? statSync(part).size : 0;
      const hash = createHash('sha256');
      if (offset > 0) await updateHashFromFile(hash, part);
      const m = readMeta(o.dest);
      let r: Attempt;
      try {
        r = await attempt(o, offset, { url: o.url, bytes: o.bytes ?? m?.bytes ?? null, ...(m?.etag ? { etag: m.etag } : {}) }, hash, report);
      } catch (e) {
        if (e instanceof DownloadError && e.code === 'CUT' && attempts <= retries) {
          await sleep((o.retryDelayMs ?? 1000) * attempts, o.signal);
          continue;
        }
        if (e instanceof DownloadError && (e.code === 'SIZE' || e.code === 'INSECURE')) removePartial(o.dest);
        throw e;
      }
      if (r.kind === 'restart') {
        removePartial(o.dest);
        if (attempts > retries) throw new DownloadError('HTTP', `the server would not resume ${o.url} consistently`);
        continue;
      }
      const size = statSync(part).size;
      const digest = r.digest!;
      const name = basename(o.dest);
      if (o.bytes != null && size !== o.bytes) {
        removePartial(o.dest);
        throw new DownloadError('SIZE', `${name} arrived with ${size} bytes, expected ${o.bytes}; deleted it: run the command again`);
      }
      const want = o.sha256 ?? null;
      if ((want && digest !== want) || (!want && o.sha256Prefix && !digest.startsWith(o.sha256Prefix))) {
        removePartial(o.dest);
        throw new DownloadError(
          'CHECKSUM',
          `${name} failed verification: its SHA-256 is ${digest}, expected ${want ?? `${o.sha256Prefix}...`}; the file was damaged in transit or the server sent a different file, so the download was deleted: run the command again or check the mirror`
        );
      }
      report(size, size);
      renameSync(part, o.dest);
      rmSync(metaPath(o.dest), { force: true });
      return { path: o.dest, bytes: size, sha256: digest, resumedFrom, attempts };
    }
  } finally {
    release();
  }
}
