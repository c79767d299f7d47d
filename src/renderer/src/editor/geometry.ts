// Coordinate transforms, ruler ticks, row layout and hit-testing for the dope
// sheet and graph editor canvases. Pure (no DOM), so it is unit-tested.
import type { ParamGroup } from '../../../shared/contract';

/** The visible frames [start, end] mapped onto x0..x0+width pixels. */
export interface TimeView {
  readonly start: number;
  readonly end: number;
  readonly x0: number;
  readonly width: number;
}

export const frameToX = (v: TimeView, f: number): number => v.x0 + ((f - v.start) / Math.max(1e-9, v.end - v.start)) * v.width;
export const xToFrame = (v: TimeView, x: number): number => v.start + ((x - v.x0) / Math.max(1e-9, v.width)) * (v.end - v.start);
/** The whole frame under x, inside 0..frames-1. */
export const xToWholeFrame = (v: TimeView, x: number, frames: number): number => Math.min(frames - 1, Math.max(0, Math.round(xToFrame(v, x))));
export const pixelsPerFrame = (v: TimeView): number => v.width / Math.max(1e-9, v.end - v.start);

/** Values [min, max] mapped onto y0+height (min, at the bottom) .. y0 (max). */
export interface ValueView {
  readonly min: number;
  readonly max: number;
  readonly y0: number;
  readonly height: number;
}

export const valueToY = (v: ValueView, value: number): number => v.y0 + (1 - (value - v.min) / Math.max(1e-12, v.max - v.min)) * v.height;
export const yToValue = (v: ValueView, y: number): number => v.min + (1 - (y - v.y0) / Math.max(1e-12, v.height)) * (v.max - v.min);

