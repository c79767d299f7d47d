// The calibration report: a PNG contact sheet and an HTML page that show what each of the
// 35 edit parameters does. One row per parameter (3 pose directions, 32 attribute channels):
// renders of the neutral latent (w_avg in every W+ row) with that parameter at -u, 0 and +u
// units, then a heat map of the change between -u and +u with the calibration region
// outlined. Renders go through FrameRenderer, so the units are exactly the editor's.
import { renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PNG } from 'pngjs';
import type { FaceNetsLike } from '../face/pipeline';
import { FrameRenderer, renderSizes } from '../render/render';
import type { Runtime } from '../runtime';
import { throwIfAborted } from '../util/cancel';
import { numWs, styleLayers } from './architecture';
import { EditBasis, PARAM_COUNT, POSE_NAMES, REGIONS, Region } from './basis';
import { ModelBundle, tensor } from './bundle';
import { regionMask } from './calibrate';
import { landmarkRegionMasks } from './calibrate-landmarks';
import { writeFileAtomicSync } from '../util/fs';

// A 5x7 bitmap font: each glyph is 7 rows of 5 bits (bit 4 = leftmost pixel). Lower case draws as upper case.
const GLYPHS: Record<string, number[]> = {
  '0': [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e], '1': [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  '2': [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f], '3': [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  '4': [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02], '5': [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  '6': [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e], '7': [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  '8': [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e], '9': [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11], B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e], D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f], F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f], H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e], J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11], N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d], R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e], T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e], V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a], X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04], Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  ' ': [0, 0, 0, 0, 0, 0, 0], '.': [0, 0, 0, 0, 0, 0x0c, 0x0c], ',': [0, 0, 0, 0, 0x0c, 0x04, 0x08],
  ':': [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0], '-': [0, 0, 0, 0x1f, 0, 0, 0], '+': [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0],
  '/': [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0], '(': [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
  ')': [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08], '[': [0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e],
  ']': [0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e], '#': [0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a],
  '%': [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03], '=': [0, 0, 0x1f, 0, 0x1f, 0, 0], _: [0, 0, 0, 0, 0, 0, 0x1f],
  '|': [0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04], "'": [0x0c, 0x04, 0x08, 0, 0, 0, 0],
  '<': [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02], '>': [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
  ';': [0, 0x0c, 0x0c, 0, 0x0c, 0x04, 0x08], '?': [0x0e, 0x11, 0x01, 0x02, 0x04, 0, 0x04], '!': [0x04, 0x04, 0x04, 0x04, 0, 0, 0x04], '*': [0, 0x04, 0x15, 0x0e, 0x15, 0x04, 0]
};
export const GLYPH_W = 5;
export const GLYPH_H = 7;
const ADVANCE = 6;
const LINE = 9;

type Rgb = readonly [number, number, number];

class Canvas {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
    bg: Rgb
  ) {
    this.data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.data.set([bg[0], bg[1], bg[2], 255], i * 4);
  }
  set(x: number, y: number, c: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.data.set(c, (y * this.width + x) * 4);
  }
  /** Interleaved RGB bytes of a size x size image at (x0, y0). */
  blit(rgb: Uint8Array, size: number, x0: number, y0: number): void {
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) this.set(x0 + x, y0 + y, [rgb[(y * size + x) * 3]!, rgb[(y * size + x) * 3 + 1]!, rgb[(y * size + x) * 3 + 2]!]);
  }
  text(s: string, x0: number, y0: number, c: Rgb, scale = 1): void {
    let x = x0;
    for (const ch of s.toUpperCase()) {
      const g = GLYPHS[ch] ?? GLYPHS['?']!;
      for (let r = 0; r < GLYPH_H; r++) {
        for (let b = 0; b < GLYPH_W; b++) {
          if (!((g[r]! >> (GLYPH_W - 1 - b)) & 1)) continue;
          for (let sy = 0; sy < scale; sy++) for (let sx = 0; sx < scale; sx++) this.set(x + b * scale + sx, y0 + r * scale + sy, c);
        }
      }
      x += ADVANCE * scale;
    }
  }
  png(): Buffer {
    const p = new PNG({ width: this.width, height: this.height, colorType: 2, inputHasAlpha: true });
    p.data = Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength);
    return PNG.sync.write(p, { colorType: 2, inputHasAlpha: true });
  }
}

export const textWidth = (s: string, scale = 1): number => s.length * ADVANCE * scale;

