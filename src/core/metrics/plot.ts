// Per-frame metric charts: an SVG document built here (pure), rendered to PNG by resvg
// (svg-png.ts) for the CLI's eval.png and the studio's Evaluate panel alike.
//
// Two layouts:
// - 'stacked' (default for several series): one panel per series, stacked
//   over a shared frame axis, each with its own y scale, a header with the
//   series name, colour and mean / min / max. This reads best for metrics in
//   different units (PSNR in dB, SSIM in 0..1, AKD in pixels).
// - 'overlay': every series in one panel, on a left axis and optionally a
//   right one (`axis: 'right'`), with a legend under the title.
import { summarise } from './summary';
import { estimateTextWidth, num, parseColor, rgbCss, svgDocument, svgText, type Rgb } from './svg';
import { svgToPng } from './svg-png';

export interface PlotSeries {
  name: string;
  /** One value per frame; NaN and infinite values leave a gap (PSNR = Infinity for identical frames). */
  values: ArrayLike<number>;
  /** '#rrggbb' or [r, g, b]; default from a colour-blind-friendly palette. */
  color?: string | Rgb;
  /** Overlay layout: the axis to plot against (default 'left'). Naming an axis selects the overlay layout. */
  axis?: 'left' | 'right';
  /** Axis label of this series' panel (stacked) or of the right axis (overlay); default the name. */
  yLabel?: string;
}

export interface LinePlotOptions {
  title: string;
  /** Optional second line under the title (e.g. clip and model). */
  subtitle?: string;
  xLabel: string;
  /** Left axis label (overlay layout, or a single series). */
  yLabel?: string;
  series: PlotSeries[];
  /** Image width in pixels (default 1000). */
  width?: number;
  /** Image height in pixels (default: 194 per stacked panel plus margins, or 520 for overlay). */
  height?: number;
  /** Default: 'overlay' when a series names an axis or there is one series, else 'stacked'. */
  layout?: 'stacked' | 'overlay';
  /** x of values[0] (default 0: frame indices). */
  xStart?: number;
  /** x distance between consecutive values (default 1). */
  xStep?: number;
  /** Show mean / min / max in the panel headers (stacked; default true). */
  showStats?: boolean;
}

/** Tableau-10-like palette, in an order whose neighbours differ in hue and lightness. */
export const PLOT_PALETTE: readonly Rgb[] = [
  [31, 119, 180], // blue
  [214, 39, 40], // red
  [44, 160, 44], // green
  [255, 127, 14], // orange
  [148, 103, 189], // purple
  [140, 86, 75], // brown
  [227, 119, 194], // pink
  [23, 190, 207], // cyan
  [188, 189, 34], // olive
  [127, 127, 127] // grey
];

const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [34, 34, 34]; // title
const AXIS: Rgb = [64, 64, 64]; // axis lines, tick labels
const MUTED: Rgb = [110, 110, 110]; // stats, secondary text
const GRID: Rgb = [232, 232, 232];
const FRAME: Rgb = [205, 205, 205];

const TITLE = 22; // title size, px
const TEXT = 14; // labels and headers
const TICK_TEXT = 13;
const PAD = 24;
const TICK = 5;
const LINE_WIDTH = 2;

/** Where the title's baseline is: the top margin plus the title's ascent. */
export const TITLE_BASELINE = PAD + Math.round(TITLE * 0.76);

