// Per-frame metric charts as PNG, drawn by our own small rasteriser (raster.ts)
// and encoded with pngjs: no canvas, no browser, usable from the CLI.
//
// Two layouts:
// - 'stacked' (default for several series): one panel per series, stacked
//   over a shared frame axis, each with its own y scale, a header with the
//   series name, colour and mean / min / max. This reads best for metrics in
//   different units (PSNR in dB, SSIM in 0..1, AKD in pixels).
// - 'overlay': every series in one panel, on a left axis and optionally a
//   right one (`axis: 'right'`), with a legend under the title.
import { summarise } from './summary';
import { Raster, measureText, parseColor, type Rect, type Rgb } from './raster';

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
  /** Image height in pixels (default: 210 per stacked panel plus margins, or 520 for overlay). */
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
  [127, 127, 127], // grey
];

const WHITE: Rgb = [255, 255, 255];
const INK: Rgb = [34, 34, 34]; // title
const AXIS: Rgb = [64, 64, 64]; // axis lines, tick labels
const MUTED: Rgb = [110, 110, 110]; // stats, secondary text
const GRID: Rgb = [232, 232, 232];
const FRAME: Rgb = [205, 205, 205];

const S = 2; // text scale: 10x14 pixel capitals
const CAP = 7 * S;
const PAD = 24;
const TICK = 5;
const LINE_WIDTH = 2;

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
  if (!scale) return measureText('0', S);
  return Math.max(...scale.ticks.map((t) => measureText(formatTick(t, scale.decimals), S)));
}

/** Map a value to a pixel coordinate: v in [lo, hi] -> [a, b]. */
function mapper(lo: number, hi: number, a: number, b: number) {
  const k = hi > lo ? (b - a) / (hi - lo) : 0;
  return (v: number) => a + (v - lo) * k;
}

interface Panel {
  rect: Rect; // plot area: columns rect.x .. rect.x+width-1
  xScale: Scale;
  xStart: number;
  xStep: number;
}

function drawGridAndSeries(r: Raster, f: Panel, scale: Scale | null, series: { values: ArrayLike<number>; color: Rgb }[]) {
  const { rect } = f;
  const left = rect.x;
  const right = rect.x + rect.width - 1;
  const top = rect.y;
  const bottom = rect.y + rect.height - 1;
  const px = mapper(f.xScale.lo, f.xScale.hi, left + 0.5, right + 0.5);
  for (const t of f.xScale.ticks) r.vline(Math.round(px(t) - 0.5), top, bottom, GRID);
  if (scale) {
    const py = mapper(scale.lo, scale.hi, bottom + 0.5, top + 0.5);
    for (const t of scale.ticks) r.hline(left, right, Math.round(py(t) - 0.5), GRID);
    for (const s of series) {
      const pts = new Float64Array(s.values.length * 2);
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i]!;
        pts[2 * i] = px(f.xStart + i * f.xStep);
        pts[2 * i + 1] = Number.isFinite(v) ? py(v) : NaN;
      }
      r.strokePolyline(pts, s.color, LINE_WIDTH, { x: left, y: top - 1, width: rect.width, height: rect.height + 2 });
    }
  } else {
    r.text('no finite values', (left + right) / 2, (top + bottom) / 2, { color: MUTED, align: 'center', baseline: 'middle' });
  }
  // Light frame on top and right, dark axes on the left and bottom.
  r.hline(left, right, top, FRAME);
  r.vline(right, top, bottom, FRAME);
  r.vline(left - 1, top, bottom + 1, AXIS);
  r.hline(left - 1, right, bottom + 1, AXIS);
}

function drawYAxis(r: Raster, f: Panel, scale: Scale | null, side: 'left' | 'right', color: Rgb = AXIS) {
  if (!scale) return;
  const { rect } = f;
  const bottom = rect.y + rect.height - 1;
  const py = mapper(scale.lo, scale.hi, bottom + 0.5, rect.y + 0.5);
  for (const t of scale.ticks) {
    const y = Math.round(py(t) - 0.5);
    const label = formatTick(t, scale.decimals);
    if (side === 'left') {
      r.hline(rect.x - 1 - TICK, rect.x - 2, y, AXIS);
      r.text(label, rect.x - TICK - 6, y + 1, { color, align: 'right', baseline: 'middle' });
    } else {
      const x = rect.x + rect.width;
      r.hline(x, x + TICK - 1, y, AXIS);
      r.text(label, x + TICK + 5, y + 1, { color, align: 'left', baseline: 'middle' });
    }
  }
  if (side === 'right') r.vline(rect.x + rect.width, rect.y, bottom + 1, AXIS);
}

function drawXAxis(r: Raster, f: Panel, labels: boolean) {
  const { rect } = f;
  const right = rect.x + rect.width - 1;
  const y = rect.y + rect.height;
  const px = mapper(f.xScale.lo, f.xScale.hi, rect.x + 0.5, right + 0.5);
  for (const t of f.xScale.ticks) {
    const x = Math.round(px(t) - 0.5);
    r.vline(x, y + 1, y + TICK, AXIS);
    if (labels) r.text(formatTick(t, f.xScale.decimals), x + 1, y + TICK + 7, { color: AXIS, align: 'center' });
  }
}

