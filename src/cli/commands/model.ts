import type { Command } from 'commander';
import { resolve } from 'node:path';
import { printJson, progress, result } from '../errors';
import { int } from '../options';
import { checkOutputDir } from '../output';

export function registerModel(program: Command): void {
  const model = program.command('model').description('create and inspect model bundles');
  model
    .command('create')
    .description('write a seeded model: the true StyleGAN2 architecture with random weights')
    .requiredOption('--out <dir>', 'bundle folder to write')
    .option('--seed <n>', 'random seed', '1')
    .option('--resolution <n>', 'output resolution, 16 to 1024', '64')
    .option('--channel-base <n>', 'channels at resolution r are min(base / r, max)', '2048')
    .option('--channel-max <n>', 'largest channel count', '128')
    .option('--name <name>', 'model name (default seeded-<resolution>)')
    .option('--json', 'print the manifest summary as JSON')
    .action(async (o) => {
      const resolution = int(o.resolution, '--resolution');
      const seed = int(o.seed, '--seed');
      const out = checkOutputDir(o.out);
      const [{ makeArchitecture, styleDim, numWs }, { createSeededModel }, { Runtime }] = await Promise.all([
        import('../../core/model/architecture'),
        import('../../core/model/create'),
        import('../../core/runtime')
      ]);
      const arch = makeArchitecture({ resolution, channelBase: int(o.channelBase, '--channel-base'), channelMax: int(o.channelMax, '--channel-max') });
      const rt = await Runtime.create({ device: program.opts().device });
      progress(`creating seeded model ${out} (${resolution}x${resolution}, seed ${seed})`);
      const m = await createSeededModel(out, arch, seed, rt, o.name ?? `seeded-${resolution}`);
      const summary = { path: out, id: m.id, name: m.name, resolution, numWs: numWs(arch), styleDim: styleDim(arch), parameters: m.weights.floats };
      if (o.json) printJson(summary);
      else result(`wrote ${out}: id ${m.id}, ${m.weights.floats} parameters, W+ ${summary.numWs}x${arch.wDim}, StyleSpace ${summary.styleDim} channels`);
    });
  model
    .command('info <dir>')
    .description('print a bundle summary')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o) => {
      const [{ styleDim, numWs }, { loadBundle }] = await Promise.all([import('../../core/model/architecture'), import('../../core/model/bundle')]);
      const b = loadBundle(resolve(dir));
      const a = b.manifest.architecture;
      const summary = { id: b.manifest.id, name: b.manifest.name, resolution: a.resolution, channels: a.channels, numWs: numWs(a), styleDim: styleDim(a), convClamp: a.convClamp, parameters: b.manifest.weights.floats, calibrated: Boolean(b.manifest.basis) };
      if (o.json) return printJson(summary);
      result(
        `${b.dir}: ${summary.name} (id ${summary.id})`,
        `  resolution     ${a.resolution}x${a.resolution}, W+ ${summary.numWs}x${a.wDim}, StyleSpace ${summary.styleDim} channels`,
        `  channels       ${Object.entries(a.channels).map(([r, c]) => `${r}:${c}`).join(' ')}`,
        `  conv_clamp     ${a.convClamp ?? 'none'}`,
        `  parameters     ${summary.parameters}`,
        `  edit basis     ${summary.calibrated ? 'calibrated' : 'not calibrated (calibrated on first use, or run "stylecast calibrate")'}`
      );
    });
}
