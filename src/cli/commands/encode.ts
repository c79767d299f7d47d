import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EncodeSchedule } from '../../core/encode/schedule';
import { runEncodeJob } from '../../core/encode/job';
import { discardFailedEncode, encoderSchedule, isEncodeQuality, resolveAlign } from '../../core/encode/presets';
import { loadBasis } from '../../core/model/basis';
import { bytesPerFrame, type Project } from '../../core/project';
import type { ModelBundle } from '../../core/model/bundle';
import type { TuneReport, TuneSettings } from '../../core/tune';
import { Runtime } from '../../core/runtime';
import { probeVideo } from '../../core/video';
import { ensureCalibrated, modelFromArg } from '../model-arg';
import { parseRange } from '../project-arg';
import { UsageError, printJson, progress } from '../errors';
import { int, num } from '../options';
import { tuneSettingsFrom, tuneWithProgress } from './tune';

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
      const out = resolve(o.out);
      const frames = o.frames ? parseRange(o.frames, '--frames') : undefined;
      const schedule = qualitySchedule(o.quality);
      const maxBatch = o.maxBatch !== undefined ? int(o.maxBatch, '--max-batch', 1) : undefined;
      const tuning = o.tune ? tuneSettingsFrom({ steps: o.steps, rank: o.rank }) : null;
      const rt = await Runtime.create({ device: program.opts().device });
      const info = await probeVideo(video); // bad input fails here, before anything is written
      const bundle = await modelFromArg(o.model, rt);
      await ensureCalibrated(bundle, rt);
      const basis = loadBasis(bundle);
      const res = bundle.manifest.architecture.resolution;
      if (o.align !== 'auto' && o.align !== 'face' && o.align !== 'none') throw new UsageError(`--align must be face, none or auto, got "${o.align}"`);
      const align = resolveAlign(o.align, info, res);
      const nets = align === 'face' ? await (await import('../../core/face/nets')).FaceNets.load(rt) : undefined;
      const existed = existsSync(out);
      if (existed && !existsSync(resolve(out, 'project.json')) && statSync(out).isDirectory()) {
        throw new UsageError(`${out} exists and is not a Stylecast project: choose a new output folder`);
      }
      const controller = new AbortController();
      const onSignal = () => {
        progress('stopping after the frame in flight; run the same command again to resume');
        controller.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let lastLine = '';
      try {
        const r = await runEncodeJob({
          video,
          bundle,
          basis,
          rt,
          projectDir: out,
          frames,
          align,
          nets,
          smoothingSigma: num(o.smoothing, '--smoothing'),
          identityFrame: o.identityFrame !== undefined ? int(o.identityFrame, '--identity-frame', 0) : undefined,
          schedule,
          maxBatch,
          signal: controller.signal,
          onProgress: (p) => {
            const eta = p.etaSec !== null && p.etaSec !== undefined ? `, ETA ${Math.ceil(p.etaSec)} s` : '';
            const loss = p.loss !== undefined ? `, loss ${p.loss.toFixed(5)}` : '';
            const line = `[${p.stage}] ${(p.fraction * 100).toFixed(0)}% ${p.message}${loss}${eta}`;
            if (line !== lastLine) progress(line);
            lastLine = line;
          }
        });
        // After the encode's own error handling: a failed tune keeps the finished encoding.
        const tuned = tuning ? await tuneAfterEncode(r.project, bundle, rt, tuning) : null;
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
        else progress(`encoded ${out}: ${r.framesEncoded} frames at ${r.secondsPerFrame.toFixed(2)} s/frame, ${bpf.perFrameParams} bytes per frame`);
      } catch (e) {
        await discardFailedEncode(out, existed, e);
        throw e;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** `encode --tune`: tuning runs on the finished project; its failure leaves the encoding in place. */
async function tuneAfterEncode(project: Project, bundle: ModelBundle, rt: Runtime, settings: Partial<TuneSettings>): Promise<TuneReport> {
  try {
    return await tuneWithProgress(project, bundle, rt, settings);
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

export function qualitySchedule(q: string): EncodeSchedule {
  if (!isEncodeQuality(q)) throw new UsageError(`--quality must be draft, normal or best, got "${q}"`);
  return encoderSchedule(q);
}