export interface ReportRow {
  /** Parameter index in p_t (0..34). */
  index: number;
  name: string;
  kind: 'pose' | 'attribute';
  region: Region | null;
  layer: string | null;
  channel: number | null;
  sigma: number | null;
  localisation: number | null;
  /** The units this row is rendered at (-u, 0, +u). */
  units: number;
  /** Largest per-pixel RGB change between -u and +u, in 8-bit levels. */
  maxChange: number;
  /** Resolution of the channel's layer: channels above the cell size cannot show in it. */
  layerResolution: number | null;
}

export interface ReportLayout {
  width: number;
  height: number;
  /** Render size of each cell (a size the model renders, at most `maxCell`). */
  cell: number;
  /** Top of the first row and the distance between rows. */
  top: number;
  rowPitch: number;
  /** Left edges of the -u, 0, +u and change columns. */
  columns: [number, number, number, number];
}

export interface CalibrationReport {
  png: Buffer;
  html: string;
  layout: ReportLayout;
  rows: ReportRow[];
  /** Where the outlined regions come from. */
  regionsFrom: 'landmarks' | 'fixed-regions';
}

export interface ReportOptions {
  /** Attribute units either side of 0 (default 2). */
  units?: number;
  /** Pose units either side of 0 (default 2). */
  poseUnits?: number;
  /** Largest cell size (default 128): cells render at the largest model size up to it. */
  maxCell?: number;
  /**
   * Face networks: for a basis calibrated with landmarks, the regions are outlined
   * where the landmarks of the neutral render put them. Without them (or when no face
   * is found) the fixed FFHQ-crop regions are outlined.
   */
  nets?: FaceNetsLike | null;
  /** File name the HTML page uses for the image (default report.png). */
  pngName?: string;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

const BG: Rgb = [24, 26, 30];
const FG: Rgb = [226, 229, 235];
const DIM: Rgb = [140, 146, 158];
const OUTLINE: Rgb = [64, 224, 255];
const PAD = 8;
const GAP = 4;

/** The neutral latent: w_avg in every W+ row. */
export function neutralLatent(bundle: ModelBundle): Float32Array {
  const a = bundle.manifest.architecture;
  const wAvg = tensor(bundle, 'mapping.w_avg');
  const L = numWs(a);
  const w = new Float32Array(L * a.wDim);
  for (let l = 0; l < L; l++) w.set(wAvg, l * a.wDim);
  return w;
}

/** Fixed-region masks, or landmark-region masks of the neutral render when the basis was calibrated so and a face is found. */
async function outlineMasks(basis: EditBasis, nets: FaceNetsLike | null | undefined, neutral: Uint8Array, size: number): Promise<{ masks: Record<Region, Float32Array>; from: 'landmarks' | 'fixed-regions' }> {
  if (basis.meta.regionMethod === 'landmarks' && nets) {
    const [box] = await nets.detect(neutral, size, size);
    if (box) return { masks: landmarkRegionMasks(await nets.landmarks(neutral, size, size, box), size), from: 'landmarks' };
  }
  return { masks: Object.fromEntries(REGIONS.map((r) => [r, regionMask(size, r)])) as Record<Region, Float32Array>, from: 'fixed-regions' };
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function rowLabels(r: ReportRow, basis: EditBasis, cell: number): string[] {
  if (r.kind === 'pose') {
    return [`P${r.index + 1} ${r.name}`, `pose, W+ rows ${basis.meta.poseLayers.join(',')}`, `unit: ${basis.meta.poseUnit}`, `max change ${r.maxChange}`];
  }
  const shown = r.layerResolution! <= cell ? `max change ${r.maxChange}` : `acts at ${r.layerResolution}px: not shown at ${cell}`;
  return [`A${r.index - POSE_NAMES.length + 1} ${r.name}`, `${r.region} ${r.layer}[${r.channel}]`, `sigma ${fmt(r.sigma!)} loc ${fmt(r.localisation!)}`, shown];
}

export async function buildCalibrationReport(bundle: ModelBundle, basis: EditBasis, rt: Runtime, opts: ReportOptions = {}): Promise<CalibrationReport> {
  const units = opts.units ?? 2;
  const poseUnits = opts.poseUnits ?? 2;
  const res = bundle.manifest.architecture.resolution;
  const cell = Math.max(...renderSizes(res).filter((s) => s <= (opts.maxCell ?? 128)), renderSizes(res)[0]!);
  const renderer = new FrameRenderer(bundle, basis, rt);
  const wid = neutralLatent(bundle);

  // 0, then -u and +u for each of the 35 parameters.
  const params = new Float32Array((1 + 2 * PARAM_COUNT) * PARAM_COUNT);
  for (let i = 0; i < PARAM_COUNT; i++) {
    const u = i < POSE_NAMES.length ? poseUnits : units;
    params[(1 + 2 * i) * PARAM_COUNT + i] = -u;
    params[(2 + 2 * i) * PARAM_COUNT + i] = u;
  }
  const images: Uint8Array[] = [];
  const batch = 8;
  const n = params.length / PARAM_COUNT;
  for (let t = 0; t < n; t += batch) {
    throwIfAborted(opts.signal);
    const k = Math.min(batch, n - t);
    images.push(...(await renderer.render(wid, params.subarray(t * PARAM_COUNT, (t + k) * PARAM_COUNT), cell, batch)));
    opts.onProgress?.(Math.min(1, (t + k) / n));
  }
  const zero = images[0]!;
  const outline = await outlineMasks(basis, opts.nets, zero, cell);

  const layerRes = new Map(styleLayers(bundle.manifest.architecture).map((l) => [l.name, l.res]));
  const rows: ReportRow[] = [];
  const diffs: Float32Array[] = [];
  for (let i = 0; i < PARAM_COUNT; i++) {
    const lo = images[1 + 2 * i]!;
    const hi = images[2 + 2 * i]!;
    const d = new Float32Array(cell * cell);
    let max = 0;
    for (let p = 0; p < cell * cell; p++) {
      let s = 0;
      for (let c = 0; c < 3; c++) s += (hi[p * 3 + c]! - lo[p * 3 + c]!) ** 2;
      d[p] = Math.sqrt(s);
      max = Math.max(max, d[p]!);
    }
    diffs.push(d);
    const pose = i < POSE_NAMES.length;
    const at = pose ? null : basis.meta.attributes[i - POSE_NAMES.length]!;
    rows.push({
      index: i,
      name: pose ? POSE_NAMES[i]! : at!.name,
      kind: pose ? 'pose' : 'attribute',
      region: at?.region ?? null,
      layer: at?.layer ?? null,
      channel: at?.channel ?? null,
      sigma: at?.sigma ?? null,
      localisation: at?.localisation ?? null,
      units: pose ? poseUnits : units,
      maxChange: Math.round(max),
      layerResolution: at ? (layerRes.get(at.layer) ?? null) : null
    });
  }

  // Layout: header, column titles, then one row per parameter.
  const m = bundle.manifest;
  const header = [
    'Stylecast calibration report',
    `model ${m.name}  id ${m.id}  ${res}x${res}`,
    `pose: ${basis.meta.poseMethod}, unit ${basis.meta.poseUnit}, +-${fmt(poseUnits)} units`,
    `attributes: ${basis.meta.regionMethod}, unit sigma, +-${fmt(units)} units; ${basis.meta.samples} samples, seed ${basis.meta.seed}`,
    `columns: -u | 0 | +u | change from -u to +u (heat), region outlined (${outline.from})`
  ];
  const labels = rows.map((r) => rowLabels(r, basis, cell));
  const labelWidth = Math.max(...labels.flat().map((s) => textWidth(s))) + PAD;
  const rowPitch = Math.max(cell, labels[0]!.length * LINE) + GAP;
  const columns: [number, number, number, number] = [0, 1, 2, 3].map((c) => PAD + labelWidth + c * (cell + GAP)) as [number, number, number, number];
  const width = Math.max(columns[3] + cell + PAD, PAD + Math.max(...header.map((s) => textWidth(s))) + PAD);
  const titlesY = PAD + header.length * LINE + GAP;
  const top = titlesY + LINE + GAP;
  const height = top + PARAM_COUNT * rowPitch + PAD;
  const cv = new Canvas(width, height, BG);
  header.forEach((s, i) => cv.text(s, PAD, PAD + i * LINE, i === 0 ? FG : DIM));
  const titles = [`-${fmt(units)}`, '0', `+${fmt(units)}`, 'change'];
  titles.forEach((s, c) => cv.text(s, columns[c]!, titlesY, DIM));

  rows.forEach((r, i) => {
    const y = top + i * rowPitch;
    labels[i]!.forEach((s, l) => cv.text(s, PAD, y + l * LINE, l === 0 ? FG : DIM));
    cv.blit(images[1 + 2 * i]!, cell, columns[0], y);
    cv.blit(zero, cell, columns[1], y);
    cv.blit(images[2 + 2 * i]!, cell, columns[2], y);
    // The change as heat over a dimmed neutral render, normalised per row.
    const d = diffs[i]!;
    const max = Math.max(r.maxChange, 1);
    for (let p = 0; p < cell * cell; p++) {
      const t = Math.min(1, d[p]! / max);
      const g = (zero[p * 3]! + zero[p * 3 + 1]! + zero[p * 3 + 2]!) / 3 * 0.3;
      const heat: Rgb = [Math.round(g + (255 - g) * Math.min(1, 2 * t)), Math.round(g + (230 - g) * Math.max(0, 2 * t - 1)), Math.round(g * (1 - t))];
      cv.set(columns[3] + (p % cell), y + Math.floor(p / cell), heat);
    }
    if (r.region) {
      // The mask's boundary: pixels inside with a 4-neighbour outside (or at the edge).
      const mk = outline.masks[r.region];
      const at = (x: number, yy: number) => (x >= 0 && yy >= 0 && x < cell && yy < cell ? mk[yy * cell + x]! : 0);
      for (let py = 0; py < cell; py++) {
        for (let px = 0; px < cell; px++) {
          if (at(px, py) && (!at(px - 1, py) || !at(px + 1, py) || !at(px, py - 1) || !at(px, py + 1))) cv.set(columns[3] + px, y + py, OUTLINE);
        }
      }
    }
  });

  const layout: ReportLayout = { width, height, cell, top, rowPitch, columns };
  const png = cv.png();
  const html = reportHtml(bundle, basis, rows, opts.pngName ?? 'report.png', layout, outline.from);
  return { png, html, layout, rows, regionsFrom: outline.from };
}

function reportHtml(bundle: ModelBundle, basis: EditBasis, rows: ReportRow[], pngName: string, layout: ReportLayout, regionsFrom: string): string {
  const m = bundle.manifest;
  const e = escapeHtml;
  const body = rows
    .map((r) => {
      const cells = r.kind === 'pose'
        ? [`P${r.index + 1}`, r.name, 'pose', `W+ rows ${basis.meta.poseLayers.join(', ')}`, '', basis.meta.poseUnit, '', String(r.units), String(r.maxChange)]
        : [`A${r.index - POSE_NAMES.length + 1}`, r.name, r.region!, r.layer!, String(r.channel), r.sigma!.toPrecision(4), r.localisation!.toFixed(3), String(r.units), String(r.maxChange)];
      return `<tr>${cells.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Calibration report: ${e(m.name)}</title>
<style>
body { background: #181a1e; color: #e2e5eb; font: 14px/1.4 system-ui, sans-serif; margin: 24px; }
table { border-collapse: collapse; margin: 16px 0; }
th, td { border-bottom: 1px solid #333842; padding: 3px 10px; text-align: left; }
td:nth-child(n+5) { font-variant-numeric: tabular-nums; }
img { image-rendering: pixelated; max-width: 100%; }
code { color: #9fe3ff; }
</style>
</head>
<body>
<h1>Calibration report: ${e(m.name)}</h1>
<p>Model id <code>${e(m.id)}</code>, ${m.architecture.resolution}x${m.architecture.resolution}. Pose directions: <code>${e(basis.meta.poseMethod)}</code>, one unit is one ${e(basis.meta.poseUnit)}, on W+ rows ${basis.meta.poseLayers.join(', ')}.
Attribute channels: <code>${e(basis.meta.regionMethod)}</code>; one unit is the channel's standard deviation (sigma) over ${basis.meta.samples} mapped samples (seed ${basis.meta.seed}).</p>
<p>Each row renders the neutral latent (w_avg in every W+ row) with one parameter at -u, 0 and +u units, then the change from -u to +u as a heat map (normalised per row) with the calibration region outlined (${regionsFrom === 'landmarks' ? 'from the landmarks of the neutral render' : 'the fixed regions of an FFHQ-aligned crop'}). Cells are ${layout.cell}x${layout.cell} pixels${layout.cell < m.architecture.resolution ? `; channels of layers above ${layout.cell}px act on detail finer than a cell and show no change here` : ''}.</p>
<img src="${e(pngName)}" width="${layout.width}" height="${layout.height}" alt="Contact sheet of the 35 edit parameters of ${e(m.name)}">
<table>
<thead><tr><th>#</th><th>name</th><th>region</th><th>layer</th><th>channel</th><th>sigma</th><th>localisation</th><th>units</th><th>max change (8-bit)</th></tr></thead>
<tbody>
${body}
</tbody>
</table>
</body>
</html>
`;
}

/** Writes the report's PNG and HTML atomically. */
export function writeCalibrationReport(report: CalibrationReport, pngPath: string, htmlPath: string): void {
  writeFileAtomicSync(pngPath, report.png);
  writeFileAtomicSync(htmlPath, report.html);
}

/** The HTML path beside a PNG path: report.png -> report.html. */
export const htmlBeside = (pngPath: string): string => (pngPath.toLowerCase().endsWith('.png') ? pngPath.slice(0, -4) : pngPath) + '.html';
export const pngNameOf = (pngPath: string): string => basename(pngPath);
