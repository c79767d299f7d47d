// One evaluation for `stylecast eval` and the studio's Evaluate panel: the project's
// re-render (with its fine-tuning delta unless told otherwise) against the source, then
// eval.json and eval.png written atomically into the project folder.
import { join } from 'node:path';
import type { EditBasis } from '../model/basis';
import type { ModelBundle } from '../model/bundle';
import { bytesPerFrame, type Project } from '../project';
import type { Runtime } from '../runtime';
import { projectRenderer } from '../tune/store';
import { throwIfAborted } from '../util/cancel';
import { writeFileAtomicSync } from '../util/fs';
import { evalPlotPng, evaluateProject, type EvalNets, type EvalReport, type Truth } from './evaluate';

export const EVAL_REPORT_FILE = 'eval.json';
export const EVAL_PLOT_FILE = 'eval.png';

/** A metric's median, mean and worst value (min where higher is better, max where lower is). */
type Worst<K extends 'min' | 'max'> = { median: number; mean: number } & Record<K, number>;

/** What `stylecast eval --json` prints; eval.json holds it and the per-frame values. */
export interface EvalSummary {
  psnr: Worst<'min'>;
  ssim: Worst<'min'>;
  lpips: Worst<'max'> | null;
  akd: Worst<'max'> | null;
  identity: Worst<'min'> | null;
  jitterPx: number | null;
  bytesPerFrame: number;
  frames: number;
  tuned: boolean;
  note?: string;
  paramCorrelation?: EvalReport['paramCorrelation'];
  /** Where eval.png and eval.json were written. */
  plot: string;
  report: string;
}

export interface ProjectEvaluationOptions {
  project: Project;
  bundle: ModelBundle;
  basis: EditBasis;
  rt: Runtime;
  /** Face networks for AKD, identity and jitter (left out: not measured). */
  nets?: EvalNets;
  /** Ground truth from `stylecast synth`: adds the tracks' correlation. */
  truth?: Truth;
  /** Evaluate the untuned generator (also when the delta is missing or damaged). */
  ignoreDelta?: boolean;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** A line for the user: the delta left out, and why. */
  onLog?: (line: string) => void;
}

export async function evaluateAndSave(o: ProjectEvaluationOptions): Promise<{ report: EvalReport; summary: EvalSummary }> {
  const { project } = o;
  const { renderer, delta, ignored } = await projectRenderer(project, o.bundle, o.basis, o.rt, { ignoreDelta: Boolean(o.ignoreDelta) });
  if (ignored) o.onLog?.(`evaluating untuned: ${ignored}`);
  const r = await evaluateProject({ project, renderer, nets: o.nets, truth: o.truth, signal: o.signal, onProgress: o.onProgress });
  // A stopped evaluation leaves the last report as it was.
  throwIfAborted(o.signal);
  const summary: EvalSummary = {
    psnr: { median: r.psnr.median, min: r.psnr.min, mean: r.psnr.mean },
    ssim: { median: r.ssim.median, min: r.ssim.min, mean: r.ssim.mean },
    lpips: r.lpips ? { median: r.lpips.median, max: r.lpips.max, mean: r.lpips.mean } : null,
    akd: r.akd ? { median: r.akd.median, max: r.akd.max, mean: r.akd.mean } : null,
    identity: r.identity ? { median: r.identity.median, min: r.identity.min, mean: r.identity.mean } : null,
    jitterPx: r.jitterPx,
    bytesPerFrame: bytesPerFrame(project).perFrameParams,
    frames: r.frames,
    tuned: delta !== null,
    ...(r.faceMetricsNote ? { note: r.faceMetricsNote } : {}),
    ...(r.paramCorrelation ? { paramCorrelation: r.paramCorrelation } : {}),
    plot: join(project.dir, EVAL_PLOT_FILE),
    report: join(project.dir, EVAL_REPORT_FILE)
  };
  const title = `Re-render vs source: ${project.doc.source.path.split(/[\\/]/).pop()}`;
  writeFileAtomicSync(summary.plot, evalPlotPng(r, title, `model ${o.bundle.manifest.name}, ${r.frames} frames`, project.loss.subarray(0, r.frames)));
  writeFileAtomicSync(summary.report, JSON.stringify({ ...summary, perFrame: r.perFrame }, null, 1));
  return { report: r, summary };
}
