// Tuning on a portrait (issue 11: "a portrait identity can be tuned on the portrait"): the
// same optimisation as a project's (optimiseDelta: the encoder's losses plus the locality
// term), fitted to the one aligned crop the portrait was inverted from, with w_ID its W+ and
// the 35 parameters at zero, as the inversion rendered it. One image leaves nothing to hold
// out, so the report measures the portrait itself (psnr.*.tuned) and says heldOut: null.
// There is no project folder yet, so a stopped run keeps no checkpoint: it starts over.
import { DEFAULT_LOSS, type LossWeights } from '../encode/losses';
import { psnr } from '../metrics/image';
import { PARAM_COUNT, type EditBasis } from '../model/basis';
import type { ModelBundle } from '../model/bundle';
import type { PerceptualBundle } from '../perceptual/bundle';
import { lpipsDistances } from '../perceptual/metric';
import { fromRgb8, toRgb8 } from '../render/image';
import { FrameRenderer } from '../render/render';
import type { Runtime } from '../runtime';
import { throwIfAborted } from '../util/cancel';
import { DEFAULT_RANK, type DeltaLayout, type SynthesisDelta, TuneError, applyDelta, checkBudget, largestRank, planDelta, synthesisBytes } from './delta';
import { widSha256 } from './store';
import { DEFAULT_TUNE, type TuneProgress, type TuneSettings, measureLocality, optimiseDelta, tuneRun } from './tune';

/** Steps of a portrait tune by default: one image per step, so fewer than a project's 600. */
export const DEFAULT_PORTRAIT_STEPS = 300;

type Measure = { tuned: number; heldOut: null };

/** What `stylecast puppeteer --tune --json` prints under `tune`, and the driven project's tune record keeps. */
export interface PortraitTuneReport {
  source: 'portrait';
  /** One image tuned; none held out. */
  frames: { tuned: 1; heldOut: 0 };
  /** PSNR in dB of the render against the aligned portrait crop; heldOut is null (there is no held-out frame). */
  psnr: { before: Measure; after: Measure };
  lpips: { before: Measure; after: Measure } | null;
  /** As TuneReport.locality: mean absolute 8-bit change of renders of random latents near w_ID. */
  locality: number;
  deltaBytes: number;
  synthesisBytes: number;
  seconds: number;
}

export interface PortraitTuneOptions {
  /** The aligned portrait crop, [1, 3, R, R] in -1..1 (portraitCrop / invertPortrait). */
  crop: Float32Array;
  /** The portrait's W+ (identityFromPortrait). */
  wid: Float32Array;
  /** The portrait's path, for messages and the record. */
  label: string;
  bundle: ModelBundle;
  basis: EditBasis;
  rt: Runtime;
  /** Left out: DEFAULT_PORTRAIT_STEPS steps, the largest rank up to 8 that fits the budget. */
  settings?: Partial<TuneSettings>;
  /** The loss the portrait was inverted with (default: the encoder's). */
  weights?: LossWeights;
  /** LPIPS-VGG for the losses; left out: looked up beside the model; null: MS-SSIM. */
  perceptual?: PerceptualBundle | null;
  signal?: AbortSignal;
  onProgress?: (p: TuneProgress) => void;
}

export interface PortraitTune {
  delta: SynthesisDelta;
  report: PortraitTuneReport;
  /** The fields the driven project's tune record gets besides the file's (storeDelta's `extra`). */
  record: Record<string, unknown>;
}

