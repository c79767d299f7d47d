import type { Command } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { printJson, result } from '../errors';
import { int, num } from '../options';
import { checkOutputDir, checkOutputFile } from '../output';
import { stderrProgress } from '../progress';
import { commandSignal } from '../signals';

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('compute the edit basis (3 pose directions, 32 localised StyleSpace channels), store it in the bundle and write a report (PNG contact sheet + HTML)')
    .option('--model <dir>', 'model bundle (default: the seeded model)')
    .option('--seed <n>', 'random seed', '1')
    .option('--samples <n>', 'mapped samples for sigma and pose', '512')
    .option('--report <png>', 'where to write the report PNG (the HTML goes beside it; default: report.png in the bundle)')
    .option('--no-report', 'do not write a report')
    .option('--report-only', "write the report from the bundle's stored edit basis, without recalibrating")
    .option('--units <u>', 'attribute units either side of 0 in the report', '2')
    .option('--pose-units <u>', 'pose units either side of 0 in the report', '2')
    .option('--cell <px>', 'largest cell size of the report (cells render at the largest model size up to it)', '128')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const units = num(o.units, '--units');
      const poseUnits = num(o.poseUnits, '--pose-units');
      const seed = int(o.seed, '--seed');
      const samples = int(o.samples, '--samples', 16);
      const maxCell = int(o.cell, '--cell', 16);
      if (typeof o.report === 'string') checkOutputFile(o.report, '--report');
      if (o.model) checkOutputDir(o.model, '--model');
      const [{ loadBasis, paramNames, saveBasis }, { calibrateModel }, { FaceNets }, { buildCalibrationReport, htmlBeside, pngNameOf, writeCalibrationReport }, { Runtime }, { modelFromArg }] = await Promise.all([
        import('../../core/model/basis'),
        import('../../core/model/calibrate-landmarks'),
        import('../../core/face/nets'),
        import('../../core/model/report'),
        import('../../core/runtime'),
        import('../model-arg')
      ]);
      const rt = await Runtime.create({ device: program.opts().device });
      const bundle = await modelFromArg(o.model, rt);
      const t0 = performance.now();
      // Landmark calibration when the model draws faces, else fixed regions (calibrateModel decides).
      const nets = await FaceNets.load(rt);
      let basis;
      if (o.reportOnly) basis = loadBasis(bundle);
      else {
        basis = await calibrateModel(bundle, rt, nets, {
          seed,
          samples,
          signal: commandSignal,
          onProgress: (stage, f) => stderrProgress.update({ stage, fraction: f })
        });
        stderrProgress.end();
        saveBasis(bundle, basis);
      }
      let report: { png: string; html: string; width: number; height: number; cell: number } | null = null;
      if (o.report !== false) {
        const png = typeof o.report === 'string' ? resolve(o.report) : join(bundle.dir, 'report.png');
        const html = htmlBeside(png);
        mkdirSync(dirname(png), { recursive: true });
        const r = await buildCalibrationReport(bundle, basis, rt, { units, poseUnits, maxCell, nets, pngName: pngNameOf(png), onProgress: (f) => stderrProgress.update({ stage: 'report', fraction: f }) });
        stderrProgress.end();
        writeCalibrationReport(r, png, html);
        report = { png, html, width: r.layout.width, height: r.layout.height, cell: r.layout.cell };
      }
      const summary = {
        model: bundle.dir,
        modelId: bundle.manifest.id,
        poseMethod: basis.meta.poseMethod,
        regionMethod: basis.meta.regionMethod,
        params: paramNames(basis),
        attributes: basis.meta.attributes.map(({ name, region, layer, channel, sigma, localisation }) => ({ name, region, layer, channel, sigma, localisation })),
        report,
        seconds: (performance.now() - t0) / 1000
      };
      if (o.json) printJson(summary);
      else {
        result(
          ...(o.reportOnly ? [] : [`stored the edit basis in ${bundle.dir} (${summary.seconds.toFixed(1)} s): pose by ${summary.poseMethod}, ${summary.attributes.length} attributes by ${summary.regionMethod}`]),
          ...(report ? [`report ${report.png}`, `report ${report.html}`] : [])
        );
      }
    });
}