/** Ticks at multiples of a 1-2-2.5-5 step; `lo`/`hi` are the domain extended to whole steps when `extend`. */
export function niceTicks(min: number, max: number, target: number, opts: { extend?: boolean; minStep?: number } = {}) {
  let lo = min;
  let hi = max;
  if (!(hi > lo)) {
    const pad = lo !== 0 ? Math.abs(lo) * 0.05 : 1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const steps = [1, 2, 2.5, 5, 10];
  let step = steps.map((m) => m * mag).find((s) => s >= raw * 0.999) ?? 10 * mag;
  if (opts.minStep && step < opts.minStep) step = opts.minStep;
  if (opts.extend) {
    lo = Math.floor(lo / step + 1e-9) * step;
    hi = Math.ceil(hi / step - 1e-9) * step;
  }
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(k * step + 0); // + 0 turns -0 into 0
  return { lo, hi, step, ticks, decimals: stepDecimals(step) };
}

function stepDecimals(step: number): number {
  for (let d = 0; d <= 10; d++) if (Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6 * 10 ** d * step) return d;
  return 10;
}

function formatTick(v: number, decimals: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return v.toExponential(1).replace('e+', 'e');
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s.replace('-', '−');
}

/** A short human number for stats: 4 significant digits, no exponent for ordinary magnitudes. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return '–';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '−∞';
  const a = Math.abs(v);
  let s: string;
  if (a === 0) s = '0';
  else if (a >= 1e4) s = v.toFixed(0);
  else if (a < 1e-3) s = v.toExponential(2);
  else s = String(Number(v.toPrecision(4)));
  return s.replace('-', '−');
}

interface Scale {
  lo: number;
  hi: number;
  ticks: number[];
  decimals: number;
}

function yScale(values: ArrayLike<number>[], target: number): Scale | null {
  let mn = Infinity;
  let mx = -Infinity;
  for (const vs of values) {
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i]!;
      if (!Number.isFinite(v)) continue;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
  }
  if (mn > mx) return null;
  const span = mx - mn;
  const pad = span > 0 ? span * 0.04 : 0;
  // Padding never crosses zero: a metric that cannot be negative (AKD, jitter) keeps its axis at >= 0.
  const lo = mn >= 0 && mn - pad < 0 ? 0 : mn - pad;
  const hi = mx <= 0 && mx + pad > 0 ? 0 : mx + pad;
  const t = niceTicks(lo, hi, target, { extend: true });
  return { lo: t.lo, hi: t.hi, ticks: t.ticks, decimals: t.decimals };
}

function tickLabelWidth(scale: Scale | null): number {
  if (!scale) return estimateTextWidth('0', TICK_TEXT);
  return Math.max(...scale.ticks.map((t) => estimateTextWidth(formatTick(t, scale.decimals), TICK_TEXT)));
}

/** Map a value to a pixel coordinate: v in [lo, hi] -> [a, b]. */
function mapper(lo: number, hi: number, a: number, b: number) {
  const k = hi > lo ? (b - a) / (hi - lo) : 0;
  return (v: number) => a + (v - lo) * k;
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Panel {
  rect: Rect;
  xScale: Scale;
  xStart: number;
  xStep: number;
}

const line = (x1: number, y1: number, x2: number, y2: number, color: Rgb, width = 1): string =>
  `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="${rgbCss(color)}" stroke-width="${width}"/>`;

/** A series as one path; non-finite values break it into pieces (gaps), a lone finite value is a dot. */
function seriesPath(values: ArrayLike<number>, px: (i: number) => number, py: (v: number) => number, color: Rgb, clipId: string): string {
  const parts: string[] = [];
  const dots: string[] = [];
  let run: string[] = [];
  const close = () => {
    if (run.length === 1) dots.push(run[0]!.slice(1));
    else if (run.length > 1) parts.push(run.join(''));
    run = [];
  };
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      close();
      continue;
    }
    run.push(`${run.length ? 'L' : 'M'}${num(px(i))} ${num(py(v))}`);
  }
  close();
  const out: string[] = [];
  if (parts.length) out.push(`<path d="${parts.join('')}" fill="none" stroke="${rgbCss(color)}" stroke-width="${LINE_WIDTH}" stroke-linejoin="round" stroke-linecap="round" clip-path="url(#${clipId})"/>`);
  for (const d of dots) {
    const [x, y] = d.split(' ');
    out.push(`<circle cx="${x}" cy="${y}" r="${LINE_WIDTH}" fill="${rgbCss(color)}"/>`);
  }
  return out.join('');
}

