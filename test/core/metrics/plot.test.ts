import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { findDejaVu, formatValue, linePlotPng, linePlotSvg, niceTicks, parseColor, svgToPng } from '../../../src/core/metrics';
import { evalPlotPng, type EvalReport } from '../../../src/core/metrics/evaluate';
import { summarise } from '../../../src/core/metrics/summary';
import { TITLE_BASELINE } from '../../../src/core/metrics/plot';
import { escapeXml } from '../../../src/core/metrics/svg';

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

  it('escapes file names for the SVG, so a name with markup characters is text, not markup', () => {
    const svg = linePlotSvg({ title: 'a<b>&"c\'.mp4', xLabel: 'frame', series: [{ name: 'x', values: [1, 2] }] });
    expect(svg).toContain('a&lt;b&gt;&amp;&quot;c&#39;.mp4');
    expect(() => svgToPng(svg)).not.toThrow();
  });
});

/** Ink (pixels darker than the background's 255) in rows y0..y1 of a PNG, as a 0/1 mask and its count. */
function inkIn(buf: Buffer, y0: number, y1: number) {
  const png = PNG.sync.read(buf);
  const mask = new Uint8Array(png.width * (y1 - y0));
  let count = 0;
  for (let y = y0; y < y1; y++)
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i]! < 128) {
        mask[(y - y0) * png.width + x] = 1;
        count++;
      }
    }
  return { mask, count, width: png.width };
}

/** One glyph (or string) alone, black on white, 64 px, left-aligned: its ink. */
function glyphInk(text: string) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="#fff"/><text x="20" y="75" font-size="64" font-family="DejaVu Sans">${escapeXml(text)}</text></svg>`;
  return inkIn(svgToPng(svg), 0, 100);
}

const overlap = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v & b[i]!), 0);

describe('eval.png with a Unicode file name', () => {
  const name = 'Łódź_ß_é.mp4';
  const report = (n: number): EvalReport => {
    const ps = Array.from({ length: n }, (_, i) => 30 + Math.sin(i / 3));
    const ss = ps.map((p) => 0.8 + p / 1000);
    return { frames: n, psnr: summarise(ps), ssim: summarise(ss), lpips: null, akd: null, identity: null, jitterPx: null, bytesPerFrame: 140, perFrame: { psnr: ps, ssim: ss, akd: ps.map(() => null) } };
  };
  // The title band of the chart: from the top margin to just under the title's descenders.
  const band = (title: string) => inkIn(evalPlotPng(report(24), title, 'model seeded-64'), TITLE_BASELINE - 22, TITLE_BASELINE + 7);

  it('draws with DejaVu Sans, which the machine has (fonts-dejavu-core)', () => {
    expect(findDejaVu().map((p) => p.split('/').pop())).toEqual(['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf']);
  });

  it('draws each letter of the name as its own glyph, never the missing-glyph box', () => {
    // U+4E00 is not in DejaVu Sans: whatever resvg draws for a missing glyph, it is this.
    const missing = glyphInk('\u4e00');
    for (const [accented, base] of [['Ł', 'L'], ['ó', 'o'], ['ź', 'z'], ['é', 'e']] as const) {
      const a = glyphInk(accented);
      const b = glyphInk(base);
      expect(a.count, accented).toBeGreaterThan(200);
      expect(a.mask, accented).not.toEqual(missing.mask);
      // The letter is its base letter plus a mark: it covers nearly all of the base's ink, and more.
      expect(overlap(a.mask, b.mask) / b.count, `${accented} over ${base}`).toBeGreaterThan(0.85);
      expect(a.count - b.count, `${accented} has a mark`).toBeGreaterThan(40);
    }
    const sz = glyphInk('ß');
    expect(sz.count).toBeGreaterThan(200);
    expect(sz.mask).not.toEqual(missing.mask);
    expect(sz.mask).not.toEqual(glyphInk('B').mask);
  });

  it('puts the name in the title of eval.png, drawn differently from boxes or plain ASCII', () => {
    const title = `Re-render vs source: ${name}`;
    const real = band(title);
    const boxes = band(title.replace(/[^\x20-\x7e]/g, '\u4e00'));
    const ascii = band(title.replace('Ł', 'L').replace('ó', 'o').replace('ź', 'z').replace('ß', 's').replace('é', 'e'));
    expect(real.count).toBeGreaterThan(500);
    // The same title drawn alone by resvg at the same place is exactly what eval.png holds.
    const alone = `<svg xmlns="http://www.w3.org/2000/svg" width="${real.width}" height="${TITLE_BASELINE + 40}" font-family="'DejaVu Sans'"><rect width="100%" height="100%" fill="#fff"/><text x="${real.width / 2}" y="${TITLE_BASELINE}" font-size="22" font-weight="bold" text-anchor="middle" fill="rgb(34,34,34)">${escapeXml(title)}</text></svg>`;
    const ref = inkIn(svgToPng(alone), TITLE_BASELINE - 22, TITLE_BASELINE + 7);
    expect(overlap(real.mask, ref.mask)).toBe(ref.count);
    expect(real.count).toBe(ref.count);
    // And it is not what boxes or the ASCII look-alikes give.
    const differs = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v !== b[i]! ? 1 : 0), 0);
    expect(differs(real.mask, boxes.mask)).toBeGreaterThan(100);
    expect(differs(real.mask, ascii.mask)).toBeGreaterThan(50);
  });
});
