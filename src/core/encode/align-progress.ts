// The face alignment of an encode in progress: `align-progress.bin` in the project folder,
// so that an encode stopped during alignment (Ctrl-C, SIGTERM, Cancel, a crash) resumes
// it instead of detecting every frame again. Detection and landmarks are the expensive
// part; gap filling and smoothing run again over the whole sequence at the end.
//
// The file is written atomically (a temporary file renamed over it) every few seconds
// during alignment, when it is stopped and when it ends, and removed when the encode
// finishes. Project code never reads it (docs/FORMAT.md). It holds a key (the source's
// sha256, the frame range, the tracker settings): a file for anything else, or a damaged
// one, is ignored and only costs the progress it held. Layout, little-endian:
//   uint32 header length, the header (UTF-8 JSON), then one record per frame:
//   float64 x 5 (box x, y, width, height, score), float32 x 136 (landmarks),
//   zeros for a frame with no face (listed in the header's `noFace`).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AlignCheckpoint, TrackerSettings } from '../face/pipeline';
import type { FrameFace } from '../face/types';
import { readFileNoFollow } from '../project/binary';
import { writeFileAtomicSync } from '../util/fs';

export const ALIGN_PROGRESS_FILE = 'align-progress.bin';
const FORMAT = 'stylecast-align-progress';
const VERSION = 1;
const BOX = 5;
const LANDMARKS = 136;
const RECORD_BYTES = 8 * BOX + 4 * LANDMARKS;

/** What a saved alignment must have been made for to be resumed. */
export interface AlignProgressKey {
  sourceSha256: string;
  start: number;
  count: number;
  tracker: TrackerSettings;
}

interface Header {
  format: string;
  version: number;
  key: AlignProgressKey;
  frames: number;
  noFace: number[];
  hinted: number[];
  hintRun: number;
}

const sameKey = (a: AlignProgressKey, b: AlignProgressKey): boolean =>
  a.sourceSha256 === b.sourceSha256 &&
  a.start === b.start &&
  a.count === b.count &&
  a.tracker.detectMaxSide === b.tracker.detectMaxSide &&
  a.tracker.minScore === b.tracker.minScore &&
  a.tracker.maxHintFrames === b.tracker.maxHintFrames;

/** The bytes of the first `n` frames of a checkpoint. */
export function encodeAlignProgress(key: AlignProgressKey, c: AlignCheckpoint, n = c.frames.length, hinted = c.hintedFrames.length): Buffer {
  const frames = c.frames.slice(0, n);
  const header: Header = {
    format: FORMAT,
    version: VERSION,
    key,
    frames: n,
    noFace: frames.filter((f) => !f.landmarks).map((f) => f.index),
    hinted: c.hintedFrames.slice(0, hinted),
    hintRun: c.hintRun
  };
  const head = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(4 + head.length + n * RECORD_BYTES);
  out.writeUInt32LE(head.length, 0);
  head.copy(out, 4);
  frames.forEach((f, i) => {
    if (!f.box || !f.landmarks) return;
    let at = 4 + head.length + i * RECORD_BYTES;
    for (const v of [f.box.x, f.box.y, f.box.width, f.box.height, f.box.score]) at = out.writeDoubleLE(v, at);
    for (let j = 0; j < LANDMARKS; j++) at = out.writeFloatLE(f.landmarks[j]!, at);
  });
  return out;
}

const isIndexList = (v: unknown): v is number[] => Array.isArray(v) && v.every((i) => Number.isInteger(i));

