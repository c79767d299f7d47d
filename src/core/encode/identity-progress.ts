// The identity search of an encode in progress: `identity-progress.bin` in the project folder,
// so that an encode stopped while it searches the identity (Ctrl-C, SIGTERM, Cancel, a crash,
// a laptop that shut down) resumes it instead of starting it again. At 1024 px on a CPU the
// identity alone takes hours; a stop loses at most the last few minutes of it.
//
// The search is a fixed sequence of steps (each identity stage, the refinement's frame fits,
// each refine stage of each round, the held-out frames): a finished step is saved with what
// it produced, and the step under way with its optimiser's whole state (L-BFGS: its point,
// gradient and history; Adam: its moments), at most every `everyMs` and whenever a step ends.
// Resumed from there, the search goes on exactly as it would have. The file also holds the
// processor and wall time spent so far and each stage's cost (the bench's figures add up over
// the runs that resumed).
//
// Written atomically (a temporary file renamed over it), removed once the identity is saved in
// the project. Project code never reads it (docs/FORMAT.md). It holds a key (the source's
// sha256, the range, the model, the basis, the schedule, the frames chosen): a file made for
// anything else, a damaged one or one larger than the search could write is ignored and only
// costs the progress it held. Layout, little-endian: uint32 header length, the header (UTF-8
// JSON: key, ledger, records with the offset of each array), then the arrays' bytes.
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openNoFollow } from '../project/binary';
import { processAlive } from '../project/lock';
import { writeFileAtomicSync } from '../util/fs';
import type { LbfgsState } from '../util/linalg';
import type { StageCost } from './optimize';

export const IDENTITY_PROGRESS_FILE = 'identity-progress.bin';
const FORMAT = 'stylecast-identity-progress';
const VERSION = 1;

/** What a step saves: small values as JSON, arrays as bytes. */
export interface Saved {
  meta: Record<string, unknown>;
  arrays: Record<string, Float32Array | Float64Array>;
}

/** The identity search's cost so far. */
export interface IdentityLedger {
  cpuMs: number;
  wallMs: number;
  costs: StageCost[];
}

/** What the step under way offers to save; `saved` is its state from a stopped run, if any. */
export interface StepProgress {
  readonly saved: Saved | undefined;
  offer(state: () => Saved): void;
}

interface ArrayRef {
  type: 'f32' | 'f64';
  offset: number;
  length: number;
}

interface Header {
  format: string;
  version: number;
  key: string;
  ledger: IdentityLedger;
  /** Finished steps by name, and the step under way (`live`). */
  records: Record<string, { meta: Record<string, unknown>; arrays: Record<string, ArrayRef> }>;
  live: string | null;
}

const LIVE = '@live';

export function encodeIdentityProgress(key: string, ledger: IdentityLedger, done: ReadonlyMap<string, Saved>, live: { name: string; state: Saved } | null): Buffer {
  const records: Header['records'] = {};
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const add = (name: string, s: Saved) => {
    const arrays: Record<string, ArrayRef> = {};
    for (const [k, a] of Object.entries(s.arrays)) {
      const type = a instanceof Float64Array ? 'f64' : 'f32';
      arrays[k] = { type, offset, length: a.length };
      chunks.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      offset += a.byteLength;
      // Every array starts on 8 bytes, so that it can be viewed in place.
      const pad = (8 - (offset % 8)) % 8;
      if (pad) chunks.push(new Uint8Array(pad));
      offset += pad;
    }
    records[name] = { meta: s.meta, arrays };
  };
  for (const [name, s] of done) add(name, s);
  if (live) add(LIVE, live.state);
  const header: Header = { format: FORMAT, version: VERSION, key, ledger, records, live: live?.name ?? null };
  let head = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((4 + head.length) % 8)) % 8;
  if (pad) head = Buffer.concat([head, Buffer.from(' '.repeat(pad))]);
  const out = Buffer.alloc(4 + head.length + offset);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  let at = 4 + head.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What `bytes` hold when they are whole and made for `key`; null otherwise. */
