import type { Command } from 'commander';
import { importFiles, importOptions } from './import-files';

/** `stylecast import`: an alias of `stylecast models import`. */
export function registerImport(program: Command): void {
  importOptions(
    program
      .command('import [files...]')
      .description('alias of "models import": a StyleGAN2 checkpoint (NVlabs StyleGAN2-ADA .pkl, rosinality .pt, or a generator state dict) into a model bundle, or VGG16/LPIPS weights into the perceptual bundle; nothing from the file is run')
  ).action((files: string[], o) => importFiles({ files, ...o }));
}
