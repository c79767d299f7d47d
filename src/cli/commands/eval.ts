import type { Command } from 'commander';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadBasis } from '../../core/model/basis';
import { EvalNets, Truth, evalPlotPng, evaluateProject } from '../../core/metrics/evaluate';
import { bytesPerFrame } from '../../core/project';
import { projectRenderer } from '../../core/tune';
import { Runtime } from '../../core/runtime';
import { openWithModel } from '../project-arg';
import { UsageError, printJson, progress } from '../errors';

function readTruth(path: string): Truth {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read the truth file ${path}: ${(e as Error).message}`);
  }
  const t = doc as Truth;
  if (!t || !Array.isArray(t.params) || !t.params.every((r) => Array.isArray(r) && r.length === 35 && r.every(Number.isFinite))) {
    throw new UsageError(`${path} is not a truth file from "stylecast synth" (params must be frames x 35 numbers)`);
  }
  return t;
}

export function registerEval(program: Command): void {
  program
    .command('eval <project>')
    .description('compare the re-render with its source: PSNR, SSIM, LPIPS (when perceptual weights are imported), AKD, identity, jitter; writes eval.json and a per-frame plot eval.png in the project')
    .option('--truth <json>', 'ground truth from "stylecast synth": adds the correlation of the 35 tracks')
    .option('--model <dir>', 'model bundle (default: found by id under the models folder)')
    .option('--no-faces', 'skip the face networks (AKD, identity, jitter)')
    .option('--ignore-delta', 'evaluate the untuned generator, leaving out the fine-tuning delta (also when it is missing or damaged)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o) => {
      const truth = o.truth ? readTruth(resolve(o.truth)) : undefined;
      const rt = await Runtime.create({ device: program.opts().device });
      const { project, bundle } = await openWithModel(dir, o.model);
      const { renderer, delta, ignored } = await projectRenderer(project, bundle, loadBasis(bundle), rt, { ignoreDelta: Boolean(o.ignoreDelta) });
      if (ignored) progress(`evaluating untuned: ${ignored}`);
      const nets: EvalNets | undefined = o.faces ? await (await import('../../core/face/nets')).FaceNets.load(rt) : undefined;
      const r = await evaluateProject({ project, renderer, nets, truth, onProgress: (d, n) => progress(`evaluated ${d}/${n}`) });
      const out = {
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
        plot: join(project.dir, 'eval.png'),
        report: join(project.dir, 'eval.json')
      };
      const png = evalPlotPng(r, `Re-render vs source: ${project.doc.source.path.split(/[\\/]/).pop()}`, `model ${bundle.manifest.name}, ${r.frames} frames`, project.loss.subarray(0, r.frames));
      writeFileSync(`${out.plot}.tmp`, png);
      renameSync(`${out.plot}.tmp`, out.plot);
      writeFileSync(`${out.report}.tmp`, JSON.stringify({ ...out, perFrame: r.perFrame }, null, 1));
      renameSync(`${out.report}.tmp`, out.report);
      if (o.json) printJson(out);
      else progress(`PSNR median ${out.psnr.median.toFixed(2)} dB, SSIM median ${out.ssim.median.toFixed(4)}${out.lpips ? `, LPIPS median ${out.lpips.median.toFixed(4)}` : ''}; plot ${out.plot}`);
    });
}
