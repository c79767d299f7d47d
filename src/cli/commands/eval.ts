import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Truth } from '../../core/metrics/evaluate';
import { UsageError, printJson, result } from '../errors';
import { checkOutputDir } from '../output';
import { stderrProgress } from '../progress';
import { commandSignal } from '../signals';

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

const fmt = (x: number | null | undefined, digits: number): string => (x === null || x === undefined ? '-' : Number.isFinite(x) ? x.toFixed(digits) : String(x));

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
      const [{ loadBasis }, { evaluateAndSave }, { Runtime }, { openWithModel }, { progress }] = await Promise.all([
        import('../../core/model/basis'),
        import('../../core/metrics/project-eval'),
        import('../../core/runtime'),
        import('../project-arg'),
        import('../errors')
      ]);
      const { project, bundle } = await openWithModel(dir, o.model);
      checkOutputDir(project.dir, 'the project folder');
      const rt = await Runtime.create({ device: program.opts().device });
      const nets = o.faces ? await (await import('../../core/face/nets')).FaceNets.load(rt) : undefined;
      const { report: r, summary: out } = await evaluateAndSave({
        project,
        bundle,
        basis: loadBasis(bundle),
        rt,
        nets,
        truth,
        ignoreDelta: Boolean(o.ignoreDelta),
        signal: commandSignal,
        onLog: progress,
        onProgress: (d, n) => stderrProgress.update({ stage: 'evaluate', fraction: d / n, done: d, total: n, unit: 'frame' })
      });
      stderrProgress.end();
      if (o.json) printJson(out);
      else {
        const row = (name: string, s: { median: number; mean: number; min?: number; max?: number } | null, digits: number, worst: 'min' | 'max') =>
          `  ${name.padEnd(14)} ${s ? `${fmt(s.median, digits).padStart(10)} ${fmt(s.mean, digits).padStart(10)} ${fmt(s[worst], digits).padStart(10)} (${worst})` : '         -  (not measured)'}`;
        const pc = r.paramCorrelation;
        result(
          `${project.dir}: ${r.frames} frames, ${out.bytesPerFrame} bytes per frame`,
          `  ${'metric'.padEnd(14)} ${'median'.padStart(10)} ${'mean'.padStart(10)} ${'worst'.padStart(10)}`,
          row('PSNR (dB)', out.psnr, 2, 'min'),
          row('SSIM', out.ssim, 4, 'min'),
          row('LPIPS-VGG', out.lpips, 4, 'max'),
          row('AKD (px)', out.akd, 3, 'max'),
          row('identity', out.identity, 4, 'min'),
          `  ${'jitter (px)'.padEnd(14)} ${fmt(out.jitterPx, 3).padStart(10)}`,
          ...(r.faceMetricsNote ? [`  note: ${r.faceMetricsNote}`] : []),
          ...(pc ? [`  tracks vs truth: ${pc.compared} of ${pc.tracks} compared, correlation min ${fmt(pc.min, 3)}, median ${fmt(pc.median, 3)}`] : []),
          ...(pc?.uncomputable ?? []).map((u) => `  track ${u.track}: no correlation (${u.reason})`),
          `  plot ${out.plot}`,
          `  report ${out.report}`
        );
      }
      const bad = r.paramCorrelation?.uncomputable ?? [];
      if (bad.length) throw new Error(`the correlation with the truth cannot be computed for ${bad.length} of ${r.paramCorrelation!.tracks} tracks: ${bad.map((u) => `${u.track} (${u.reason})`).join(', ')}`);
    });
}
