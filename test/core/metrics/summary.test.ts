import { describe, expect, it } from 'vitest';
import { percentile, summarise } from '../../../src/core/metrics';

describe('summarise', () => {
  it('gives mean, median, extremes and 5th / 95th percentiles (numpy linear interpolation)', () => {
    const s = summarise([3, 1, 4, 1, 5, 9, 2, 6]);
    expect(s.mean).toBeCloseTo(31 / 8, 12);
    expect(s.median).toBe(3.5);
    expect(s.min).toBe(1);
    expect(s.max).toBe(9);
    // numpy.percentile([3,1,4,1,5,9,2,6], [5, 95]) = [1.0, 7.95]
    expect(s.p05).toBeCloseTo(1.0, 12);
    expect(s.p95).toBeCloseTo(7.95, 12);
    expect(s.count).toBe(8);
    expect(s.finiteCount).toBe(8);
    const t = summarise([1, 2, 3, 4, 5]);
    expect([t.p05, t.median, t.p95]).toEqual([1.2, 3, 4.8]);
  });

  it('ignores NaN', () => {
    const s = summarise([NaN, 2, NaN, 4]);
    expect(s).toMatchObject({ mean: 3, median: 3, min: 2, max: 4, count: 2, finiteCount: 2 });
  });

  it('handles PSNR = Infinity: mean over finite values, order statistics over all', () => {
    const s = summarise([30, 32, Infinity]);
    expect(s.mean).toBe(31);
    expect(s.finiteCount).toBe(2);
    expect(s.count).toBe(3);
    expect(s.median).toBe(32);
    expect(s.max).toBe(Infinity);
    expect(s.min).toBe(30);
    expect(s.p95).toBe(Infinity);
    expect(summarise([30, Infinity]).median).toBe(Infinity);
    expect(summarise([Infinity, Infinity]).mean).toBe(Infinity);
    expect(summarise([-Infinity, Infinity]).mean).toBeNaN();
  });

  it('returns NaN statistics for no values', () => {
    const s = summarise([NaN]);
    expect(s.count).toBe(0);
    expect(s.mean).toBeNaN();
    expect(s.median).toBeNaN();
  });

  it('percentile clamps q and handles one value', () => {
    expect(percentile([7], 0.3)).toBe(7);
    expect(percentile([1, 2], 1.5)).toBe(2);
    expect(percentile([], 0.5)).toBeNaN();
  });
});