export function decodeIdentityProgress(bytes: Buffer, key: string): { ledger: IdentityLedger; done: Map<string, Saved>; live: { name: string; state: Saved } | null } | null {
  if (bytes.length < 4) return null;
  const headLen = bytes.readUInt32LE(0);
  const base = 4 + headLen;
  if (base > bytes.length || base % 8 !== 0) return null;
  let h: Header;
  try {
    h = JSON.parse(bytes.subarray(4, base).toString('utf8')) as Header;
  } catch {
    return null;
  }
  if (!isRecord(h) || h.format !== FORMAT || h.version !== VERSION || h.key !== key || !isRecord(h.records) || !isRecord(h.ledger)) return null;
  const l = h.ledger;
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (!finite(l.cpuMs) || !finite(l.wallMs) || !Array.isArray(l.costs)) return null;
  if (!l.costs.every((c) => isRecord(c) && typeof c.id === 'string' && finite(c.evaluations) && finite(c.renders) && finite(c.cpuMs) && finite(c.wallMs))) return null;
  const load = (r: unknown): Saved | null => {
    if (!isRecord(r) || !isRecord(r.meta) || !isRecord(r.arrays)) return null;
    const arrays: Saved['arrays'] = {};
    for (const [k, ref] of Object.entries(r.arrays)) {
      if (!isRecord(ref) || (ref.type !== 'f32' && ref.type !== 'f64') || !Number.isInteger(ref.offset) || !Number.isInteger(ref.length)) return null;
      const size = ref.type === 'f64' ? 8 : 4;
      const off = ref.offset as number;
      const len = ref.length as number;
      if (off < 0 || len < 0 || off % 8 !== 0 || base + off + len * size > bytes.length) return null;
      // A copy: the file's buffer is not kept alive by the arrays.
      const src = bytes.subarray(base + off, base + off + len * size);
      const a = ref.type === 'f64' ? new Float64Array(len) : new Float32Array(len);
      new Uint8Array(a.buffer).set(src);
      arrays[k] = a;
    }
    return { meta: r.meta, arrays };
  };
  // Arrays may not overlap (a small file naming one region many times would make the copies huge).
  const refs = Object.values(h.records).flatMap((r) => (isRecord(r) && isRecord(r.arrays) ? Object.values(r.arrays) : []));
  let total = 0;
  for (const ref of refs) total += isRecord(ref) && Number.isInteger(ref.length) ? (ref.length as number) * (ref.type === 'f64' ? 8 : 4) : 0;
  if (total > bytes.length - base) return null;
  const done = new Map<string, Saved>();
  let live: { name: string; state: Saved } | null = null;
  for (const [name, r] of Object.entries(h.records)) {
    const s = load(r);
    if (!s) return null;
    if (name === LIVE) {
      if (typeof h.live !== 'string') return null;
      live = { name: h.live, state: s };
    } else done.set(name, s);
  }
  return { ledger: { cpuMs: l.cpuMs, wallMs: l.wallMs, costs: l.costs.map((c) => ({ ...c })) }, done, live };
}

/**
 * The saved steps of an identity search and the writer of new ones. `open` reads the project
 * folder's file when it was made for `key` and is at most `maxBytes` long.
 */
export class IdentityProgress {
  private lastWrite = performance.now();
  private live: { name: string; state: Saved } | null;

  private constructor(
    private readonly dir: string,
    private readonly key: string,
    private readonly everyMs: number,
    private readonly ledger: () => IdentityLedger,
    private readonly done: Map<string, Saved>,
    live: { name: string; state: Saved } | null,
    /** The ledger saved by the stopped run (null: a new search). */
    readonly resumedLedger: IdentityLedger | null
  ) {
    this.live = live;
  }

  static async open(dir: string, key: string, o: { everyMs: number; maxBytes: number; ledger: () => IdentityLedger }): Promise<IdentityProgress> {
    removeStrayTemporaries(dir);
    let found: ReturnType<typeof decodeIdentityProgress> = null;
    try {
      const fh = await openNoFollow(join(dir, IDENTITY_PROGRESS_FILE), 'read');
      try {
        if ((await fh.stat()).size <= o.maxBytes) found = decodeIdentityProgress(await fh.readFile(), key);
      } finally {
        await fh.close();
      }
    } catch {
      found = null; // absent, a link, unreadable: start over
    }
    return new IdentityProgress(dir, key, o.everyMs, o.ledger, found?.done ?? new Map(), found?.live ?? null, found?.ledger ?? null);
  }

  /** How many steps the stopped run had finished, and whether it saved one under way. */
  get resumedSteps(): { done: number; live: string | null } {
    return { done: this.done.size, live: this.live?.name ?? null };
  }

  /**
   * Step `name`: what it produced when a stopped run finished it (`load` puts it back, after
   * checking all of it); else runs it (with its saved state, when the stopped run was in it) and
   * saves what it produced.
   */
  async step<T>(name: string, run: (p: StepProgress) => Promise<T>, save: (t: T) => Saved, load: (s: Saved) => T): Promise<T> {
    const had = this.done.get(name);
    if (had) {
      // `load` checks every array before it changes anything: a step it cannot read runs again.
      try {
        return load(had);
      } catch {
        this.done.delete(name);
      }
    }
    const saved = this.live?.name === name ? this.live.state : undefined;
    this.live = null;
    const out = await run({
      saved,
      offer: (state) => {
        if (performance.now() - this.lastWrite < this.everyMs) return;
        this.live = { name, state: state() };
        this.write();
      }
    });
    this.live = null;
    this.done.set(name, save(out));
    this.write();
    return out;
  }

  /** Why the last save failed (disk full, a folder made read-only), or null: the search goes on without it. */
  saveProblem: string | null = null;