/** The checkpoint in `bytes` when it is whole and made for `key`; null otherwise. */
export function decodeAlignProgress(bytes: Buffer, key: AlignProgressKey): AlignCheckpoint | null {
  if (bytes.length < 4) return null;
  const headLen = bytes.readUInt32LE(0);
  if (4 + headLen > bytes.length) return null;
  let h: Header;
  try {
    h = JSON.parse(bytes.subarray(4, 4 + headLen).toString('utf8')) as Header;
  } catch {
    return null;
  }
  if (h?.format !== FORMAT || h.version !== VERSION || typeof h.key !== 'object' || !h.key?.tracker || !sameKey(h.key, key)) return null;
  const n = h.frames;
  if (!Number.isInteger(n) || n < 0 || n > key.count || bytes.length !== 4 + headLen + n * RECORD_BYTES) return null;
  if (!isIndexList(h.noFace) || !isIndexList(h.hinted) || !Number.isInteger(h.hintRun) || h.hintRun < 0 || h.hintRun > key.tracker.maxHintFrames) return null;
  const noFace = new Set(h.noFace);
  if ([...h.noFace, ...h.hinted].some((i) => i < key.start || i >= key.start + n) || h.hinted.some((i) => noFace.has(i))) return null;
  const frames: FrameFace[] = [];
  for (let i = 0; i < n; i++) {
    const index = key.start + i;
    if (noFace.has(index)) {
      frames.push({ index, box: null, landmarks: null });
      continue;
    }
    let at = 4 + headLen + i * RECORD_BYTES;
    const b: number[] = [];
    for (let j = 0; j < BOX; j++, at += 8) b.push(bytes.readDoubleLE(at));
    const landmarks = new Float32Array(LANDMARKS);
    for (let j = 0; j < LANDMARKS; j++, at += 4) landmarks[j] = bytes.readFloatLE(at);
    if (!b.every(Number.isFinite) || !landmarks.every(Number.isFinite)) return null;
    frames.push({ index, box: { x: b[0]!, y: b[1]!, width: b[2]!, height: b[3]!, score: b[4]! }, landmarks });
  }
  return { frames, hintedFrames: h.hinted, hintRun: h.hintRun };
}

/** The saved alignment of the project folder `dir`, if there is one for `key` (see the header). */
export async function readAlignProgress(dir: string, key: AlignProgressKey): Promise<AlignCheckpoint | null> {
  let bytes: Buffer;
  try {
    bytes = await readFileNoFollow(join(dir, ALIGN_PROGRESS_FILE));
  } catch {
    return null; // absent, a link, unreadable: start over
  }
  return decodeAlignProgress(bytes, key);
}

/** How many frames the saved alignment of `dir` holds (null: none), without checking what it is for. */
export async function alignProgressFrames(dir: string): Promise<number | null> {
  try {
    const bytes = await readFileNoFollow(join(dir, ALIGN_PROGRESS_FILE));
    const h = JSON.parse(bytes.subarray(4, 4 + bytes.readUInt32LE(0)).toString('utf8')) as Partial<Header>;
    return h.format === FORMAT && Number.isInteger(h.frames) ? h.frames! : null;
  } catch {
    return null;
  }
}

export function removeAlignProgress(dir: string): void {
  rmSync(join(dir, ALIGN_PROGRESS_FILE), { force: true });
}

/**
 * Saves the checkpoints alignVideo hands out: at most every `intervalMs`, and on `flush`
 * (when alignment is stopped or done). Each save rewrites the whole file atomically.
 */
export class AlignProgressWriter {
  private latest: { c: AlignCheckpoint; n: number; hinted: number; hintRun: number } | null = null;
  private saved = -1;
  private lastSave = performance.now();

  constructor(
    private readonly dir: string,
    private readonly key: AlignProgressKey,
    private readonly intervalMs = 5000
  ) {}

  update(c: AlignCheckpoint): void {
    // The arrays keep growing after this call: remember how much of them this checkpoint is.
    this.latest = { c, n: c.frames.length, hinted: c.hintedFrames.length, hintRun: c.hintRun };
    if (performance.now() - this.lastSave >= this.intervalMs) this.flush();
  }

  flush(): void {
    const l = this.latest;
    if (!l || l.n === this.saved) return;
    writeFileAtomicSync(join(this.dir, ALIGN_PROGRESS_FILE), encodeAlignProgress(this.key, { ...l.c, hintRun: l.hintRun }, l.n, l.hinted));
    this.saved = l.n;
    this.lastSave = performance.now();
  }
}
