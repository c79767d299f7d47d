import type { Command } from 'commander';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths';
import { printJson, progress, result } from '../errors';
import { int } from '../options';
import { checkOutputDir } from '../output';
import { stderrProgress } from '../progress';
import { commandSignal } from '../signals';
import { qualitySchedule, showEncodeProgress } from './encode';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job on the default model: synthesise a clip with known truth, encode it, render it back and evaluate it')
    .option('--out <dir>', 'output folder', join(repoRoot, 'demo-output'))
    .option('--frames <n>', 'number of frames', '48')
    .option('--seed <n>', 'seed of the synthetic clip', '3')
    .option('--quality <q>', 'draft, normal or best', 'normal')
    .option('--model <dir>', 'model bundle (default: the seeded model)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const t0 = performance.now();
      const frames = int(o.frames, '--frames', 8);
      const seed = int(o.seed, '--seed');
      const schedule = await qualitySchedule(o.quality);
      const outDir = checkOutputDir(o.out);
      const signal = commandSignal;
      const [{ ParamDecoder }, { runEncodeJob }, { makeTruth, truthDocument, writeSynthClip }, { PARAM_COUNT, loadBasis, paramNames }, { Generator }, { buildCalibrationReport, writeCalibrationReport }, { evalPlotPng, evaluateProject }, { FrameRenderer, exportVideo }, { Runtime }, { ensureCalibrated, modelFromArg }] =
        await Promise.all([
          import('../../core/encode/decoder'),
          import('../../core/encode/job'),
          import('../../core/encode/synth'),
          import('../../core/model/basis'),
          import('../../core/model/generator'),
          import('../../core/model/report'),
          import('../../core/metrics/evaluate'),
          import('../../core/render/render'),
          import('../../core/runtime'),
          import('../model-arg')
        ]);
      const rt = await Runtime.create({ device: program.opts().device });
      const bundle = await modelFromArg(o.model, rt);
      await ensureCalibrated(bundle, rt, signal);
      const basis = loadBasis(bundle);
      // The calibration report of the model (README links the seeded model's): written once.
      const reportPng = join(bundle.dir, 'report.png');
      const reportHtml = join(bundle.dir, 'report.html');
      if (!existsSync(reportHtml) || !existsSync(reportPng)) {
        progress(`writing the calibration report of ${bundle.manifest.name} -> ${reportHtml}`);
        writeCalibrationReport(await buildCalibrationReport(bundle, basis, rt), reportPng, reportHtml);
      }
      const gen = new Generator(bundle, rt);
      const dec = new ParamDecoder(gen.net, basis);
      mkdirSync(outDir, { recursive: true });
      const clip = join(outDir, 'synthetic.mp4');
      const truthPath = join(outDir, 'truth.json');
      const projectDir = join(outDir, 'synthetic.stylecast');
      const rendered = join(outDir, 'rerender.mp4');

      progress(`1/4 synthesising ${frames} frames with known identity and parameters -> ${clip}`);
      const truth = await makeTruth(gen, { seed, frames });
      await writeSynthClip(dec, rt, truth, clip, 25, (d, n) => {
        if (signal.aborted) throw signal.reason;
        stderrProgress.update({ stage: 'synth', fraction: d / n, done: d, total: n, unit: 'frame' });
      });
      stderrProgress.end();
      const doc = truthDocument(truth, { modelId: bundle.manifest.id, model: bundle.dir, fps: 25, numWs: gen.net.numWs, wDim: gen.net.arch.wDim, paramNames: paramNames(basis) });
      writeFileSync(truthPath, JSON.stringify(doc));
      const truthRows = doc.params;

      progress(`2/4 encoding -> ${projectDir}`);
      rmSync(projectDir, { recursive: true, force: true });
      const enc = await runEncodeJob({
        video: clip,
        bundle,
        basis,
        rt,
        projectDir,
        align: 'none',
        schedule,
        signal,
        onProgress: showEncodeProgress
      });
      stderrProgress.end();

      progress(`3/4 rendering the encoding -> ${rendered}`);
      const renderer = new FrameRenderer(bundle, basis, rt);
      await exportVideo({ project: enc.project, renderer, out: rendered, pasteBack: false, signal, onProgress: (d, n) => stderrProgress.update({ stage: 'render', fraction: d / n, done: d, total: n, unit: 'frame' }) });
      stderrProgress.end();

      progress('4/4 evaluating against the source and the truth');
      const report = await evaluateProject({ project: enc.project, renderer, truth: { params: truthRows }, signal, onProgress: (d, n) => stderrProgress.update({ stage: 'evaluate', fraction: d / n, done: d, total: n, unit: 'frame' }) });
      stderrProgress.end();
      const plot = join(outDir, 'eval.png');
      writeFileSync(plot, evalPlotPng(report, 'Synthetic clip: re-render vs source', `model ${bundle.manifest.name}, ${frames} frames`));
      const summary = {
        model: { name: bundle.manifest.name, id: bundle.manifest.id },
        device: rt.device,
        frames,
        psnr: { median: report.psnr.median, min: report.psnr.min },
        ssim: { median: report.ssim.median, min: report.ssim.min },
        paramCorrelation: { compared: report.paramCorrelation!.compared, min: report.paramCorrelation!.min, median: report.paramCorrelation!.median, uncomputable: report.paramCorrelation!.uncomputable },
        bytesPerFrame: PARAM_COUNT * 4,
        encodeSecondsPerFrame: enc.secondsPerFrame,
        totalSeconds: (performance.now() - t0) / 1000,
        outputs: { clip, truth: truthPath, project: projectDir, rerender: rendered, plot, calibration: reportHtml }
      };
      if (o.json) printJson(summary);
      else {
        result(
          `re-render PSNR  median ${summary.psnr.median.toFixed(2)} dB, min ${summary.psnr.min.toFixed(2)} dB`,
          `re-render SSIM  median ${summary.ssim.median.toFixed(4)}, min ${summary.ssim.min.toFixed(4)}`,
          `tracks vs truth: ${summary.paramCorrelation.compared} of 35 compared, correlation min ${summary.paramCorrelation.min.toFixed(3)}, median ${summary.paramCorrelation.median.toFixed(3)}`,
          `encoding: ${summary.bytesPerFrame} bytes per frame, ${summary.encodeSecondsPerFrame.toFixed(2)} s per frame on ${rt.device}`,
          `outputs: ${outDir}`,
          ...Object.entries(summary.outputs).map(([k, v]) => `  ${k.padEnd(11)} ${v}`)
        );
      }
      const bad = summary.paramCorrelation.uncomputable;
      if (bad.length) throw new Error(`the correlation with the truth cannot be computed for ${bad.map((u) => `${u.track} (${u.reason})`).join(', ')}`);
    });
}
