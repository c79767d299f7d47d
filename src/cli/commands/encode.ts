import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EncodeProgress } from '../../core/encode/job';
import type { EncodeSchedule } from '../../core/encode/schedule';
import { UsageError, printJson, progress, result } from '../errors';
import { checkOutputDir } from '../output';
import { stderrProgress } from '../progress';
import { int, num, parseRange } from '../options';
import { commandSignal } from '../signals';

export function registerEncode(program: Command): void {
  program
    .command('encode <video>')
    .description('encode a talking-head video: one W+ identity latent plus 35 numbers per frame, into a NAME.stylecast project')
    .option('--model <dir>', 'model bundle (default: the seeded model)')
    .requiredOption('--out <project>', 'project folder to write (NAME.stylecast); an interrupted one resumes')
    .option('--frames <a:b>', 'encode source frames a to b-1 only')
    .option('--align <mode>', 'face: detect and align the face; none: frames are aligned crops; auto: none when the video is square at the model resolution', 'auto')
    .option('--smoothing <frames>', 'crop smoothing strength, in frames (0 = off)', '10')
    .option('--identity-frame <n>', 'take the identity from this encoded frame instead of choosing one')
    .option('--quality <q>', 'draft, normal or best: the encode schedule (stages, resolutions, optimisers, stopping rules)', 'normal')
    .option('--max-batch <n>', 'most frames in one loss-and-gradient run (default: what fits in half the free memory; env STYLECAST_MAX_BATCH)')
    .option('--tune', 'fine-tune the generator after encoding (as "stylecast tune"; --steps and --rank apply)')
    .option('--steps <n>', 'with --tune: optimiser steps')
    .option('--rank <r>', 'with --tune: rank of the delta')
    .option('--json', 'print one JSON object on stdout')
    .action(async (videoArg: string, o) => {
      const video = resolve(videoArg);
      const out = checkOutputDir(o.out);
      const frames = o.frames ? parseRange(o.frames, '--frames') : undefined;
      if (o.align !== 'auto' && o.align !== 'face' && o.align !== 'none') throw new UsageError(`--align must be face, none or auto, got "${o.align}"`);
      const smoothingSigma = num(o.smoothing, '--smoothing', 0);
      const identityFrame = o.identityFrame !== undefined ? int(o.identityFrame, '--identity-frame', 0) : undefined;
      const existed = existsSync(out);
      if (existed) {
        // A project resumes; an empty folder, or what a first encode stopped while creating left, starts afresh.
        const { holdsProject, isInterruptedCreation } = await import('../../core/encode/job');
        if (!statSync(out).isDirectory() || !(holdsProject(out) || isInterruptedCreation(out))) {
          throw new UsageError(`${out} exists and is not a Stylecast project: choose a new output folder`);
        }
      }
      const maxBatch = o.maxBatch !== undefined ? int(o.maxBatch, '--max-batch', 1) : undefined;
      const schedule = await qualitySchedule(o.quality);
      if (!o.tune && (o.steps !== undefined || o.rank !== undefined)) throw new UsageError('--steps and --rank set the fine-tuning: add --tune, or leave them out');
      const tune = o.tune ? await import('./tune') : null;
      const tuning = tune ? tune.tuneSettingsFrom({ steps: o.steps, rank: o.rank }) : null;
      const [{ runEncodeJob }, { discardFailedEncode, resolveAlign }, { loadBasis }, { bytesPerFrame }, { Runtime }, { pictureNote, probeVideo, timingWarning }, { ensureCalibrated, modelFromArg }] = await Promise.all([
        import('../../core/encode/job'),
        import('../../core/encode/presets'),
        import('../../core/model/basis'),
        import('../../core/project'),
        import('../../core/runtime'),
        import('../../core/video'),
        import('../model-arg')
      ]);
      const signal = commandSignal;
      const info = await probeVideo(video); // bad input fails here, before anything is written
      const timing = timingWarning(info, `make a constant-rate copy first: stylecast conform ${JSON.stringify(video)} --out COPY.mp4`);
      if (timing) progress(`warning: ${timing}`);
      const picture = pictureNote(info);
      if (picture) progress(`picture: ${picture}`);
      const rt = await Runtime.create({ device: program.opts().device });
      const bundle = await modelFromArg(o.model, rt);
      await ensureCalibrated(bundle, rt, signal);
      const basis = loadBasis(bundle);
      const res = bundle.manifest.architecture.resolution;
      const align = resolveAlign(o.align, info, res);
      const nets = align === 'face' ? await (await import('../../core/face/nets')).FaceNets.load(rt) : undefined;
      try {
        const r = await runEncodeJob({ video, bundle, basis, rt, projectDir: out, frames, align, nets, smoothingSigma, identityFrame, schedule, maxBatch, signal, onProgress: showEncodeProgress });
        stderrProgress.end();
        // After the encode's own error handling: a failed tune keeps the finished encoding.
        const tuned = tune && tuning ? await tuneAfterEncode(() => tune.tuneWithProgress(r.project, bundle, rt, tuning)) : null;
        const bpf = bytesPerFrame(r.project);
        const summary = {
          project: out,
          frames: r.project.doc.encoding.frames,
          framesEncoded: r.framesEncoded,
          resumed: r.resumed,
          identityFrame: r.identityFrame,
          align,
          alignment: r.align,
          secondsPerFrame: r.secondsPerFrame,
          bytesPerFrame: bpf.perFrameParams,
          bytesPerFrameTotal: bpf.perFrameTotal,
          model: { id: bundle.manifest.id, name: bundle.manifest.name },
          device: rt.device,
          settings: o.quality,
          ...(tuned ? { tune: tuned } : {})
        };
        if (o.json) printJson(summary);
        else {
          result(
            `encoded ${out}`,
            `  frames         ${r.framesEncoded}${r.resumed ? ' (resumed)' : ''}, identity from frame ${r.identityFrame}`,
            ...(r.align?.framesReused ? [`  alignment      resumed: ${r.align.framesReused} of ${r.project.doc.encoding.frames.count} frames were aligned before the stop`] : []),
            `  speed          ${r.secondsPerFrame.toFixed(2)} s/frame on ${rt.device}, ${o.quality} quality`,
            `  size           ${bpf.perFrameParams} bytes per frame`,
            ...(tuned && tune ? [`  tuned          ${tune.describeTune(tuned)}`] : [])
          );
        }
      } catch (e) {
        const kept = await discardFailedEncode(out, existed, e);
        if (kept && e instanceof Error) e.message += ` (${kept} in ${out}: run the same command again to resume)`;
        throw e;
      }
    });
}

/** `encode --tune`: tuning runs on the finished project; its failure leaves the encoding in place. */
async function tuneAfterEncode<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    throw new TuneAfterEncodeError(e);
  }
}

class TuneAfterEncodeError extends Error {
  readonly code: string;
  constructor(cause: unknown) {
    super(`the encoding is saved, but tuning failed: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.code = (cause as { code?: string }).code ?? 'TUNE';
  }
}

/** An encode job's progress on the process's progress line (shared with demo). */
export function showEncodeProgress(p: EncodeProgress): void {
  stderrProgress.update({
    stage: p.stage,
    fraction: p.fraction,
    ...(p.frame !== undefined && p.of !== undefined ? { done: p.frame, total: p.of, unit: 'frame' } : {}),
    etaSec: p.etaSec,
    detail: `${p.message}${p.loss !== undefined ? `, loss ${p.loss.toFixed(5)}` : ''}`
  });
}

export async function qualitySchedule(q: string): Promise<EncodeSchedule> {
  const { encoderSchedule, isEncodeQuality } = await import('../../core/encode/presets');
  if (!isEncodeQuality(q)) throw new UsageError(`--quality must be draft, normal or best, got "${q}"`);
  return encoderSchedule(q);
}
