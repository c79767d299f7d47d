import type { Command } from 'commander';
import type { ModelBundle } from '../../core/model/bundle';
import type { Project } from '../../core/project';
import type { Runtime } from '../../core/runtime';
import type { PortraitTune, PortraitTuneOptions, PortraitTuneReport, TuneProgress, TuneReport, TuneSettings } from '../../core/tune';
import { printJson, progress, result } from '../errors';
import { int } from '../options';

/** Tuning options shared by `tune` and `encode --tune`. */
export function tuneSettingsFrom(o: { steps?: string; rank?: string; tuneFrames?: string }): Partial<TuneSettings> {
  return {
    ...(o.steps !== undefined ? { steps: int(o.steps, '--steps', 1) } : {}),
    // rank 0 is refused by the core with its own message, so parse without a minimum here
    ...(o.rank !== undefined ? { rank: int(o.rank, '--rank') } : {}),
    ...(o.tuneFrames !== undefined ? { frames: int(o.tuneFrames, '--frames', 1) } : {})
  };
}

/** Progress lines of a tune on stderr, at most one per percent while stepping. */
function tuneProgressPrinter(): (p: TuneProgress) => void {
  let last = '';
  let lastPct = -1;
  return (p) => {
    const pct = Math.floor(p.fraction * 100);
    if (p.stage === 'tune' && pct === lastPct) return;
    lastPct = pct;
    const eta = p.etaSec !== null ? `, ETA ${Math.ceil(p.etaSec)} s` : '';
    const loss = p.loss !== undefined ? `, loss ${p.loss.toFixed(5)}` : '';
    const line = `[tune:${p.stage}] ${pct}% ${p.message}${loss}${eta}`;
    if (line !== last) progress(line);
    last = line;
  };
}

/** Runs `work` with a signal that Ctrl-C or SIGTERM fires (after saying `stopping`). */
async function stoppable<T>(stopping: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => {
    progress(stopping);
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Tunes an open project with progress on stderr; Ctrl-C stops after the step in flight and keeps a checkpoint. */
export async function tuneWithProgress(project: Project, bundle: ModelBundle, rt: Runtime, settings: Partial<TuneSettings>): Promise<TuneReport> {
  // The engine loads with the command, not with the CLI (start-up stays fast).
  const [{ loadBasis }, { runTune }] = await Promise.all([import('../../core/model/basis'), import('../../core/tune')]);
  return stoppable('stopping after the step in flight; run the same command again to resume', async (signal) => {
    const r = await runTune({ project, bundle, basis: loadBasis(bundle), rt, settings, signal, onProgress: tuneProgressPrinter() });
    return r.report;
  });
}

/** Tunes on a portrait with progress on stderr; Ctrl-C stops it and nothing is written (there is no checkpoint). */
export async function tunePortraitWithProgress(o: Omit<PortraitTuneOptions, 'signal' | 'onProgress'>): Promise<PortraitTune> {
  const { tunePortrait } = await import('../../core/tune');
  return stoppable('stopping after the step in flight; no project is written', (signal) => tunePortrait({ ...o, signal, onProgress: tuneProgressPrinter() }));
}

export function describePortraitTune(r: PortraitTuneReport): string {
  return `tuned on the portrait: PSNR ${r.psnr.before.tuned.toFixed(2)} -> ${r.psnr.after.tuned.toFixed(2)} dB (no held-out frames); locality ${r.locality.toFixed(2)}; delta ${r.deltaBytes} bytes`;
}

export function describeTune(r: TuneReport): string {
  const d = (a: number, b: number) => `${a.toFixed(2)} -> ${b.toFixed(2)} dB`;
  return `tuned ${r.frames.tuned} frames: held-out PSNR ${d(r.psnr.before.heldOut, r.psnr.after.heldOut)}, tuned ${d(r.psnr.before.tuned, r.psnr.after.tuned)}; locality ${r.locality.toFixed(2)}; delta ${r.deltaBytes} bytes (${((100 * r.deltaBytes) / r.synthesisBytes).toFixed(2)}% of ${r.synthesisBytes})`;
}

export function registerTune(program: Command): void {
  program
    .command('tune <project>')
    .description('fine-tune the generator on the encoded frames (w_ID and p_t fixed), stored as a small float16 low-rank delta in the project; every 4th frame is held out and measured')
    .option('--steps <n>', 'optimiser steps (default 600)')
    .option('--rank <r>', 'rank of each modulated conv weight update (default 8)')
    .option('--frames <k>', 'tune on k frames spread over the clip (default: every frame not held out)')
    .option('--model <dir>', 'model bundle (default: found by id under the models folder)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o) => {
      const settings = tuneSettingsFrom({ steps: o.steps, rank: o.rank, tuneFrames: o.frames });
      const [{ Runtime }, { openWithModel }] = await Promise.all([import('../../core/runtime'), import('../project-arg')]);
      const rt = await Runtime.create({ device: program.opts().device });
      const { project, bundle } = await openWithModel(dir, o.model);
      const r = await tuneWithProgress(project, bundle, rt, settings);
      if (o.json) printJson(r);
      else result(describeTune(r));
    });
}