/** A value range covering every value given, padded by `pad` of its span (at least ±0.5 around a flat line). */
export function fitValueRange(series: Iterable<ArrayLike<number>>, pad = 0.1): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.length; i++) {
      const v = s[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (!Number.isFinite(min)) return { min: -1, max: 1 };
  const span = max - min;
  if (span < 1e-9) return { min: min - 0.5, max: max + 0.5 };
  return { min: min - span * pad, max: max + span * pad };
}

/** Zooms a view around an anchor frame by `factor` (>1 zooms out), kept inside [0, frames-1] and at least `minSpan` frames wide. */
export function zoomTimeView(v: TimeView, anchor: number, factor: number, frames: number, minSpan = 8): TimeView {
  const last = Math.max(1, frames - 1);
  const span = Math.min(last, Math.max(minSpan, (v.end - v.start) * factor));
  const t = (anchor - v.start) / Math.max(1e-9, v.end - v.start);
  let start = anchor - t * span;
  start = Math.min(last - span, Math.max(0, start));
  return { ...v, start, end: start + span };
}

/** Shifts a view by `frames` keeping its span inside the clip. */
export function panTimeView(v: TimeView, by: number, frames: number): TimeView {
  const span = v.end - v.start;
  const start = Math.min(Math.max(1, frames - 1) - span, Math.max(0, v.start + by));
  return { ...v, start, end: start + span };
}

/** "Nice" steps: 1, 2, 5 times a power of ten. */
export function niceStep(rough: number): number {
  if (!(rough > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(rough));
  const m = rough / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** Value-axis ticks: multiples of a nice step between min and max, about `count` of them. */
export function valueTicks(min: number, max: number, count = 5): number[] {
  const step = niceStep((max - min) / Math.max(1, count));
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export interface RulerTick {
  frame: number;
  /** Major ticks carry a label. */
  major: boolean;
  label: string | null;
}

const FRAME_STEPS = [1, 2, 5, 10];

/**
 * Ruler ticks at whole frames: labelled major ticks at least `minLabelPx`
 * apart (in seconds when a second or more apart: "3s", "3.5s"; else in frames
 * "12f"), minor ticks at least 6 px apart.
 */
export function rulerTicks(v: TimeView, fps: number, minLabelPx = 70): RulerTick[] {
  const ppf = pixelsPerFrame(v);
  const roughMajor = minLabelPx / ppf;
  let major: number;
  if (fps > 0 && roughMajor >= fps / 2) {
    const secs = niceStep(roughMajor / fps);
    major = Math.max(1, Math.round(Math.max(secs, 0.5) * fps));
  } else {
    major = FRAME_STEPS.find((s) => s >= roughMajor) ?? Math.max(1, Math.round(niceStep(roughMajor)));
  }
  const minorCandidates = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000].filter((s) => major % s === 0 && s < major);
  const minor = minorCandidates.find((s) => s * ppf >= 6) ?? major;
  const out: RulerTick[] = [];
  const first = Math.max(0, Math.ceil(v.start / minor) * minor);
  for (let f = first; f <= v.end; f += minor) {
    const isMajor = f % major === 0;
    out.push({ frame: f, major: isMajor, label: isMajor ? tickLabel(f, fps, major) : null });
  }
  return out;
}

function tickLabel(frame: number, fps: number, major: number): string {
  if (fps > 0 && major >= fps / 2) {
    const s = frame / fps;
    return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
  }
  return `${frame}f`;
}

/** "1:02.12" style time of a frame: minutes:seconds.frames. */
export function formatTimecode(frame: number, fps: number): string {
  if (!(fps > 0)) return `${frame}f`;
  const whole = Math.floor(frame / fps);
  const rest = Math.round(frame - whole * fps);
  const pad = String(Math.max(0, Math.ceil(fps) - 1)).length;
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}.${String(rest).padStart(pad, '0')}`;
}

// ---- rows ---------------------------------------------------------------------

export interface Row {
  readonly kind: 'group' | 'track';
  readonly group: ParamGroup;
  /** The track index for track rows. */
  readonly track: number;
  readonly y: number;
  readonly height: number;
}

export const ROW_HEIGHT = 22;
export const GROUP_HEIGHT = 26;

/** Group headers in the given order, each followed by its tracks unless collapsed. */
export function layoutRows(groups: readonly ParamGroup[], order: readonly ParamGroup[], collapsed: ReadonlySet<ParamGroup>): Row[] {
  const rows: Row[] = [];
  let y = 0;
  for (const g of order) {
    const tracks = groups.flatMap((tg, i) => (tg === g ? [i] : []));
    if (tracks.length === 0) continue;
    rows.push({ kind: 'group', group: g, track: -1, y, height: GROUP_HEIGHT });
    y += GROUP_HEIGHT;
    if (collapsed.has(g)) continue;
    for (const t of tracks) {
      rows.push({ kind: 'track', group: g, track: t, y, height: ROW_HEIGHT });
      y += ROW_HEIGHT;
    }
  }
  return rows;
}

export const rowsHeight = (rows: readonly Row[]): number => (rows.length ? rows[rows.length - 1]!.y + rows[rows.length - 1]!.height : 0);

export function rowAt(rows: readonly Row[], y: number): Row | null {
  return rows.find((r) => y >= r.y && y < r.y + r.height) ?? null;
}

/** Tracks whose rows overlap the band y0..y1 (either order); a collapsed group's header stands for its tracks. */
export function tracksInBand(rows: readonly Row[], groups: readonly ParamGroup[], y0: number, y1: number): number[] {
  const [a, b] = y0 <= y1 ? [y0, y1] : [y1, y0];
  const out = new Set<number>();
  rows.forEach((r, i) => {
    if (r.y + r.height <= a || r.y >= b) return;
    if (r.kind === 'track') out.add(r.track);
    else if (rows[i + 1]?.kind !== 'track' || rows[i + 1]?.group !== r.group) groups.forEach((g, t) => g === r.group && out.add(t));
  });
  return [...out].sort((p, q) => p - q);
}

// ---- hit-testing ------------------------------------------------------------

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** The nearest of `points` within `radius` pixels of (x, y), or null. */
export function nearestWithin<T extends Point>(points: readonly T[], x: number, y: number, radius: number): T | null {
  let best: T | null = null;
  let bestD = radius * radius;
  for (const p of points) {
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d <= bestD) {
      best = p;
      bestD = d;
    }
  }
  return best;
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** The rectangle between two corners, whichever way it was dragged. */
export function rectBetween(a: Point, b: Point): Rect {
  return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y), w: Math.abs(a.x - b.x), h: Math.abs(a.y - b.y) };
}

// ---- canvas backing store ---------------------------------------------------

export interface PixelSize {
  readonly width: number;
  readonly height: number;
}

/**
 * The backing store a canvas needs to show `width` x `height` CSS pixels sharply at `dpr`
 * device pixels per CSS pixel, or null when `current` already is that size. Assigning a
 * canvas's width or height clears and reallocates it even to the same value, so a redraw
 * resizes only when this says so.
 */
export function backingStoreResize(current: PixelSize, width: number, height: number, dpr: number): PixelSize | null {
  const next = { width: Math.round(width * dpr), height: Math.round(height * dpr) };
  return next.width === current.width && next.height === current.height ? null : next;
}
