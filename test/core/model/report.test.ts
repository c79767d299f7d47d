// The calibration report of the seeded model: its size, its labels (DejaVu Sans through resvg), the
// neutral column against a plain render of w_avg, and where the -2/+2 renders of a channel
// differ from it.
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBasis, type EditBasis } from '../../../src/core/model/basis';
import type { ModelBundle } from '../../../src/core/model/bundle';
import { regionMask } from '../../../src/core/model/calibrate';
import { svgToPng } from '../../../src/core/metrics/svg-png';
import { escapeXml } from '../../../src/core/metrics/svg';
import { Generator } from '../../../src/core/model/generator';
import { type CalibrationReport, REPORT_LINE, REPORT_TEXT_SIZE, buildCalibrationReport, neutralLatent, reportBaseline, writeCalibrationReport } from '../../../src/core/model/report';
import { toRgb8 } from '../../../src/core/render/image';
import { Runtime } from '../../../src/core/runtime';
import { calibratedSeededModel, tempDir } from '../../helpers';

const tmp = tempDir('report');

let rt: Runtime;
let bundle: ModelBundle;
let basis: EditBasis;
let report: CalibrationReport;
let png: PNG;

beforeAll(async () => {
  rt = await Runtime.create({ device: 'cpu' });
  bundle = await calibratedSeededModel(join(tmp, 'model'), rt);
  basis = loadBasis(bundle);
  report = await buildCalibrationReport(bundle, basis, rt);
  writeCalibrationReport(report, join(tmp, 'report.png'), join(tmp, 'report.html'));
  mkdirSync('test-results', { recursive: true });
  copyFileSync(join(tmp, 'report.png'), join('test-results', 'calibration-report.png'));
  png = PNG.sync.read(readFileSync(join(tmp, 'report.png')));
});

/** RGB bytes of one cell (row, column) of the sheet. */
function cell(row: number, col: number): Uint8Array {
  const { cell: size, top, rowPitch, columns } = report.layout;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = ((top + row * rowPitch + y) * png.width + columns[col]! + x) * 4;
      out.set([png.data[i]!, png.data[i + 1]!, png.data[i + 2]!], (y * size + x) * 3);
    }
  }
  return out;
}

const OUTLINE = [64, 224, 255];

function pixel(x: number, y: number): number[] {
  const i = (y * png.width + x) * 4;
  return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
}

/** Rows of '#' (not the sheet's background) and '.' over w x h pixels at (x, y). */
function inkOfSheet(x: number, y: number, w: number, h: number): string[] {
  const bg = pixel(0, 0).join();
  return Array.from({ length: h }, (_, v) => Array.from({ length: w }, (_, u) => (pixel(x + u, y + v).join() === bg ? '.' : '#')).join(''));
}

/** The ink of `text` drawn alone by resvg where the report draws a label line starting at (x, y), over the same area. */
function inkOfText(text: string, x: number, y: number, w: number, h: number): string[] {
  const [r, g, b] = pixel(0, 0);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${png.width}" height="${y + h}" font-family="'DejaVu Sans'"><rect width="100%" height="100%" fill="rgb(${r},${g},${b})"/><text x="${x}" y="${reportBaseline(y)}" font-size="${REPORT_TEXT_SIZE}" fill="#fff">${escapeXml(text)}</text></svg>`;
  const ref = PNG.sync.read(svgToPng(svg));
  const bg = [r, g, b].join();
  return Array.from({ length: h }, (_, v) =>
    Array.from({ length: w }, (_, u) => {
      const i = ((y + v) * ref.width + x + u) * 4;
      return [ref.data[i], ref.data[i + 1], ref.data[i + 2]].join() === bg ? '.' : '#';
    }).join('')
  );
}

/** `text` is drawn at (x, y): the same pixels are inked as when resvg draws it alone there, and they fit a line. */
function expectText(text: string, x: number, y: number): void {
  // Up to the next picture column (labels) or the cell's width (column titles).
  const w = x < report.layout.columns[0] ? report.layout.columns[0] - x : report.layout.cell;
  const want = inkOfText(text, x, y, w, REPORT_LINE);
  expect(want.join('').includes('#'), text).toBe(true);
  expect(inkOfSheet(x, y, w, REPORT_LINE), `"${text}" at (${x}, ${y})`).toEqual(want);
}