  private write(): void {
    try {
      writeFileAtomicSync(join(this.dir, IDENTITY_PROGRESS_FILE), encodeIdentityProgress(this.key, this.ledger(), this.done, this.live));
      this.saveProblem = null;
    } catch (e) {
      // The progress file is a convenience: a save that fails must not stop the search itself.
      this.saveProblem = (e as Error).message;
    }
    this.lastWrite = performance.now();
  }

  /** The search's cost so far, the stopped runs' included. */
  ledgerNow(): IdentityLedger {
    return this.ledger();
  }
}

/** Whether `dir` holds a saved identity search (a plain, non-empty file; what it was made for is not checked). */
export function hasIdentityProgress(dir: string): boolean {
  try {
    const st = lstatSync(join(dir, IDENTITY_PROGRESS_FILE));
    return st.isFile() && st.size > 0;
  } catch {
    return false;
  }
}

export function removeIdentityProgress(dir: string): void {
  rmSync(join(dir, IDENTITY_PROGRESS_FILE), { force: true });
  removeStrayTemporaries(dir);
}

/** The temporary files of saves that a killed process left (writeFileAtomicSync names them FILE.tmp-PID-RANDOM). */
function removeStrayTemporaries(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${IDENTITY_PROGRESS_FILE}.tmp-`)) continue;
    // Another process still writing it (a second encode of the same folder) keeps it.
    const pid = Number(/^\.tmp-(\d+)-/.exec(name.slice(IDENTITY_PROGRESS_FILE.length))?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) continue;
    const path = join(dir, name);
    try {
      if (lstatSync(path).isFile()) rmSync(path, { force: true });
    } catch {
      // gone already
    }
  }
}

/** An L-BFGS state with the caller's arrays, as a step saves it. */
export function savedLbfgs(s: LbfgsState, arrays: Saved['arrays'] = {}, meta: Record<string, unknown> = {}): Saved {
  const hs = s.history;
  return {
    meta: { ...meta, f: s.f, first: s.first, evaluations: s.evaluations, trail: s.trail, order: hs.order, added: hs.added, gamma: hs.gamma },
    arrays: { ...arrays, g: s.g, h: hs.h, sy: hs.sy, yy: hs.yy, sg: hs.sg, yg: hs.yg }
  };
}

/** The L-BFGS state in a saved step, for `n` unknowns and a memory of `m` pairs (else an error). */
export function lbfgsOf(s: Saved, n: number, memory: number): LbfgsState {
  const m = s.meta;
  const a = s.arrays;
  const num = (v: unknown) => (typeof v === 'number' ? v : NaN);
  const trail = Array.isArray(m.trail) ? (m.trail as { evals: number; f: number }[]).map((t) => ({ evals: num(t?.evals), f: num(t?.f) })) : [];
  if (!Number.isInteger(m.evaluations) || (m.evaluations as number) < 1 || !Array.isArray(m.order) || !Number.isInteger(m.added) || typeof m.first !== 'boolean') throw new Error('a damaged L-BFGS state');
  const order = m.order as unknown[];
  if (order.length > memory || new Set(order).size !== order.length || !order.every((v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) < memory) || (m.added as number) < order.length) throw new Error('a damaged L-BFGS state (its pairs)');
  if (!trail.every((t) => Number.isInteger(t.evals) && t.evals >= 0 && t.evals <= (m.evaluations as number) && Number.isFinite(t.f))) throw new Error('a damaged L-BFGS state (its plateau trail)');
  const f64 = (k: string) => {
    const v = a[k];
    if (!(v instanceof Float64Array)) throw new Error(`a damaged L-BFGS state (${k})`);
    return v;
  };
  const h = a.h;
  if (!(h instanceof Float32Array) || h.length !== 2 * memory * n) throw new Error('a damaged L-BFGS state (h)');
  if (f64('g').length !== n || f64('sy').length !== memory * memory || f64('yy').length !== memory * memory || f64('sg').length !== memory || f64('yg').length !== memory) throw new Error('an L-BFGS state of another shape');
  return {
    f: num(m.f),
    g: f64('g'),
    first: m.first,
    evaluations: m.evaluations as number,
    trail,
    history: { h, sy: f64('sy'), yy: f64('yy'), order: (m.order as unknown[]).map(Number), added: m.added as number, sg: f64('sg'), yg: f64('yg'), gamma: num(m.gamma) }
  };
}

/** A Float32Array of a saved step, of the length expected. */
export function f32Of(s: Saved, name: string, length: number): Float32Array {
  const a = s.arrays[name];
  if (!(a instanceof Float32Array) || a.length !== length) throw new Error(`a saved identity step's ${name} has ${a?.length ?? 'no'} values, not ${length}`);
  return a;
}

/** A Float64Array of a saved step, of the length expected. */
export function f64Of(s: Saved, name: string, length: number): Float64Array {
  const a = s.arrays[name];
  if (!(a instanceof Float64Array) || a.length !== length) throw new Error(`a saved identity step's ${name} has ${a?.length ?? 'no'} values, not ${length}`);
  return a;
}
