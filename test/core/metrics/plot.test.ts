import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { linePlotPng, niceTicks, formatValue, parseColor } from '../../../src/core/metrics';
import { glyph, hasGlyph } from '../../../src/core/metrics/font';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..');
const outDir = join(repoRoot, 'test-results');

/** Plausible per-frame metrics of a 240-frame clip, deterministic. */
function metrics(n = 240) {
  let seed = 7;
  const rnd = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const psnr = Array.from({ length: n }, (_, i) => 31 + 2.5 * Math.sin(i / 19) + (rnd() - 0.5) * 1.6 - (i > 150 && i < 170 ? 4 : 0));
  const ssim = psnr.map((p) => 0.9 + (p - 31) * 0.012 + (rnd() - 0.5) * 0.01);
  const akd = psnr.map((p) => Math.max(0.3, 2.2 - (p - 31) * 0.25 + (rnd() - 0.5) * 0.4));
  psnr[40] = Infinity; // an identical frame: left as a gap
  akd[100] = NaN; // no face found
  return { psnr, ssim, akd };
}

function decode(buf: Buffer) {
  const png = PNG.sync.read(buf);
  const at = (x: number, y: number) => {
    const i = (y * png.width + x) * 4;
    return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!] as const;
  };
  return { png, at };
}

describe('linePlotPng', () => {
  it('renders stacked PSNR / SSIM / AKD panels to a PNG of the requested size', () => {
    const m = metrics();
    const buf = linePlotPng({
      title: 'Reconstruction quality per frame',
      subtitle: 'synthetic clip, 240 frames',
      xLabel: 'frame',
      series: [
        { name: 'PSNR', yLabel: 'PSNR (dB)', values: m.psnr },
        { name: 'SSIM', values: m.ssim },
        { name: 'AKD', yLabel: 'AKD (px)', values: m.akd },
      ],
      width: 1000,
    });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'metrics-plot.png'), buf);

    const { png, at } = decode(buf);
    expect(png.width).toBe(1000);
    expect(png.height).toBeGreaterThan(500);
    expect(Array.from(at(0, 0))).toEqual([255, 255, 255]);

    // Inside the plot area (right of the y labels, below the title), many pixels are inked,
    // and each series colour appears.
    let inked = 0;
    const colours = new Map<string, number>();
    for (let y = 100; y < png.height - 80; y++)
      for (let x = 120; x < png.width - 40; x++) {
        const [r, g, b] = at(x, y);
        if (r < 250 || g < 250 || b < 250) inked++;
        const key = `${r},${g},${b}`;
        colours.set(key, (colours.get(key) ?? 0) + 1);
      }
    expect(inked).toBeGreaterThan(5000);
    for (const c of ['31,119,180', '214,39,40', '44,160,44']) expect(colours.get(c) ?? 0).toBeGreaterThan(200);
  });

  it('renders an overlay with a right axis and custom colours', () => {
    const m = metrics(60);
    const buf = linePlotPng({
      title: 'PSNR and SSIM',
      xLabel: 'time (s)',
      yLabel: 'PSNR (dB)',
      xStep: 1 / 30,
      series: [
        { name: 'PSNR', values: m.psnr, axis: 'left', color: '#1f77b4' },
        { name: 'SSIM', values: m.ssim, axis: 'right', color: [214, 39, 40] },
      ],
      width: 640,
      height: 400,
    });
    const { png, at } = decode(buf);
    expect([png.width, png.height]).toEqual([640, 400]);
    let red = 0;
    for (let y = 0; y < png.height; y++) for (let x = 0; x < png.width; x++) if (at(x, y).join() === '214,39,40') red++;
    expect(red).toBeGreaterThan(100);
  });

  it('copes with a single value, constant series and all-NaN series', () => {
    const buf = linePlotPng({
      title: 'Edge cases',
      xLabel: 'frame',
      layout: 'stacked',
      series: [
        { name: 'one', values: [3] },
        { name: 'flat', values: [2, 2, 2, 2] },
        { name: 'none', values: [NaN, NaN] },
      ],
    });
    expect(PNG.sync.read(buf).width).toBe(1000);
    expect(() => linePlotPng({ title: 't', xLabel: 'x', series: [] })).toThrow(RangeError);
    expect(() => linePlotPng({ title: 't', xLabel: 'x', series: [{ name: 'a', values: [1] }], height: 100 })).toThrow(/too short/);
  });
});

describe('plot helpers', () => {
  it('picks 1-2-2.5-5 tick steps', () => {
    expect(niceTicks(0, 239, 9).ticks).toEqual([0, 50, 100, 150, 200]);
    const y = niceTicks(0.853, 0.95, 4, { extend: true });
    expect(y.ticks.map((t) => t.toFixed(3))).toEqual(['0.850', '0.875', '0.900', '0.925', '0.950']);
    expect(y.decimals).toBe(3);
    expect(niceTicks(0, 3, 10, { minStep: 1 }).ticks).toEqual([0, 1, 2, 3]);
  });

  it('formats stats values and colours', () => {
    expect(formatValue(31.2417)).toBe('31.24');
    expect(formatValue(0.973412)).toBe('0.9734');
    expect(formatValue(Infinity)).toBe('∞');
    expect(formatValue(NaN)).toBe('–');
    expect(parseColor('#0f8')).toEqual([0, 255, 136]);
    expect(() => parseColor('red')).toThrow(RangeError);
  });

  it('has a well-formed glyph for every printable ASCII character', () => {
    for (let c = 32; c < 127; c++) {
      const ch = String.fromCharCode(c);
      if (!hasGlyph(ch)) continue;
      const g = glyph(ch);
      expect(g.rows.length, ch).toBeGreaterThanOrEqual(7);
      expect(g.rows.length, ch).toBeLessThanOrEqual(9);
      for (const row of g.rows) expect(row.length, ch).toBe(g.width);
    }
    const missing = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((ch) => !hasGlyph(ch));
    expect(missing).toEqual(['`', '{', '}']);
  });
});