function gridAndSeries(out: string[], f: Panel, scale: Scale | null, series: { values: ArrayLike<number>; color: Rgb }[], clipId: string) {
  const { rect } = f;
  const left = rect.x;
  const right = rect.x + rect.width;
  const top = rect.y;
  const bottom = rect.y + rect.height;
  out.push(`<clipPath id="${clipId}"><rect x="${left}" y="${top - 1}" width="${rect.width}" height="${rect.height + 2}"/></clipPath>`);
  const px = mapper(f.xScale.lo, f.xScale.hi, left, right);
  for (const t of f.xScale.ticks) out.push(line(Math.round(px(t)) + 0.5, top, Math.round(px(t)) + 0.5, bottom, GRID));
  if (scale) {
    const py = mapper(scale.lo, scale.hi, bottom, top);
    for (const t of scale.ticks) out.push(line(left, Math.round(py(t)) + 0.5, right, Math.round(py(t)) + 0.5, GRID));
    for (const s of series) out.push(seriesPath(s.values, (i) => px(f.xStart + i * f.xStep), py, s.color, clipId));
  } else {
    out.push(svgText('no finite values', (left + right) / 2, (top + bottom) / 2, { size: TEXT, fill: MUTED, anchor: 'middle', baseline: 'central' }));
  }
  // Light frame on top and right, dark axes on the left and bottom.
  out.push(line(left, top + 0.5, right, top + 0.5, FRAME), line(right - 0.5, top, right - 0.5, bottom, FRAME));
  out.push(line(left - 0.5, top, left - 0.5, bottom + 1, AXIS), line(left - 1, bottom + 0.5, right, bottom + 0.5, AXIS));
}

function yAxis(out: string[], f: Panel, scale: Scale | null, side: 'left' | 'right', color: Rgb = AXIS) {
  if (!scale) return;
  const { rect } = f;
  const py = mapper(scale.lo, scale.hi, rect.y + rect.height, rect.y);
  for (const t of scale.ticks) {
    const y = Math.round(py(t)) + 0.5;
    const label = formatTick(t, scale.decimals);
    if (side === 'left') {
      out.push(line(rect.x - 1 - TICK, y, rect.x - 1, y, AXIS));
      out.push(svgText(label, rect.x - TICK - 6, y, { size: TICK_TEXT, fill: color, anchor: 'end', baseline: 'central' }));
    } else {
      const x = rect.x + rect.width;
      out.push(line(x, y, x + TICK, y, AXIS));
      out.push(svgText(label, x + TICK + 5, y, { size: TICK_TEXT, fill: color, baseline: 'central' }));
    }
  }
  if (side === 'right') out.push(line(rect.x + rect.width + 0.5, rect.y, rect.x + rect.width + 0.5, rect.y + rect.height + 1, AXIS));
}

function xAxis(out: string[], f: Panel, labels: boolean) {
  const { rect } = f;
  const y = rect.y + rect.height;
  const px = mapper(f.xScale.lo, f.xScale.hi, rect.x, rect.x + rect.width);
  for (const t of f.xScale.ticks) {
    const x = Math.round(px(t)) + 0.5;
    out.push(line(x, y + 1, x, y + 1 + TICK, AXIS));
    if (labels) out.push(svgText(formatTick(t, f.xScale.decimals), x, y + TICK + 6 + TICK_TEXT, { size: TICK_TEXT, fill: AXIS, anchor: 'middle' }));
  }
}

/** Panel-header statistics, longest first, for the header to pick the longest that fits. */
function statsLines(values: ArrayLike<number>): string[] {
  const st = summarise(values);
  const infinite = st.count - st.finiteCount;
  const missing = values.length - st.count;
  const gaps = [infinite ? `${infinite} ∞` : '', missing ? `${missing} NaN` : ''].filter(Boolean).join(', ');
  const note = gaps ? ` (not drawn: ${gaps})` : '';
  const mean = `mean ${formatValue(st.mean)}`;
  const median = `median ${formatValue(st.median)}`;
  const range = `min ${formatValue(st.min)} · max ${formatValue(st.max)}`;
  return [`${mean} · ${median} · ${range}${note}`, `${mean} · ${range}${note}`, `${mean} · ${range}`, mean];
}

/** A short line sample in the series colour, for legends and headers. */
const swatch = (x: number, yMid: number, color: Rgb): string => line(x, yMid, x + 22, yMid, color, 3);

/**
 * A per-frame line chart as an SVG document: white background, dark grey axes with tick
 * labels, light grid, lines in distinct colours, title, axis labels and legend in DejaVu Sans.
 * See LinePlotOptions for the layouts. Non-finite values leave gaps (the stacked headers
 * count them).
 */