/** Panel-header statistics, longest first, for the header to pick the longest that fits. */
function statsLines(values: ArrayLike<number>): string[] {
  const st = summarise(values);
  const infinite = st.count - st.finiteCount;
  const missing = values.length - st.count;
  const gaps = [infinite ? `${infinite} ∞` : '', missing ? `${missing} NaN` : ''].filter(Boolean).join(', ');
  const note = gaps ? `   (not drawn: ${gaps})` : '';
  const mean = `mean ${formatValue(st.mean)}`;
  const median = `median ${formatValue(st.median)}`;
  const range = `min ${formatValue(st.min)}   max ${formatValue(st.max)}`;
  return [`${mean}   ${median}   ${range}${note}`, `${mean}   ${range}${note}`, `${mean}   ${range}`, mean];
}

/** A short line sample in the series colour, for legends and headers. */
function swatch(r: Raster, x: number, yMid: number, color: Rgb) {
  r.strokePolyline([x, yMid, x + 22, yMid], color, 3, { x: x - 3, y: yMid - 4, width: 30, height: 8 });
}

/**
 * Render a per-frame line chart to a PNG (8-bit RGB): white background, dark
 * grey axes with tick labels, light grid, anti-aliased lines in distinct
 * colours, title, axis labels and legend in an embedded 5x7 bitmap font.
 * See LinePlotOptions for the layouts. Non-finite values leave gaps (the
 * stacked headers count them).
 */
export function linePlotPng(opts: LinePlotOptions): Buffer {
  return linePlotRaster(opts).toPng();
}

