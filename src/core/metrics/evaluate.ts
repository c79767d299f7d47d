// Evaluation of an encoding against its source: the re-render of every encoded frame
// is compared with the aligned crop of the source frame it came from.
import type { FaceNetsLike } from '../face/pipeline';
import type { FaceBox, Landmarks68 } from '../face/types';
import { warpToCrop } from '../face/warp';
import { PARAM_COUNT } from '../model/basis';
import { Project, frameTransform, sourceDecoding, verifySource } from '../project';
import type { FrameRenderer } from '../render/render';
import { throwIfAborted } from '../util/cancel';
import { decodeFrames } from '../video';
import { findPerceptualBundle } from '../perceptual/find';
import type { LpipsVgg } from '../perceptual/lpips';
import { lpipsDistances } from '../perceptual/metric';
import { fromRgb8 } from '../render/image';
import { akd, temporalJitter, temporalJitterPerFrame } from './landmarks';
import { psnr, ssim } from './image';
import { summarise, type MetricSummary } from './summary';
import { cosineSimilarity } from './vector';
import { PlainFileError, readPlainFileSync } from '../util/fs';
import { join } from 'node:path';
import { linePlotPng, type PlotSeries } from './plot';

/** Face networks with the descriptor, for identity similarity. */
export interface EvalNets extends FaceNetsLike {
  descriptor?(rgb: Uint8Array, width: number, height: number, landmarks: Landmarks68): Promise<Float32Array> | Float32Array;
}

export interface EvalReport {
  frames: number;
  psnr: MetricSummary;
  ssim: MetricSummary;
  /** LPIPS-VGG; null when no perceptual weights were found for the model. */
  lpips: MetricSummary | null;
  /** Null when faces could not be found in the crops (e.g. a seeded model's random images). */
  akd: MetricSummary | null;
  identity: MetricSummary | null;
  jitterPx: number | null;
  faceMetricsNote?: string;
  bytesPerFrame: number;
  paramCorrelation?: ParamCorrelation;
  perFrame: EvalPerFrame;
}

/** Per-frame values of an evaluation (null where faces were not found in a frame pair). */
export interface EvalPerFrame {
  psnr: number[];
  ssim: number[];
  akd: (number | null)[];
  lpips?: number[];
  /** Cosine similarity of the face descriptors of source crop and re-render. */
  identity?: (number | null)[];
  /** Landmark jitter between each frame and the next (temporalJitter of that pair), in crop pixels. */
  jitter?: (number | null)[];
}

/** Correlation of each encoded track with the truth. */
export interface ParamCorrelation {
  /** Tracks whose correlation was computed; min and median are over these. */
  compared: number;
  /** Tracks in the encoding. */
  tracks: number;
  min: number;
  median: number;
  /** Correlation per track; null where it cannot be computed. */
  perTrack: Record<string, number | null>;
  /** Tracks whose correlation cannot be computed, by name: each counts as a failure. */
  uncomputable: { track: string; reason: string }[];
}

export interface Truth {
  params: number[][];
  paramNames?: string[];
  /** The model the truth was rendered with (stylecast synth writes it). */
  modelId?: string;
}

/** A truth file made for another model or another edit basis names other tracks: comparing by position would be meaningless. */
function checkTruth(t: Truth, p: Project): void {
  if (t.modelId !== undefined && t.modelId !== p.doc.model.id) {
    throw new Error(`the truth file was made with model ${t.modelId}, but ${p.dir} was encoded with ${p.doc.model.name} (${p.doc.model.id})`);
  }
  const names = p.doc.encoding.paramNames;
  if (t.paramNames !== undefined && (t.paramNames.length !== names.length || t.paramNames.some((n, k) => n !== names[k]))) {
    throw new Error(`the truth file's tracks (${t.paramNames.slice(0, 4).join(', ')}, ...) are not ${p.dir}'s (${names.slice(0, 4).join(', ')}, ...): it was made with another edit basis`);
  }
}

const isConstant = (a: ArrayLike<number>): boolean => {
  for (let i = 1; i < a.length; i++) if (a[i] !== a[0]) return false;
  return true;
};

/**
 * Pearson correlation (offset- and scale-invariant); NaN for a constant series (checked
 * exactly: a constant series' rounded mean would leave tiny deviations that correlate).
 */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (n !== b.length) throw new RangeError(`pearson: series differ in length (${n} vs ${b.length})`);
  if (n < 2 || isConstant(a) || isConstant(b)) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]! - ma;
    const y = b[i]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}

async function faceIn(nets: EvalNets, rgb: Uint8Array, n: number): Promise<{ box: FaceBox; lm: Landmarks68 } | null> {
  const boxes = await nets.detect(rgb, n, n);
  const box = boxes.sort((x, y) => y.score - x.score)[0];
  if (!box) return null;
  return { box, lm: await nets.landmarks(rgb, n, n, box) };
}

