import type { Command } from 'commander';
import { resolve } from 'node:path';
import { printJson, result } from '../errors';
import { importFiles, importOptions } from './import-files';

export function registerPerceptual(program: Command): void {
  const cmd = program.command('perceptual').description('LPIPS-VGG perceptual weights for the encoder loss and the LPIPS metric');
  importOptions(
    cmd
      .command('import [files...]')
      .description('alias of "models import": a torchvision VGG16 state dict and the LPIPS linear heads (.pth, or --vgg and --lpips) into a perceptual bundle (default: models/perceptual/lpips-vgg)')
  ).action((files: string[], o) => importFiles({ files, ...o }));
  cmd
    .command('info <dir>')
    .description('print a perceptual bundle summary (checks its checksum and shapes)')
    .option('--json', 'print one JSON object on stdout')
    .action(async (dir: string, o) => {
      const [{ loadPerceptualBundle }, { TAP_CONVS }] = await Promise.all([import('../../core/perceptual/bundle'), import('../../core/perceptual/vgg')]);
      const b = loadPerceptualBundle(resolve(dir));
      const m = b.manifest;
      const summary = { id: m.id, name: m.name, kind: m.kind, convChannels: m.convChannels, tapChannels: TAP_CONVS.map((i) => m.convChannels[i]!), parameters: m.weights.floats, source: m.source ?? null };
      if (o.json) return printJson(summary);
      result(
        `${b.dir}: ${m.name} (${m.kind}, id ${m.id})`,
        `  VGG16 convs    ${m.convChannels.join(' ')}`,
        `  tapped layers  ${summary.tapChannels.join(' ')}`,
        `  parameters     ${m.weights.floats}`,
        ...(m.source ? [`  imported from  ${['vgg', 'lpips'].map((k) => (m.source![k] as { file?: string } | undefined)?.file).filter(Boolean).join(' and ')}`] : [])
      );
    });
}
