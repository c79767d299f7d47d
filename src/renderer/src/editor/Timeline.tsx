// The timeline: a track list (DOM, accessible) beside one canvas that draws
// either the dope sheet (rows of keyframe diamonds) or the graph editor
// (encoded and edited curves with keys and bezier handles), under a shared
// ruler in seconds and frames with the playhead and the range selection.
import { useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent, type WheelEvent } from 'react';
import type { ParamGroup } from '../../../shared/contract';
import {
  effectiveHandles,
  evaluateTrack,
  keysInFrameTrackRect,
  keysInFrameValueRect,
  moveKeys,
  rangeWeight,
  setHandle,
  type EvalContext,
  type Keyframe,
  type TimelineDoc
} from '../../../core/timeline';
import {
  backingStoreResize,
  fitValueRange,
  frameToX,
  layoutRows,
  nearestWithin,
  panTimeView,
  rectBetween,
  rowAt,
  rowsHeight,
  rulerTicks,
  tracksInBand,
  valueTicks,
  valueToY,
  xToFrame,
  xToWholeFrame,
  yToValue,
  zoomTimeView,
  type Point,
  type Row,
  type TimeView,
  type ValueView
} from './geometry';
import type { DocControls } from './hooks';
import { useDevicePixelRatio, useElementSize } from './hooks';
import { GROUP_LABELS, GROUP_ORDER, formatValue, trackColor, type TrackInfo } from './tracks';
import { editableKeyIds } from './actions';

export type TimelineMode = 'dope' | 'graph';
export interface FrameRange {
  start: number;
  end: number;
}

export const RULER_HEIGHT = 28;
const KEY_RADIUS = 5;
const HIT_RADIUS = 8;
const DRAG_THRESHOLD = 3;

const css = (name: string, fallback: string) => (typeof document === 'undefined' ? fallback : getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback);

type Colors = Record<'bg' | 'panel' | 'raised' | 'border' | 'text' | 'faint' | 'accent' | 'warning', string>;
let colorCache: Colors | null = null;
/** The theme colours the canvas draws with, read from the stylesheet once: getComputedStyle forces a style recalculation, and the variables are fixed in :root. */
function timelineColors(): Colors {
  colorCache ??= {
    bg: css('--bg-deep', '#0f1012'),
    panel: css('--panel', '#1a1c20'),
    raised: css('--panel-raised', '#202227'),
    border: css('--border', '#2a2d33'),
    text: css('--text-muted', '#a0a6b0'),
    faint: css('--text-faint', '#6f7580'),
    accent: css('--accent', '#4d8dff'),
    warning: css('--warning', '#e8b04b')
  };
  return colorCache;
}

export interface TimelineProps {
  doc: TimelineDoc;
  ctx: EvalContext;
  tracks: readonly TrackInfo[];
  fps: number;
  playhead: number;
  onPlayhead(frame: number): void;
  selectedKeys: ReadonlySet<string>;
  onSelectKeys(ids: ReadonlySet<string>): void;
  selectedTracks: readonly number[];
  onTrackClick(track: number, mode: 'only' | 'toggle' | 'extend'): void;
  editable: readonly boolean[];
  mode: TimelineMode;
  range: FrameRange | null;
  onRange(range: FrameRange | null): void;
  controls: DocControls;
  /** Values at the playhead, for the track list. */
  current: Float32Array;
  onError(message: string): void;
}

type Drag =
  | { kind: 'scrub' }
  | { kind: 'range'; anchor: number }
  | { kind: 'box'; from: Point; to: Point; additive: boolean; base: ReadonlySet<string> }
  | { kind: 'move'; from: Point; ids: string[]; started: boolean; values: ValueView | null }
  | { kind: 'handle'; id: string; track: number; side: 'in' | 'out'; keyFrame: number; keyY: number; values: ValueView };

