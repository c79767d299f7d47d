// HTTP(S) download of one large file, resumable and verified.
// The bytes go to DEST.part, with DEST.part.json recording the URL and the expected size,
// so a cut (dropped connection, killed process) resumes with a Range request from where
// it stopped. The finished file is checked against its size and SHA-256 and only then
// renamed to DEST, so DEST never holds a partial or unverified file.
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { basename } from 'node:path';

export { sha256OfFile };
import { cancelledFrom, throwIfAborted } from '../../util/cancel';
import { sha256OfFile, updateHashFromFile } from '../../util/hash';
import { writeFileAtomicSync } from '../../util/fs';

export type DownloadErrorCode = 'OFFLINE' | 'HTTP' | 'CUT' | 'CHECKSUM' | 'SIZE' | 'BUSY';

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

    const request = (url: string, redirects: number) => {
      const u = new URL(url);
      const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
      if (!lib) {
        settle(() => rejectAttempt(new DownloadError('HTTP', `cannot download from ${u.protocol} URLs (${url})`)));
        return;
      }
      const headers: Record<string, string> = { 'user-agent': 'stylecast-model-manager', 'accept-encoding': 'identity' };
      if (offset > 0) {
        headers.range = `bytes=${offset}-`;
        if (meta.etag) headers['if-range'] = meta.etag;
      }
      let responded = false;
      const req = lib.get(u, { headers }, (res) => {
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
          else request(next, redirects + 1);
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
        const expected = o.bytes ?? total;
        const etag = typeof res.headers.etag === 'string' && !res.headers.etag.startsWith('W/') ? res.headers.etag : undefined;
        if (start === 0) writeFileSync(part, new Uint8Array(0));
        writeMeta(o.dest, { url: o.url, bytes: expected, ...(etag ? { etag } : {}) });
        const out = createWriteStream(part, { flags: 'a' });
        let received = start;
        report(received, expected);
        res.on('data', (chunk: Buffer) => {
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
            if (cut) {
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
      request(o.url, 0);
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
        if (e instanceof DownloadError && e.code === 'SIZE') removePartial(o.dest);
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
