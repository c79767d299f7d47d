// Remembers the exact request of each encode by its output folder, so "Resume encode"
// (after a cancel, a crash or a restart of the app) asks for the same range and settings.
import { ALIGN_MODES, QUALITIES, type EncodeRequest } from '../../../shared/contract';

const KEY = 'stylecast.encodeRequests';
const MAX_ENTRIES = 30;

/** The minimal Storage surface used (window.localStorage in the app, a Map-backed one in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Storage is shared with anything else the page writes, so entries are checked before use. */
export function parseEncodeRequest(v: unknown): EncodeRequest | null {
  if (!v || typeof v !== 'object') return null;
  const r = v as Record<string, unknown>;
  if (!isStr(r.video) || !isStr(r.model) || !isStr(r.out) || !isInt(r.start)) return null;
  if (!(r.count === null || (isInt(r.count) && r.count > 0))) return null;
  if (!(QUALITIES as readonly unknown[]).includes(r.quality) || !(ALIGN_MODES as readonly unknown[]).includes(r.align)) return null;
  if (!(r.identityFrame === null || isInt(r.identityFrame))) return null;
  return { video: r.video, model: r.model, out: r.out, start: r.start, count: r.count as number | null, quality: r.quality as EncodeRequest['quality'], align: r.align as EncodeRequest['align'], identityFrame: r.identityFrame as number | null };
}

function readAll(store: KeyValueStore): EncodeRequest[] {
  try {
    const raw: unknown = JSON.parse(store.getItem(KEY) ?? '[]');
    return Array.isArray(raw) ? raw.map(parseEncodeRequest).filter((r): r is EncodeRequest => r !== null) : [];
  } catch {
    return [];
  }
}

export function rememberEncode(store: KeyValueStore, request: EncodeRequest): void {
  const list = [request, ...readAll(store).filter((r) => r.out !== request.out)].slice(0, MAX_ENTRIES);
  try {
    store.setItem(KEY, JSON.stringify(list));
  } catch {
    // A full or unavailable storage only costs the remembered settings.
  }
}

export function recallEncode(store: KeyValueStore, out: string): EncodeRequest | null {
  return readAll(store).find((r) => r.out === out) ?? null;
}

/** The page's localStorage, or null where there is none (or it is blocked). */
export function browserStore(): KeyValueStore | null {
  try {
    return (globalThis as { localStorage?: KeyValueStore }).localStorage ?? null;
  } catch {
    return null;
  }
}
