// Serves the videos the user opened to the page's <audio>/<video> elements, by
// opaque token, with HTTP Range support (players seek with it). In the app the
// stylecast-media: protocol answers with mediaResponse; the browser-test bridge
// mounts the same function on its Vite server. Nothing else can be fetched:
// an unknown token is a 404, and only files granted by main get a token.
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { Readable } from 'node:stream';

export const MEDIA_SCHEME = 'stylecast-media';

const MIME: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm'
};

export class MediaRegistry {
  private readonly byToken = new Map<string, string>();
  private readonly byPath = new Map<string, string>();

  /** The token of a granted file (the same file always gets the same token). */
  tokenFor(path: string): string {
    const p = resolve(path);
    let token = this.byPath.get(p);
    if (!token) {
      token = randomBytes(16).toString('hex');
      this.byPath.set(p, token);
      this.byToken.set(token, p);
    }
    return token;
  }

  pathOf(token: string): string | undefined {
    return this.byToken.get(token);
  }

  /** The response for a request of `token`, honouring a Range header. */
  async respond(token: string, range: string | null, method = 'GET'): Promise<Response> {
    const path = this.byToken.get(token);
    if (!path) return new Response('Not found', { status: 404 });
    return mediaResponse(path, range, method);
  }
}

/** Parses a single "bytes=a-b" range against a file of `size` bytes; null when absent, 'invalid' when unsatisfiable. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null | 'invalid' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    // A suffix range: the last N bytes.
    const n = Number(m[2]);
    if (n === 0) return 'invalid';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

export async function mediaResponse(path: string, rangeHeader: string | null, method = 'GET'): Promise<Response> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) return new Response('Not found', { status: 404 });
    size = s.size;
  } catch {
    return new Response('Not found', { status: 404 });
  }
  const type = MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
  const headers = new Headers({ 'Content-Type': type, 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' });
  const range = parseRange(rangeHeader, size);
  if (range === 'invalid') {
    headers.set('Content-Range', `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  headers.set('Content-Length', String(end - start + 1));
  if (range) headers.set('Content-Range', `bytes ${start}-${end}/${size}`);
  const status = range ? 206 : 200;
  if (method === 'HEAD' || size === 0) return new Response(null, { status, headers });
  const body = Readable.toWeb(createReadStream(path, { start, end })) as ReadableStream<Uint8Array>;
  return new Response(body, { status, headers });
}