interface KeyPoint extends Point {
  id: string;
  track: number;
}
interface HandlePoint extends Point {
  id: string;
  track: number;
  side: 'in' | 'out';
}

export function Timeline(p: TimelineProps) {
  const { doc, ctx, tracks, fps, playhead, selectedKeys, selectedTracks, mode, range, controls } = p;
  const frames = ctx.frames;
  const [collapsed, setCollapsed] = useState<ReadonlySet<ParamGroup>>(new Set());
  const [wrapRef, size] = useElementSize<HTMLDivElement>();
  const dpr = useDevicePixelRatio();
  const canvas = useRef<HTMLCanvasElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const [scrollY, setScrollY] = useState(0);
  const [span, setSpan] = useState<{ start: number; end: number }>({ start: 0, end: Math.max(1, frames - 1) });
  const drag = useRef<Drag | null>(null);
  const [dragTick, setDragTick] = useState(0);

  const groups = useMemo(() => tracks.map((t) => t.group), [tracks]);
  const rows = useMemo(() => layoutRows(groups, GROUP_ORDER, collapsed), [groups, collapsed]);
  // Views are memoised so that the drawing effect below sees a new one only when it changed.
  const time: TimeView = useMemo(() => ({ start: span.start, end: span.end, x0: 12, width: Math.max(10, size.width - 24) }), [span.start, span.end, size.width]);
  const shown = mode === 'graph' ? (selectedTracks.length ? selectedTracks : [0]) : [];

  // Edited and encoded values of the graph's tracks over the visible frames.
  const f0 = Math.max(0, Math.floor(span.start));
  const f1 = Math.min(frames - 1, Math.ceil(span.end));
  const series = useMemo(() => {
    if (mode !== 'graph') return [];
    return shown.map((track) => ({
      track,
      edited: evaluateTrack(doc, ctx, track, f0, f1 - f0 + 1),
      encoded: Float64Array.from({ length: f1 - f0 + 1 }, (_, i) => ctx.encoded[(f0 + i) * tracks.length + track]!)
    }));
    // shown is derived from selectedTracks and mode.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mode, doc, ctx, f0, f1, selectedTracks.join(','), tracks.length]);
  const fitted = useMemo(() => fitValueRange(series.flatMap((s) => [s.edited, s.encoded]), 0.12), [series]);
  const liveValues: ValueView = useMemo(() => ({ ...fitted, y0: RULER_HEIGHT + 10, height: Math.max(10, size.height - RULER_HEIGHT - 20) }), [fitted, size.height]);
  const d = drag.current;
  const values = d && (d.kind === 'move' || d.kind === 'handle') && d.values ? d.values : liveValues;

  const editedAt = (track: number, frame: number) => {
    const s = series.find((x) => x.track === track);
    if (s && frame >= f0 && frame <= f1) return s.edited[frame - f0]!;
    return evaluateTrack(doc, ctx, track, Math.min(frames - 1, frame), 1)[0]!;
  };

  // ---- geometry of what is drawn ------------------------------------------

  const rowY = (r: Row) => RULER_HEIGHT + r.y - scrollY;
  const keyPoints = (): KeyPoint[] => {
    const out: KeyPoint[] = [];
    if (mode === 'dope') {
      for (const r of rows) {
        if (r.kind !== 'track') continue;
        const y = rowY(r) + r.height / 2;
        if (y < RULER_HEIGHT || y > size.height) continue;
        for (const k of doc.layers[r.track]!) if (k.frame >= span.start - 1 && k.frame <= span.end + 1) out.push({ id: k.id, track: r.track, x: frameToX(time, k.frame), y });
      }
    } else {
      for (const track of shown) {
        for (const k of doc.layers[track]!) {
          if (k.frame < span.start - 1 || k.frame > span.end + 1 || k.frame >= frames) continue;
          out.push({ id: k.id, track, x: frameToX(time, k.frame), y: valueToY(values, editedAt(track, k.frame)) });
        }
      }
    }
    return out;
  };

  const handlePoints = (): HandlePoint[] => {
    if (mode !== 'graph') return [];
    const out: HandlePoint[] = [];
    for (const track of shown) {
      const keys = doc.layers[track]!;
      keys.forEach((k, i) => {
        if (!selectedKeys.has(k.id) || k.frame >= frames) return;
        const h = effectiveHandles(keys, i);
        const ky = editedAt(track, k.frame);
        if (i > 0 && keys[i - 1]!.interp === 'bezier') out.push({ id: k.id, track, side: 'in', x: frameToX(time, k.frame + h.handleIn.dt), y: valueToY(values, ky + h.handleIn.dv) });
        if (i < keys.length - 1 && k.interp === 'bezier') out.push({ id: k.id, track, side: 'out', x: frameToX(time, k.frame + h.handleOut.dt), y: valueToY(values, ky + h.handleOut.dv) });
      });
    }
    return out;
  };

  // ---- drawing --------------------------------------------------------------

  useEffect(() => {
    const el = canvas.current;
    if (!el || size.width === 0) return;
    const resize = backingStoreResize(el, size.width, size.height, dpr);
    if (resize) {
      el.width = resize.width;
      el.height = resize.height;
    }
    const g = el.getContext('2d');
    if (!g) return;
    // A kept backing store keeps its pixels and context state: clear it, and draw inside
    // save/restore so every redraw starts from the defaults a fresh canvas has.
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, size.width, size.height);
    g.save();
    try {
      const colors = timelineColors();
      g.fillStyle = colors.bg;
      g.fillRect(0, 0, size.width, size.height);
      g.font = '11px system-ui, sans-serif';

      if (mode === 'dope') drawDope(g, colors);
      else drawGraph(g, colors);
      drawOverlay(g, colors);
    } finally {
      g.restore();
    }

    const sel = keyPoints().find((k) => selectedKeys.has(k.id));
    el.dataset.selectedKey = sel ? `${sel.x.toFixed(1)},${sel.y.toFixed(1)}` : '';
    // Everything the draw functions below read: time, values and rows are memoised views of
    // span, size, series and collapsed groups; the graph's tracks come from mode and selectedTracks;
    // dragTick stands for the box being dragged (drag.current).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [size.width, size.height, dpr, mode, doc, ctx, tracks, fps, time, values, rows, scrollY, series, selectedKeys, selectedTracks, p.editable, range, playhead, dragTick]);

  function drawDope(g: CanvasRenderingContext2D, c: Colors) {
    for (const r of rows) {
      const y = rowY(r);
      if (y + r.height < RULER_HEIGHT || y > size.height) continue;
      const isSel = r.kind === 'track' && selectedTracks.includes(r.track);
      g.fillStyle = r.kind === 'group' ? c.raised : isSel ? 'rgba(77,141,255,0.10)' : c.panel;
      g.fillRect(0, y, size.width, r.height);
      g.fillStyle = c.border;
      g.fillRect(0, y + r.height - 1, size.width, 1);
      if (r.kind === 'track' && !p.editable[r.track]) {
        g.fillStyle = 'rgba(0,0,0,0.35)';
        g.fillRect(0, y, size.width, r.height - 1);
      }
      if (r.kind === 'track') drawRowEdits(g, r, y, c);
    }
    // Group summary diamonds: every frame where a track of the group has a key.
    for (const r of rows) {
      if (r.kind !== 'group') continue;
      const y = rowY(r) + r.height / 2;
      if (y < RULER_HEIGHT || y > size.height) continue;
      const framesWithKeys = new Set<number>();
      tracks.forEach((t) => t.group === r.group && doc.layers[t.index]!.forEach((k) => framesWithKeys.add(k.frame)));
      g.fillStyle = c.faint;
      for (const f of framesWithKeys) if (f >= span.start - 1 && f <= span.end + 1) diamond(g, frameToX(time, f), y, 4);
    }
    for (const k of keyPoints()) {
      const key = doc.layers[k.track]!.find((x) => x.id === k.id)!;
      drawKey(g, k.x, k.y, key, selectedKeys.has(k.id), c);
    }
  }

  /** Range edits and smoothing on a track row: a ramp band and a thin bar. */
  function drawRowEdits(g: CanvasRenderingContext2D, r: Row, y: number, c: Colors) {
    for (const re of doc.ranges) {
      if (re.offsets[r.track] === 0) continue;
      g.beginPath();
      const base = y + r.height - 3;
      const top = y + 4;
      g.moveTo(frameToX(time, re.start), base);
      for (let f = re.start; f <= re.end; f += Math.max(1, Math.floor((re.end - re.start) / 64))) g.lineTo(frameToX(time, f), base - (base - top) * rangeWeight(re, f));
      g.lineTo(frameToX(time, re.end), base);
      g.closePath();
      g.fillStyle = 'rgba(232,176,75,0.16)';
      g.fill();
      g.strokeStyle = 'rgba(232,176,75,0.55)';
      g.stroke();
    }
    const b = doc.baked[r.track];
    if (b) {
      g.fillStyle = 'rgba(76,195,138,0.7)';
      g.fillRect(frameToX(time, b.start), y + r.height - 4, Math.max(2, frameToX(time, b.start + b.values.length - 1) - frameToX(time, b.start)), 2);
    }
    void c;
  }

  function drawKey(g: CanvasRenderingContext2D, x: number, y: number, k: Keyframe, selected: boolean, c: Colors) {
    g.fillStyle = selected ? c.accent : '#d5d9e0';
    g.strokeStyle = selected ? '#fff' : '#0b0c0e';
    g.lineWidth = 1;
    if (k.interp === 'hold') {
      g.fillRect(x - KEY_RADIUS + 1, y - KEY_RADIUS + 1, 2 * KEY_RADIUS - 2, 2 * KEY_RADIUS - 2);
      g.strokeRect(x - KEY_RADIUS + 1, y - KEY_RADIUS + 1, 2 * KEY_RADIUS - 2, 2 * KEY_RADIUS - 2);
    } else if (k.interp === 'linear') {
      diamond(g, x, y, KEY_RADIUS);
      g.stroke();
      g.fillStyle = c.bg;
      diamond(g, x, y, 2);
    } else {
      g.beginPath();
      g.arc(x, y, KEY_RADIUS - 0.5, 0, Math.PI * 2);
      g.fill();
      g.stroke();
    }
  }

  function drawGraph(g: CanvasRenderingContext2D, c: Colors) {
    g.fillStyle = c.panel;
    g.fillRect(0, RULER_HEIGHT, size.width, size.height - RULER_HEIGHT);
    // Value grid and labels.
    g.strokeStyle = c.border;
    g.fillStyle = c.faint;
    g.textAlign = 'left';
    g.textBaseline = 'bottom';
    for (const v of valueTicks(values.min, values.max, 6)) {
      const y = Math.round(valueToY(values, v)) + 0.5;
      g.beginPath();
      g.moveTo(0, y);
      g.lineTo(size.width, y);
      g.stroke();
      g.fillText(String(Number(v.toPrecision(6))), 4, y - 2);
    }
    const xs = (i: number) => frameToX(time, f0 + i);
    for (const s of series) {
      const info = tracks[s.track]!;
      const color = trackColor(info, tracks);
      g.setLineDash([4, 4]);
      g.strokeStyle = color;
      g.globalAlpha = 0.4;
      polyline(g, s.encoded, xs);
      g.setLineDash([]);
      g.globalAlpha = p.editable[s.track] ? 1 : 0.5;
      g.lineWidth = 1.6;
      polyline(g, s.edited, xs);
      g.lineWidth = 1;
      g.globalAlpha = 1;
    }
    // Handles of selected bezier keys, then keys.
    const keysById = new Map(keyPoints().map((k) => [k.id, k]));
    g.strokeStyle = 'rgba(231,233,236,0.6)';
    for (const h of handlePoints()) {
      const k = keysById.get(h.id);
      if (!k) continue;
      g.beginPath();
      g.moveTo(k.x, k.y);
      g.lineTo(h.x, h.y);
      g.stroke();
      g.fillStyle = '#e7e9ec';
      g.beginPath();
      g.arc(h.x, h.y, 3.5, 0, Math.PI * 2);
      g.fill();
    }
    for (const k of keysById.values()) drawKey(g, k.x, k.y, doc.layers[k.track]!.find((x) => x.id === k.id)!, selectedKeys.has(k.id), c);
    // Legend.
    g.textAlign = 'right';
    g.textBaseline = 'top';
    let ly = RULER_HEIGHT + 6;
    for (const s of series) {
      const info = tracks[s.track]!;
      g.fillStyle = trackColor(info, tracks);
      g.fillText(`${info.name} (${info.unit})  — edited, - - encoded`, size.width - 8, ly);
      ly += 15;
    }
  }

  function polyline(g: CanvasRenderingContext2D, v: Float64Array, xs: (i: number) => number) {
    g.beginPath();
    for (let i = 0; i < v.length; i++) {
      const x = xs(i);
      const y = valueToY(values, v[i]!);
      if (i === 0) g.moveTo(x, y);
      else g.lineTo(x, y);
    }
    g.stroke();
  }

  function drawOverlay(g: CanvasRenderingContext2D, c: Colors) {
    // Range selection.
    if (range) {
      const x0 = frameToX(time, range.start - 0.5);
      const x1 = frameToX(time, range.end + 0.5);
      g.fillStyle = 'rgba(77,141,255,0.10)';
      g.fillRect(x0, 0, x1 - x0, size.height);
      g.fillStyle = c.accent;
      g.fillRect(x0, 0, 1, size.height);
      g.fillRect(x1 - 1, 0, 1, size.height);
    }
    // Ruler.
    g.fillStyle = c.raised;
    g.fillRect(0, 0, size.width, RULER_HEIGHT);
    g.fillStyle = c.border;
    g.fillRect(0, RULER_HEIGHT - 1, size.width, 1);
    if (frames > 0) {
      const lastX = frameToX(time, frames - 1);
      if (lastX < size.width) {
        g.fillStyle = 'rgba(0,0,0,0.35)';
        g.fillRect(lastX + 4, 0, size.width - lastX, size.height);
      }
    }
    g.textAlign = 'left';
    g.textBaseline = 'top';
    for (const t of rulerTicks(time, fps)) {
      const x = Math.round(frameToX(time, t.frame)) + 0.5;
      g.fillStyle = t.major ? c.text : c.faint;
      g.fillRect(x, t.major ? 12 : 20, 1, t.major ? RULER_HEIGHT - 13 : RULER_HEIGHT - 21);
      if (t.label) g.fillText(t.label, x + 3, 3);
      if (t.major && mode === 'dope') {
        g.fillStyle = 'rgba(255,255,255,0.03)';
        g.fillRect(x, RULER_HEIGHT, 1, size.height);
      }
    }
    // Playhead.
    const px = Math.round(frameToX(time, playhead)) + 0.5;
    g.fillStyle = c.accent;
    g.fillRect(px - 0.5, 0, 1.5, size.height);
    g.beginPath();
    g.moveTo(px - 6, 0);
    g.lineTo(px + 6, 0);
    g.lineTo(px + 6, 10);
    g.lineTo(px, 16);
    g.lineTo(px - 6, 10);
    g.closePath();
    g.fill();
    // Box selection.
    const dd = drag.current;
    if (dd?.kind === 'box') {
      const r = rectBetween(dd.from, dd.to);
      g.fillStyle = 'rgba(77,141,255,0.12)';
      g.fillRect(r.x, r.y, r.w, r.h);
      g.strokeStyle = c.accent;
      g.strokeRect(r.x + 0.5, r.y + 0.5, r.w, r.h);
    }
  }

  // ---- interaction -----------------------------------------------------------

  const local = (e: { clientX: number; clientY: number }): Point => {
    const r = canvas.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };
  const frameAt = (x: number) => xToWholeFrame(time, x, frames);

  const boxSelection = (from: Point, to: Point): string[] => {
    const r = rectBetween(from, to);
    const fa = xToFrame(time, r.x);
    const fb = xToFrame(time, r.x + r.w);
    if (mode === 'dope') {
      const band = tracksInBand(rows, groups, r.y - RULER_HEIGHT + scrollY, r.y + r.h - RULER_HEIGHT + scrollY);
      return keysInFrameTrackRect(doc, band, fa, fb).map((k) => k.id);
    }
    return keysInFrameValueRect(doc, shown, fa, fb, yToValue(values, r.y + r.h), yToValue(values, r.y), (track, k) => editedAt(track, Math.min(frames - 1, k.frame))).map((k) => k.id);
  };

  const onPointerDown = (e: PointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0 || frames < 1) return;
    canvas.current!.focus();
    canvas.current!.setPointerCapture(e.pointerId);
    const at = local(e);
    if (at.y < RULER_HEIGHT) {
      if (e.shiftKey) {
        const f = frameAt(at.x);
        drag.current = { kind: 'range', anchor: f };
        p.onRange({ start: f, end: f });
      } else {
        drag.current = { kind: 'scrub' };
        p.onPlayhead(frameAt(at.x));
      }
      return;
    }
    const handle = nearestWithin(handlePoints(), at.x, at.y, HIT_RADIUS);
    if (handle && p.editable[handle.track]) {
      const key = doc.layers[handle.track]!.find((k) => k.id === handle.id)!;
      drag.current = { kind: 'handle', id: handle.id, track: handle.track, side: handle.side, keyFrame: key.frame, keyY: editedAt(handle.track, key.frame), values: liveValues };
      controls.begin('Drag handle');
      return;
    }
    const hit = nearestWithin(keyPoints(), at.x, at.y, HIT_RADIUS);
    if (hit) {
      let sel = new Set(selectedKeys);
      if (e.shiftKey || e.ctrlKey || e.metaKey) {
        if (sel.has(hit.id)) sel.delete(hit.id);
        else sel.add(hit.id);
      } else if (!sel.has(hit.id)) sel = new Set([hit.id]);
      p.onSelectKeys(sel);
      const ids = editableKeyIds(doc, sel, p.editable);
      if (sel.has(hit.id) && ids.length) drag.current = { kind: 'move', from: at, ids, started: false, values: mode === 'graph' ? liveValues : null };
      return;
    }
    if (mode === 'dope') {
      const row = rowAt(rows, at.y - RULER_HEIGHT + scrollY);
      if (row?.kind === 'track' && !(e.shiftKey || e.ctrlKey || e.metaKey)) p.onTrackClick(row.track, 'only');
    }
    const additive = e.shiftKey || e.ctrlKey || e.metaKey;
    drag.current = { kind: 'box', from: at, to: at, additive, base: additive ? selectedKeys : new Set() };
    if (!additive) p.onSelectKeys(new Set());
  };

  const onPointerMove = (e: PointerEvent<HTMLCanvasElement>) => {
    const dd = drag.current;
    if (!dd) return;
    const at = local(e);
    switch (dd.kind) {
      case 'scrub':
        p.onPlayhead(frameAt(at.x));
        break;
      case 'range': {
        const f = frameAt(at.x);
        p.onRange({ start: Math.min(dd.anchor, f), end: Math.max(dd.anchor, f) });
        break;
      }
      case 'box':
        dd.to = at;
        p.onSelectKeys(new Set([...dd.base, ...boxSelection(dd.from, at)]));
        setDragTick((t) => t + 1);
        break;
      case 'move': {
        if (!dd.started) {
          if (Math.hypot(at.x - dd.from.x, at.y - dd.from.y) < DRAG_THRESHOLD) return;
          dd.started = true;
          controls.begin(dd.ids.length > 1 ? 'Move keys' : 'Move key');
        }
        const df = Math.round(xToFrame(time, at.x) - xToFrame(time, dd.from.x));
        const dv = dd.values && !e.altKey ? yToValue(dd.values, at.y) - yToValue(dd.values, dd.from.y) : 0;
        controls.update((base) => moveKeys(base, dd.ids, e.altKey && mode === 'graph' ? 0 : df, dv));
        break;
      }
      case 'handle': {
        const dt = xToFrame(time, at.x) - dd.keyFrame;
        const dv = yToValue(dd.values, at.y) - dd.keyY;
        controls.update((base) => setHandle(base, dd.id, dd.side, { dt, dv }, !e.altKey));
        break;
      }
    }
  };

  const endDrag = (cancel: boolean) => {
    const dd = drag.current;
    drag.current = null;
    if (!dd) return;
    if ((dd.kind === 'move' && dd.started) || dd.kind === 'handle') {
      if (cancel) controls.cancel();
      else controls.commit();
    }
    setDragTick((t) => t + 1);
  };

  const onWheel = (e: WheelEvent<HTMLCanvasElement>) => {
    const at = local(e);
    const view = { ...time };
    if (e.ctrlKey || e.metaKey || (mode === 'graph' && !e.shiftKey)) {
      const z = zoomTimeView(view, xToFrame(view, at.x), Math.exp(e.deltaY * 0.0015), frames);
      setSpan({ start: z.start, end: z.end });
    } else if (e.shiftKey) {
      const z = panTimeView(view, ((e.deltaY || e.deltaX) / view.width) * (view.end - view.start), frames);
      setSpan({ start: z.start, end: z.end });
    } else if (list.current) {
      list.current.scrollTop += e.deltaY;
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLCanvasElement>) => {
    if (e.key === 'Escape' && drag.current) {
      e.preventDefault();
      endDrag(true);
      return;
    }
    if (!e.key.startsWith('Arrow') || selectedKeys.size === 0 || e.ctrlKey || e.metaKey) return;
    // Keys of tracks the region lock leaves uneditable stay where they are.
    const ids = editableKeyIds(doc, selectedKeys, p.editable);
    if (ids.length === 0) return;
    const firstTrack = tracks.find((t) => doc.layers[t.index]!.some((k) => selectedKeys.has(k.id)));
    const unitStep = firstTrack?.group === 'pose' ? 1 : 0.1;
    const mult = e.shiftKey ? 10 : 1;
    const df = e.key === 'ArrowLeft' ? -mult : e.key === 'ArrowRight' ? mult : 0;
    const dv = e.key === 'ArrowUp' ? unitStep * mult : e.key === 'ArrowDown' ? -unitStep * mult : 0;
    e.preventDefault();
    controls.apply(df ? 'Nudge keys in time' : 'Nudge key values', (base) => moveKeys(base, ids, df, dv));
  };

  // Keep the playhead visible while playing or stepping.
  useEffect(() => {
    if (playhead < span.start || playhead > span.end) {
      const w = span.end - span.start;
      const z = panTimeView({ ...time, start: span.start, end: span.end }, playhead - span.start - w * 0.1, frames);
      setSpan({ start: z.start, end: z.end });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [playhead]);

  useEffect(() => setSpan({ start: 0, end: Math.max(1, frames - 1) }), [frames]);
  void dragTick;

  return (
    <div className="timeline-body">
      <div className="track-list" ref={list} onScroll={(e) => setScrollY(e.currentTarget.scrollTop)} role="list" aria-label="Tracks">
        <div className="track-list-head" style={{ height: RULER_HEIGHT }}>
          <span>Track</span>
          <span>Value</span>
        </div>
        {rows.map((r) =>
          r.kind === 'group' ? (
            <div role="listitem" key={`g-${r.group}`} className="track-group" style={{ height: r.height }}>
              <button
                type="button"
                className="track-group-toggle"
                aria-expanded={!collapsed.has(r.group)}
                data-testid={`group-${r.group}`}
                onClick={() =>
                  setCollapsed((s) => {
                    const n = new Set(s);
                    if (n.has(r.group)) n.delete(r.group);
                    else n.add(r.group);
                    return n;
                  })
                }
              >
                <span className="chevron" aria-hidden="true">
                  ▸
                </span>
                {GROUP_LABELS[r.group]}
                <span className="track-count">{groups.filter((g) => g === r.group).length}</span>
              </button>
            </div>
          ) : (
            <TrackRow key={r.track} info={tracks[r.track]!} height={r.height} value={p.current[r.track]!} selected={selectedTracks.includes(r.track)} editable={p.editable[r.track]!} keys={doc.layers[r.track]!.length} onClick={p.onTrackClick} color={trackColor(tracks[r.track]!, tracks)} />
          )
        )}
        <div style={{ height: Math.max(0, size.height - rowsHeight(rows) - RULER_HEIGHT) }} aria-hidden="true" />
      </div>
      <div className="timeline-canvas-wrap" ref={wrapRef}>
        <canvas
          ref={canvas}
          className="timeline-canvas"
          style={{ width: size.width, height: size.height }}
          tabIndex={0}
          role="application"
          aria-label={
            mode === 'dope'
              ? 'Dope sheet: click or drag keys to select and move them, drag on empty space to box-select, drag the ruler to scrub, Shift+drag the ruler to select a range. Arrow keys nudge selected keys.'
              : 'Graph editor: drag keys up and down to change values and sideways to move them in time, drag handles to shape bezier curves (Alt breaks the tangent). Arrow keys nudge selected keys.'
          }
          data-testid={mode === 'dope' ? 'dope-sheet' : 'graph-editor'}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={() => endDrag(false)}
          onPointerCancel={() => endDrag(true)}
          onWheel={onWheel}
          onKeyDown={onKeyDown}
          onDoubleClick={() => setSpan({ start: 0, end: Math.max(1, frames - 1) })}
        />
      </div>
    </div>
  );
}

function diamond(g: CanvasRenderingContext2D, x: number, y: number, r: number) {
  g.beginPath();
  g.moveTo(x, y - r);
  g.lineTo(x + r, y);
  g.lineTo(x, y + r);
  g.lineTo(x - r, y);
  g.closePath();
  g.fill();
}

function TrackRow({ info, height, value, selected, editable, keys, onClick, color }: { info: TrackInfo; height: number; value: number; selected: boolean; editable: boolean; keys: number; onClick: TimelineProps['onTrackClick']; color: string }) {
  return (
    <div role="listitem" style={{ height }}>
      <button
        type="button"
        className={`track-row${selected ? ' is-selected' : ''}${editable ? '' : ' is-locked'}`}
        aria-pressed={selected}
        aria-label={`${info.name}: ${formatValue(value, info.unit)}${keys ? `, ${keys} key${keys === 1 ? '' : 's'}` : ''}${editable ? '' : ', locked by the region lock'}`}
        title={info.unitHint}
        data-testid={`track-${info.index}`}
        data-track-name={info.name}
        onClick={(e) => onClick(info.index, e.shiftKey ? 'extend' : e.ctrlKey || e.metaKey ? 'toggle' : 'only')}
      >
        <span className="track-swatch" style={{ background: color }} aria-hidden="true" />
        <span className="track-name">{info.name}</span>
        <span className="track-value">{formatValue(value, info.unit)}</span>
      </button>
    </div>
  );
}
