// Axis scaling for the loss plot: "nice" round tick values and data -> pixel maps.

export interface Ticks {
  min: number;
  max: number;
  step: number;
  values: number[];
}

/** 1, 2, 2.5 or 5 times a power of ten, about range / target; whole numbers only when `integer` (frame axes). */
export function niceStep(range: number, target = 4, integer = false): number {
  if (!(range > 0) || !Number.isFinite(range)) return 1;
  const raw = range / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10;
  const step = nice * mag;
  if (!integer) return step;
  return step < 1 ? 1 : Number.isInteger(step) ? step : step === 2.5 ? 2 : Math.ceil(step);
}

/** Ticks covering [lo, hi] with round values; a flat range is widened so the line sits mid-plot. */
export function niceTicks(lo: number, hi: number, target = 4, integer = false): Ticks {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { min: 0, max: 1, step: 0.25, values: [0, 0.25, 0.5, 0.75, 1] };
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, target, integer);
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const values: number[] = [];
  for (let v = min, i = 0; v <= max + step * 1e-6 && i < 100; v += step, i++) values.push(Number(v.toPrecision(12)));
  return { min, max, step, values };
}

/** A linear map from [d0, d1] onto [r0, r1]; a zero-width domain maps to the middle. */
export function linearScale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  if (span === 0) return () => (r0 + r1) / 2;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

export interface PlotPoint {
  x: number;
  y: number;
}

/** Y range of loss values: from 0 when the data is near it, else zoomed to the data. */
export function lossTicks(values: readonly number[], target = 4): Ticks {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return niceTicks(0, 1, target);
  let lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (lo >= 0 && lo < hi - lo) lo = 0;
  return niceTicks(lo, hi, target);
}

/** One line of a loss plot, with the name its legend shows. x: frame or report index; y: loss. Sorted by x. */
export interface PlotSeries {
  label: string;
  points: readonly { x: number; y: number }[];
}

/** The point nearest to pixel x (points sorted by x), for the hover readout. */
export function nearestByX<T extends PlotPoint>(points: readonly T[], x: number): T | null {
  if (points.length === 0) return null;
  let lo = 0;
  let hi = points.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.x < x) lo = mid;
    else hi = mid;
  }
  return Math.abs(points[lo]!.x - x) <= Math.abs(points[hi]!.x - x) ? points[lo]! : points[hi]!;
}

export interface LossStats {
  count: number;
  mean: number;
  worst: { frame: number; loss: number } | null;
}

export function lossStats(series: readonly { frame: number; loss: number }[]): LossStats {
  let sum = 0;
  let worst: LossStats['worst'] = null;
  for (const p of series) {
    sum += p.loss;
    if (!worst || p.loss > worst.loss) worst = { frame: p.frame, loss: p.loss };
  }
  return { count: series.length, mean: series.length ? sum / series.length : NaN, worst };
}