export async function evaluateProject(opts: {
  project: Project;
  renderer: FrameRenderer;
  nets?: EvalNets;
  truth?: Truth;
  /** LPIPS-VGG weights; left out: looked up beside the renderer's model (perceptual/find.ts); null: no LPIPS. */
  perceptual?: LpipsVgg | null;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}): Promise<EvalReport> {
  const { project: p, renderer, nets } = opts;
  const enc = p.doc.encoding;
  const count = enc.encodedThrough;
  if (count === 0) throw new Error(`${p.dir} has no encoded frames yet`);
  // Measured against the very video the project was encoded from (found, then checked): another
  // one, or a re-export of it, would be compared frame by frame with frames it does not hold.
  const source = await verifySource(p, opts.signal);
  if (opts.truth) checkTruth(opts.truth, p);
  const res = renderer.resolution;
  const lpipsNet = opts.perceptual === undefined ? (findPerceptualBundle(renderer.bundle.dir)?.net ?? null) : opts.perceptual;
  const lp: number[] = [];
  const ps: number[] = [];
  const ss: number[] = [];
  const ak: (number | null)[] = [];
  const ids: number[] = [];
  const idPerFrame: (number | null)[] = [];
  const lmSrc: (Landmarks68 | null)[] = [];
  const lmOut: (Landmarks68 | null)[] = [];
  let pending: Uint8Array[] = [];
  let i = 0;
  const chunk = 8;
  const flush = async () => {
    const k = pending.length;
    if (!k) return;
    const crops = await renderer.render(p.wid, p.params.subarray(i * PARAM_COUNT, (i + k) * PARAM_COUNT), res);
    if (lpipsNet) {
      const plane = 3 * res * res;
      const a = new Float32Array(k * plane);
      const b = new Float32Array(k * plane);
      for (let j = 0; j < k; j++) {
        a.set(fromRgb8(crops[j]!, res, res), j * plane);
        b.set(fromRgb8(pending[j]!, res, res), j * plane);
      }
      lp.push(...(await lpipsDistances(renderer.rt, lpipsNet, a, b, k, res, res)));
    }
    for (let j = 0; j < k; j++) {
      const src = pending[j]!;
      const out = crops[j]!;
      ps.push(psnr(out, src));
      ss.push(ssim(out, src, res, res));
      if (nets) {
        const a = await faceIn(nets, src, res);
        const b = await faceIn(nets, out, res);
        lmSrc.push(a?.lm ?? null);
        lmOut.push(b?.lm ?? null);
        ak.push(a && b ? akd(a.lm, b.lm) : null);
        if (a && b && nets.descriptor) {
          const id = cosineSimilarity(await nets.descriptor(src, res, res, a.lm), await nets.descriptor(out, res, res, b.lm));
          ids.push(id);
          idPerFrame.push(id);
        } else idPerFrame.push(null);
      } else ak.push(null);
    }
    i += k;
    pending = [];
    opts.onProgress?.(i, count);
  };
  for await (const f of decodeFrames(source, { start: enc.frames.start, count, ...sourceDecoding(p), signal: opts.signal })) {
    throwIfAborted(opts.signal);
    pending.push(warpToCrop(f.data, f.width, f.height, frameTransform(p, f.index - enc.frames.start), res));
    if (pending.length === chunk) await flush();
  }
  await flush();
  if (ps.length !== count) throw new Error(`the source video ${source} ended after ${ps.length} of the ${count} encoded frames: nothing is reported for a partial comparison`);

  const found = ak.filter((v) => v !== null).length;
  const faceOk = nets && found >= Math.max(1, count / 2);
  const report: EvalReport = {
    frames: count,
    psnr: summarise(ps),
    ssim: summarise(ss),
    lpips: lpipsNet ? summarise(lp) : null,
    akd: faceOk ? summarise(ak.filter((v): v is number => v !== null)) : null,
    identity: faceOk && ids.length ? summarise(ids) : null,
    jitterPx: faceOk ? temporalJitter(lmSrc, lmOut) : null,
    bytesPerFrame: PARAM_COUNT * 4,
    perFrame: {
      psnr: ps,
      ssim: ss,
      akd: ak,
      ...(lpipsNet ? { lpips: lp } : {}),
      ...(nets ? { identity: idPerFrame, jitter: temporalJitterPerFrame(lmSrc, lmOut) } : {})
    }
  };
  if (!faceOk) {
    report.faceMetricsNote = nets
      ? `faces were found in only ${found} of ${count} frame pairs (source crop and re-render), so AKD, identity and jitter are not reported`
      : 'no face networks given: AKD, identity and jitter are not reported';
  }
  if (opts.truth) report.paramCorrelation = correlateTracks(opts.truth.params, p.params, enc.paramNames, enc.frames.start, count);
  return report;
}

/**
 * The Pearson correlation of each of the 35 tracks of `params` ([count, 35], encoded
 * frames start.. of the source) with the truth rows of the same source frames. A track
 * whose correlation cannot be computed is listed by name with the reason.
 */