/** The chart of `linePlotPng` as a raster (for tests or further drawing). */
export function linePlotRaster(opts: LinePlotOptions): Raster {
  if (opts.series.length === 0) throw new RangeError('linePlotPng: no series');
  const series = opts.series.map((s, i) => ({
    ...s,
    color: s.color !== undefined ? parseColor(s.color) : PLOT_PALETTE[i % PLOT_PALETTE.length]!,
  }));
  const layout = opts.layout ?? (series.length === 1 || series.some((s) => s.axis) ? 'overlay' : 'stacked');
  const xStart = opts.xStart ?? 0;
  const xStep = opts.xStep ?? 1;
  const n = Math.max(...series.map((s) => s.values.length));
  const xLast = xStart + Math.max(0, n - 1) * xStep;
  const width = Math.round(opts.width ?? 1000);
  const integerX = Number.isInteger(xStart) && Number.isInteger(xStep);

  // Header block: title (scale 3, or 2 when that would not fit) and optional subtitle.
  const titleScale = measureText(opts.title, 3, true) <= width - 2 * PAD ? 3 : 2;
  const headerBottom = PAD + 7 * titleScale + (opts.subtitle ? 10 + CAP : 0);

  const stacked = layout === 'stacked';
  const panelHeader = stacked ? CAP + 14 : 0;
  const panelGap = stacked ? 22 : 0;
  const legendH = stacked ? 0 : CAP + 16;
  const top = headerBottom + (stacked ? 26 : 18 + legendH);
  const bottomMargin = TICK + 7 + CAP + 16 + CAP + PAD; // tick labels, x label
  const panels = stacked ? series.length : 1;
  const defaultPlotH = stacked ? 170 : 380;
  const height = Math.round(opts.height ?? top + bottomMargin + panels * (panelHeader + defaultPlotH) + (panels - 1) * panelGap);
  const plotH = Math.floor((height - top - bottomMargin - panels * panelHeader - (panels - 1) * panelGap) / panels);
  if (plotH < 30) throw new RangeError(`linePlotPng: ${height} px is too short for ${panels} panel(s)`);
  const yTarget = Math.max(2, Math.min(6, Math.floor(plotH / 40)));

  // Y scales, then margins wide enough for every tick label, so panels align.
  const leftSeries = stacked ? [] : series.filter((s) => s.axis !== 'right');
  let rightSeries = stacked ? [] : series.filter((s) => s.axis === 'right');
  const leftGroup = stacked ? [] : leftSeries.length ? leftSeries : rightSeries;
  if (!stacked && leftSeries.length === 0) rightSeries = [];
  const scales = stacked ? series.map((s) => yScale([s.values], yTarget)) : [yScale(leftGroup.map((s) => s.values), yTarget)];
  const rightScale = rightSeries.length ? yScale(rightSeries.map((s) => s.values), yTarget) : null;
  const leftLabelW = Math.max(...scales.map(tickLabelWidth));
  const plotLeft = PAD + CAP + 14 + leftLabelW + TICK + 6;
  const plotRight = rightSeries.length ? width - (PAD + CAP + 14 + tickLabelWidth(rightScale) + TICK + 6) : width - PAD - 8;
  const plotW = plotRight - plotLeft;
  if (plotW < 40) throw new RangeError(`linePlotPng: ${width} px is too narrow`);

  const xt = niceTicks(xStart, xLast > xStart ? xLast : xStart + xStep, Math.max(2, Math.floor(plotW / 95)), { minStep: integerX ? 1 : undefined });
  const xScale: Scale = { lo: xStart, hi: xLast > xStart ? xLast : xStart + xStep, ticks: xt.ticks, decimals: xt.decimals };

  const r = new Raster(width, height, WHITE);
  r.text(opts.title, width / 2, PAD, { scale: titleScale, color: INK, align: 'center', bold: true });
  if (opts.subtitle) r.text(opts.subtitle, width / 2, PAD + 7 * titleScale + 10, { color: MUTED, align: 'center' });

  const xLabelY = height - PAD - CAP;
  r.text(opts.xLabel, plotLeft + plotW / 2, xLabelY, { color: AXIS, align: 'center' });

  if (stacked) {
    series.forEach((s, i) => {
      const y0 = top + i * (panelHeader + plotH + panelGap);
      const rect: Rect = { x: plotLeft, y: y0 + panelHeader, width: plotW, height: plotH };
      const f: Panel = { rect, xScale, xStart, xStep };
      // Header: swatch, bold name, stats on the right.
      swatch(r, plotLeft, y0 + CAP / 2, s.color);
      const nameW = r.text(s.name, plotLeft + 32, y0, { color: INK, bold: true });
      if (opts.showStats ?? true) {
        // The longest variant that fits beside the name.
        const room = plotW - 32 - nameW - 24;
        const stats = statsLines(s.values).find((t) => measureText(t, S) <= room);
        if (stats) r.text(stats, plotLeft + plotW, y0, { color: MUTED, align: 'right' });
      }
      drawGridAndSeries(r, f, scales[i]!, [s]);
      drawYAxis(r, f, scales[i]!, 'left');
      drawXAxis(r, f, i === series.length - 1);
      const label = s.yLabel ?? (series.length === 1 ? opts.yLabel : undefined) ?? s.name;
      r.text(label, PAD, rect.y + plotH / 2, { color: AXIS, rotate: -90, align: 'center' });
    });
    return r;
  }

  // Overlay: legend row under the title, one panel, left and optional right axis.
  const legendY = headerBottom + 18;
  const items = series.map((s) => ({ s, text: s.axis === 'right' && rightSeries.length ? `${s.name} (right axis)` : s.name }));
  const itemW = (t: string) => 32 + measureText(t, S) + 26;
  let lx = plotLeft + plotW / 2 - items.reduce((sum, it) => sum + itemW(it.text), -26) / 2;
  for (const it of items) {
    swatch(r, lx, legendY + CAP / 2, it.s.color);
    r.text(it.text, lx + 32, legendY, { color: AXIS });
    lx += itemW(it.text);
  }
  const rect: Rect = { x: plotLeft, y: top, width: plotW, height: plotH };
  const f: Panel = { rect, xScale, xStart, xStep };
  drawGridAndSeries(r, f, scales[0]!, []);
  // Series after the grid: left group, then the right group on its own scale.
  const plotLine = (group: typeof series, scale: Scale | null) => {
    if (!scale) return;
    const px = mapper(xScale.lo, xScale.hi, rect.x + 0.5, rect.x + rect.width - 0.5);
    const py = mapper(scale.lo, scale.hi, rect.y + rect.height - 0.5, rect.y + 0.5);
    for (const s of group) {
      const pts = new Float64Array(s.values.length * 2);
      for (let i = 0; i < s.values.length; i++) {
        const v = s.values[i]!;
        pts[2 * i] = px(xStart + i * xStep);
        pts[2 * i + 1] = Number.isFinite(v) ? py(v) : NaN;
      }
      r.strokePolyline(pts, s.color, LINE_WIDTH, { x: rect.x, y: rect.y - 1, width: rect.width, height: rect.height + 2 });
    }
  };
  plotLine(leftGroup, scales[0]!);
  plotLine(rightSeries, rightScale);
  const leftColor = rightSeries.length && leftGroup.length === 1 ? leftGroup[0]!.color : AXIS;
  const rightColor = rightSeries.length === 1 ? rightSeries[0]!.color : AXIS;
  drawYAxis(r, f, scales[0]!, 'left', leftColor);
  drawXAxis(r, f, true);
  const leftLabel = opts.yLabel ?? (leftGroup.length === 1 ? leftGroup[0]!.yLabel ?? leftGroup[0]!.name : '');
  if (leftLabel) r.text(leftLabel, PAD, rect.y + plotH / 2, { color: leftColor, rotate: -90, align: 'center' });
  if (rightSeries.length) {
    drawYAxis(r, f, rightScale, 'right', rightColor);
    const rightLabel = rightSeries.map((s) => s.yLabel ?? s.name).join(', ');
    r.text(rightLabel, width - PAD - CAP, rect.y + plotH / 2, { color: rightColor, rotate: -90, align: 'center' });
  }
  return r;
}
