import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadPerceptualBundle } from '../../core/perceptual/bundle';
import { DEFAULT_PERCEPTUAL_NAME } from '../../core/perceptual/find';
import { importPerceptual } from '../../core/perceptual/import';
import { TAP_CONVS } from '../../core/perceptual/vgg';
import { modelsDir } from '../paths';
import { UsageError, printJson, progress } from '../errors';

export function registerPerceptual(program: Command): void {
  const cmd = program.command('perceptual').description('LPIPS-VGG perceptual weights for the encoder loss and the LPIPS metric');
  cmd
    .command('import')
    .description('import a torchvision VGG16 state dict and the LPIPS linear heads (.pth) into a perceptual bundle')
    .requiredOption('--vgg <pth>', 'torchvision VGG16 weights (features.N.weight / .bias), e.g. vgg16-397923af.pth')
    .requiredOption('--lpips <pth>', 'LPIPS v0.1 VGG heads (lin0..lin4), e.g. lpips weights/v0.1/vgg.pth')
    .option('--out <dir>', 'bundle folder to write (the encoder finds it at models/perceptual/lpips-vgg or MODEL/perceptual)')
    .option('--name <name>', 'bundle name', DEFAULT_PERCEPTUAL_NAME)
    .option('--json', 'print one JSON object on stdout')
    .action(async (o) => {
      for (const [flag, p] of [['--vgg', o.vgg], ['--lpips', o.lpips]] as const) {
        if (!existsSync(resolve(p))) throw new UsageError(`${flag}: ${p} does not exist`);
      }
      const out = resolve(o.out ?? join(modelsDir(), 'perceptual', DEFAULT_PERCEPTUAL_NAME));
      progress(`importing LPIPS-VGG from ${o.vgg} and ${o.lpips}`);
      const r = await importPerceptual({ vgg: resolve(o.vgg), lpips: resolve(o.lpips), out, name: o.name });
      if (o.json) printJson(r);
      else progress(`wrote ${out}: id ${r.id}, VGG16 layer widths ${r.tapChannels.join('/')}, ${r.parameters} parameters`);
    });
  cmd
    .command('info <dir>')
    .description('print a perceptual bundle summary (checks its checksum and shapes)')
    .action((dir: string) => {
      const b = loadPerceptualBundle(resolve(dir));
      const m = b.manifest;
      printJson({ id: m.id, name: m.name, kind: m.kind, convChannels: m.convChannels, tapChannels: TAP_CONVS.map((i) => m.convChannels[i]!), parameters: m.weights.floats, source: m.source ?? null });
    });
}
