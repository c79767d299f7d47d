import { useEffect, useMemo, useRef, useState } from 'react';
import { formatLoss } from '../ui/format';
import { linearScale, lossTicks, nearestByX, niceTicks, type PlotSeries } from './plot';

export interface LossPlotProps {
  /** Drawn in order, each in its own colour; with more than one, a legend names them. */
  series: readonly PlotSeries[];
  /** The x extent to draw (e.g. 0..frames-1), so the plot fills in as the encode goes. */
  xMax: number;
  xLabel: string;
  /** Accessible description of the data (stats), read instead of the canvas. */
  summary: string;
  /** Marks one x (the identity frame) with a vertical line. */
  marker?: number | null;
}

const PAD = { left: 52, right: 14, top: 12, bottom: 26 };
/** The top margin with a legend above the lines. */
const LEGEND_TOP = 28;

function cssVar(el: Element, name: string, fallback: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

/** Line colours by series index: the accent, then the success green (CSS variable, fallback). */
const SERIES_COLOURS: readonly [string, string][] = [
  ['--accent', '#4d8dff'],
  ['--success', '#4cc38a']
];

/** A live line plot of loss against frame (or report), drawn on a canvas at device resolution. */
export function LossPlot({ series, xMax, xLabel, summary, marker = null }: LossPlotProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const figure = useRef<HTMLElement>(null);
  const [{ width, height }, setSize] = useState({ width: 0, height: 0 });
  const [hover, setHover] = useState<number | null>(null);

  // The plot fills its figure, which the layout sizes.
  useEffect(() => {
    const el = figure.current;
    if (!el) return;
    const ro = new ResizeObserver(([entry]) => setSize({ width: Math.floor(entry!.contentRect.width), height: Math.floor(entry!.contentRect.height) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const geometry = useMemo(() => {
    const all = series.flatMap((s) => s.points);
    const yt = lossTicks(all.map((p) => p.y), Math.max(2, Math.min(6, Math.floor(height / 60))));
    const xt = niceTicks(0, Math.max(1, xMax), Math.max(2, Math.floor(width / 90)), true);
    const x = linearScale(0, Math.max(1, xMax), PAD.left, Math.max(PAD.left + 1, width - PAD.right));
    const top = series.length > 1 ? LEGEND_TOP : PAD.top;
    const y = linearScale(yt.min, yt.max, height - PAD.bottom, top);
    const lines = series.map((s) => s.points.map((p) => ({ x: x(p.x), y: y(p.y), dx: p.x, dy: p.y, label: s.label })));
    // Every point in x order, for the hover readout.
    const px = lines.flat().sort((a, b) => a.x - b.x);
    return { yt, xt: { ...xt, values: xt.values.filter((v) => v <= Math.max(1, xMax)) }, x, y, px, lines, top };
  }, [series, xMax, width, height]);

  useEffect(() => {
    const c = canvas.current;
    if (!c || width === 0 || height === 0) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    const g = c.getContext('2d');
    if (!g) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    const grid = cssVar(c, '--border', '#2a2d33');
    const faint = cssVar(c, '--text-faint', '#6f7580');
    const warn = cssVar(c, '--warning', '#e8b04b');
    const { yt, xt, x, y, px, lines, top } = geometry;

    g.font = '11px ui-monospace, Menlo, Consolas, monospace';
    g.lineWidth = 1;
    g.strokeStyle = grid;
    g.fillStyle = faint;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    for (const v of yt.values) {
      const py = Math.round(y(v)) + 0.5;
      g.beginPath();
      g.moveTo(PAD.left, py);
      g.lineTo(width - PAD.right, py);
      g.stroke();
      g.fillText(formatLoss(v), PAD.left - 8, py);
    }
    g.textAlign = 'center';
    g.textBaseline = 'top';
    for (const v of xt.values) g.fillText(String(v), x(v), height - PAD.bottom + 8);

    if (marker !== null && marker >= 0 && marker <= xMax) {
      const mx = Math.round(x(marker)) + 0.5;
      g.strokeStyle = warn;
      g.setLineDash([3, 3]);
      g.beginPath();
      g.moveTo(mx, top);
      g.lineTo(mx, height - PAD.bottom);
      g.stroke();
      g.setLineDash([]);
    }

    lines.forEach((line, k) => {
      if (line.length === 0) return;
      const colour = cssVar(c, ...SERIES_COLOURS[k % SERIES_COLOURS.length]!);
      if (lines.length === 1) {
        // One series: the area under the line, then the line.
        const grad = g.createLinearGradient(0, top, 0, height - PAD.bottom);
        grad.addColorStop(0, 'rgba(77, 141, 255, 0.28)');
        grad.addColorStop(1, 'rgba(77, 141, 255, 0)');
        g.beginPath();
        g.moveTo(line[0]!.x, height - PAD.bottom);
        for (const p of line) g.lineTo(p.x, p.y);
        g.lineTo(line[line.length - 1]!.x, height - PAD.bottom);
        g.closePath();
        g.fillStyle = grad;
        g.fill();
      }
      g.beginPath();
      line.forEach((p, i) => (i === 0 ? g.moveTo(p.x, p.y) : g.lineTo(p.x, p.y)));
      g.strokeStyle = colour;
      g.lineWidth = 1.5;
      g.stroke();
      const last = line[line.length - 1]!;
      g.fillStyle = colour;
      g.beginPath();
      g.arc(last.x, last.y, 3, 0, Math.PI * 2);
      g.fill();
    });

    if (hover !== null) {
      const p = nearestByX(px, hover);
      if (p) {
        g.strokeStyle = faint;
        g.lineWidth = 1;
        g.beginPath();
        g.moveTo(Math.round(p.x) + 0.5, top);
        g.lineTo(Math.round(p.x) + 0.5, height - PAD.bottom);
        g.stroke();
        g.fillStyle = '#fff';
        g.beginPath();
        g.arc(p.x, p.y, 3.5, 0, Math.PI * 2);
        g.fill();
      }
    }
  }, [geometry, width, height, hover, marker, xMax]);

  const hovered = hover === null ? null : nearestByX(geometry.px, hover);
  return (
    <figure className="loss-plot" ref={figure}>
      <canvas
        ref={canvas}
        style={{ position: 'absolute', inset: 0, width: '100%', height: '100%' }}
        role="img"
        aria-label={summary}
        onMouseMove={(e) => setHover(e.clientX - e.currentTarget.getBoundingClientRect().left)}
        onMouseLeave={() => setHover(null)}
      />
      {series.length > 1 && (
        <ul className="plot-legend" data-testid="plot-legend">
          {series.map((s, k) => (
            <li key={s.label}>
              <span className="plot-swatch" style={{ background: `var(${SERIES_COLOURS[k % SERIES_COLOURS.length]![0]})` }} aria-hidden="true" />
              {s.label}
            </li>
          ))}
        </ul>
      )}
      {hovered && (
        <figcaption className="plot-readout" style={{ left: Math.min(hovered.x + 10, Math.max(0, width - 150)) }}>
          {series.length > 1 ? `${hovered.label}: ` : ''}
          {xLabel} {hovered.dx} · loss {formatLoss(hovered.dy)}
        </figcaption>
      )}
      {geometry.px.length === 0 && <p className="plot-empty">The loss of each frame appears here as it is encoded.</p>}
    </figure>
  );
}
