import type { Command } from 'commander';
import { BenchRow, benchModel, configFNet, machineDescription } from '../../core/model/bench';
import { ensureSeededModel } from '../../core/model/defaults';
import { StyleGan2 } from '../../core/model/stylegan2';
import { Runtime } from '../../core/runtime';
import { defaultModelDir } from '../paths';
import { printJson, progress } from '../errors';
import { int } from '../options';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('time forward and VJP (d/dStyleSpace) passes: config-f at 256 and 1024, and the seeded model, at batch 1 and 4')
    .option('--json', 'print one JSON object on stdout')
    .option('--runs <n>', 'timed runs per row after two warm-ups (median reported; batch sizes alternate; at most 5 at 1024)', '7')
    .option('--quick', 'only config-f 256 and the seeded model')
    .action(async (o) => {
      const rt = await Runtime.create({ device: program.opts().device });
      const runs = int(o.runs, '--runs', 1);
      const seeded = await ensureSeededModel(defaultModelDir(), rt, progress);
      const plan: { name: string; net: () => StyleGan2; runs: number }[] = [
        { name: seeded.manifest.name, net: () => new StyleGan2(seeded), runs: runs * 3 },
        { name: 'config-f', net: () => configFNet(256), runs }
      ];
      if (!o.quick) plan.push({ name: 'config-f', net: () => configFNet(1024), runs: Math.min(runs, 5) });
      const results: BenchRow[] = [];
      for (const p of plan) {
        const net = p.net();
        progress(`bench ${p.name} ${net.arch.resolution}x${net.arch.resolution}, batch 1 and 4 interleaved...`);
        for (const row of await benchModel(rt, p.name, net, [1, 4], p.runs)) {
          const vs = row.batch === 1 || row.forwardVsBatch1 === null ? '' : `; per frame vs batch 1: forward ${row.forwardVsBatch1.toFixed(3)}, vjp ${row.vjpVsBatch1!.toFixed(3)}`;
          progress(
            `  batch ${row.batch}: forward ${row.forwardMsPerFrame.toFixed(1)} ms/frame (cpu ${row.forwardCpuMsPerFrame.toFixed(0)}), vjp ${row.vjpMsPerFrame.toFixed(1)} ms/frame (cpu ${row.vjpCpuMsPerFrame.toFixed(0)}; ${row.vjpOverForward.toFixed(2)}x forward)${vs}`
          );
          results.push(row);
        }
      }
      const out = { machine: machineDescription(rt), results };
      if (o.json) printJson(out);
    });
}
