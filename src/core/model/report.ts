// The calibration report: a PNG contact sheet and an HTML page that show what each of the
// 35 edit parameters does. One row per parameter (3 pose directions, 32 attribute channels):
// renders of the neutral latent (w_avg in every W+ row) with that parameter at -u, 0 and +u
// units, then a heat map of the change between -u and +u with the calibration region
// outlined. Renders go through FrameRenderer, so the units are exactly the editor's.
import { basename } from 'node:path';
import type { FaceNetsLike } from '../face/pipeline';
import { escapeXml, estimateTextWidth, svgDocument, svgText, type Rgb } from '../metrics/svg';
import { svgToPng } from '../metrics/svg-png';
import { FrameRenderer, renderSizes } from '../render/render';
import type { Runtime } from '../runtime';
import { throwIfAborted } from '../util/cancel';
import { numWs, styleLayers } from './architecture';
import { EditBasis, PARAM_COUNT, POSE_NAMES, REGIONS, Region } from './basis';
import { ModelBundle, tensor } from './bundle';
import { regionMask } from './calibrate';
import { landmarkRegionMasks } from './calibrate-landmarks';
import { writeFileAtomicSync } from '../util/fs';
import { encodeRgbPng } from '../util/png';

/** Label text size and line pitch in pixels (DejaVu Sans, as in the charts). */
export const REPORT_TEXT_SIZE = 11;
export const REPORT_LINE = 14;
const measureLabel = (s: string): number => Math.ceil(estimateTextWidth(s, REPORT_TEXT_SIZE));
/** The baseline of a line whose box starts at `y`. */
export const reportBaseline = (y: number): number => y + 11;

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
const LINE = REPORT_LINE;

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

const escapeHtml = escapeXml;

function rowLabels(r: ReportRow, basis: EditBasis, cell: number): string[] {
  if (r.kind === 'pose') {
    return [`P${r.index + 1} ${r.name}`, `pose, W+ rows ${basis.meta.poseLayers.join(',')}`, `unit: ${basis.meta.poseUnit}`, `max change ${r.maxChange}`];
  }
  const shown = r.layerResolution! <= cell ? `max change ${r.maxChange}` : `acts at ${r.layerResolution}px: not shown at ${cell}`;
  return [`A${r.index - POSE_NAMES.length + 1} ${r.name}`, `${r.region} ${r.layer}[${r.channel}]`, `sigma ${fmt(r.sigma!)} loc ${fmt(r.localisation!)}`, shown];
}

/** The change as heat over a dimmed neutral render, normalised to the row's largest change, with the region's boundary outlined. */
function changeImage(zero: Uint8Array, d: Float32Array, maxChange: number, mask: Float32Array | null, cell: number): Uint8Array {
  const out = new Uint8Array(cell * cell * 3);
  const max = Math.max(maxChange, 1);
  for (let p = 0; p < cell * cell; p++) {
    const t = Math.min(1, d[p]! / max);
    const g = ((zero[p * 3]! + zero[p * 3 + 1]! + zero[p * 3 + 2]!) / 3) * 0.3;
    out.set([Math.round(g + (255 - g) * Math.min(1, 2 * t)), Math.round(g + (230 - g) * Math.max(0, 2 * t - 1)), Math.round(g * (1 - t))], p * 3);
  }
  if (mask) {
    // The mask's boundary: pixels inside with a 4-neighbour outside (or at the edge).
    const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < cell && y < cell ? mask[y * cell + x]! : 0);
    for (let y = 0; y < cell; y++) {
      for (let x = 0; x < cell; x++) {
        if (at(x, y) && (!at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1))) out.set(OUTLINE, (y * cell + x) * 3);
      }
    }
  }
  return out;
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
  const labelColumn = Math.max(...labels.flat().map(measureLabel)) + PAD;
  const rowPitch = Math.max(cell, labels[0]!.length * LINE) + GAP;
  const columns: [number, number, number, number] = [0, 1, 2, 3].map((c) => PAD + labelColumn + c * (cell + GAP)) as [number, number, number, number];
  const width = Math.max(columns[3] + cell + PAD, PAD + Math.max(...header.map(measureLabel)) + PAD);
  const titlesY = PAD + header.length * LINE + GAP;
  const top = titlesY + LINE + GAP;
  const height = top + PARAM_COUNT * rowPitch + PAD;
  const body: string[] = [];
  const text = (s: string, x: number, y: number, color: Rgb) => body.push(svgText(s, x, reportBaseline(y), { size: REPORT_TEXT_SIZE, fill: color }));
  // Renders are placed pixel for pixel (svgToPng never smooths images).
  const image = (rgb: Uint8Array, x: number, y: number) =>
    body.push(`<image x="${x}" y="${y}" width="${cell}" height="${cell}" href="data:image/png;base64,${encodeRgbPng({ data: rgb, width: cell, height: cell }).toString('base64')}"/>`);
  header.forEach((s, i) => text(s, PAD, PAD + i * LINE, i === 0 ? FG : DIM));
  const titles = [`-${fmt(units)}`, '0', `+${fmt(units)}`, 'change'];
  titles.forEach((s, c) => text(s, columns[c]!, titlesY, DIM));

  rows.forEach((r, i) => {
    const y = top + i * rowPitch;
    labels[i]!.forEach((s, l) => text(s, PAD, y + l * LINE, l === 0 ? FG : DIM));
    image(images[1 + 2 * i]!, columns[0], y);
    image(zero, columns[1], y);
    image(images[2 + 2 * i]!, columns[2], y);
    image(changeImage(zero, diffs[i]!, r.maxChange, r.region ? outline.masks[r.region] : null, cell), columns[3], y);
  });

  const layout: ReportLayout = { width, height, cell, top, rowPitch, columns };
  const png = svgToPng(svgDocument(width, height, BG, body));
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
