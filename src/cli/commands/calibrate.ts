import type { Command } from 'commander';
import { paramNames, saveBasis } from '../../core/model/basis';
import { calibrateFixedRegions } from '../../core/model/calibrate';
import { Runtime } from '../../core/runtime';
import { modelFromArg } from '../model-arg';
import { printJson, progress } from '../errors';
import { int } from '../options';

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('compute the edit basis (3 pose directions, 32 localised StyleSpace channels) and store it in the bundle')
    .option('--model <dir>', 'model bundle (default: the seeded model)')
    .option('--seed <n>', 'random seed', '1')
    .option('--samples <n>', 'mapped samples for sigma and pose', '512')
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      const rt = await Runtime.create({ device: program.opts().device });
      const bundle = await modelFromArg(o.model, rt);
      const t0 = performance.now();
      const basis = await calibrateFixedRegions(bundle, rt, {
        seed: int(o.seed, '--seed'),
        samples: int(o.samples, '--samples', 16),
        onProgress: (stage, f) => progress(`${stage} ${(f * 100).toFixed(0)}%`)
      });
      saveBasis(bundle, basis);
      const summary = {
        model: bundle.dir,
        modelId: bundle.manifest.id,
        poseMethod: basis.meta.poseMethod,
        regionMethod: basis.meta.regionMethod,
        params: paramNames(basis),
        attributes: basis.meta.attributes.map(({ name, region, layer, channel, sigma, localisation }) => ({ name, region, layer, channel, sigma, localisation })),
        seconds: (performance.now() - t0) / 1000
      };
      if (o.json) printJson(summary);
      else progress(`stored the edit basis in ${bundle.dir} (${summary.seconds.toFixed(1)} s)`);
    });
}
