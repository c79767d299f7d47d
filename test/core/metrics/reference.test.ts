// Metrics against values that do not come from our code: worked by hand, or published.
import { describe, expect, it } from 'vitest';
import { correlateTracks, pearson } from '../../../src/core/metrics/evaluate';
import { msssim } from '../../../src/core/metrics/image';

describe('pearson', () => {
  it('gives the textbook value: x 1..5, y 2 4 5 4 5 -> 6 / sqrt(10 * 6)', () => {
    // Deviations (-2 -1 0 1 2) and (-2 0 1 0 1): sum of products 6, sums of squares 10 and 6.
    expect(pearson([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])).toBeCloseTo(6 / Math.sqrt(60), 14);
    expect(6 / Math.sqrt(60)).toBeCloseTo(0.7745966692, 9);
  });

  it("gives Anscombe's published r = 0.816 for all four of his data sets (Anscombe 1973)", () => {
    const x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
    const x4 = [8, 8, 8, 8, 8, 8, 8, 19, 8, 8, 8];
    const ys = [
      [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68],
      [9.14, 8.14, 8.74, 8.77, 9.26, 8.1, 6.13, 3.1, 9.13, 7.26, 4.74],
      [7.46, 6.77, 12.74, 7.11, 7.81, 8.84, 6.08, 5.39, 8.15, 6.42, 5.73]
    ];
    for (const y of ys) expect(pearson(x, y)).toBeCloseTo(0.816, 3);
    expect(pearson(x4, [6.58, 5.76, 7.71, 8.84, 8.47, 7.04, 5.25, 12.5, 5.56, 7.91, 6.89])).toBeCloseTo(0.817, 3);
  });

  it('is NaN for a constant series, even one whose rounded mean is not exactly its value', () => {
    // 0.1 * 3 / 3 rounds: a mean taken as a sum of x/n leaves deviations of 1e-17 that correlate perfectly.
    expect(pearson([0.1, 0.1, 0.1], [1, 2, 3])).toBeNaN();
    expect(pearson([1, 2, 3], [0.7, 0.7, 0.7])).toBeNaN();
    expect(pearson([1, 2, 3], [-1, -2, -3])).toBeCloseTo(-1, 14);
  });
});

describe('correlateTracks (eval --truth)', () => {
  const names = ['yaw', 'pitch', 'roll', ...Array.from({ length: 32 }, (_, i) => `a${i}`)];
  const frames = 5;
  // Source frames 2..6 are encoded. Track 0 follows the textbook pair; the truth of track 1
  // (pitch) is constant; the encoding of track 2 (roll) is constant; the rest correlate at -1.
  const truth = Array.from({ length: 8 }, (_, s) => names.map((_, k) => (k === 1 ? 0.25 : k === 0 ? s - 1 : s * (k + 1))));
  const params = new Float32Array(frames * 35);
  const yEnc = [2, 4, 5, 4, 5];
  for (let f = 0; f < frames; f++) for (let k = 0; k < 35; k++) params[f * 35 + k] = k === 0 ? yEnc[f]! : k === 2 ? 3 : -f;

  it('names each track it cannot compute with the reason, and counts what it compared', () => {
    const c = correlateTracks(truth, params, names, 2, frames);
    expect(c.tracks).toBe(35);
    expect(c.compared).toBe(33);
    expect(c.uncomputable).toEqual([
      { track: 'pitch', reason: 'the truth is constant' },
      { track: 'roll', reason: 'the encoding is constant' }
    ]);
    expect([c.perTrack.pitch, c.perTrack.roll]).toEqual([null, null]);
    expect(c.perTrack.yaw).toBeCloseTo(0.7745966692, 6);
    expect(c.perTrack.a0).toBeCloseTo(-1, 6);
    expect(c.min).toBeCloseTo(-1, 6);
    expect(c.median).toBeCloseTo(-1, 6);
  });

  it('says which source frame the truth file lacks', () => {
    expect(() => correlateTracks(truth.slice(0, 5), params, names, 2, frames)).toThrow(/no parameters for source frame 5/);
  });
});

describe('msssim against worked values', () => {
  // Two flat grey frames: sigma = 0 at every scale, so every cs is C2 / C2 = 1 and only the
  // coarsest scale's luminance term l = (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 * 255)^2, is left.
  const flat = (v: number, side: number) => new Uint8Array(side * side * 3).fill(v);
  const C1 = (0.01 * 255) ** 2;
  const l = (a: number, b: number) => (2 * a * b + C1) / (a * a + b * b + C1);

  it('176x176, five scales: l ** 0.1333 (the published last-scale weight)', () => {
    expect(l(100, 110)).toBeCloseTo(22006.5025 / 22106.5025, 14);
    expect(msssim(flat(100, 176), flat(110, 176), 176, 176)).toBeCloseTo((22006.5025 / 22106.5025) ** 0.1333, 12);
    expect(msssim(flat(100, 176), flat(110, 176), 176, 176)).toBeCloseTo(0.9993958, 6);
  });

  it('48x48, three scales: the first three weights renormalised, so l ** (0.3001 / 0.6305)', () => {
    expect(msssim(flat(40, 48), flat(90, 48), 48, 48)).toBeCloseTo(l(40, 90) ** (0.3001 / 0.6305), 12);
  });
});