describe('calibration report of the seeded model', () => {
  it('has one 64-pixel row per parameter under a five-line header', () => {
    expect(report.layout.cell).toBe(64);
    expect(report.rows).toHaveLength(35);
    expect(png.width).toBe(report.layout.width);
    // 8 px margin + 5 header lines of 14 px + 4 + a 14 px title line + 4 = 100;
    // 35 rows of max(64, 4 label lines of 14) + 4 px; 8 px margin.
    expect(report.layout.top).toBe(100);
    expect(report.layout.rowPitch).toBe(68);
    expect(png.height).toBe(100 + 35 * 68 + 8);
    const [c0, c1, c2, c3] = report.layout.columns;
    expect([c1 - c0, c2 - c1, c3 - c2]).toEqual([68, 68, 68]);
    expect(png.width).toBe(c3 + 64 + 8);
    expect(report.rows.map((r) => r.name).slice(0, 3)).toEqual(['yaw', 'pitch', 'roll']);
    expect(report.rows.slice(3).map((r) => r.name)).toEqual(basis.meta.attributes.map((a) => a.name));
  });

  it('draws the header, column titles and row labels in DejaVu Sans where the layout puts them', () => {
    const { top, rowPitch, columns } = report.layout;
    expectText('Stylecast calibration report', 8, 8);
    expectText(`model ${bundle.manifest.name}  id ${bundle.manifest.id}  64x64`, 8, 22);
    // Titles sit one 14 px line and a 4 px gap above the first row.
    ['-2', '0', '+2', 'change'].forEach((t, c) => expectText(t, columns[c]!, top - 18));
    const yaw = report.rows[0]!;
    expectText('P1 yaw', 8, top);
    expectText(`pose, W+ rows ${basis.meta.poseLayers.join(',')}`, 8, top + 14);
    expectText(`unit: ${basis.meta.poseUnit}`, 8, top + 28);
    expectText(`max change ${yaw.maxChange}`, 8, top + 42);
    for (const r of report.rows.slice(3, 6)) {
      const y = top + r.index * rowPitch;
      expectText(`A${r.index - 2} ${r.name}`, 8, y);
      expectText(`${r.region} ${r.layer}[${r.channel}]`, 8, y + 14);
    }
    // Labels end at least 8 px left of the first picture column (the column is sized from an
    // estimate of DejaVu's widths that errs wide), and the widest is not far from it.
    let right = -1;
    for (let y = top; y < top + 35 * rowPitch; y++) for (let x = 0; x < columns[0]; x++) if (pixel(x, y).join() !== pixel(0, 0).join()) right = Math.max(right, x);
    expect(right).toBeLessThan(columns[0] - 8);
    expect(right).toBeGreaterThanOrEqual(columns[0] - 8 - 40);
  });

  it('shows a plain render of the neutral latent in the 0-unit column of every row', async () => {
    const gen = new Generator(bundle, rt);
    const plain = toRgb8(await gen.render(neutralLatent(bundle), 1), 0, 64, 64);
    for (let row = 0; row < 35; row++) {
      const zero = cell(row, 1);
      let maxDiff = 0;
      for (let i = 0; i < plain.length; i++) maxDiff = Math.max(maxDiff, Math.abs(zero[i]! - plain[i]!));
      expect(maxDiff, `row ${row}`).toBeLessThanOrEqual(1);
    }
  });

  it('renders -2 and +2 units whose change is concentrated inside the outlined region', () => {
    // Per-pixel change energy inside the channel's region over that outside it. The seeded
    // model has random weights, so no channel is perfectly local (calibration's own
    // localisation scores are 0.2 to 0.5); the best are an order of magnitude denser inside.
    const ratios = report.rows.slice(3).map((r) => {
      const mask = regionMask(64, r.region!);
      const zero = cell(r.index, 1);
      let inside = 0;
      let outside = 0;
      for (const col of [0, 2]) {
        const moved = cell(r.index, col);
        for (let p = 0; p < 64 * 64; p++) {
          let e = 0;
          for (let c = 0; c < 3; c++) e += (moved[p * 3 + c]! - zero[p * 3 + c]!) ** 2;
          if (mask[p]) inside += e;
          else outside += e;
        }
      }
      const area = mask.reduce((a, b) => a + b, 0);
      expect(inside + outside, r.name).toBeGreaterThan(0);
      return { name: r.name, ratio: inside / area / (outside / (64 * 64 - area)) };
    });
    const sorted = ratios.map((r) => r.ratio).sort((a, b) => a - b);
    const best = ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    expect(best.ratio, best.name).toBeGreaterThan(8);
    expect(sorted[16]!).toBeGreaterThan(2.4);
    expect(sorted.filter((x) => x > 1).length).toBeGreaterThanOrEqual(30);
  });

  it('outlines the region in the change column and lists every channel in the HTML', () => {
    const row = report.rows.find((r) => r.region === 'mouth')!;
    // The mouth region is one box: its corners are on the outline.
    const mask = regionMask(64, 'mouth');
    const xs: number[] = [];
    const ys: number[] = [];
    mask.forEach((v, p) => v && (xs.push(p % 64), ys.push(Math.floor(p / 64))));
    const [x0, y0, x1, y1] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    expect([x0, y0, x1, y1]).toEqual([21, 42, 42, 52]);
    const at = (r: number, x: number, y: number) => pixel(report.layout.columns[3] + x, report.layout.top + r * report.layout.rowPitch + y);
    for (const [x, y] of [[x0, y0], [x1, y1], [x0, y1], [x1, y0]] as const) expect(at(row.index, x, y)).toEqual(OUTLINE);
    // Only the box's boundary is outlined: 2 x 22 columns + 2 x 9 rows between them; a pose row has no region.
    const outlined = (r: number) => {
      let n = 0;
      for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) n += at(r, x, y).join() === OUTLINE.join() ? 1 : 0;
      return n;
    };
    expect(outlined(row.index)).toBe(2 * 22 + 2 * 9);
    expect(outlined(0)).toBe(0);
    const html = readFileSync(join(tmp, 'report.html'), 'utf8');
    expect(report.regionsFrom).toBe('fixed-regions');
    expect(html).toContain('<img src="report.png"');
    expect(html).toContain(bundle.manifest.id);
    expect(html.match(/<tr><td>/g)).toHaveLength(35);
    for (const a of basis.meta.attributes) expect(html).toContain(`<td>${a.layer}</td><td>${a.channel}</td>`);
  });

  it('renders smaller cells at a smaller model size, where channels of finer layers cannot act', async () => {
    const small = await buildCalibrationReport(bundle, basis, rt, { maxCell: 32 });
    expect(small.layout.cell).toBe(32);
    const attrs = small.rows.slice(3);
    const fine = attrs.filter((r) => r.layerResolution! > 32);
    expect(fine.length).toBeGreaterThan(0);
    for (const r of fine) expect(r.maxChange, r.name).toBe(0);
    for (const r of attrs.filter((x) => x.layerResolution! <= 32)) expect(r.maxChange, r.name).toBeGreaterThan(0);
  });
});