export function linePlotSvg(opts: LinePlotOptions): string {
  if (opts.series.length === 0) throw new RangeError('linePlot: no series');
  const series = opts.series.map((s, i) => ({
    ...s,
    color: s.color !== undefined ? parseColor(s.color) : PLOT_PALETTE[i % PLOT_PALETTE.length]!
  }));
  const layout = opts.layout ?? (series.length === 1 || series.some((s) => s.axis) ? 'overlay' : 'stacked');
  const xStart = opts.xStart ?? 0;
  const xStep = opts.xStep ?? 1;
  const n = Math.max(...series.map((s) => s.values.length));
  const xLast = xStart + Math.max(0, n - 1) * xStep;
  const width = Math.round(opts.width ?? 1000);
  const integerX = Number.isInteger(xStart) && Number.isInteger(xStep);

  const headerBottom = TITLE_BASELINE + (opts.subtitle ? 8 + TEXT : 0);
  const stacked = layout === 'stacked';
  const panelHeader = stacked ? TEXT + 10 : 0;
  const panelGap = stacked ? 22 : 0;
  const legendH = stacked ? 0 : TEXT + 16;
  const top = headerBottom + (stacked ? 24 : 18 + legendH);
  const bottomMargin = TICK + 6 + TICK_TEXT + 14 + TEXT + PAD; // tick labels, x label
  const panels = stacked ? series.length : 1;
  const defaultPlotH = stacked ? 170 : 380;
  const height = Math.round(opts.height ?? top + bottomMargin + panels * (panelHeader + defaultPlotH) + (panels - 1) * panelGap);
  const plotH = Math.floor((height - top - bottomMargin - panels * panelHeader - (panels - 1) * panelGap) / panels);
  if (plotH < 30) throw new RangeError(`linePlot: ${height} px is too short for ${panels} panel(s)`);
  const yTarget = Math.max(2, Math.min(6, Math.floor(plotH / 40)));

  // Y scales, then margins wide enough for every tick label, so panels align.
  const leftSeries = stacked ? [] : series.filter((s) => s.axis !== 'right');
  let rightSeries = stacked ? [] : series.filter((s) => s.axis === 'right');
  const leftGroup = stacked ? [] : leftSeries.length ? leftSeries : rightSeries;
  if (!stacked && leftSeries.length === 0) rightSeries = [];
  const scales = stacked ? series.map((s) => yScale([s.values], yTarget)) : [yScale(leftGroup.map((s) => s.values), yTarget)];
  const rightScale = rightSeries.length ? yScale(rightSeries.map((s) => s.values), yTarget) : null;
  const leftLabelW = Math.max(...scales.map(tickLabelWidth));
  const plotLeft = Math.round(PAD + TEXT + 12 + leftLabelW + TICK + 6);
  const plotRight = Math.round(rightSeries.length ? width - (PAD + TEXT + 12 + tickLabelWidth(rightScale) + TICK + 6) : width - PAD - 8);
  const plotW = plotRight - plotLeft;
  if (plotW < 40) throw new RangeError(`linePlot: ${width} px is too narrow`);

  const xt = niceTicks(xStart, xLast > xStart ? xLast : xStart + xStep, Math.max(2, Math.floor(plotW / 95)), { minStep: integerX ? 1 : undefined });
  const xScale: Scale = { lo: xStart, hi: xLast > xStart ? xLast : xStart + xStep, ticks: xt.ticks, decimals: xt.decimals };

  const out: string[] = [];
  out.push(svgText(opts.title, width / 2, TITLE_BASELINE, { size: TITLE, fill: INK, anchor: 'middle', bold: true }));
  if (opts.subtitle) out.push(svgText(opts.subtitle, width / 2, headerBottom, { size: TEXT, fill: MUTED, anchor: 'middle' }));
  out.push(svgText(opts.xLabel, plotLeft + plotW / 2, height - PAD, { size: TEXT, fill: AXIS, anchor: 'middle' }));
  const yLabelX = PAD + TEXT * 0.8;

  if (stacked) {
    series.forEach((s, i) => {
      const y0 = top + i * (panelHeader + plotH + panelGap);
      const rect: Rect = { x: plotLeft, y: y0 + panelHeader, width: plotW, height: plotH };
      const f: Panel = { rect, xScale, xStart, xStep };
      // Header: swatch, bold name, stats on the right (the longest variant that fits).
      const base = y0 + TEXT * 0.8;
      out.push(swatch(plotLeft, base - TEXT * 0.35, s.color));
      out.push(svgText(s.name, plotLeft + 32, base, { size: TEXT, fill: INK, bold: true }));
      if (opts.showStats ?? true) {
        const room = plotW - 32 - estimateTextWidth(s.name, TEXT, true) - 24;
        const stats = statsLines(s.values).find((t) => estimateTextWidth(t, TEXT) <= room);
        if (stats) out.push(svgText(stats, plotLeft + plotW, base, { size: TEXT, fill: MUTED, anchor: 'end' }));
      }
      gridAndSeries(out, f, scales[i]!, [s], `panel${i}`);
      yAxis(out, f, scales[i]!, 'left');
      xAxis(out, f, i === series.length - 1);
      const label = s.yLabel ?? (series.length === 1 ? opts.yLabel : undefined) ?? s.name;
      out.push(svgText(label, yLabelX, rect.y + plotH / 2, { size: TEXT, fill: AXIS, anchor: 'middle', rotate: -90 }));
    });
    return svgDocument(width, height, WHITE, out);
  }

  // Overlay: legend row under the title, one panel, left and optional right axis.
  const legendBase = headerBottom + 18 + TEXT * 0.8;
  const items = series.map((s) => ({ s, text: s.axis === 'right' && rightSeries.length ? `${s.name} (right axis)` : s.name }));
  const itemW = (t: string) => 32 + estimateTextWidth(t, TEXT) + 26;
  let lx = plotLeft + plotW / 2 - items.reduce((sum, it) => sum + itemW(it.text), -26) / 2;
  for (const it of items) {
    out.push(swatch(lx, legendBase - TEXT * 0.35, it.s.color));
    out.push(svgText(it.text, lx + 32, legendBase, { size: TEXT, fill: AXIS }));
    lx += itemW(it.text);
  }
  const rect: Rect = { x: plotLeft, y: top, width: plotW, height: plotH };
  const f: Panel = { rect, xScale, xStart, xStep };
  gridAndSeries(out, f, scales[0]!, leftGroup, 'panel0');
  if (rightSeries.length && rightScale) {
    const px = mapper(xScale.lo, xScale.hi, rect.x, rect.x + rect.width);
    const py = mapper(rightScale.lo, rightScale.hi, rect.y + rect.height, rect.y);
    for (const s of rightSeries) out.push(seriesPath(s.values, (i) => px(xStart + i * xStep), py, s.color, 'panel0'));
  }
  const leftColor = rightSeries.length && leftGroup.length === 1 ? leftGroup[0]!.color : AXIS;
  const rightColor = rightSeries.length === 1 ? rightSeries[0]!.color : AXIS;
  yAxis(out, f, scales[0]!, 'left', leftColor);
  xAxis(out, f, true);
  const leftLabel = opts.yLabel ?? (leftGroup.length === 1 ? leftGroup[0]!.yLabel ?? leftGroup[0]!.name : '');
  if (leftLabel) out.push(svgText(leftLabel, yLabelX, rect.y + plotH / 2, { size: TEXT, fill: leftColor, anchor: 'middle', rotate: -90 }));
  if (rightSeries.length) {
    yAxis(out, f, rightScale, 'right', rightColor);
    const rightLabel = rightSeries.map((s) => s.yLabel ?? s.name).join(', ');
    out.push(svgText(rightLabel, width - PAD - TEXT * 0.2, rect.y + plotH / 2, { size: TEXT, fill: rightColor, anchor: 'middle', rotate: -90 }));
  }
  return svgDocument(width, height, WHITE, out);
}

/** The chart of `linePlotSvg` as a PNG (8-bit RGBA, opaque). */
export function linePlotPng(opts: LinePlotOptions): Buffer {
  return svgToPng(linePlotSvg(opts));
}
