// Summary statistics of per-frame metric values.

export interface MetricSummary {
  /** Mean of the finite values (see `summarise` for the infinite cases). */
  mean: number;
  median: number;
  min: number;
  max: number;
  /** 5th percentile. */
  p05: number;
  /** 95th percentile. */
  p95: number;
  /** Values that are not NaN (finite or infinite). */
  count: number;
  /** Finite values: the ones the mean is taken over. */
  finiteCount: number;
}

/** Percentile q (0..1) of ascending values, linear interpolation between closest ranks (numpy's default). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = Math.min(Math.max(q, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const f = pos - lo;
  // Exact ranks and equal neighbours need no arithmetic (and Infinity - Infinity must not be formed).
  if (f === 0 || a === b) return a;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return f < 1 && !Number.isFinite(a) ? a : b;
  return a + f * (b - a);
}

/**
 * Summarise per-frame values. NaN values (frames where the metric could not
 * be computed, e.g. no face found) are ignored. Infinite values are kept in
 * the order statistics: min, max, median, p05 and p95 are taken over all
 * non-NaN values, so PSNR = +Infinity for identical frames shows as max =
 * Infinity and moves the median the right way. The mean is taken over the
 * finite values only, and `finiteCount` says how many that was (`count -
 * finiteCount` frames were infinite). When there are no finite values but
 * infinite ones, the mean is that infinity if they all share a sign (every
 * frame identical: PSNR mean = Infinity), else NaN. No values at all: NaN
 * everywhere, counts 0.
 */
export function summarise(values: ArrayLike<number>): MetricSummary {
  const kept: number[] = [];
  let sum = 0;
  let finiteCount = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    kept.push(v);
    if (Number.isFinite(v)) {
      sum += v;
      finiteCount++;
    }
  }
  kept.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const count = kept.length;
  if (count === 0) return { mean: NaN, median: NaN, min: NaN, max: NaN, p05: NaN, p95: NaN, count: 0, finiteCount: 0 };
  let mean: number;
  if (finiteCount > 0) mean = sum / finiteCount;
  else mean = kept[0] === kept[count - 1] ? kept[0]! : NaN;
  return {
    mean,
    median: percentile(kept, 0.5),
    min: kept[0]!,
    max: kept[count - 1]!,
    p05: percentile(kept, 0.05),
    p95: percentile(kept, 0.95),
    count,
    finiteCount,
  };
}