/** The settings of a portrait tune, checked before any work; a bad one is a one-line TuneError naming the CLI flag. */
export function portraitTuneSettings(bundle: ModelBundle, settings: Partial<TuneSettings> = {}): { s: TuneSettings; layout: DeltaLayout } {
  const arch = bundle.manifest.architecture;
  const s: TuneSettings = { ...DEFAULT_TUNE, steps: DEFAULT_PORTRAIT_STEPS, rank: Math.max(1, largestRank(arch, DEFAULT_RANK)), ...settings };
  if (!Number.isInteger(s.steps) || s.steps < 1) throw new TuneError('BAD_ARGUMENT', `--tune-steps must be a whole number of at least 1 (got ${s.steps})`);
  if (!Number.isInteger(s.rank) || s.rank < 1) throw new TuneError('BAD_ARGUMENT', `--tune-rank must be a whole number of at least 1 (got ${s.rank})`);
  const layout = planDelta(arch, s.rank);
  try {
    checkBudget(arch, layout);
  } catch (e) {
    throw new TuneError('BAD_ARGUMENT', (e as Error).message.replace(/--rank/g, '--tune-rank'));
  }
  return { s, layout };
}

/** Renders w_ID with zero parameters (how the portrait was inverted) and measures it against the crop. */
async function measurePortrait(renderer: FrameRenderer, wid: Float32Array, crop: Float32Array, lpipsNet: PerceptualBundle['net'] | null): Promise<{ psnr: number; lpips: number | null }> {
  const res = renderer.resolution;
  const [img] = await renderer.render(wid, new Float32Array(PARAM_COUNT), res, 1);
  const target = toRgb8(crop, 0, res, res);
  // LPIPS on the 8-bit images, as `eval` measures it.
  const lp = lpipsNet ? (await lpipsDistances(renderer.rt, lpipsNet, fromRgb8(img!, res, res), fromRgb8(target, res, res), 1, res, res))[0]! : null;
  return { psnr: psnr(img!, target), lpips: lp };
}

/** Tunes a delta on one portrait; nothing is written (puppeteerProject stores it in the driven project). */
export async function tunePortrait(o: PortraitTuneOptions): Promise<PortraitTune> {
  const t0 = performance.now();
  const { bundle, rt } = o;
  const { s, layout } = portraitTuneSettings(bundle, o.settings);
  const res = bundle.manifest.architecture.resolution;
  if (o.crop.length !== 3 * res * res) throw new TuneError('BAD_ARGUMENT', `the portrait crop of ${o.label} has ${o.crop.length} values, not 3 x ${res} x ${res}`);
  const weights = o.weights ?? DEFAULT_LOSS;
  const run = tuneRun(o, s, layout, weights);
  const { report, perceptual, lpipsNet } = run;

  report({ stage: 'prepare', fraction: 0, message: `measuring the untuned network on ${o.label}` });
  const before = await measurePortrait(new FrameRenderer(bundle, o.basis, rt), o.wid, o.crop, lpipsNet);
  const { delta } = await optimiseDelta(run, { crops: o.crop, params: new Float32Array(PARAM_COUNT), wid: o.wid, count: 1 });
  report({ stage: 'measure', fraction: 0.92, message: 'measuring the tuned network' });
  const after = await measurePortrait(new FrameRenderer(bundle, o.basis, rt, applyDelta(bundle, delta)), o.wid, o.crop, lpipsNet);
  const locality = await measureLocality(bundle, delta, rt, o.wid, s);
  throwIfAborted(o.signal);
  const result: PortraitTuneReport = {
    source: 'portrait',
    frames: { tuned: 1, heldOut: 0 },
    psnr: { before: { tuned: before.psnr, heldOut: null }, after: { tuned: after.psnr, heldOut: null } },
    lpips: before.lpips !== null && after.lpips !== null ? { before: { tuned: before.lpips, heldOut: null }, after: { tuned: after.lpips, heldOut: null } } : null,
    locality,
    deltaBytes: 2 * layout.size,
    synthesisBytes: synthesisBytes(bundle.manifest.architecture),
    seconds: (performance.now() - t0) / 1000
  };
  report({ stage: 'done', fraction: 1, etaSec: 0, message: `tuned on ${o.label} in ${s.steps} steps` });
  return {
    delta,
    report: result,
    record: {
      source: 'portrait',
      portrait: o.label,
      created: new Date().toISOString(),
      settings: { ...s, frames: 1, lossWeights: weights, perceptual: perceptual ? perceptual.manifest.id : null },
      report: result,
      widSha256: widSha256(o.wid)
    }
  };
}
