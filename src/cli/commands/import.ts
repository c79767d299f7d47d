import type { Command } from 'commander';
import { resolve } from 'node:path';
import { importCheckpoint } from '../../core/model/import';
import { printJson, progress, UsageError } from '../errors';
import { num } from '../options';

export function registerImport(program: Command): void {
  program
    .command('import <checkpoint>')
    .description('import a StyleGAN2 checkpoint (NVlabs StyleGAN2-ADA .pkl, rosinality .pt, or a generator state dict) into a model bundle; nothing from the file is run')
    .requiredOption('--out <dir>', 'bundle folder to write (e.g. models/ffhq)')
    .option('--name <name>', 'model name (default: the folder name)')
    .option('--conv-clamp <x>', 'conv_clamp for state dicts with official names, which do not record it (pickles carry their own)')
    .option('--json', 'print the import report as one JSON object')
    .action(async (checkpoint: string, o) => {
      const convClamp = o.convClamp === undefined ? null : num(o.convClamp, '--conv-clamp');
      if (convClamp !== null && convClamp <= 0) throw new UsageError('--conv-clamp must be positive');
      const r = await importCheckpoint(resolve(checkpoint), resolve(o.out), { name: o.name, convClamp, onProgress: progress });
      if (o.json) {
        printJson(r);
        return;
      }
      const ch = Object.entries(r.channels).map(([res, c]) => `${res}:${c}`).join(' ');
      progress(`format        ${r.format} (${r.container})`);
      progress(`resolution    ${r.resolution}x${r.resolution}, ${r.numWs} ws, z ${r.zDim}, w ${r.wDim}, StyleSpace ${r.styleDim}`);
      progress(`channels      ${ch}`);
      progress(`mapping       ${r.mappingLayers} layers, lr multiplier ${r.mappingLrMul}`);
      progress(`conv_clamp    ${r.convClamp ?? 'none'}`);
      progress(`fp16          ${r.fp16Resolutions.length ? `${r.fp16Resolutions.join(', ')} (computed in float32 here)` : 'none'}`);
      progress(`w_avg         ${r.wAvg === 'file' ? 'from the file' : 'estimated from 4096 random z (the file has none)'}`);
      for (const n of r.notes) progress(`note          ${n}`);
      progress(`wrote ${r.path}: id ${r.id}, ${r.parameters} parameters`);
    });
}