export function correlateTracks(truth: readonly (readonly number[])[], params: ArrayLike<number>, names: readonly string[], start: number, count: number): ParamCorrelation {
  const perTrack: Record<string, number | null> = {};
  const uncomputable: ParamCorrelation['uncomputable'] = [];
  const values: number[] = [];
  for (let k = 0; k < PARAM_COUNT; k++) {
    const t: number[] = [];
    const e: number[] = [];
    for (let f = 0; f < count; f++) {
      const row = truth[start + f];
      if (!row) throw new Error(`the truth file has no parameters for source frame ${start + f}`);
      t.push(row[k]!);
      e.push(params[f * PARAM_COUNT + k]!);
    }
    const name = names[k] ?? `p${k}`;
    const c = pearson(t, e);
    if (Number.isFinite(c)) {
      perTrack[name] = c;
      values.push(c);
      continue;
    }
    perTrack[name] = null;
    const [ct, ce] = [isConstant(t), isConstant(e)];
    const reason = count < 2 ? 'fewer than two frames' : ct && ce ? 'truth and encoding are both constant' : ct ? 'the truth is constant' : ce ? 'the encoding is constant' : `not finite (${c})`;
    uncomputable.push({ track: name, reason });
  }
  const s = summarise(values);
  return { compared: values.length, tracks: PARAM_COUNT, min: s.min, median: s.median, perTrack, uncomputable };
}

const gaps = (vs: readonly (number | null)[]): number[] => vs.map((v) => (v === null ? Number.NaN : v));
const anyFinite = (vs: readonly (number | null)[] | undefined): vs is (number | null)[] => Boolean(vs?.some((v) => v !== null && Number.isFinite(v)));

/**
 * The per-frame series of eval.png and of the studio's Evaluate panel: PSNR, SSIM, LPIPS,
 * AKD, identity and jitter where measured, and the encoder's final loss of each frame.
 */
export function evalPlotSeries(perFrame: EvalPerFrame, loss?: ArrayLike<number>, lossOnly = false): PlotSeries[] {
  const series: PlotSeries[] = lossOnly ? [] : [
    { name: 'PSNR (dB)', values: gaps(perFrame.psnr) },
    { name: 'SSIM', values: gaps(perFrame.ssim) }
  ];
  if (anyFinite(perFrame.lpips)) series.push({ name: 'LPIPS-VGG', values: gaps(perFrame.lpips) });
  if (anyFinite(perFrame.akd)) series.push({ name: 'AKD (px)', values: gaps(perFrame.akd) });
  if (anyFinite(perFrame.identity)) series.push({ name: 'identity (cosine)', values: gaps(perFrame.identity) });
  if (anyFinite(perFrame.jitter)) series.push({ name: 'jitter (px)', values: gaps(perFrame.jitter) });
  if (loss && loss.length) series.push({ name: 'encoder loss', values: Array.from(loss) });
  return series;
}

/** `lossOnly`: a project not evaluated yet, whose plot has the encoder's loss alone. */
export function evalPlotPng(r: { perFrame: EvalPerFrame }, title: string, subtitle?: string, loss?: ArrayLike<number>, lossOnly = false): Buffer {
  return linePlotPng({ title, subtitle, xLabel: 'encoded frame', series: evalPlotSeries(r.perFrame, loss, lossOnly), layout: 'stacked' });
}

/** The most eval.json may hold: about 300 bytes per frame for 200,000 frames. */
const EVAL_JSON_MAX_BYTES = 64 * 2 ** 20;

/** The per-frame values `stylecast eval` stored in a project's eval.json (JSON's nulls are gaps); null when there is none. */
export function readEvalPerFrame(projectDir: string): EvalPerFrame | null {
  const file = join(projectDir, 'eval.json');
  let text: string;
  try {
    // A shared project's file: never through a link, and not larger than 200,000 frames' values could be.
    text = readPlainFileSync(projectDir, 'eval.json', { max: EVAL_JSON_MAX_BYTES }).toString('utf8');
  } catch (e) {
    if (e instanceof PlainFileError && e.reason === 'missing') return null;
    throw new Error(`${file} cannot be read: ${(e as Error).message}; run stylecast eval on the project again`);
  }
  const perFrame = (JSON.parse(text) as { perFrame?: Record<string, (number | null)[]> }).perFrame;
  if (!perFrame || !Array.isArray(perFrame.psnr) || !Array.isArray(perFrame.ssim)) throw new Error(`${file} has no per-frame values: run stylecast eval on the project again`);
  const nums = (vs: (number | null)[]) => vs.map((v) => (typeof v === 'number' ? v : Number.NaN));
  return {
    psnr: nums(perFrame.psnr),
    ssim: nums(perFrame.ssim),
    akd: perFrame.akd ?? [],
    ...(perFrame.lpips ? { lpips: nums(perFrame.lpips) } : {}),
    ...(perFrame.identity ? { identity: perFrame.identity } : {}),
    ...(perFrame.jitter ? { jitter: perFrame.jitter } : {})
  };
}
