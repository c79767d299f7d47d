// The Fine-tune dialog's logic, DOM-free so it is tested under plain Node: the settings and
// their limits, the request, the cost estimate in words, and the report of a tuned project.
import { MAX_TUNE_RANK, MAX_TUNE_STEPS, type ProjectSummary, type TuneEstimate, type TuneRequest } from '../../../shared/contract';
import { formatBytes, formatSeconds, plural } from '../ui/format';

/** The defaults of `stylecast tune` (README, "Fine-tuning"). */
export const DEFAULT_TUNE_STEPS = 600;
export const DEFAULT_TUNE_RANK = 8;

export interface TuneForm {
  steps: number;
  rank: number;
}

export const initialTuneForm = (): TuneForm => ({ steps: DEFAULT_TUNE_STEPS, rank: DEFAULT_TUNE_RANK });

/** Why the form cannot start, or null. `estimate` bounds the rank once it is known. */
export function validateTune(project: ProjectSummary, form: TuneForm, estimate: TuneEstimate | null): string | null {
  if (!project.model.path) return `The model “${project.model.name}” this project was encoded with is not installed: install it in Models to fine-tune.`;
  if (!project.source.path) return 'Fine-tuning learns from the source video, which is not where the project says: locate it first.';
  if (!Number.isInteger(form.steps) || form.steps < 1 || form.steps > MAX_TUNE_STEPS) return `Steps must be a whole number from 1 to ${MAX_TUNE_STEPS}.`;
  const most = estimate?.maxRank ?? MAX_TUNE_RANK;
  if (!Number.isInteger(form.rank) || form.rank < 1 || form.rank > most) return `Rank must be a whole number from 1 to ${most}${estimate ? ' (the largest whose delta fits 5% of the synthesis weights)' : ''}.`;
  return null;
}

export const toTuneRequest = (project: ProjectSummary, form: TuneForm): TuneRequest => ({ project: project.path, steps: form.steps, rank: form.rank });

/** Seconds a run should take: the timed step for every step, and two renders of every encoded frame (PSNR before and after). */
export const tuneSeconds = (e: TuneEstimate, steps: number): number => steps * e.secondsPerStep + 2 * e.encoded * e.secondsPerRender;

/** "45 s", "12 min", "1.5 h". */
export function roughDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** The cost in words, with what it rests on: an estimate from timings taken on this machine, not a promise. */
export function estimateText(e: TuneEstimate, steps: number): string {
  const per = `${e.framesPerStep} ${e.framesPerStep === 1 ? 'frame' : 'frames'}${e.localityPerStep ? ` + ${e.localityPerStep} random ${e.localityPerStep === 1 ? 'latent' : 'latents'}` : ''}`;
  return (
    `Estimate: about ${roughDuration(tuneSeconds(e, steps))}. ${steps} ${steps === 1 ? 'step' : 'steps'} × ${formatSeconds(e.secondsPerStep)} s ` +
    `(one step of ${per}, forward and gradient, timed just now on this machine), plus measuring PSNR: 2 renders of each of ${plural(e.encoded, 'frame')} at ${formatSeconds(e.secondsPerRender)} s. ` +
    `Tunes on ${plural(e.tuned, 'frame')}, holds out ${e.heldOut}; the delta takes ${formatBytes(e.deltaBytes)}.`
  );
}

/** "Held-out PSNR 18.20 → 21.35 dB (+3.15 dB) · delta 151.5 KB, rank 8". */
export function tuneReportText(t: NonNullable<ProjectSummary['tune']>): string {
  const psnr = t.psnrHeldOut ? `Held-out PSNR ${t.psnrHeldOut.before.toFixed(2)} → ${t.psnrHeldOut.after.toFixed(2)} dB (${signed(t.psnrHeldOut.after - t.psnrHeldOut.before)} dB) · ` : '';
  return `${psnr}delta ${formatBytes(t.deltaBytes)}, rank ${t.rank}`;
}

const signed = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}`;

/** Whether the viewer can show the project before and after fine-tuning (a delta that applies). */
export const canCompareTuning = (project: ProjectSummary): boolean => project.tune !== null && project.tune.ignored === null;
